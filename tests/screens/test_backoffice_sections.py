"""The door, orders and admin sections inside the real cashier app: keys, roles, the scanner, the export."""

from __future__ import annotations

import json

from pos.screens.admin import AdminScreen
from pos.screens.app import PosApp
from pos.screens.door import DoorScreen
from pos.screens.orders import OrdersScreen
from tests.factories import issue_tickets
from tests.screens.backoffice_app import screen_text, wait_until
from tests.screens.helpers import keys, log_in

SILVESTER = "Silvester 2026/2027 31.12.2026"


def shown_keys(app: PosApp) -> set[str]:
    return {key for key, active in app.screen.active_bindings.items() if active.binding.show}


async def test_cashier_sees_no_admin_key_and_cannot_open_admin(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(pilot)
        assert {"ctrl+g", "ctrl+r"} <= shown_keys(app)
        assert "ctrl+t" not in shown_keys(app)
        await keys(pilot, "ctrl+t")
        assert type(app.screen).__name__ == "SaleScreen"
        app.open_section("admin")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, AdminScreen)
        await keys(pilot, "ctrl+r")
        assert isinstance(app.screen, OrdersScreen)
        assert "ctrl+t" not in shown_keys(app)
        await keys(pilot, "ctrl+t")
        assert isinstance(app.screen, OrdersScreen)


async def test_admin_opens_admin_and_goes_back_to_sale(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(pilot, "admin", "1234")
        assert "ctrl+t" in shown_keys(app)
        await keys(pilot, "ctrl+t")
        assert isinstance(app.screen, AdminScreen)
        await keys(pilot, "escape")
        assert type(app.screen).__name__ == "SaleScreen"


async def test_scanner_on_the_door_screen_through_the_app(shop) -> None:
    ticket = issue_tickets(shop, SILVESTER, holder_name="Erika Mustermann")[0]
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, "ctrl+g")
        door = app.screen
        assert isinstance(door, DoorScreen)
        await keys(pilot, *ticket.code, "enter")
        await wait_until(pilot, lambda: door.painted == 1)
        assert door.last.accepted
        assert "Erika Mustermann" in screen_text(app)
        await keys(pilot, *ticket.code, "enter")
        await wait_until(pilot, lambda: door.painted == 2)
        assert "already used today at 21:00 at gate north" in screen_text(app)


async def test_export_written_from_the_admin_screen(shop, tmp_path) -> None:
    from pos.db.redemption import redeem

    tickets = issue_tickets(shop, SILVESTER, 3, holder_name="Erika Mustermann")
    redeem(shop, tickets[0].code)
    target = tmp_path / "attendance.json"
    app = PosApp(shop)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(pilot, "admin", "1234")
        await keys(pilot, "ctrl+t", "f3")
        admin = app.screen
        assert admin.tab == "export"
        admin.query_one("#export-format").value = "json"
        admin.query_one("#export-path").value = str(target)
        admin.query_one("#export-no-shows").value = True
        await keys(pilot, "f5")
        await wait_until(pilot, lambda: admin.written is not None)
        assert "1 participant written to" in screen_text(app)
        assert admin.query_one("#export-bar").percentage == 1.0
    participants = json.loads(target.read_text(encoding="utf-8"))
    assert [p["code"] for p in participants] == [tickets[0].code]
    assert len(participants[0]["registrations"]) == 1
