"""The reads behind the door and back-office screens, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pos.db.backoffice import door_scan, gate_counts, is_birthday, ticket_detail
from pos.db.engine import transaction
from pos.db.models import Order
from pos.db.redemption import redeem
from tests.factories import add_customer, issue_tickets, ticket_article


def attach_customer(rt, order_id: int, customer_id: int) -> None:
    with transaction(rt.engine) as session:
        order = session.get(Order, order_id)
        order.customer_id = customer_id
        session.add(order)


def test_door_scan_brings_validity_and_birthday(rt, clock) -> None:
    start = clock.now + timedelta(hours=2)
    later = issue_tickets(rt, ticket_article(rt, "Late show", valid_from=start))[0]
    scan = door_scan(rt, later.code)
    assert (scan.result.reason, scan.valid_from) == ("not_yet_valid", start)
    customer = add_customer(rt, "Max Muster", email="max@example.org", birthday=date(1990, 12, 31))
    ticket = issue_tickets(rt, ticket_article(rt, "Party"), holder_name="Max Muster")[0]
    attach_customer(rt, ticket.order_id, customer.id)
    scan = door_scan(rt, ticket.code)
    assert scan.result.accepted and scan.birthday and scan.customer == "Max Muster"
    clock.now = datetime(
        2027, 1, 1, 3, 0, tzinfo=UTC
    )  # 04:00 in Berlin: still 31 December (day starts 05:00)
    assert door_scan(rt, ticket.code).birthday


def test_door_scan_of_garbage_reads_nothing_more(rt) -> None:
    scan = door_scan(rt, "hello")
    assert scan.result.reason == "malformed" and scan.customer is None and not scan.birthday


def test_birthday_on_29_february_is_greeted_on_the_28th_in_other_years() -> None:
    leapling = date(2004, 2, 29)
    assert is_birthday(leapling, date(2027, 2, 28))
    assert not is_birthday(leapling, date(2028, 2, 28))
    assert is_birthday(leapling, date(2028, 2, 29))
    assert not is_birthday(None, date(2028, 2, 29))


def test_gate_counts_this_gate_and_business_day_only(rt, clock) -> None:
    ticket = issue_tickets(rt, ticket_article(rt, "Card", repeat="anytime"))[0]
    redeem(rt, ticket.code, at=clock.now - timedelta(days=1))
    redeem(rt, ticket.code)
    redeem(rt, ticket.code, gate="south")
    redeem(rt, "12345")
    assert gate_counts(rt, "north") == gate_counts(rt, rt.config.terminal.gate)
    counts = gate_counts(rt, "north")
    assert (counts.entries, counts.rejections) == (1, 1)


def test_ticket_detail_with_order_and_birthday(rt) -> None:
    customer = add_customer(rt, "Max Muster", birthday=date(1990, 5, 17))
    ticket = issue_tickets(rt, ticket_article(rt, "Konzert"))[0]
    attach_customer(rt, ticket.order_id, customer.id)
    detail = ticket_detail(rt, ticket.code)
    assert detail.ticket["code"] == ticket.code and detail.order["id"] == ticket.order_id
    assert detail.order["customer"]["name"] == "Max Muster" and detail.birthday == date(1990, 5, 17)
