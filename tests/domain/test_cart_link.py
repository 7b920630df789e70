"""Cart link format v1: round trip, and every way a link is refused is one sentence."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.domain.cart_link import (
    CartLink,
    CartLinkError,
    LinkLine,
    make_link,
    parse_duration,
    parse_link,
)

SECRET = b"cart-link-secret-0123456789"
ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)


def a_link(**changes: object) -> CartLink:
    values: dict[str, object] = {
        "id": "shop-4711",
        "expires_at": NOW + timedelta(hours=1),
        "lines": (
            LinkLine("Konzert 15.01.2027", 2),
            LinkLine(7, 1, NOW, NOW + timedelta(days=1)),
        ),
        "customer_name": "Anna Müller",
        "customer_email": "anna@example.org",
        "promo": "LINK10",
    }
    values.update(changes)
    return CartLink(**values)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field() -> None:
    link = a_link()
    url = make_link(link, SECRET, "https://box.example/cart")
    assert url.startswith("https://box.example/cart?v=1&c=")
    assert parse_link(url, SECRET, NOW, ZONE) == link


def test_stdlib_only_reference_producer_is_accepted() -> None:
    """The snippet in README: a third party signs a link with nothing but the standard library."""
    payload = {
        "v": 1,
        "id": "order-123",
        "exp": "2026-12-31T18:00:00+01:00",
        "lines": [{"article": "Konzert 15.01.2027", "qty": 2}],
        "customer": {"name": "Anna", "email": "anna@example.org"},
    }
    c = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    s = base64.urlsafe_b64encode(hmac.new(SECRET, c.encode(), hashlib.sha256).digest()).decode().rstrip("=")
    url = "pos://cart?" + urlencode({"v": 1, "c": c, "s": s})
    link = parse_link(url, SECRET, NOW, ZONE)
    assert link.id == "order-123"
    assert link.lines == (LinkLine("Konzert 15.01.2027", 2),)
    assert link.expires_at == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert link.customer_email == "anna@example.org"


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(params)
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


def _signed(payload: object) -> str:
    c = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    s = base64.urlsafe_b64encode(hmac.new(SECRET, c.encode(), hashlib.sha256).digest()).decode().rstrip("=")
    return "pos://cart?" + urlencode({"v": 1, "c": c, "s": s})


def test_tampered_content_is_refused() -> None:
    url = make_link(a_link(), SECRET)
    content = parse_qs(urlsplit(url).query)["c"][0]
    payload = json.loads(base64.urlsafe_b64decode(content + "=" * (-len(content) % 4)))
    payload["lines"][0]["qty"] = 20
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    with pytest.raises(CartLinkError, match="tampered"):
        parse_link(_with_query(url, c=forged), SECRET, NOW, ZONE)


def test_other_secret_is_refused() -> None:
    url = make_link(a_link(), b"another-secret-0123456789")
    with pytest.raises(CartLinkError, match="bad signature"):
        parse_link(url, SECRET, NOW, ZONE)


def test_expired_link_is_refused() -> None:
    url = make_link(a_link(expires_at=NOW), SECRET)
    with pytest.raises(CartLinkError, match="expired at 2026-12-31T13:00:00\\+01:00"):
        parse_link(url, SECRET, NOW, ZONE)
    assert parse_link(url, SECRET, NOW - timedelta(seconds=1), ZONE).id == "shop-4711"


def test_unknown_version_is_refused() -> None:
    url = make_link(a_link(), SECRET)
    with pytest.raises(CartLinkError, match="version '2' is not supported"):
        parse_link(_with_query(url, v="2"), SECRET, NOW, ZONE)
    with pytest.raises(CartLinkError, match="version 2 is not supported"):
        parse_link(_signed({"v": 2}), SECRET, NOW, ZONE)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([1, 2], "not a JSON object"),
        ({"v": 1, "exp": "2027-01-01T00:00:00Z", "lines": [{"article": "A"}]}, "id must be"),
        ({"v": 1, "id": "x", "lines": [{"article": "A"}]}, "exp, its expiry time, is missing"),
        ({"v": 1, "id": "x", "exp": "soon", "lines": [{"article": "A"}]}, "exp is not an ISO 8601 time"),
        ({"v": 1, "id": "x", "exp": "2027-01-01T00:00:00Z", "lines": []}, "lines must be a list"),
        (
            {"v": 1, "id": "x", "exp": "2027-01-01T00:00:00Z", "lines": [{"qty": 1}]},
            "line 1 needs an article",
        ),
        (
            {"v": 1, "id": "x", "exp": "2027-01-01T00:00:00Z", "lines": [{"article": "A", "qty": 0}]},
            "qty must be",
        ),
        (
            {"v": 1, "id": "x", "exp": "2027-01-01T00:00:00Z", "lines": [{"article": "A", "qty": True}]},
            "qty must be",
        ),
        (
            {
                "v": 1,
                "id": "x",
                "exp": "2027-01-01T00:00:00Z",
                "lines": [{"article": "A", "valid_from": "2027-01-02", "valid_until": "2027-01-01"}],
            },
            "valid_until is not after valid_from",
        ),
        (
            {
                "v": 1,
                "id": "x",
                "exp": "2027-01-01T00:00:00Z",
                "lines": [{"article": "A"}],
                "customer": "Anna",
            },
            "customer must be",
        ),
    ],
)
def test_malformed_payloads_are_refused(payload: object, problem: str) -> None:
    with pytest.raises(CartLinkError, match=problem):
        parse_link(_signed(payload), SECRET, NOW, ZONE)


@pytest.mark.parametrize(
    "text",
    ["", "hello", "pos://cart?v=1&c=abc", "pos://cart?v=1&c=%%%&s=x", "1000123456789012345678901"],
)
def test_not_a_link_is_refused(text: str) -> None:
    with pytest.raises(CartLinkError):
        parse_link(text, SECRET, NOW, ZONE)


@given(st.text(max_size=300))
def test_any_text_is_a_link_or_one_sentence(text: str) -> None:
    try:
        parse_link(text, SECRET, NOW, ZONE)
    except CartLinkError as exc:
        message = str(exc)
        assert message.endswith(".") and "\n" not in message


def test_local_times_without_offset_are_venue_time() -> None:
    url = _signed(
        {
            "v": 1,
            "id": "x",
            "exp": "2027-01-01T00:00:00",
            "lines": [{"article": "A", "valid_from": "2027-01-01T10:00"}],
        }
    )
    link = parse_link(url, SECRET, NOW, ZONE)
    assert link.expires_at == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert link.lines[0].valid_from == datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("24h", 86400), ("7d", 604800), ("1d12h", 129600), ("90s", 90)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "24", "h", "0h", "1y", "24h garbage"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
