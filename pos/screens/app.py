"""The cashier app: login, shift, sale and payment. Screens call use cases in pos/services; nothing here talks SQL.

Screen flow: Login -> (open shift | resume own shift | an admin closes another's shift) -> Sale <-> Payment;
Sale -> close shift (Z report) -> Login. More sections (door, orders, admin) plug into SECTIONS with the roles
that may open them and a key in the sale screen's bindings.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer

from pos.i18n import N_, venue_language
from pos.runtime import Runtime
from pos.screens.base import TillApp
from pos.screens.scanner import KeyboardWedge, is_scannable
from pos.services.loading import load_database_side

if TYPE_CHECKING:
    from pos.errors import PosError
    from pos.screens.login_helper import LoginHelper
    from pos.services.base import Actor
    from pos.services.views import ArticleView, Login, ShiftView


def _sale_screen() -> Screen[object]:
    from pos.screens.sale import SaleScreen

    return SaleScreen()


def _door_screen() -> Screen[object]:
    load_database_side()
    from pos.screens.door import DoorScreen

    return DoorScreen()


def _orders_screen() -> Screen[object]:
    load_database_side()
    from pos.screens.orders import OrdersScreen

    return OrdersScreen()


def _admin_screen() -> Screen[object]:
    load_database_side()
    from pos.screens.admin import AdminScreen

    return AdminScreen()


# name -> (roles that may open it, factory).
SECTIONS: dict[str, tuple[frozenset[str], Callable[[], Screen[object]]]] = {
    "sale": (frozenset({"cashier", "admin"}), _sale_screen),
    "door": (frozenset({"cashier", "admin"}), _door_screen),
    "orders": (frozenset({"cashier", "admin"}), _orders_screen),
    "admin": (frozenset({"admin"}), _admin_screen),
}


class PosApp(TillApp):
    TITLE = "pos"
    CSS_PATH = "pos.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+q", "request_quit", N_("Quit"), key_display="^Q", priority=True),
        Binding("ctrl+g", "open_section('door')", N_("Door"), key_display="^G"),
        Binding("ctrl+r", "open_section('orders')", N_("Orders"), key_display="^R"),
        Binding("ctrl+t", "open_section('admin')", N_("Admin"), key_display="^T"),
    ]

    def __init__(self, rt: Runtime, login_helper: LoginHelper | None = None) -> None:
        super().__init__()
        self.rt = rt
        self.login_helper = login_helper  # `pos run`: the database side loads in a forked child meanwhile
        self.painted_after_login = threading.Event()  # the first screen after a login is on the terminal
        self.lang = venue_language(rt.config.venue)
        self.operator: Actor | None = None
        self.shift: ShiftView | None = None
        self.wedge = KeyboardWedge(rt.config.scanner.burst_ms)
        self.prefetched_articles: list[ArticleView] | None = None  # for the first sale screen's first paint
        # The database stack loads while Textual starts and the login screen comes up (waits for the terminal
        # and the event loop leave it room), not after.
        self._mounted = threading.Event()
        self._refused: str | None = None  # why this app may not run (its terminal name is taken)
        self._preloading = threading.Thread(
            target=self._preload_quietly,
            args=(self._preload if login_helper is None else self._preload_after_helper,),
            name="preload",
            daemon=True,
        )
        self._preloading.start()
        self._release_timer: Timer | None = None
        self.terminal_lock: Any = None  # held while the app runs: one app per terminal name
        self._stop_tidying: Callable[[], None] | None = None  # the background checkpoints, once started
        self._mail_stop: threading.Event | None = None  # the background mail sender's, once started

    def on_mount(self) -> None:
        if self.rt.config.terminal.kiosk:
            from pos.screens.quit_confirm import lock_down

            self._unlock = lock_down()
        self.title = self.rt.config.venue.name
        if self.rt.training:  # every screen says so: nothing sold here counts
            self.title = self.lang._("TRAINING") + " · " + self.title
        self.sub_title = self.rt.terminal
        self.show_login()
        self._mounted.set()
        if self._refused is not None:
            self.call_after_refresh(self._refuse)

    async def action_quit(self) -> None:
        """Ctrl+Q; on a kiosk till (`[terminal] kiosk`) only after an admin's name and PIN."""
        if self.rt.config.terminal.kiosk:
            from pos.screens.quit_confirm import ask_to_quit

            ask_to_quit(self)
            return
        await super().action_quit()

    def on_unmount(self) -> None:
        unlock = getattr(self, "_unlock", None)
        if unlock is not None:
            unlock()
        if self._mail_stop is not None:
            self._mail_stop.set()
        if self._stop_tidying is not None:
            self._stop_tidying()
        if self.terminal_lock is not None:
            self.terminal_lock.release()
        if self.login_helper is not None:
            self.login_helper.close()

    def _refuse(self) -> None:
        """End with the sentence why, once the login screen is up: ending while it mounts breaks its mount."""
        if self.return_code is not None:
            return
        if not self.screen.is_mounted:
            self.set_timer(0.01, self._refuse)
            return
        self.exit(return_code=2, message=self._refused)

    def _preload_quietly(self, preload: Callable[[], None]) -> None:
        try:
            preload()
        except Exception:  # noqa: BLE001 - the login and the sale screen load what they need themselves
            logging.getLogger("pos.screens").exception("preloading failed")
        finally:
            if not gc.isenabled():  # `pos run` starts without the collector (pos/__main__.py)
                gc.freeze()  # what start-up loaded stays for good: the collector need not walk it
                gc.enable()

    def _preload(self, *, fetch_articles: bool = True) -> None:
        """While the cashier types the PIN: hold this terminal's name, load the services and the sale screen,
        fetch the articles. A second app with the same terminal name is refused and ends with one sentence."""
        from pos.errors import PosError

        load_database_side()
        from pos.services.database import keep_database_tidy
        from pos.services.till import claim_terminal

        try:
            self.terminal_lock = claim_terminal(self.rt)
        except PosError as exc:
            self._refuse_from_thread(exc)
            return
        self._stop_tidying = keep_database_tidy(self.rt)
        if self.rt.config.smtp.host:
            # Ticket mails that failed (SMTP outage) are retried in the background while the till runs.
            from pos.services.delivery import start_sender

            self._mail_stop = start_sender(self.rt)[1]
        import pos.screens.sale  # noqa: F401
        from pos.services.articles import list_articles
        from pos.services.base import system_actor

        if fetch_articles:
            self.prefetched_articles = list_articles(self.rt, system_actor(self.rt), this_terminal=True)

    def _preload_after_helper(self) -> None:
        """The same with the forked child (pos/screens/login_helper.py) loading the database side meanwhile: its
        articles for the first sale screen; this process's own database side while the PIN is still typed, or
        after the next screen is painted when the login was typed ahead and came first."""
        from pos.errors import PosError

        helper = self.login_helper
        assert helper is not None
        try:
            articles = helper.articles()
        except PosError as exc:
            self._refuse_from_thread(exc)
            return
        if helper.logins_asked:  # typed ahead: the child checks it, and the next screen is painted first
            helper.wait_for_logins()
        elif articles is not None and self.prefetched_articles is None:
            self.prefetched_articles = articles
        import pos.screens.sale  # noqa: F401

        if helper.logged_in:
            self.painted_after_login.wait(timeout=5)
        self._preload(fetch_articles=articles is None)

    def _refuse_from_thread(self, error: PosError) -> None:
        self._refused = error.in_language(self.lang)
        if self._mounted.is_set():  # else on_mount sees it
            self.call_from_thread(self._refuse)

    # --- who is working ---------------------------------------------------------------------------------

    def check_login(self, name: str, pin: str) -> Login:
        """The operator and what their login finds on this terminal, checked by the forked child while it runs
        (pos/screens/login_helper.py), else in this process; runs in a worker (the imports too)."""
        helper = self.login_helper
        if helper is not None:
            login = helper.log_in(name, pin)
            if login is not None:
                if self.prefetched_articles is None:
                    self.prefetched_articles = helper.articles()
                return login
        load_database_side()
        from pos.services.till import log_in

        return log_in(self.rt, name, pin)

    def show_login(self, message: str = "") -> None:
        from pos.screens.login import LoginScreen

        self.operator = None
        self.shift = None
        self.rt.operator = ""
        self.sub_title = self.rt.terminal
        self._replace_screens(LoginScreen(message))

    def start_admin(self, operator: Actor) -> None:
        """An admin without a cash shift: the admin start screen, from which the sections open."""
        from pos.screens.login import AdminStartScreen

        self.operator = operator
        self.shift = None
        self.rt.operator = operator.name
        self.sub_title = f"{operator.name} · {self.rt.terminal}"
        self._replace_screens(AdminStartScreen())

    def start_selling(self, operator: Actor, shift: ShiftView) -> None:
        self.operator = operator
        self.shift = shift
        self.rt.operator = operator.name
        self.sub_title = f"{operator.name} · {self.rt.terminal} · #{shift.id}"
        self.open_section("sale")

    @property
    def actor(self) -> Actor:
        """The logged-in operator as the services see them (role checked there too)."""
        assert self.operator is not None, "nobody is logged in"
        return self.operator

    def may_open(self, section: str) -> bool:
        roles, _factory = SECTIONS[section]
        return self.operator is not None and self.operator.role in roles

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_section":
            section = str(parameters[0])
            return self.may_open(section) and self._may_leave_for(section)
        return True

    def _may_leave_for(self, section: str) -> bool:
        """Section keys work on the sale screen and on the back-office screens (SECTION); with a cart on the
        sale screen they stay shown and say why they do not leave it."""
        screen = self.screen
        if type(screen).__name__ == "SaleScreen":
            return section != "sale"
        current = getattr(screen, "SECTION", None)
        return current is not None and current != section

    def action_open_section(self, section: str) -> None:
        leaving = getattr(self.screen, "cart_in_the_way", None)
        if leaving is not None and leaving():
            return
        self.open_section(section)

    def open_section(self, section: str) -> None:
        if not self.may_open(section):
            self.bell()
            return
        if section == "sale" and self.shift is None:
            # An admin working without a cash shift goes back to the admin start screen (open one there).
            if self.operator is not None:
                self.start_admin(self.operator)
            else:
                self.show_login()
            return
        _roles, factory = SECTIONS[section]
        self._replace_screens(factory())

    def show_orders(self, query: str) -> None:
        """The orders screen on top, searching `query` (from a ticket's detail: its order)."""
        load_database_side()
        from pos.screens.orders import OrdersScreen

        self.push_screen(OrdersScreen(query=query))

    async def action_request_quit(self) -> None:
        """Ctrl+Q: quit at once, or ask first when a screen would lose work (a cart, an open payment); a kiosk
        till asks for an admin instead, whatever is open."""
        if self.rt.config.terminal.kiosk:
            from pos.screens.quit_confirm import ask_to_quit

            ask_to_quit(self)
            return
        from pos.screens.quitting import ask_before_quitting

        await ask_before_quitting(self)

    def _replace_screens(self, screen: Screen[object]) -> None:
        """Make `screen` the only screen above the default one (no way 'back' past a login)."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) == 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    # --- the keyboard-wedge scanner ---------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and (held := getattr(self.screen, "held_keys", None)) is not None:
            held.append(event)  # typed ahead of a focus move the screen has not made yet (LoginScreen)
            return
        if isinstance(event, events.Key) and not event.is_forwarded and hasattr(self.screen, "route_scan"):
            await self._wedge_key(event)
            return
        await super().on_event(event)

    async def _wedge_key(self, event: events.Key) -> None:
        wedge = self.wedge
        if wedge.interrupts(event.time):
            await self._release_held()
        if is_scannable(event):
            wedge.hold(event)
            self._restart_release_timer()
            return
        if event.key == "enter" and (scanned := wedge.scan_ending_at(event)) is not None:
            # A scan is a scan: the screen routes it whatever it is, its keys are never typed one by one.
            wedge.release()
            self._stop_release_timer()
            self.screen.route_scan(scanned)  # type: ignore[attr-defined]
            return
        else:
            await self._release_held()
        await super().on_event(event)

    async def _release_held(self) -> None:
        self._stop_release_timer()
        await self._deliver(self.wedge.release())

    async def _deliver(self, keys: list[events.Key]) -> None:
        for key in keys:
            await super().on_event(key)

    def _restart_release_timer(self) -> None:
        self._stop_release_timer()
        self._release_timer = self.set_timer(self.wedge.burst_s, self._release_held, name="scanner-burst")

    def _stop_release_timer(self) -> None:
        if self._release_timer is not None:
            self._release_timer.stop()
            self._release_timer = None
