"""Issue 16 problem 8: every screen and dialog of the till, the orders and the admin screens at 80x24 (nothing hidden
or cut off) and at 120x40 (more tiles, wider columns); the sale screen in German and in English.

Fixed clock and demo data, so the pictures are stable. After a deliberate layout change:
`pytest tests/screens/test_screen_snapshots.py --snapshot-update`, look at the new SVGs, commit them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from pos.screens.app import PosApp
from pos.services.checkout import CartLine, SaleRequest
from tests.factories import sell
from tests.screens.helpers import keys, log_in, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
Steps = Callable[[Pilot], Awaitable[None]]


async def steady(pilot: Pilot) -> None:
    """Every service call done and shown (one may start another: the orders load the first order), and no
    blinking cursor in the picture; on a busy machine that takes a few rounds."""
    await settle(pilot)
    quiet = 0
    for _ in range(40):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)
        quiet = quiet + 1 if not any(worker.is_running for worker in pilot.app.workers) else 0
        if quiet >= 3:
            break
    for _ in range(40):  # a table sizes its columns when idle: a busy machine gets there late
        tables = pilot.app.screen.query(DataTable)
        if not any(t._require_update_dimensions or t._updated_cells for t in tables):
            break
        await pilot.pause(0.05)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await settle(pilot)


async def sale_with_cart(pilot: Pilot) -> None:
    await log_in(pilot)
    sale = pilot.app.screen
    await keys(pilot, f"f{sale.groups.index('Veranstaltungen') + 1}", "1", "1", "3")
    await keys(pilot, f"f{sale.groups.index('Getränke') + 1}", "2")
    await steady(pilot)


async def admin(pilot: Pilot, *then: str) -> None:
    await log_in(pilot, "admin", "1234", till=False)
    if then:
        await keys(pilot, *then)
    await steady(pilot)


def steps(*then: str) -> Steps:
    async def run(pilot: Pilot) -> None:
        await admin(pilot, *then)

    return run


async def quit_question(pilot: Pilot) -> None:
    await sale_with_cart(pilot)
    await keys(pilot, "ctrl+q")
    await steady(pilot)


async def unknown_scan(pilot: Pilot) -> None:
    await log_in(pilot)
    await pilot.press(*"4009999999992", "enter")
    await steady(pilot)


async def export_overwrite(pilot: Pilot) -> None:
    await admin(pilot, "ctrl+t", "f3")
    admin_screen = pilot.app.screen
    admin_screen.query_one("#export-path").value = str(pilot.app.export_target)
    await keys(pilot, "f5")
    await steady(pilot)


SCREENS: dict[str, Steps] = {
    "admin_start": steps(),
    "orders_latest": steps("ctrl+r"),
    "admin_articles": steps("ctrl+t"),
    "admin_limit_dialog": steps("ctrl+t", "f5"),
    "admin_repeat_dialog": steps("ctrl+t", "f6"),
    "admin_reset_question": steps("ctrl+t", "f7"),
    "admin_promos": steps("ctrl+t", "f2"),
    "admin_new_promo_dialog": steps("ctrl+t", "f2", "f5"),
    "admin_generate_dialog": steps("ctrl+t", "f2", "f6"),
    "admin_export": steps("ctrl+t", "f3"),
    "admin_export_overwrite": export_overwrite,
    "admin_reports": steps("ctrl+t", "f4"),
    "quit_question": quit_question,
    "sale_unknown_scan": unknown_scan,
}


@pytest.fixture
def orders_shop(make_shop, tmp_path, monkeypatch):
    """Two orders sold, and paths that are the same on every machine (the export shows them)."""
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/pos-data")
    monkeypatch.chdir(tmp_path)

    def make(language: str = "de"):
        shop = make_shop(language)
        for article in ("Konzert Kind", "Bier 0,5 l"):
            sell(shop, SaleRequest(lines=[CartLine(article)], print_tickets=False))
        target = Path("teilnehmer.csv")
        target.write_text("", encoding="utf-8")
        return shop, target

    return make


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(snap_compare, orders_shop, name, size) -> None:
    shop, target = orders_shop()
    app = PosApp(shop)
    app.export_target = target  # type: ignore[attr-defined]
    assert snap_compare(app, terminal_size=size, run_before=SCREENS[name])


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["de", "en"])
def test_sale(snap_compare, make_shop, language, size) -> None:
    assert snap_compare(PosApp(make_shop(language)), terminal_size=size, run_before=sale_with_cart)
