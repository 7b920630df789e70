"""A locked-down till: Ctrl+Q asks for an admin, Ctrl+Z and Ctrl+C do not leave the app, signals are ignored."""

from __future__ import annotations

import signal

from textual.widgets import Static

from pos.screens.app import PosApp
from tests.screens.helpers import keys, log_in, settle


def quit_message(pilot) -> str:
    return str(pilot.app.screen.query_one("#quit-message", Static).render())


async def test_kiosk_quit_needs_an_admin_even_on_the_login_screen(make_shop) -> None:
    app = PosApp(make_shop("en", terminal={"kiosk": True}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in ("ctrl+z", "ctrl+c"):
            await keys(pilot, key)
            assert app.is_running and type(app.screen).__name__ == "LoginScreen"
        assert signal.getsignal(signal.SIGTSTP) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        await keys(pilot, "ctrl+q")
        assert type(app.screen).__name__ == "QuitConfirmDialog"
        await keys(pilot, "ctrl+q")  # asked already: still one dialog
        assert [type(s).__name__ for s in app.screen_stack].count("QuitConfirmDialog") == 1
        await keys(pilot, *"kasse", "enter", *"0000", "enter")  # a cashier may not
        assert quit_message(pilot) == "Only an admin may quit this till."
        assert app.is_running
        await keys(pilot, "ctrl+a", *"admin", "enter", *"9999", "enter")
        assert quit_message(pilot) == "Wrong name or PIN."
        await keys(pilot, "escape")  # back where the cashier was
        assert type(app.screen).__name__ == "LoginScreen"
        await log_in(pilot)
        assert type(app.screen).__name__ == "SaleScreen"
        await keys(pilot, "ctrl+q")
        assert type(app.screen).__name__ == "QuitConfirmDialog"
        await keys(pilot, *"admin", "enter", *"1234", "enter")
        await pilot.pause(0.2)
        assert app.return_code == 0 and not app.is_running  # the admin may quit
    assert signal.getsignal(signal.SIGINT) != signal.SIG_IGN  # restored for the rest of this test process


async def test_without_kiosk_ctrl_q_quits_at_once(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause(0.2)
        assert app.return_code == 0 and not app.is_running
