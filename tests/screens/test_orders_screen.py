"""Orders: found by number, by scanned ticket code and by customer; cancelled only after a yes."""

from __future__ import annotations

from sqlmodel import select

from pos.db.articles import find_article
from pos.db.engine import transaction
from pos.db.models import AuditLog, Order, Ticket
from pos.screens.backoffice import ConfirmDialog
from pos.screens.orders import OrdersScreen
from tests.factories import issue_tickets, ticket_article
from tests.screens.backoffice_app import HostApp, screen_text, wait_until


def two_orders(rt):
    article = ticket_article(rt, "Konzert 15.01.2027", stock_limit=10)
    first = issue_tickets(rt, article, 2, holder_name="Erika Mustermann", holder_email="erika@example.org")
    second = issue_tickets(rt, article, 1, holder_name="Max Muster", holder_email="max@example.org")
    return first, second


async def found(pilot, order_id: int) -> None:
    await wait_until(pilot, lambda: (pilot.app.screen.order or {}).get("id") == order_id)
    await pilot.pause()


async def test_find_by_name_number_and_scanned_ticket(sqlite_rt) -> None:
    first, second = two_orders(sqlite_rt)
    app = HostApp(sqlite_rt, OrdersScreen(), role="cashier")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"ERIKA@EXAMPLE", "enter")
        await found(pilot, first[0].order_id)
        assert [hit.id for hit in app.screen.hits] == [first[0].order_id]
        assert first[1].code in screen_text(app)
        app.screen.route_scan(second[0].code)
        await found(pilot, second[0].order_id)
        assert "Max Muster" in screen_text(app)
        app.screen.query_one("#search").value = ""
        await pilot.press("f4", *str(first[0].order_id), "enter")
        await found(pilot, first[0].order_id)
        app.screen.search("nobody")
        await wait_until(pilot, lambda: "No order matches 'nobody'." in screen_text(app))


async def test_cancel_asks_first_then_voids_and_returns_units(sqlite_rt) -> None:
    first, _second = two_orders(sqlite_rt)
    order_id = first[0].order_id
    app = HostApp(sqlite_rt, OrdersScreen(query=str(order_id)), role="cashier")
    async with app.run_test(size=(100, 30)) as pilot:
        await found(pilot, order_id)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "(€100.00, 2 tickets)? Its tickets become" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause(0.1)
        with transaction(sqlite_rt.engine) as session:
            assert session.get(Order, order_id).status == "paid"
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("f2")
        await wait_until(
            pilot, lambda: "Returned 2 tickets; refund €100.00 (Cash €100.00)." in screen_text(app)
        )
        await wait_until(pilot, lambda: (app.screen.order or {}).get("status") == "cancelled")
        shown = {key for key, active in app.screen.active_bindings.items() if active.binding.show}
        assert "f2" not in shown  # a cancelled order cannot be cancelled again
    with transaction(sqlite_rt.engine) as session:
        assert session.get(Order, order_id).status == "cancelled"
        voided = session.exec(select(Ticket.voided).where(Ticket.order_id == order_id)).all()
        assert voided == [True, True]
        assert find_article(session, "Konzert 15.01.2027").sold == 1
        assert session.exec(select(AuditLog.action)).all()[-1] == "order.return"


async def test_enter_on_a_ticket_line_opens_the_ticket(sqlite_rt) -> None:
    first, _second = two_orders(sqlite_rt)
    app = HostApp(sqlite_rt, OrdersScreen(query=str(first[0].order_id)), role="cashier")
    async with app.run_test(size=(100, 30)) as pilot:
        await found(pilot, first[0].order_id)
        app.screen.query_one("#lines").focus()
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "TicketDetailScreen")
        await wait_until(pilot, lambda: app.screen.detail is not None)
        assert app.screen.code == first[1].code
        await pilot.press("escape")
        assert isinstance(app.screen, OrdersScreen)


async def test_reprint_failure_is_told_and_can_be_tried_again(sqlite_url, clock) -> None:
    from pos.runtime import Runtime
    from tests.conftest import test_config

    config = test_config(printer={"kind": "network", "host": "127.0.0.1", "port": 1, "timeout": 0.5})
    rt = Runtime(config=config, database_url=sqlite_url, operator="tester", clock=clock)
    first, _second = two_orders(rt)
    app = HostApp(rt, OrdersScreen(query=str(first[0].order_id)), role="cashier")
    async with app.run_test(size=(100, 30)) as pilot:
        await found(pilot, first[0].order_id)
        await pilot.press("f8")
        await wait_until(pilot, lambda: "F8: retry." in screen_text(app))
        assert "is offline (connection refused)" in screen_text(app)
    rt.engine.dispose()


async def test_at_80_columns_a_long_article_name_gives_way_to_the_ticket_code(sqlite_rt) -> None:
    article = ticket_article(sqlite_rt, "Silvester 2026/2027 Gala mit Buffet und Feuerwerk 31.12.2026")
    tickets = issue_tickets(sqlite_rt, article, 2, holder_name="Erika Mustermann")
    app = HostApp(sqlite_rt, OrdersScreen(), role="cashier")
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.route_scan(tickets[0].code)
        await found(pilot, tickets[0].order_id)
        text = screen_text(app)
        assert tickets[0].code in text and tickets[1].code in text  # whole, not cut at the edge
        assert "Silvester 2026/202…" in text  # the name is cut instead, as much as needed
