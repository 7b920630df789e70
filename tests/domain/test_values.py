"""The boundary parsers: bounds, ASCII digits only, one sentence naming the field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.domain import values
from pos.domain.cart_link import CartLinkError, b64url, parse_link, signature
from pos.domain.clock import parse_date, parse_time
from pos.domain.money import parse_amount, parse_rate

ZONE = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("text", "number"), [("0", 0), ("12", 12), (" 007 ", 7), ("2147483647", 2**31 - 1)])
def test_counts(text: str, number: int) -> None:
    assert values.parse_count(text, "--uses") == number


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty; give a whole number such as 12"),
        ("²", "'²' is not a whole number written with the digits 0-9"),
        ("١٢", "'١٢' is not a whole number written with the digits 0-9"),
        ("１２", "'１２' is not a whole number written with the digits 0-9"),
        ("1_000", "'1_000' is not a whole number written with the digits 0-9"),
        ("+1", "'+1' is not a whole number written with the digits 0-9"),
        ("-1", "'-1' is less than 0"),
        ("2147483648", "'2147483648' is more than 2147483647"),
        ("9" * 5000, "'" + "9" * 40 + "'... is more than 2147483647"),
    ],
)
def test_counts_refused_with_one_sentence_naming_the_field(text: str, problem: str) -> None:
    with pytest.raises(values.BadValue) as caught:
        values.parse_count(text, "--uses")
    assert caught.value.problem == problem
    assert str(caught.value) == f"--uses: {problem}."


def test_ids_are_64_bit_and_take_a_hash() -> None:
    assert values.parse_id("#12", "ORDER") == 12
    assert values.parse_id(str(2**63 - 1), "ORDER") == 2**63 - 1
    for bad in ("0", str(2**63), "#", "#-1", "12a"):
        with pytest.raises(values.BadValue, match="^ORDER: "):
            values.parse_id(bad, "ORDER")


def test_limits_and_quantities() -> None:
    assert values.parse_limit(" Unlimited ", "x") is None
    assert values.parse_limit("5", "x") == 5
    assert values.parse_quantity("1000", "x") == 1000
    with pytest.raises(values.BadValue, match="more than 1000"):
        values.parse_quantity("1001", "x")
    with pytest.raises(values.BadValue, match="less than 1"):
        values.parse_quantity("0", "x")


@pytest.mark.parametrize(
    ("text", "cents"),
    [("49.90", 4990), ("49,9", 4990), ("49", 4900), (".5", 50), ("999999.99", 99_999_999), ("0", 0)],
)
def test_amounts(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1000000", "'1000000' is more than 999999.99"),
        ("50000000", "'50000000' is more than 999999.99"),
        ("1e5", "'1e5' is not an amount such as 49.90"),
        ("NaN", "'NaN' is not an amount such as 49.90"),
        ("-1", "'-1' is not an amount such as 49.90"),
        ("١٢", "'١٢' is not an amount such as 49.90"),
        ("1.005", "'1.005' has fractions of a cent"),
        ("1,000.00", "'1,000.00' is not an amount such as 49.90"),
    ],
)
def test_amounts_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_amount(text)
    assert str(caught.value) == problem
    with pytest.raises(values.BadValue, match=f"^--price: {problem}"):
        values.parse_money(text, "--price")


def test_rates_take_ascii_digits_only() -> None:
    assert parse_rate("7,7 %") == 770
    for bad in ("١٩", "1e1", "101", "-1", "12.345"):
        with pytest.raises(ValueError):
            parse_rate(bad)


@pytest.mark.parametrize(
    "text",
    ["0001-01-01", "9999-12-31T23:59:59-05:00", "1899-12-31T23:59", "2201-01-01", "9999-12-31T23:59:59Z"],
)
def test_times_outside_1900_to_2200_are_refused_before_any_conversion(text: str) -> None:
    with pytest.raises(ValueError, match="is outside the years 1900 to 2200"):
        parse_time(text, ZONE)
    with pytest.raises(values.BadValue, match=r"^--at: .* is outside the years 1900 to 2200\.$"):
        values.parse_instant(text, "--at", ZONE)


def test_times_at_the_inner_edges_are_read() -> None:
    assert parse_time("1900-01-01T00:00", ZONE).year == 1899  # Berlin was ahead of UTC then
    assert parse_time("2200-12-31T23:59:59-12:00", ZONE) == datetime(2201, 1, 1, 11, 59, 59, tzinfo=UTC)
    assert parse_date("2200-12-31") == date(2200, 12, 31)
    for bad in ("0001-01-01", "2201-01-01", "２０２６-01-01", "2026-02-30"):
        with pytest.raises(ValueError):
            parse_date(bad)


def test_durations_are_bounded() -> None:
    assert values.parse_duration("1d12h", "--expires-in") == timedelta(hours=36)
    assert values.parse_duration("3660d", "--expires-in") == timedelta(days=3660)
    for bad, problem in (
        ("3661d", "is longer than 3660 days"),
        ("99999999999999d", "is longer than 3660 days"),
        ("9" * 5000 + "s", "is longer than 3660 days"),
        ("0s", "is not a positive duration"),
        ("٢h", "is not a duration such as 30m, 24h or 7d"),
        ("1y", "is not a duration such as 30m, 24h or 7d"),
    ):
        with pytest.raises(values.BadValue, match=problem):
            values.parse_duration(bad, "--expires-in")


def test_seconds_and_text() -> None:
    assert values.parse_seconds("0.5", "--interval", minimum=0.5, maximum=3600) == 0.5
    for bad in ("nan", "inf", "1e308", "0.1", "3601", "-1"):
        with pytest.raises(values.BadValue, match="^--interval: "):
            values.parse_seconds(bad, "--interval", minimum=0.5, maximum=3600)
    assert values.check_text("Anna", "name") == "Anna"
    with pytest.raises(values.BadValue, match="NUL"):
        values.check_text("An\x00na", "name")
    with pytest.raises(values.BadValue, match="longer than 3 characters"):
        values.check_text("Anna", "name", max_chars=3)


@given(st.text(max_size=30))
def test_whole_numbers_never_raise_anything_but_bad_value(text: str) -> None:
    try:
        number = values.parse_whole(text, "x", minimum=0, maximum=values.MAX_ID)
    except values.BadValue as exc:
        assert "\n" not in exc.problem or "\n" in text
    else:
        assert 0 <= number <= values.MAX_ID and text.strip().isascii()


SECRET = b"link-secret-0123456789"
NOW = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)


def _link(payload_text: str) -> str:
    content = b64url(payload_text.encode())
    return f"pos://cart?v=1&c={content}&s={signature(SECRET, content)}"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            '{"v":1,"id":"a","exp":"0001-01-01","lines":[{"article":"A"}]}',
            "exp is not an ISO 8601 time in the years 1900 to 2200",
        ),
        (
            '{"v":1,"id":"a","exp":"9999-12-31T23:59:59-05:00","lines":[{"article":"A"}]}',
            "exp is not an ISO 8601 time",
        ),
        (
            '{"v":1,"id":"a","exp":"2027-01-01","lines":[{"article":"A","valid_from":"0001-01-01"}]}',
            "line 1 valid_from is not an ISO 8601 time",
        ),
        (
            '{"v":1,"id":"a","exp":"2027-01-01","lines":[{"article_id":' + "1" + "0" * 30 + "}]}",
            "article_id must be 1 to 9223372036854775807",
        ),
        ('{"v":1,"id":"a","exp":"2027-01-01","lines":[{"article_id":0}]}', "article_id must be 1 to"),
        ('{"v":1,"id":"a","exp":"2027-01-01","lines":' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
        ('{"v":' + "9" * 5000 + "}", "its content is not JSON"),
        (
            '{"v":1,"id":"a","exp":"2027-01-01","lines":[{"article":"A\\u0000"}]}',
            "line 1 article contains a NUL character",
        ),
        (
            '{"v":1,"id":"a","exp":"2027-01-01","lines":[{"article":"A"}],"customer":{"name":"'
            + "x" * 201
            + '"}}',
            "customer name is longer than 200 characters",
        ),
        ('{"v":[' + "1," * 3000 + '1],"id":"a"}', "Cart link version list is not supported"),
    ],
)
def test_cart_links_with_hostile_payloads_are_one_sentence(payload: str, message: str) -> None:
    with pytest.raises(CartLinkError) as caught:
        parse_link(_link(payload), SECRET, NOW, ZONE)
    text = str(caught.value)
    assert message in text and "\n" not in text and len(text) < 300


def test_huge_links_are_refused_unread() -> None:
    with pytest.raises(CartLinkError, match="too long"):
        parse_link("pos://cart?v=1&c=" + "A" * 10_000_000, SECRET, NOW, ZONE)
