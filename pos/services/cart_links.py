"""Cart links for third-party systems: create one for known articles (testing, integration), check one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pos.db.engine import transaction
from pos.db.models import Article
from pos.domain.cart_link import MAX_QUANTITY, CartLink, LinkLine, make_link, payload_of
from pos.domain.clock import iso_local
from pos.domain.customer import normalise_email
from pos.domain.roles import Role
from pos.errors import Refused
from pos.runtime import Runtime
from pos.services.base import Actor, require
from pos.services.checkout import parse_cart_arg, read_cart_link

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


def create_cart_link(rt: Runtime, actor: Actor, request: LinkRequest) -> tuple[CartLink, str]:
    require(actor, Role.ADMIN, "create cart links")
    secret = rt.config.cart_link_secret()
    if not request.items:
        raise Refused("A cart link needs at least one article.")
    if request.valid_from and request.valid_until and request.valid_until <= request.valid_from:
        raise Refused("The validity window ends before it starts.")
    with transaction(rt.engine) as session:
        resolved = []
        for item in request.items:
            line = parse_cart_arg(session, item)
            if not 1 <= line.quantity <= MAX_QUANTITY:
                raise Refused("The quantity in {item!r} must be 1 to {n}.", item=item, n=MAX_QUANTITY)
            article = session.get(Article, line.article)
            assert article is not None
            resolved.append((article.name, article.is_ticket, line.quantity))
    window = (request.valid_from, request.valid_until)  # for the ticket articles only
    link = CartLink(
        id=secrets.token_urlsafe(12),
        expires_at=rt.now() + request.lifetime,
        lines=tuple(
            LinkLine(name, quantity, *(window if is_ticket else (None, None)))
            for name, is_ticket, quantity in resolved
        ),
        customer_name=(request.customer_name or "").strip() or None,
        customer_email=normalise_email(request.customer_email) if request.customer_email else None,
        promo=(request.promo or "").strip() or None,
    )
    return link, make_link(link, secret, rt.config.cart_links.base_url)


def check_cart_link(rt: Runtime, actor: Actor, url: str) -> CartLink:
    """Signature, expiry, shape, and that no order has paid it yet."""
    return read_cart_link(rt, actor, url)


def link_json(link: CartLink, url: str | None, rt: Runtime) -> dict[str, Any]:
    data = payload_of(link)
    data["expires_at"] = iso_local(link.expires_at, rt.config.venue.zone)
    if url is not None:
        data["url"] = url
    return data
