"""How login, sale and payment look at 80x24 and 120x40 (fixed clock and demo data, so the pictures are stable).

After a deliberate change of the layout: `pytest tests/screens/test_snapshots.py --snapshot-update`, look at the
new SVGs (snapshot_report.html shows the differences), commit them.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from pos.screens.app import PosApp
from tests.screens.helpers import keys, log_in, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


async def steady(pilot: Pilot) -> None:
    """No blinking cursor in a picture."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await settle(pilot)


async def login_typed(pilot: Pilot) -> None:
    await settle(pilot)
    await keys(pilot, *"kasse", "enter", "0", "0")
    await steady(pilot)


async def sale_with_cart(pilot: Pilot) -> None:
    await log_in(pilot)
    sale = pilot.app.screen
    await keys(pilot, f"f{sale.groups.index('Veranstaltungen') + 1}")
    await keys(pilot, "1", "1", "3")
    await steady(pilot)


async def payment_with_codes(pilot: Pilot) -> None:
    await sale_with_cart(pilot)
    await keys(pilot, "f12")
    await keys(pilot, "f2", *"save10", "enter")
    await keys(pilot, "f3", *"200")
    await steady(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_login(snap_compare, shop, size) -> None:
    assert snap_compare(PosApp(shop), terminal_size=size, run_before=login_typed)


@pytest.mark.parametrize("size", SIZES)
def test_sale(snap_compare, shop, size) -> None:
    assert snap_compare(PosApp(shop), terminal_size=size, run_before=sale_with_cart)


@pytest.mark.parametrize("size", SIZES)
def test_payment(snap_compare, shop, size) -> None:
    assert snap_compare(PosApp(shop), terminal_size=size, run_before=payment_with_codes)


def test_payment_in_german(snap_compare, make_shop) -> None:
    assert snap_compare(PosApp(make_shop("de")), terminal_size=(80, 24), run_before=payment_with_codes)
