"""How the door (accept, reject), the ticket detail and the admin screen look at 80x24 and 120x40.

Fixed clock, demo data and tickets issued with fixed codes, so the pictures are stable. After a deliberate
layout change: `pytest tests/screens/test_backoffice_snapshots.py --snapshot-update`, look at the new SVGs,
commit them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.pilot import Pilot

from pos.db.redemption import redeem
from pos.screens.app import PosApp
from tests.factories import issue_tickets
from tests.screens.backoffice_app import scan, wait_until
from tests.screens.helpers import keys, log_in, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
CARD = "10er-Karte Sauna"
SILVESTER = "Silvester 2026/2027 31.12.2026"


def with_used_tickets(shop, clock):
    """A 10-ride card used twice (at 19:12 and 20:42) and a single-use ticket used at 20:42."""
    card = issue_tickets(shop, CARD, holder_name="Erika Mustermann")[0]
    single = issue_tickets(shop, SILVESTER, holder_name="Max Muster")[0]
    start = clock.now
    clock.now = start - timedelta(minutes=108)
    redeem(shop, card.code)
    clock.now = start - timedelta(minutes=18)
    redeem(shop, card.code, gate="south")
    redeem(shop, single.code, gate="south")
    clock.now = start
    shop.codes = {"card": card.code, "single": single.code}
    return shop


@pytest.fixture
def door_shop(shop, clock):
    return with_used_tickets(shop, clock)


async def at_the_door(pilot: Pilot, *codes: str) -> None:
    await log_in(pilot)
    await keys(pilot, "ctrl+g")
    for code in codes:
        await scan(pilot, code)
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_door_accept(snap_compare, door_shop, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await at_the_door(pilot, door_shop.codes["card"])

    assert snap_compare(PosApp(door_shop), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_door_reject(snap_compare, door_shop, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await at_the_door(pilot, door_shop.codes["card"], door_shop.codes["single"])

    assert snap_compare(PosApp(door_shop), terminal_size=size, run_before=run_before)


def test_door_reject_in_german(snap_compare, make_shop, clock) -> None:
    german = with_used_tickets(make_shop("de"), clock)

    async def run_before(pilot: Pilot) -> None:
        await at_the_door(pilot, german.codes["card"], german.codes["single"])

    assert snap_compare(PosApp(german), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_ticket_detail(snap_compare, door_shop, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await log_in(pilot, "admin", "1234")
        await keys(pilot, "ctrl+g")
        await scan(pilot, door_shop.codes["card"])
        await keys(pilot, "f3")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "detail", None) is not None)
        await settle(pilot)

    assert snap_compare(PosApp(door_shop), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_admin(snap_compare, door_shop, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await log_in(pilot, "admin", "1234")
        await keys(pilot, "ctrl+t")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "articles", None))
        await settle(pilot)

    assert snap_compare(PosApp(door_shop), terminal_size=size, run_before=run_before)
