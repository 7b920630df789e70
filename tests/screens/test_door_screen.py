"""The door screen: verdicts in words, entry counts, the running tally, and a protocol correction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from textual.widgets import Static

from pos.db.backoffice import DoorScan
from pos.db.engine import transaction
from pos.db.models import Order
from pos.db.redemption import ScanResult
from pos.domain.redemption import Reason
from pos.domain.ticket_code import make_code
from pos.i18n import language
from pos.screens.door import DoorScreen, entry_text, reason_text
from tests.conftest import TEST_SECRET
from tests.factories import add_customer, issue_tickets, ticket_article
from tests.screens.backoffice_app import HostApp, scan, screen_text, wait_until


def verdict(app) -> Static:
    return app.screen.query_one("#verdict", Static)


async def test_typed_code_is_accepted_with_holder_and_article(sqlite_rt) -> None:
    article = ticket_article(sqlite_rt, "Silvester 31.12.2026")
    ticket = issue_tickets(sqlite_rt, article, holder_name="Erika Mustermann")[0]
    app = HostApp(sqlite_rt, DoorScreen())
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, ticket.code, type_it=True)
        assert verdict(app).has_class("accept")
        text = screen_text(app)
        assert "A C C E P T" in text
        assert "Erika Mustermann" in text
        assert "Silvester 31.12.2026" in text
        assert "Entries: 1    Rejections: 0    Gate: north" in text


async def test_second_scan_is_rejected_with_time_and_gate(sqlite_rt, clock) -> None:
    ticket = issue_tickets(sqlite_rt, ticket_article(sqlite_rt))[0]
    app = HostApp(sqlite_rt, DoorScreen())
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, ticket.code)
        clock.now += timedelta(minutes=5)
        await scan(pilot, ticket.code)
        assert verdict(app).has_class("reject")
        text = screen_text(app)
        assert "R E J E C T" in text
        assert "already used today at 21:00 at gate north" in text
        assert "Entries: 1    Rejections: 1" in text
        assert app.screen.last.result.reason == "already_redeemed"


async def test_foreign_brand_and_typing_errors_are_told_in_words(sqlite_rt) -> None:
    foreign = make_code("2000", 7, TEST_SECRET.encode())
    app = HostApp(sqlite_rt, DoorScreen())
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, foreign)
        assert "ticket of another brand" in screen_text(app)
        await scan(pilot, "12345678")
        assert "not a ticket code (mistyped or damaged)" in screen_text(app)
        assert "Rejections: 2" in screen_text(app)


async def test_not_yet_valid_names_the_start(sqlite_rt) -> None:
    start = datetime(2026, 12, 31, 22, 0, tzinfo=UTC)  # 23:00 in Berlin
    ticket = issue_tickets(sqlite_rt, ticket_article(sqlite_rt, valid_from=start))[0]
    app = HostApp(sqlite_rt, DoorScreen())
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, ticket.code)
        assert "not valid before 31 Dec 2026 23:00" in screen_text(app)


async def test_multi_entry_ticket_counts_entries(sqlite_rt) -> None:
    card = ticket_article(sqlite_rt, "10-ride card", repeat="anytime", repeat_limit=9)
    season = ticket_article(sqlite_rt, "Season card", repeat="anytime")
    ten_ride = issue_tickets(sqlite_rt, card)[0]
    unlimited = issue_tickets(sqlite_rt, season)[0]
    app = HostApp(sqlite_rt, DoorScreen())
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, ten_ride.code)
        assert "entry 1 of 10" in screen_text(app)
        await scan(pilot, ten_ride.code)
        assert "entry 2 of 10" in screen_text(app)
        await scan(pilot, unlimited.code)
        await scan(pilot, unlimited.code)
        await scan(pilot, unlimited.code)
        text = screen_text(app)
        assert "entry 3" in text and "entry 3 of" not in text
        assert "Entries: 5" in text


async def test_birthday_greeting_for_the_customer(sqlite_rt) -> None:
    customer = add_customer(sqlite_rt, "Max Muster", email="max@example.org", birthday=date(1990, 12, 31))
    ticket = issue_tickets(sqlite_rt, ticket_article(sqlite_rt), holder_name="Max Muster")[0]
    with transaction(sqlite_rt.engine) as session:
        order = session.get(Order, ticket.order_id)
        order.customer_id = customer.id
        session.add(order)
    app = HostApp(sqlite_rt, DoorScreen())
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, ticket.code)
        assert "Happy birthday, Max!" in screen_text(app)


async def test_tally_starts_from_the_days_scans_at_this_gate(sqlite_rt) -> None:
    from pos.db.redemption import redeem

    ticket = issue_tickets(sqlite_rt, ticket_article(sqlite_rt))[0]
    redeem(sqlite_rt, ticket.code)
    redeem(sqlite_rt, ticket.code)
    redeem(sqlite_rt, ticket.code, gate="south")
    app = HostApp(sqlite_rt, DoorScreen())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "Entries: 1    Rejections: 1" in screen_text(app))


async def test_protocol_delete_gives_the_entry_back(sqlite_rt) -> None:
    card = ticket_article(sqlite_rt, "Two entries", repeat="anytime", repeat_limit=1)
    ticket = issue_tickets(sqlite_rt, card)[0]
    app = HostApp(sqlite_rt, DoorScreen())
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, ticket.code)
        await scan(pilot, ticket.code)
        assert "entry 2 of 2" in screen_text(app)
        await scan(pilot, ticket.code)
        assert "all 2 entries used, the last today at 21:00 at gate north" in screen_text(app)
        await pilot.press("f3")
        await wait_until(
            pilot, lambda: "Repeat protocol" in screen_text(app) and app.screen.detail is not None
        )
        assert app.screen.query_one("#protocol").row_count == 1
        await pilot.press("delete")
        await wait_until(pilot, lambda: "Delete protocol entry" in screen_text(app))
        await pilot.press("f2")
        await wait_until(pilot, lambda: "Entry deleted." in screen_text(app))
        await wait_until(pilot, lambda: app.screen.query_one("#protocol").row_count == 0)
        await pilot.press("escape")
        assert isinstance(app.screen, DoorScreen)
        await scan(pilot, ticket.code)
        assert verdict(app).has_class("accept")
        assert "entry 2 of 2" in screen_text(app)


@pytest.mark.parametrize("code", ["en", "de"])
def test_every_reason_has_words(code: str) -> None:
    lang = language(code)
    at = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    texts = set()
    for reason in Reason:
        result = ScanResult(False, reason.value, 1, "1", at, "north", ticket_id=1, allowed_entries=3)
        for previous in (None, at - timedelta(minutes=18)):
            prior = ScanResult(
                False,
                reason.value,
                1,
                "1",
                at,
                "north",
                ticket_id=1,
                allowed_entries=3,
                previous_at=previous,
                previous_gate="North" if previous else None,
            )
            words = reason_text(lang, DoorScan(prior), 300)
            assert words and "_" not in words and words != reason.value
        texts.add(reason_text(lang, DoorScan(result), 300))
    assert len(texts) == len(Reason) - 1  # already_redeemed and already_today both say "already used"


def test_reasons_and_entries_speak_german() -> None:
    de, en = language("de"), language("en")
    at = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    for reason in Reason:
        result = ScanResult(
            False,
            reason.value,
            1,
            "1",
            at,
            "north",
            ticket_id=1,
            allowed_entries=3,
            previous_at=at - timedelta(minutes=18),
            previous_gate="Nord",
        )
        assert reason_text(de, DoorScan(result), 300) != reason_text(en, DoorScan(result), 300)
    accepted = DoorScan(ScanResult(True, None, 3, "1", at, "north", ticket_id=1, allowed_entries=10))
    assert entry_text(de, accepted) == "Einlass 3 von 10"
    used = ScanResult(
        False,
        "already_today",
        1,
        "1",
        at,
        "north",
        ticket_id=1,
        allowed_entries=None,
        previous_at=at - timedelta(minutes=18),
        previous_gate="Nord",
    )
    assert reason_text(de, DoorScan(used), 300) == "bereits benutzt heute um 20:42 an Eingang Nord"
