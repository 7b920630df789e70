"""Ticket detail: what it shows, who may correct, and each correction through the audited services."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from pos.db.engine import transaction
from pos.db.models import AuditLog, PrintJob, Ticket
from pos.db.redemption import redeem
from pos.screens.ticket_detail import TicketDetailScreen
from tests.factories import issue_tickets, ticket_article
from tests.screens.backoffice_app import HostApp, screen_text, wait_until


def make_card(rt, clock, entries: int = 3):
    card = ticket_article(rt, "10-ride card", repeat="anytime", repeat_limit=9)
    ticket = issue_tickets(rt, card, holder_name="Erika Mustermann")[0]
    for _ in range(entries):
        redeem(rt, ticket.code)
        clock.now += timedelta(minutes=30)
    return ticket


def stored(rt, ticket_id: int) -> Ticket:
    with transaction(rt.engine) as session:
        return session.get(Ticket, ticket_id)


def audit_actions(rt) -> list[str]:
    with transaction(rt.engine) as session:
        return list(session.exec(select(AuditLog.action).order_by(col(AuditLog.id))))


async def loaded(pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.screen.detail is not None)
    await pilot.pause()


async def test_shows_settings_first_entry_protocol_and_order(sqlite_rt, clock) -> None:
    ticket = make_card(sqlite_rt, clock)
    app = HostApp(sqlite_rt, TicketDetailScreen(ticket.code), role="cashier")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "10-ride card" in text and "Erika Mustermann" in text
        assert "anytime, 9 re-entries (10 entries in all)" in text
        assert "First entry  31 Dec 2026, 21:00:00 at gate north" in text
        assert "Entries      3 of 10" in text
        assert app.screen.query_one("#protocol").row_count == 2
        assert f"#{ticket.order_id} · paid" in text
        shown = {key for key, active in app.screen.active_bindings.items() if active.binding.show}
        assert {"f8", "f9", "f10"} <= shown
        assert not {"delete", "f5", "f6", "f7"} & shown  # a cashier corrects nothing
        await pilot.press("f5")
        await pilot.pause(0.1)
        assert len(app.screen_stack) == 2  # no confirmation dialog opened


async def test_admin_resets_the_protocol_then_undoes_the_first_entry(sqlite_rt, clock) -> None:
    ticket = make_card(sqlite_rt, clock)
    app = HostApp(sqlite_rt, TicketDetailScreen(ticket.code))
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("f5")
        await wait_until(pilot, lambda: "whole repeat protocol" in screen_text(app))
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.screen.query_one("#protocol").row_count == 0)
        assert stored(sqlite_rt, ticket.id).first_redeemed_at is not None
        await pilot.press("f6")
        await wait_until(pilot, lambda: "Delete every entry" in screen_text(app))
        await pilot.press("escape")  # "No" keeps everything
        await pilot.pause(0.1)
        assert stored(sqlite_rt, ticket.id).first_redeemed_at is not None
        await pilot.press("f6")
        await wait_until(pilot, lambda: "Delete every entry" in screen_text(app))
        await pilot.press("f2")
        await wait_until(pilot, lambda: "First entry  not yet" in screen_text(app))
    assert stored(sqlite_rt, ticket.id).first_redeemed_at is None
    assert audit_actions(sqlite_rt)[-2:] == ["ticket.reset", "ticket.reset_full"]


async def test_admin_changes_the_repeat_options(sqlite_rt, clock) -> None:
    ticket = make_card(sqlite_rt, clock, entries=1)
    app = HostApp(sqlite_rt, TicketDetailScreen(ticket.code))
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("f7")
        await wait_until(pilot, lambda: "Repeat type" in screen_text(app))
        dialog = app.screen
        dialog.query_one("#field-repeat").value = "daily"
        dialog.query_one("#field-limit").value = "4"
        await pilot.press("f2")
        await wait_until(pilot, lambda: "once per day, 4 re-entries (5 entries in all)" in screen_text(app))
    changed = stored(sqlite_rt, ticket.id)
    assert (changed.repeat, changed.repeat_limit) == ("daily", 4)
    assert audit_actions(sqlite_rt)[-1] == "ticket.set_repeat"


async def test_wrong_repeat_limit_is_one_sentence(sqlite_rt, clock) -> None:
    ticket = make_card(sqlite_rt, clock, entries=0)
    app = HostApp(sqlite_rt, TicketDetailScreen(ticket.code))
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("f7")
        await wait_until(pilot, lambda: "Repeat type" in screen_text(app))
        app.screen.query_one("#field-limit").value = "many"
        await pilot.press("f2")
        await wait_until(pilot, lambda: "is not a whole number or 'unlimited'" in screen_text(app))
    assert stored(sqlite_rt, ticket.id).repeat_limit == 9


async def test_reprint_queues_a_reprint_of_this_ticket(sqlite_rt, clock) -> None:
    ticket = make_card(sqlite_rt, clock, entries=0)
    app = HostApp(sqlite_rt, TicketDetailScreen(ticket.code), role="cashier")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("f8")
        await wait_until(pilot, lambda: "Ticket reprinted." in screen_text(app))
    with transaction(sqlite_rt.engine) as session:
        jobs = list(session.exec(select(PrintJob)))
    assert [(job.ticket_id, job.kind, job.reprint, job.status) for job in jobs] == [
        (ticket.id, "ticket", True, "done")
    ]


async def test_scanned_code_opens_its_ticket_and_a_wrong_one_is_one_sentence(sqlite_rt, clock) -> None:
    ticket = make_card(sqlite_rt, clock, entries=0)
    app = HostApp(sqlite_rt, TicketDetailScreen())
    async with app.run_test(size=(100, 30)) as pilot:
        app.screen.route_scan("123")
        await wait_until(pilot, lambda: "is not a valid code" in screen_text(app))
        app.screen.route_scan(ticket.code)
        await loaded(pilot)
        assert "10-ride card" in screen_text(app)
