"""`pos sell`, `pos order cancel` and `pos report sales` through the real console script."""

import json

import pytest

from pos.runtime import Runtime
from tests.conftest import CONFIG_TOML, PosCommand
from tests.conftest import test_config as make_config
from tests.factories import add_article

LINE_FIELDS = {
    "admitted",
    "returned_quantity",
    "article",
    "article_id",
    "quantity",
    "unit_price_cents",
    "discount_cents",
    "final_price_cents",
    "total_cents",
    "promo_code",
    "ticket_code",
}
ORDER_FIELDS = {
    "id",
    "status",
    "created_at",
    "cancelled_at",
    "lines",
    "total_cents",
    "discount_cents",
    "vat",
    "payment",
    "tickets",
    "unused_codes",
    "customer",
    "payments",
    "refunded_cents",
    "journal_number",
    "fiscal",
}


def _add_articles(pos) -> None:
    """Set up in-process (fast); the commands under test run through the console script."""
    rt = Runtime(config=make_config(), database_url=pos.env["POS_DB"])
    add_article(
        rt, name="Konzert", price_cents=5000, vat_bp=700, group="Tickets", is_ticket=True, stock_limit=3
    )
    add_article(rt, name="Bier", price_cents=450, group="Drinks")
    add_article(rt, name="Bus 7:30", price_cents=300, group="Transport")
    add_article(rt, name="Kids", price_cents=0, group="Tickets", is_ticket=True)
    rt.engine.dispose()


@pytest.fixture
def shop(pos) -> None:
    _add_articles(pos)


@pytest.fixture
def sqlite_shop(pos_sqlite) -> None:
    _add_articles(pos_sqlite)


def test_sell_prints_the_order_as_json(pos, shop) -> None:
    order = pos.json("sell", "Konzert:2", "Bier:3", "Bus 7:30", "--given", "120", "--no-print")
    assert set(order) == ORDER_FIELDS
    assert all(set(line) == LINE_FIELDS for line in order["lines"])
    assert [(line["article"], line["quantity"]) for line in order["lines"]] == [
        ("Konzert", 1),
        ("Konzert", 1),
        ("Bier", 3),
        ("Bus 7:30", 1),
    ]
    concert = order["lines"][0]
    assert concert["unit_price_cents"] == 5000 and concert["final_price_cents"] == 5000
    assert concert["discount_cents"] == 0 and concert["promo_code"] is None
    assert len(concert["ticket_code"]) == 24 and concert["ticket_code"].isdigit()
    assert order["lines"][2]["total_cents"] == 1350 and order["lines"][2]["ticket_code"] is None
    assert order["total_cents"] == 10000 + 1350 + 300
    assert order["payment"] == {"method": "cash", "given_cents": 12000, "change_cents": 12000 - 11650}
    assert order["status"] == "paid" and order["created_at"].endswith("+01:00")
    assert [t["code"] for t in order["tickets"]] == [line["ticket_code"] for line in order["lines"][:2]]
    assert {t["article"] for t in order["tickets"]} == {"Konzert"}
    assert [v["rate"] for v in order["vat"]] == [7, 19]
    assert sum(v["gross_cents"] for v in order["vat"]) == order["total_cents"]
    assert order["customer"] is None and order["unused_codes"] == []

    again = pos.json("order", "show", str(order["id"]))
    assert again == order


def test_exact_name_wins_and_quantity_splits_at_the_last_colon(pos_sqlite, sqlite_shop) -> None:
    order = pos_sqlite.json("sell", "Bus 7:30:2", "#2:2", "--no-print")
    assert [(line["article"], line["quantity"]) for line in order["lines"]] == [("Bus 7:30", 2), ("Bier", 2)]


def test_free_order_card_and_guest(pos_sqlite, sqlite_shop) -> None:
    free = pos_sqlite.json(
        "sell", "Kids:2", "--no-print", "--customer-name", "Ada", "--customer-email", "ada@example.org"
    )
    assert free["total_cents"] == 0 and free["payment"] == {
        "method": "free",
        "given_cents": 0,
        "change_cents": 0,
    }
    assert free["customer"] == {"id": None, "name": "Ada", "email": "ada@example.org"}
    card = pos_sqlite.json("sell", "Bier", "--pay", "card", "--no-print")
    assert card["payment"] == {"method": "card", "given_cents": 450, "change_cents": 0}


def test_human_output(pos_sqlite, sqlite_shop) -> None:
    result = pos_sqlite("sell", "Bier:2", "--given", "10", "--no-print", check=True)
    assert "total 9.00 (cash, given 10.00, change 1.00)" in result.stdout


def test_cancel_returns_availability_and_refuses_twice(pos, shop) -> None:
    order = pos.json("sell", "Konzert:3", "--no-print")
    sold_out = pos("sell", "Konzert", "--no-print")
    assert sold_out.returncode == 2 and sold_out.stderr.strip() == "Error: Konzert is sold out."
    cancelled = pos.json("order", "cancel", str(order["id"]))
    assert cancelled["refund_cents"] == 15000 and len(cancelled["tickets"]) == 3
    shown = pos.json("order", "show", str(order["id"]))
    assert shown["status"] == "cancelled" and shown["cancelled_at"] and shown["refunded_cents"] == 15000
    assert pos.json("article", "list")[0]["available"] == 3
    twice = pos("order", "cancel", str(order["id"]))
    assert twice.returncode == 2
    assert twice.stderr.startswith(f"Error: Order {order['id']} was already returned in full at ")
    pos("sell", "Konzert:3", "--no-print", check=True)


def test_sales_report_nets_returns_of_cancelled_orders(pos_sqlite, sqlite_shop) -> None:
    pos_sqlite("sell", "Konzert:2", "Bier", "--no-print", check=True)
    pos_sqlite("sell", "Bier:2", "--pay", "card", "--no-print", check=True)
    cancelled = pos_sqlite.json("sell", "Konzert", "--no-print")
    pos_sqlite("order", "cancel", str(cancelled["id"]), check=True)
    report = pos_sqlite.json("report", "sales", "--from", "2020-01-01", "--to", "2100-12-31")
    assert (report["orders"], report["returns"]) == (3, 1) and report["total_cents"] == 10000 + 450 + 900
    assert (report["sales_cents"], report["returns_cents"]) == (10000 + 450 + 900 + 5000, -5000)
    assert report["by_group"] == [
        {"group": "Drinks", "units": 3, "total_cents": 1350},
        {"group": "Tickets", "units": 2, "total_cents": 10000},
    ]
    assert report["by_payment"] == [
        {"method": "cash", "orders": 2, "total_cents": 10450},
        {"method": "card", "orders": 1, "total_cents": 900},
    ]
    empty = pos_sqlite.json("report", "sales", "--from", "2020-01-01", "--to", "2020-01-02")
    assert empty["orders"] == 0 and empty["by_group"] == [] and empty["by_payment"] == []


ERRORS = [
    (("Konzert:4",), "Error: Only 3 of Konzert left."),
    (("Wein",), "Error: Article 'Wein' does not exist."),
    (("Bier:2", "--given", "5"), "Error: Cash given (5.00) is less than the total (9.00)."),
    (("Bier", "--given", "abc"), "Error: --given: 'abc' is not an amount such as 49.90."),
    (("Bier", "--pay", "cheque"), "Error: Tender 'cheque' is not known; use cash or card."),
    (("Bier", "--pay", "card", "--given", "5"), "Error: Cash was handed over, but the card pays everything."),
    (("Bier", "--promo", "NOPE"), "Error: Promo code NOPE does not exist."),
    (("Bier:0",), "Error: The quantity of Bier must be 1 to 1000."),
]


def test_errors_are_one_sentence_and_write_nothing(pos_sqlite, sqlite_shop) -> None:
    for args, message in ERRORS:
        result = pos_sqlite("sell", *args, "--no-print")
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.strip() == message
    assert pos_sqlite.json("report", "sales")["orders"] == 0


def _with_printer(tmp_path, db_url, printer: str) -> PosCommand:
    config = tmp_path / "printing.toml"
    config.write_text(
        CONFIG_TOML.replace('[printer]\nkind = "dummy"', f"[printer]\n{printer}"), encoding="utf-8"
    )
    return PosCommand(db_url, config)


def test_print_runs_after_commit_and_a_failure_keeps_the_sale(tmp_path, sqlite_url, sqlite_shop) -> None:
    out = tmp_path / "printer.bin"
    printing = _with_printer(tmp_path, sqlite_url, f'kind = "file"\npath = "{out}"')
    printing("sell", "Konzert", "Bier", check=True)
    assert out.stat().st_size > 0
    size = out.stat().st_size
    printing("sell", "Bier", "--no-print", check=True)
    assert out.stat().st_size == size

    offline = _with_printer(tmp_path, sqlite_url, 'kind = "network"\nport = 9\ntimeout = 0.5')
    result = offline("sell", "Konzert", "--json")
    assert result.returncode == 0, result.stderr
    order = json.loads(result.stdout)
    warning = result.stderr.strip()
    assert "\n" not in warning and warning.startswith(
        f"Warning: order {order['id']} is sold but printing failed"
    )
    assert "pos order print-pending" in warning
    assert offline.json("order", "show", str(order["id"]))["status"] == "paid"
