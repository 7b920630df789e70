"""Cart links against the database: create one for known articles, open one for checkout (refused once paid)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from pos.db.articles import find_article
from pos.db.customers import normalise_email
from pos.db.engine import transaction
from pos.db.models import Article, Order
from pos.domain.cart_link import (
    MAX_QUANTITY,
    CartLink,
    CartLinkError,
    LinkLine,
    make_link,
    parse_link,
    payload_of,
)
from pos.domain.clock import iso_local
from pos.errors import Refused
from pos.runtime import Runtime

DEFAULT_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class LinkRequest:
    """What `pos cart-link create` asks for; articles are checked against the database."""

    items: list[str]  # ARTICLE[:QTY] as typed: an exact name or #ID, optionally a quantity
    customer_name: str | None = None
    customer_email: str | None = None
    promo: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    lifetime: timedelta = DEFAULT_LIFETIME


def create_cart_link(rt: Runtime, request: LinkRequest) -> tuple[CartLink, str]:
    secret = rt.config.cart_link_secret()
    if not request.items:
        raise Refused("A cart link needs at least one article.")
    if request.valid_from and request.valid_until and request.valid_until <= request.valid_from:
        raise Refused("The validity window ends before it starts (--valid-until must be after --valid-from).")
    with transaction(rt.engine) as session:
        resolved = [resolve_item(session, item) for item in request.items]
    window = (request.valid_from, request.valid_until)  # for the ticket articles only
    link = CartLink(
        id=secrets.token_urlsafe(12),
        expires_at=rt.now() + request.lifetime,
        lines=tuple(
            LinkLine(article.name, quantity, *(window if article.is_ticket else (None, None)))
            for article, quantity in resolved
        ),
        customer_name=(request.customer_name or "").strip() or None,
        customer_email=normalise_email(request.customer_email) if request.customer_email else None,
        promo=(request.promo or "").strip() or None,
    )
    return link, make_link(link, secret, rt.config.cart_links.base_url)


def resolve_item(session: Session, text: str) -> tuple[Article, int]:
    """ARTICLE[:QTY] read as `pos sell` reads it."""
    from pos.db.sales import parse_cart_arg

    line = parse_cart_arg(session, text)
    if not 1 <= line.quantity <= MAX_QUANTITY:
        raise Refused(f"The quantity in {text!r} must be 1 to {MAX_QUANTITY}.")
    ref = f"#{line.article}" if isinstance(line.article, int) else line.article
    return find_article(session, ref), line.quantity


def read_cart_link(rt: Runtime, url: str) -> CartLink:
    """Verify a scanned or pasted link: signature, expiry, shape, and that no order has paid it yet."""
    secret = rt.config.cart_link_secret()
    try:
        link = parse_link(url, secret, rt.now(), rt.config.venue.zone)
    except CartLinkError as exc:
        raise Refused(str(exc)) from None
    if link.customer_email:
        normalise_email(link.customer_email)
    with transaction(rt.engine) as session:
        refuse_if_paid(session, link.id)
    return link


def refuse_if_paid(session: Session, link_id: str) -> None:
    """The early check; Order.cart_link_id being unique is what stops two terminals paying one link at once."""
    order_id = session.exec(select(Order.id).where(Order.cart_link_id == link_id)).first()
    if order_id is not None:
        raise Refused(f"Cart link {link_id} was already paid (order {order_id}).")


def checkout_request(rt: Runtime, url: str, **options: Any) -> Any:
    """Verify a link and turn it into a SaleRequest; the link's customer wins over one given by hand."""
    link = read_cart_link(rt, url)
    if link.customer_name or link.customer_email:
        for key in ("customer_id", "guest_name", "guest_email"):
            if options.pop(key, None) is not None:
                raise Refused("The cart link names its customer; give no other customer with it.")
    if link.promo and options.get("link_promo"):
        raise Refused("The cart link brings its own direct-link promo code; give no --link-promo with it.")
    if link.promo:
        options.pop("link_promo", None)
    return sale_request(link, **options)


def sale_request(link: CartLink, *, payment: str = "cash", **options: Any) -> Any:
    """The SaleRequest for checking a link out: its lines, customer and direct-link promo, tied to its id."""
    from pos.db.sales import CartLine, SaleRequest

    if link.customer_name or link.customer_email:
        options.update(guest_name=link.customer_name, guest_email=link.customer_email)
    if link.promo:
        options["link_promo"] = link.promo
    return SaleRequest(
        lines=[
            CartLine(line.article, line.quantity, line.valid_from, line.valid_until) for line in link.lines
        ],
        payment=payment,
        cart_link_id=link.id,
        **options,
    )


def link_json(link: CartLink, url: str | None, rt: Runtime) -> dict[str, Any]:
    data = payload_of(link)
    data["expires_at"] = iso_local(link.expires_at, rt.config.venue.zone)
    if url is not None:
        data["url"] = url
    return data


def terminal_qr(url: str) -> str:
    """The link as a QR code drawn with text characters, to scan it off the screen."""
    import io

    import qrcode

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(url)
    code.make(fit=True)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()
