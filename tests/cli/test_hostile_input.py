"""Hostile values on the command line: one sentence naming the field, exit code 2, nothing written.

Every class of bad input from issue 18 on SQLite and PostgreSQL, through the real console script: dates at the
calendar's edges, numbers beyond any column, digits of other scripts, amounts beyond 999,999.99, NUL characters,
bytes that are not UTF-8, and wrong options. And the other side: real values that pass 2^31 now fit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pos.domain.cart_link import b64url, signature
from tests.conftest import PosCommand
from tests.hostile import database_state, run_cli


class Hostile:
    """`pos` in-process against one database, with a sold ticket, a ticket article, a drink and a promo code."""

    def __init__(self, db_url: str, config_file: Path, tmp_path: Path) -> None:
        self.url = db_url
        self.env = {
            "POS_DB": db_url,
            "POS_CONFIG": str(config_file),
            "XDG_DATA_HOME": str(tmp_path / "data"),  # a crash log would land here (there must be none)
        }
        self.code = ""

    def __call__(self, *args: str, input: str | None = None):
        return run_cli(list(args), self.env, input=input)

    def json(self, *args: str):
        result = self(*args, "--json")
        assert result.exit_code == 0, (args, result.stderr, result.exception)
        return json.loads(result.stdout)


@pytest.fixture
def hostile(db_url: str, config_file: Path, tmp_path: Path) -> Hostile:
    from pos.runtime import Runtime
    from tests.conftest import test_config
    from tests.factories import add_article, add_promo, issue_tickets, ticket_article

    rt = Runtime(config=test_config(), database_url=db_url, operator="tester")
    ticket_article(rt, "Gig", price_cents=2000, stock_limit=5)
    add_article(rt, name="Bier", price_cents=350)
    add_promo(rt, "SAVE5", amount_cents=500)
    pos = Hostile(db_url, config_file, tmp_path)
    pos.code = issue_tickets(rt, "Gig", 1)[0].code
    rt.engine.dispose()
    return pos


def refused(pos: Hostile, db_url: str, *args: str, input: str | None = None) -> str:
    """Run a command that must be refused; return its one line on stderr."""
    before = database_state(db_url)
    result = pos(*args, input=input)
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, (args, result.exit_code, result.stderr, result.exception)
    assert len(lines) == 1 and lines[0].startswith("Error: "), (args, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    assert database_state(db_url) == before, args
    return lines[0]


def ticket_code(pos: Hostile) -> str:
    return pos.code


CALENDAR_EDGES = [
    (("redeem", "{code}", "--at", "0001-01-01"), "--at: '0001-01-01' is outside the years 1900 to 2200."),
    (
        ("redeem", "{code}", "--at", "9999-12-31T23:59:59-05:00"),
        "--at: '9999-12-31T23:59:59-05:00' is outside the years 1900 to 2200.",
    ),
    (("report", "sales", "--from", "0001-01-01"), "--from: '0001-01-01' is outside the years 1900 to 2200."),
    (("report", "door", "--to", "9999-12-31"), "--to: '9999-12-31' is outside the years 1900 to 2200."),
    (
        ("article", "add", "X", "--price", "1", "--ticket", "--valid-from", "0001-01-01"),
        "--valid-from: '0001-01-01' is outside the years 1900 to 2200.",
    ),
    (
        ("article", "add", "X", "--price", "1", "--event-date", "2201-01-01"),
        "--event-date: '2201-01-01' is outside the years 1900 to 2200.",
    ),
    (
        ("export", "attendance", "--format", "csv", "--from", "0001-01-01T00:00"),
        "--from: '0001-01-01T00:00' is outside the years 1900 to 2200.",
    ),
    (
        ("promo", "add", "EDGE", "--amount", "1", "--valid-until", "9999-12-31T23:59:59+14:00"),
        "--valid-until: '9999-12-31T23:59:59+14:00' is outside the years 1900 to 2200.",
    ),
    (
        ("customer", "add", "Anna", "--birthday", "0001-01-01"),
        "Birthday '0001-01-01' is outside the years 1900 to 2200.",
    ),
    (
        ("cart-link", "create", "Gig", "--valid-until", "1899-12-31T23:00"),
        "--valid-until: '1899-12-31T23:00' is outside the years 1900 to 2200.",
    ),
]


@pytest.mark.parametrize(("args", "message"), CALENDAR_EDGES)
def test_dates_at_the_calendars_edges(hostile, db_url, args, message) -> None:
    words = [word.format(code=ticket_code(hostile)) for word in args]
    assert refused(hostile, db_url, *words) == f"Error: {message}"


HUGE = "99999999999999999999"
HUGE_NUMBERS = [
    (("order", "show", HUGE), f"Order number: '{HUGE}' is more than 9223372036854775807."),
    (("order", "cancel", f"#{HUGE}"), f"Order number: '#{HUGE}' is more than 9223372036854775807."),
    (("order", "reprint", HUGE), f"Order number: '{HUGE}' is more than 9223372036854775807."),
    (("order", "resend", HUGE), f"Order number: '{HUGE}' is more than 9223372036854775807."),
    (("mail", "list", "--order", HUGE), f"--order: '{HUGE}' is more than 9223372036854775807."),
    (("sell", f"#{HUGE}"), f"Article '#{HUGE}' does not exist."),
    (("sell", f"Gig:{HUGE}"), "The quantity of Gig must be 1 to 1000."),
    (("sell", "Bier", "--customer", HUGE), f"--customer: '{HUGE}' is more than 9223372036854775807."),
    (("promo", "add", "X", "--amount", "1", "--uses", HUGE), f"--uses: '{HUGE}' is more than 2147483647."),
    (("promo", "generate", "--count", HUGE, "--amount", "1"), f"--count: '{HUGE}' is more than 100000."),
    (
        ("article", "add", "X", "--price", "1", "--available", HUGE),
        f"--available: '{HUGE}' is more than 2147483647.",
    ),
    (("article", "set-availability", "Gig", HUGE), f"Availability: '{HUGE}' is more than 2147483647."),
    (
        ("article", "add", "X", "--price", "1", "--ticket", "--repeat", "daily", "--repeat-limit", HUGE),
        f"--repeat: repeat limit '{HUGE}' is more than 2147483647.",
    ),
    (
        ("cart-link", "create", "Gig", "--expires-in", "99999999999999d"),
        "--expires-in: '99999999999999d' is longer than 3660 days.",
    ),
    (("ticket", "protocol-delete", "{code}", HUGE), f"ENTRY_ID: '{HUGE}' is more than 9223372036854775807."),
    (
        ("mail", "worker", "--interval", "1e308"),
        "--interval: '1e308' is not a number of seconds such as 10 or 0.5.",
    ),
]


@pytest.mark.parametrize(("args", "message"), HUGE_NUMBERS)
def test_numbers_beyond_any_column(hostile, db_url, args, message) -> None:
    words = [word.format(code=ticket_code(hostile)) for word in args]
    assert refused(hostile, db_url, *words) == f"Error: {message}"


THIRTY_TWO_BITS = [
    (
        ("article", "set-availability", "Gig", "3000000000"),
        "Availability: '3000000000' is more than 2147483647.",
    ),
    (
        ("promo", "add", "X", "--amount", "1", "--uses", "3000000000"),
        "--uses: '3000000000' is more than 2147483647.",
    ),
    (("article", "add", "Big", "--price", "50000000"), "--price: '50000000' is more than 999999.99."),
    (("sell", "Bier", "--given", "25000000"), "--given: '25000000' is more than 999999.99."),
    (("promo", "add", "X", "--amount", "1000000"), "--amount: '1000000' is more than 999999.99."),
]


@pytest.mark.parametrize(("args", "message"), THIRTY_TWO_BITS)
def test_values_that_overflowed_32_bit_columns(hostile, db_url, args, message) -> None:
    assert refused(hostile, db_url, *args) == f"Error: {message}"


FOREIGN_DIGITS = [
    (
        ("article", "set-availability", "Gig", "²"),
        "Availability: '²' is not a whole number written with the digits 0-9.",
    ),
    (
        ("article", "set-availability", "Gig", "١٢"),
        "Availability: '١٢' is not a whole number written with the digits 0-9.",
    ),
    (("article", "add", "X", "--price", "١٢"), "--price: '١٢' is not an amount such as 49.90."),
    (("article", "add", "X", "--price", "1", "--vat", "١٩"), "--vat: '١٩' is not a percentage such as 19."),
    (
        ("promo", "add", "X", "--amount", "1", "--uses", "１"),
        "--uses: '１' is not a whole number written with the digits 0-9.",
    ),
    (("order", "show", "١"), "Order number: '١' is not a whole number written with the digits 0-9."),
    (("sell", "#١"), "Article '#١' does not exist."),
    (("sell", "Gig:٢"), "Article 'Gig:٢' does not exist."),
    (
        ("redeem", "{code}", "--at", "２０２６-12-31"),
        "--at: '２０２６-12-31' is not an ISO 8601 time such as 2026-12-31T20:00.",
    ),
    (
        ("cart-link", "create", "Gig", "--expires-in", "٢h"),
        "--expires-in: '٢h' is not a duration such as 30m, 24h or 7d.",
    ),
]


@pytest.mark.parametrize(("args", "message"), FOREIGN_DIGITS)
def test_digits_of_other_scripts_are_not_read_as_numbers(hostile, db_url, args, message) -> None:
    words = [word.format(code=ticket_code(hostile)) for word in args]
    assert refused(hostile, db_url, *words) == f"Error: {message}"


def test_a_nul_character_in_text_is_one_sentence_on_every_backend(hostile, db_url, tmp_path) -> None:
    csv = tmp_path / "customers.csv"
    csv.write_text("name,email\nAnna,anna@example.org\nBo\x00b,bob@example.org\n", encoding="utf-8")
    assert refused(hostile, db_url, "customer", "import", str(csv)) == (
        "Error: Line 3 of the CSV file: the customer's name contains a NUL character (\\0), which cannot be stored."
    )
    payload = {
        "v": 1,
        "id": "nul-1",
        "exp": "2099-01-01T00:00:00Z",
        "lines": [{"article": "Gig", "qty": 1}],
        "customer": {"name": "Eve\u0000", "email": "eve@example.org"},
    }
    content = b64url(json.dumps(payload).encode())
    link = f"pos://cart?v=1&c={content}&s={signature(b'cart-link-secret-0123456789', content)}"
    assert refused(hostile, db_url, "sell", "--cart-link", link) == (
        "Error: The cart link is malformed (customer name contains a NUL character (\\0), which cannot be stored)."
    )


def test_bytes_that_are_not_utf8_are_one_sentence(hostile, db_url, config_file) -> None:
    undecodable = os.fsdecode(b"Ann\xff")  # what Python makes of such bytes in argv
    before = database_state(db_url)
    result = PosCommand(db_url, config_file, real_process=True)(
        "customer", "add", undecodable
    )  # the real argv path
    assert result.returncode == 2
    assert result.stderr.strip() == "Error: argument 3 is not valid UTF-8 text."
    assert database_state(db_url) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("redeem",), "Error: Missing argument 'code' (see `pos redeem --help`)."),
        (("article", "nope"), "Error: No such command 'nope' (see `pos article --help`)."),
        (("--nope", "article", "list"), "Error: No such option: --nope (see `pos --help`)."),
        (("sell", "Bier", "--pay"), "Error: Option '--pay' requires an argument."),
    ],
)
def test_wrong_options_are_one_line(hostile, db_url, args, message) -> None:
    assert refused(hostile, db_url, *args) == message


def test_values_beyond_2_to_the_31_fit_where_they_are_real(hostile, db_url) -> None:
    """A sale of 1,000 units at 999,999.99 is 99,999,999,000 cents: a 64-bit total on PostgreSQL too."""
    hostile.json("article", "add", "Expensive", "--price", "999999.99")
    order = hostile.json("sell", "Expensive:1000", "--pay", "card", "--no-print")
    assert order["total_cents"] == 99_999_999_000
    report = hostile.json("report", "sales")
    assert report["total_cents"] == 99_999_999_000 + 2000
    assert all(isinstance(row["total_cents"], int) for row in report["by_group"])
    promo = hostile.json("promo", "add", "MANY", "--amount", "1", "--uses", "2147483647")
    assert promo["uses"] == 2147483647
    article = hostile.json("article", "set-availability", "Bier", "2147483647")
    assert article["limit"] == 2147483647


def test_the_database_refuses_what_slipped_past_the_boundary(hostile, db_url) -> None:
    """Below the parsers: a NUL or a number beyond its column is one sentence, the same on both backends."""
    from pos.errors import Refused
    from pos.runtime import Runtime
    from pos.services.articles import set_availability
    from tests.conftest import test_config
    from tests.factories import ADMIN, add_customer

    rt = Runtime(config=test_config(), database_url=db_url, operator="tester")
    before = database_state(db_url)
    with pytest.raises(
        Refused, match=r"^The number for stock_limit is too large to store \(at most 9223372036854775807\)\.$"
    ):
        set_availability(rt, ADMIN, "Gig", 2**63)
    from pos.db.engine import transaction
    from pos.db.models import Customer, OrderLine

    with (
        pytest.raises(
            Refused, match=r"^The number for quantity is too large to store \(at most 2147483647\)\.$"
        ),
        transaction(rt.engine) as session,
    ):
        session.add(
            OrderLine(
                order_id=1,
                article_id=1,
                article_name="Gig",
                article_group="General",
                quantity=2**31,
                unit_price_cents=1,
                total_cents=1,
                vat_bp=0,
            )
        )
    with (
        pytest.raises(
            Refused, match=r"^The text for name contains a NUL character, which cannot be stored\.$"
        ),
        transaction(rt.engine) as session,
    ):
        session.add(Customer(name="Eve\x00"))
    with pytest.raises(Refused, match=r"^The customer's phone contains a NUL character"):
        add_customer(rt, "Eve", phone="12\x0034")
    rt.engine.dispose()
    assert database_state(db_url) == before
