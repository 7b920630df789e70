"""Signed cart links: a third-party system hands over a prepared cart as a URL.

Format, version 1 (documented in README, "Cart links"):

    <base>?v=1&c=<base64url(JSON payload)>&s=<base64url(HMAC-SHA256(secret, c))>

base64url is RFC 4648 section 5 without `=` padding (padding is accepted when parsing). The MAC is computed
over the ASCII text of `c` exactly as it appears in the link, keyed with `[cart_links] secret` (UTF-8). The
payload is a JSON object:

    {"v": 1, "id": "unique link id", "exp": "2027-01-15T18:00:00+01:00",
     "lines": [{"article": "Konzert 15.01.2027", "qty": 2,
                "valid_from": "...", "valid_until": "..."}],       # or "article_id": 7 instead of "article"
     "customer": {"name": "Anna", "email": "anna@example.org"},    # optional
     "promo": "LINK10"}                                             # optional direct-link promo code

A link is paid at most once (its `id` is stored on the order). Pure: no I/O, the clock is passed in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from pos.domain import values
from pos.domain.clock import parse_time

VERSION = 1
MAX_LINES = 100
MAX_QUANTITY = 1000
MAX_URL_CHARS = 16_000
_LINK_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
MAX_TEXT_CHARS = 200  # a customer name, e-mail, article name or promo code in a link


class CartLinkError(ValueError):
    """Why a link is refused, in one sentence."""


@dataclass(frozen=True)
class LinkLine:
    article: str | int  # an exact name, or an article id
    quantity: int = 1
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True)
class CartLink:
    id: str
    expires_at: datetime
    lines: tuple[LinkLine, ...]
    customer_name: str | None = None
    customer_email: str | None = None
    promo: str | None = None
    version: int = VERSION


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64url(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_\-]*={0,2}", text):
        raise CartLinkError("The cart link is malformed (not base64url).")
    text = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise CartLinkError("The cart link is malformed (not base64url).") from None


def signature(secret: bytes, content: str) -> str:
    return b64url(hmac.new(secret, content.encode("ascii"), hashlib.sha256).digest())


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def payload_of(link: CartLink) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    for line in link.lines:
        item: dict[str, Any] = (
            {"article_id": line.article} if isinstance(line.article, int) else {"article": line.article}
        )
        item["qty"] = line.quantity
        if line.valid_from is not None:
            item["valid_from"] = _iso(line.valid_from)
        if line.valid_until is not None:
            item["valid_until"] = _iso(line.valid_until)
        lines.append(item)
    payload: dict[str, Any] = {"v": link.version, "id": link.id, "exp": _iso(link.expires_at), "lines": lines}
    if link.customer_name or link.customer_email:
        payload["customer"] = {"name": link.customer_name, "email": link.customer_email}
    if link.promo:
        payload["promo"] = link.promo
    return payload


def make_link(link: CartLink, secret: bytes, base_url: str = "pos://cart") -> str:
    content = b64url(json.dumps(payload_of(link), separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    query = urlencode({"v": str(link.version), "c": content, "s": signature(secret, content)})
    joiner = "&" if "?" in base_url else "?"
    return f"{base_url}{joiner}{query}"


def parse_link(url: str, secret: bytes, now: datetime, zone: ZoneInfo) -> CartLink:
    """Check version, signature (before anything in the payload is trusted), shape and expiry."""
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise CartLinkError("The cart link is malformed (too long).")
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. 'A://[': a bracket that opens no IPv6 address
        raise CartLinkError("The cart link is malformed (not a URL).") from None
    query = parse_qs(parts.query, keep_blank_values=True)
    query_values = {key: items[0] for key, items in query.items() if len(items) == 1}
    if not {"v", "c", "s"} <= query_values.keys():
        raise CartLinkError("The text is not a cart link (it needs the parameters v, c and s).")
    if query_values["v"] != str(VERSION):
        raise CartLinkError(
            f"Cart link version {values.shown(query_values['v'])} is not supported (this system reads version 1)."
        )
    content = query_values["c"]
    signed = query_values["s"]
    if not (content.isascii() and signed.isascii()) or not hmac.compare_digest(
        signature(secret, content), signed
    ):
        raise CartLinkError("The cart link was tampered with or signed with another secret (bad signature).")
    try:
        payload = json.loads(_unb64url(content).decode("utf-8"))
    except ValueError:  # not UTF-8, not JSON, or a number of thousands of digits
        raise CartLinkError("The cart link is malformed (its content is not JSON).") from None
    except RecursionError:  # arrays nested thousands deep: the link is bounded in length, not in depth
        raise CartLinkError("The cart link is malformed (its content is nested too deeply).") from None
    link = _read_payload(payload, zone)
    if link.expires_at <= now:
        raise CartLinkError(f"The cart link expired at {link.expires_at.astimezone(zone).isoformat()}.")
    return link


def _read_payload(payload: Any, zone: ZoneInfo) -> CartLink:
    if not isinstance(payload, dict):
        raise CartLinkError("The cart link is malformed (its content is not a JSON object).")
    if payload.get("v") != VERSION:
        raise CartLinkError(
            f"Cart link version {_brief(payload.get('v'))} is not supported (this system reads version 1)."
        )
    link_id = payload.get("id")
    if not isinstance(link_id, str) or not _LINK_ID.fullmatch(link_id):
        raise CartLinkError("The cart link is malformed (id must be 1 to 64 letters, digits or . _ : -).")
    expires_at = _time(payload.get("exp"), "exp", zone)
    if expires_at is None:
        raise CartLinkError("The cart link is malformed (exp, its expiry time, is missing).")
    raw_lines = payload.get("lines")
    if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= MAX_LINES:
        raise CartLinkError(f"The cart link is malformed (lines must be a list of 1 to {MAX_LINES} items).")
    customer = payload.get("customer") or {}
    if not isinstance(customer, dict):
        raise CartLinkError("The cart link is malformed (customer must be an object with name and email).")
    promo = payload.get("promo")
    if promo is not None and (not isinstance(promo, str) or not promo.strip()):
        raise CartLinkError("The cart link is malformed (promo must be a code).")
    if promo is not None:
        _checked_text(promo, "promo")
    return CartLink(
        id=link_id,
        expires_at=expires_at,
        lines=tuple(_read_line(item, number, zone) for number, item in enumerate(raw_lines, 1)),
        customer_name=_optional_text(customer.get("name"), "customer name"),
        customer_email=_optional_text(customer.get("email"), "customer email"),
        promo=promo.strip() if promo else None,
    )


def _read_line(item: Any, number: int, zone: ZoneInfo) -> LinkLine:
    if not isinstance(item, dict):
        raise CartLinkError(f"The cart link is malformed (line {number} is not an object).")
    article: str | int
    if isinstance(item.get("article_id"), int) and not isinstance(item.get("article_id"), bool):
        article_id: int = item["article_id"]
        article = article_id
        if not 1 <= article_id <= values.MAX_ID:
            raise CartLinkError(
                f"The cart link is malformed (line {number}: article_id must be 1 to {values.MAX_ID})."
            )
    elif isinstance(item.get("article"), str) and item["article"].strip():
        article = _checked_text(item["article"], f"line {number} article").strip()
    else:
        raise CartLinkError(
            f"The cart link is malformed (line {number} needs an article name or article_id)."
        )
    quantity = item.get("qty", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise CartLinkError(f"The cart link is malformed (line {number}: qty must be 1 to {MAX_QUANTITY}).")
    start = _time(item.get("valid_from"), f"line {number} valid_from", zone)
    end = _time(item.get("valid_until"), f"line {number} valid_until", zone)
    if start and end and end <= start:
        raise CartLinkError(
            f"The cart link is malformed (line {number}: valid_until is not after valid_from)."
        )
    return LinkLine(article=article, quantity=quantity, valid_from=start, valid_until=end)


def _time(value: Any, name: str, zone: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(name)
        return parse_time(value, zone)
    except ValueError:
        raise CartLinkError(
            f"The cart link is malformed ({name} is not an ISO 8601 time in the years "
            f"{values.EARLIEST_DAY.year} to {values.LATEST_DAY.year})."
        ) from None


def _brief(value: Any) -> str:
    """A JSON value as a message repeats it: repr, cut to a few dozen characters."""
    text = repr(value) if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__
    return text if len(text) <= values.MAX_SHOWN_CHARS else text[: values.MAX_SHOWN_CHARS] + "..."


def _optional_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CartLinkError(f"The cart link is malformed ({name} is not text).")
    return _checked_text(value, name).strip() or None


def _checked_text(value: str, name: str) -> str:
    try:
        return values.check_text(value, name, max_chars=MAX_TEXT_CHARS)
    except values.BadValue as exc:
        raise CartLinkError(f"The cart link is malformed ({name} {exc.problem}).") from None


def parse_duration(text: str) -> timedelta:
    """`90m`, `24h`, `7d`, `1d12h`: how long a new link stays valid (at most 3,660 days)."""
    try:
        return values.parse_duration(text, "duration")
    except values.BadValue as exc:
        raise ValueError(exc.problem) from None
