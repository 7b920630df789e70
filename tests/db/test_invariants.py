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


def test_a_limit_lowered_below_what_is_sold_is_no_oversale_but_a_sale_after_it_is(rt, clock) -> None:
    from datetime import timedelta

    from pos.services.articles import set_availability
    from tests.factories import ADMIN

    add_article(rt, name="Gig", price_cents=2000, is_ticket=True, stock_limit=3)
    sell(rt, SaleRequest([CartLine("Gig", 2)], print_tickets=False))
    clock.now += timedelta(minutes=1)
    set_availability(rt, ADMIN, "Gig", 0)  # the admin closes sales: 2 sold, limit 0, sold out
    assert "oversold_articles" not in violations(check(rt.engine))
    clock.now += timedelta(minutes=1)
    set_availability(rt, ADMIN, "Gig", 3)
    clock.now += timedelta(minutes=1)
    sell(rt, SaleRequest([CartLine("Gig", 1)], print_tickets=False))
    with rt.engine.begin() as connection:  # a sale that got past a lowered limit, as a broken till would make
        connection.execute(text("UPDATE article SET stock_limit = 1"))
    found = violations(check(rt.engine))
    assert found["oversold_articles"] == [
        {"id": found["oversold_articles"][0]["id"], "sold": 3, "stock_limit": 1}
    ]
