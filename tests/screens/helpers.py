"""Driving the cashier app with the pilot."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Static

from tests.screens.conftest import BURST_MS


async def settle(pilot: Pilot) -> None:
    """Let held keys go, workers finish and the screen repaint."""
    await pilot.pause(BURST_MS / 1000 + 0.05)
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)


async def scanner_burst(pilot: Pilot, text: str) -> None:
    """A long scan (a cart link) as a scanner delivers it: every key at once, then Enter, then settle. The
    pilot's press() waits for the app to go idle after each key, a second for a 150-character link."""
    from textual import events

    for character in text:
        pilot.app.post_message(events.Key(character, character))
    pilot.app.post_message(events.Key("enter", "\r"))
    await settle(pilot)


async def keys(pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


async def log_in(
    pilot: Pilot,
    name: str = "kasse",
    pin: str = "0000",
    cash_float: str | None = "100",
    *,
    till: bool = True,
) -> None:
    """Log in; an admin goes on to the till from the admin start screen unless `till` is False."""
    await settle(pilot)
    await keys(pilot, *name, "enter", *pin, "enter")
    if type(pilot.app.screen).__name__ == "AdminStartScreen":
        if not till:
            return
        await keys(pilot, "enter")
    if cash_float is not None:
        assert type(pilot.app.screen).__name__ == "ShiftOpenScreen"
        await keys(pilot, *cash_float, "enter")


def message(pilot: Pilot) -> str:
    return str(pilot.app.screen.query_one("#message", Static).render())


def names_in_grid(pilot: Pilot) -> list[str]:
    return [tile.name for tile in pilot.app.screen.query_one("#grid").tiles]


def screen_text(pilot: Pilot) -> str:
    """What the terminal shows, as plain text."""
    return "\n".join(strip.text for strip in pilot.app.screen._compositor.render_strips())
