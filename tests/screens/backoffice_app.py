"""Helpers for the door and back-office screen tests: an app logged in as a role, the screen as text."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from pos.domain.roles import Role
from pos.i18n import venue_language
from pos.runtime import Runtime
from pos.services.base import Actor


class HostApp(App[None]):
    """Just what the screens need from the cashier app: runtime, language, operator."""

    def __init__(self, rt: Runtime, screen: Screen[Any], role: str = "admin") -> None:
        super().__init__()
        self.rt = rt
        self.lang = venue_language(rt.config.venue)
        self.operator = Actor(role, Role(role), 1)
        self.first_screen = screen

    @property
    def actor(self) -> Actor:
        return self.operator

    def on_mount(self) -> None:
        self.push_screen(self.first_screen)

    def show_orders(self, query: str) -> None:
        from pos.screens.orders import OrdersScreen

        self.push_screen(OrdersScreen(query=query))


def screen_text(app: App[Any]) -> str:
    """What the terminal shows, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def wait_until(pilot: Pilot[Any], condition: Any, *, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"the screen did not get there in time; it shows:\n{screen_text(pilot.app)}")


async def scan(pilot: Pilot[Any], code: str, *, type_it: bool = False) -> None:
    """A scan as the app's keyboard wedge hands it over (or typed key by key), then wait for the verdict."""
    screen = pilot.app.screen
    before = screen.painted
    if type_it:
        await pilot.press(*code, "enter")
    else:
        assert screen.route_scan(code)
    await wait_until(pilot, lambda: screen.painted > before)
