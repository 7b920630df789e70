"""The door screen without a database, and the admin's list of door conflicts."""

from __future__ import annotations

from datetime import timedelta

from pos.domain.roles import Role
from pos.domain.ticket_code import make_code
from pos.runtime import Runtime
from pos.screens.admin import AdminScreen
from pos.screens.door import DoorScreen
from pos.screens.door_conflicts import DoorConflictsScreen
from pos.services import door
from pos.services.base import Actor
from tests.conftest import TEST_SECRET
from tests.conftest import test_config as make_config
from tests.factories import issue_tickets, ticket_article
from tests.screens.backoffice_app import HostApp, scan, screen_text, wait_until

STEWARD = Actor("steward", Role.CASHIER)


async def test_without_a_database_the_door_decides_and_says_offline(clock) -> None:
    rt = Runtime(
        make_config(gate={"offline_after_ms": 300}),
        "postgresql+psycopg://nobody@127.0.0.1:9/pos",
        clock=clock,
    )
    code = make_code("1000", 42, TEST_SECRET.encode())
    app = HostApp(rt, DoorScreen(), role="cashier")
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, code)
        assert app.screen.last.accepted and app.screen.last.offline
        await wait_until(pilot, lambda: "OFFLINE: 1 scans to upload" in screen_text(app))
        text = screen_text(app)
        assert "A C C E P T" in text and "admitted on its code once (for review)" in text
        await scan(pilot, code)
        assert app.screen.last.reason == "already_redeemed"
        assert "already used today at 21:00 at gate north" in screen_text(app)


async def conflict_of(sqlite_rt, clock) -> int:
    """One conflict: a ticket admitted online at north, then at the offline gate `east` from an old copy."""
    ticket = issue_tickets(sqlite_rt, ticket_article(sqlite_rt, "Concert"))[0]
    east = Runtime(
        make_config(terminal={"name": "east", "gate": "east"}), sqlite_rt.database_url, clock=clock
    )
    door.sync(east, STEWARD)
    assert door.scan(sqlite_rt, STEWARD, ticket.code).accepted
    clock.now += timedelta(minutes=5)
    offline = door.offline_verdict(east, STEWARD, ticket.code)
    assert offline.accepted  # its copy is older than the entry at north
    state = east.__dict__["_door_gates"]["east"]
    result, _offline, _review = state.decide_offline(
        east, ticket.id, ticket.code, clock.now, "east", "s1", record=True
    )
    assert result.accepted
    uploaded = door.upload(east, STEWARD)
    assert uploaded.conflicts == 1
    return ticket.id


async def test_the_admin_credits_a_door_conflict_back(sqlite_rt, clock) -> None:
    ticket_id = await conflict_of(sqlite_rt, clock)
    app = HostApp(sqlite_rt, AdminScreen(tab="reports"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: "Rejections" in screen_text(app))
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, DoorConflictsScreen) and app.screen.listed)
        text = screen_text(app)
        assert "already used today at 21:00 at gate north" in text and "east" in text and "open" in text
        await pilot.press("f6")
        await wait_until(pilot, lambda: "Credit conflict" in screen_text(app))
        await pilot.press("f2")
        await wait_until(pilot, lambda: "credited" in screen_text(app))
    listed = door.conflicts(sqlite_rt, Actor("admin", Role.ADMIN))
    assert [(c.status, c.resolved_by, c.ticket_id) for c in listed] == [("credited", "admin", ticket_id)]


async def test_a_cashier_does_not_reach_the_conflicts(sqlite_rt) -> None:
    app = HostApp(sqlite_rt, DoorConflictsScreen(), role="cashier")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        assert not isinstance(app.screen, DoorConflictsScreen)
