"""Hypothesis-driven garbage at every entry point: never a traceback, never a state change on rejected input.

The default run is short; `pytest -m slow` runs 10,000 cases per target (POS_FUZZ_CASES overrides both).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from pos.cli import app
from pos.db.models import Entry, Order, Ticket
from pos.domain.cart_link import CartLink, CartLinkError, LinkLine, make_link, parse_link
from pos.domain.ticket_code import CODE_LENGTH, make_code, parse_code

FAST = int(os.environ.get("POS_FUZZ_CASES", "200"))
SLOW = int(os.environ.get("POS_FUZZ_CASES", "10000"))
SECRET = b"fuzz-secret-0123456789"
LINK_SECRET = b"link-secret-0123456789"
ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)

garbage = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="0123456789", min_size=CODE_LENGTH - 2, max_size=CODE_LENGTH + 2),
    st.text(alphabet="０１２３４５６７８９0123456789", min_size=CODE_LENGTH, max_size=CODE_LENGTH),
    st.sampled_from(["", " ", "\x1b[2J", "' OR 1=1 --", "1" * 5000, "\n", "\x00" * 24]),
)


def _scan_never_raises(text: str) -> None:
    parsed = parse_code(text, "1000", SECRET)
    if parsed.ok:
        assert text == make_code("1000", parsed.serial or 0, SECRET)


@settings(max_examples=FAST, deadline=None)
@given(garbage)
def test_scan_parser(text: str) -> None:
    _scan_never_raises(text)


@pytest.mark.slow
@settings(max_examples=SLOW, deadline=None)
@given(garbage)
def test_scan_parser_long(text: str) -> None:
    _scan_never_raises(text)


def _link_never_raises(url: str) -> None:
    try:
        parse_link(url, LINK_SECRET, NOW, ZONE)
    except CartLinkError as error:
        assert str(error) and "\n" not in str(error)


VALID_LINK = make_link(
    CartLink(
        id="fuzz-1", expires_at=datetime(2027, 1, 1, tzinfo=UTC), lines=(LinkLine(article="Gig", quantity=2),)
    ),
    LINK_SECRET,
)
links = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda cut, junk: VALID_LINK[:cut] + junk + VALID_LINK[cut:],
        st.integers(0, len(VALID_LINK)),
        st.text(max_size=5),
    ),
    st.builds(lambda s: "pos://cart?v=1&c=" + s + "&s=" + s, st.text(alphabet="ABCabc012-_=%", max_size=80)),
)


@settings(max_examples=FAST, deadline=None)
@given(links)
@example("A://[")  # urlsplit's ValueError for a bracket that opens no IPv6 address
def test_cart_link_parser(url: str) -> None:
    _link_never_raises(url)


@pytest.mark.slow
@settings(max_examples=SLOW, deadline=None)
@given(links)
def test_cart_link_parser_long(url: str) -> None:
    _link_never_raises(url)


COMMANDS = [
    ["redeem"],
    ["sell"],
    ["article", "add"],
    ["article", "set-availability"],
    ["ticket", "show"],
    ["ticket", "reset"],
    ["ticket", "set-repeat"],
    ["promo", "add"],
    ["order", "cancel"],
    ["export", "attendance"],
    ["report", "sales"],
    ["customer", "add"],
]
argument = st.one_of(
    st.text(max_size=20).filter(lambda s: "\x00" not in s),
    st.sampled_from(
        [
            "--json",
            "--price",
            "--at",
            "--repeat",
            "--repeat-limit",
            "--uses",
            "--percent",
            "--format",
            "--precision",
            "--from",
            "--to",
            "-o",
            "/dev/full",
            "#1",
            "Gig:2",
            "-1",
            "999999999999999999999",
            "2026-02-30",
            "unlimited",
            "csv",
            "--all",
            "--full",
        ]
    ),
)


def _counts(rt) -> tuple[int, int, int]:
    with rt.engine.connect() as connection:
        return tuple(
            connection.execute(select(func.count()).select_from(table)).scalar_one()  # type: ignore[return-value]
            for table in (Order, Ticket, Entry)
        )


@pytest.fixture
def cli_env(sqlite_rt, config_file, monkeypatch: pytest.MonkeyPatch):
    from tests.factories import issue_tickets, ticket_article

    ticket_article(sqlite_rt, "Gig", stock_limit=5)
    issue_tickets(sqlite_rt, "Gig", 1)
    monkeypatch.setenv("POS_DB", sqlite_rt.database_url)
    monkeypatch.setenv("POS_CONFIG", str(config_file))
    return sqlite_rt


def _run_cli(rt, words: list[str]) -> None:
    before = _counts(rt)
    result = CliRunner().invoke(app, words, catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        words,
        repr(result.exception),
    )
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert _counts(rt) == before, words


@settings(
    max_examples=max(FAST // 2, 50),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.sampled_from(COMMANDS), st.lists(argument, max_size=5))
def test_cli_arguments(cli_env, command: list[str], extra: list[str]) -> None:
    _run_cli(cli_env, command + extra)


@pytest.mark.slow
@settings(
    max_examples=SLOW,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.sampled_from(COMMANDS), st.lists(argument, max_size=6))
def test_cli_arguments_long(cli_env, command: list[str], extra: list[str]) -> None:
    _run_cli(cli_env, command + extra)
