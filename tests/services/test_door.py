"""The door service as every face calls it, on SQLite and PostgreSQL: what a verdict carries, the gate's count,
the ticket detail in one read, and the same rule answered alike by `pos redeem` and the door screen."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from pos.db.engine import transaction
from pos.db.models import Order
from pos.db.redemption import redeem
from pos.domain.roles import Role
from pos.screens.door import DoorScreen
from pos.services.base import Actor
from pos.services.door import door_actor, gate_tally, scan
from pos.services.tickets import ticket_detail
from tests.conftest import PosCommand
from tests.factories import add_customer, issue_tickets, ticket_article
from tests.screens.backoffice_app import HostApp, screen_text
from tests.screens.backoffice_app import scan as scan_on_screen

CASHIER = Actor("kasse", Role.CASHIER)


def attach_customer(rt, order_id: int, customer_id: int) -> None:
    with transaction(rt.engine) as session:
        order = session.get(Order, order_id)
        order.customer_id = customer_id
        session.add(order)


def test_a_verdict_brings_validity_customer_and_birthday(rt, clock) -> None:
    start = clock.now + timedelta(hours=2)
    later = issue_tickets(rt, ticket_article(rt, "Late show", valid_from=start))[0]
    verdict = scan(rt, CASHIER, later.code)
    assert (verdict.reason, verdict.valid_from, verdict.starts_at) == ("not_yet_valid", start, start)
    assert verdict.message == "not valid before 31 Dec 2026 23:00"
    customer = add_customer(rt, "Max Muster", email="max@example.org", birthday=date(1990, 12, 31))
    ticket = issue_tickets(rt, ticket_article(rt, "Party", event_date=date(2026, 12, 31)), holder_name=None)[
        0
    ]
    attach_customer(rt, ticket.order_id, customer.id)
    verdict = scan(rt, CASHIER, ticket.code)
    assert verdict.accepted and verdict.birthday and verdict.customer == "Max Muster"
    assert verdict.shown_holder == "Max Muster" and verdict.event_date == date(2026, 12, 31)
    assert verdict.message == "admitted" and not verdict.offline
    clock.now = datetime(
        2027, 1, 1, 3, 0, tzinfo=UTC
    )  # 04:00 in Berlin: still 31 December (day starts 05:00)
    again = scan(rt, CASHIER, ticket.code)
    assert again.birthday and again.reason == "already_redeemed"
    assert again.message == "already used today at 21:00 at gate north"
    shown = again.json(rt)
    assert shown["event_date"] == "2026-12-31" and shown["offline"] is False and shown["starts_at"] is None


def test_garbage_reads_nothing_more(rt) -> None:
    verdict = scan(rt, CASHIER, "hello")
    assert verdict.reason == "malformed" and verdict.customer is None and not verdict.birthday
    assert verdict.message == "not a ticket code (mistyped or damaged)"


def test_gate_tally_counts_this_gate_and_business_day_only(rt, clock) -> None:
    ticket = issue_tickets(rt, ticket_article(rt, "Card", repeat="anytime"))[0]
    redeem(rt, ticket.code, at=clock.now - timedelta(days=1))
    redeem(rt, ticket.code)
    redeem(rt, ticket.code, gate="south")
    redeem(rt, "12345")
    assert gate_tally(rt, CASHIER) == gate_tally(rt, CASHIER, "north")
    tally = gate_tally(rt, CASHIER, "north")
    assert (tally.entries, tally.rejections) == (1, 1)


def test_ticket_detail_with_order_and_birthday_in_one_read(rt) -> None:
    customer = add_customer(rt, "Max Muster", birthday=date(1990, 5, 17))
    ticket = issue_tickets(rt, ticket_article(rt, "Konzert", repeat="anytime"))[0]
    attach_customer(rt, ticket.order_id, customer.id)
    scan(rt, CASHIER, ticket.code)
    scan(rt, CASHIER, ticket.code)
    detail = ticket_detail(rt, CASHIER, ticket.code)
    assert detail.ticket["code"] == ticket.code and detail.order["id"] == ticket.order_id
    assert detail.order["customer"]["name"] == "Max Muster" and detail.birthday == date(1990, 5, 17)
    assert detail.entries == 2


def test_the_cli_gate_acts_as_the_configured_operator_with_the_cashier_role(rt) -> None:
    actor = door_actor(rt)
    assert (actor.name, actor.role) == ("system", Role.CASHIER)


async def test_already_today_reads_the_same_in_the_cli_and_on_the_door_screen(
    sqlite_rt, sqlite_url, config_file, clock
) -> None:
    """One rule, one wording: a daily ticket scanned twice in one business day, once per face."""
    card = issue_tickets(sqlite_rt, ticket_article(sqlite_rt, "Attendance", repeat="daily"))[0]
    redeem(sqlite_rt, card.code, at=datetime(2026, 12, 31, 18, 42, tzinfo=UTC), gate="North")  # 19:42 local
    pos = PosCommand(sqlite_url, config_file)
    cli = pos("redeem", card.code, "--at", "2026-12-31T21:00", "--json")
    assert cli.returncode == 1, cli.stderr
    answer = json.loads(cli.stdout)
    assert answer["reason"] == "already_today"
    clock.now = datetime(2026, 12, 31, 20, 30, tzinfo=UTC)  # 21:30 local, the same business day
    app = HostApp(sqlite_rt, DoorScreen(), role="cashier")
    async with app.run_test(size=(100, 30)) as pilot:
        await scan_on_screen(pilot, card.code)
        assert app.screen.last.reason == "already_today"
        assert answer["message"] == "already used today at 19:42 at gate North"
        assert answer["message"] in screen_text(app)
