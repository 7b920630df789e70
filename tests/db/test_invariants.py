"""The SQL invariant checks find what they are meant to find (so a clean result after load means something)."""

from sqlalchemy import text

from pos.db.invariants import check, violations
from pos.services.checkout import CartLine, SaleRequest
from tests.factories import add_article, cancel_order, sell


def test_clean_database_after_sales_and_cancel(rt) -> None:
    add_article(rt, name="Gig", price_cents=2000, is_ticket=True, stock_limit=3)
    add_article(rt, name="Beer", price_cents=450)
    first = sell(rt, SaleRequest([CartLine("Gig", 2), CartLine("Beer", 3)], print_tickets=False))
    sell(rt, SaleRequest([CartLine("Gig", 1)], payment="card", print_tickets=False))
    cancel_order(rt, first.order_id)
    assert violations(check(rt.engine)) == {}


def test_each_kind_of_damage_is_found(rt) -> None:
    add_article(rt, name="Gig", price_cents=2000, is_ticket=True, stock_limit=3)
    sold = sell(rt, SaleRequest([CartLine("Gig", 2)], print_tickets=False))
    with rt.engine.begin() as connection:
        connection.execute(text("UPDATE article SET sold = 5"))  # oversold and counter off
        connection.execute(text("UPDATE orders SET total_cents = total_cents + 1"))
        connection.execute(text(f"UPDATE ticket SET voided = true WHERE code = '{sold.ticket_codes[0]}'"))
    found = violations(check(rt.engine))
    assert {
        "oversold_articles",
        "sold_counter_mismatch",
        "order_total_mismatch",
        "payment_mismatch",
        "ticket_line_mismatch",
    } <= set(found)
