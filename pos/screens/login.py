"""Login with name and PIN (masked), then on to the shift: resume it, open one, or (admin) close another's.

An admin first gets a choice: the till (the shift as above) or, without a cash shift, the admin screens, the
orders and the door.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.timer import Timer
from textual.widgets import Header, Input, Label, Static

from pos.errors import PosError
from pos.i18n import N_
from pos.screens.base import PosScreen, footer
from pos.services.loading import load_database_side

if TYPE_CHECKING:  # the services load in the background while the login screen is up (see PosApp)
    from pos.runtime import Runtime
    from pos.services.base import Actor
    from pos.services.views import Login, LoginShift


class LoginScreen(PosScreen):
    BINDINGS = [
        Binding("enter", "next", N_("Log in"), key_display="⏎", priority=True),
        Binding("escape", "reset", N_("Clear"), key_display="Esc"),
        Binding("ctrl+q", "app.request_quit", N_("Quit"), key_display="^Q", priority=True),
    ]

    def __init__(self, message: str = "") -> None:
        super().__init__()
        self.first_message = message
        self.busy = False
        self.held_keys: list[events.Key] | None = None
        self._hold_timer: Timer | None = None  # the safety net of the current hold, stopped with it

    def compose(self) -> ComposeResult:
        _ = self._
        yield Header()
        with Center(), Vertical(id="login-box", classes="box"):
            yield Static(_("Log in"), classes="box-title")
            yield Label(_("Name"))
            yield Input(id="name", placeholder=_("e.g. kasse"))
            yield Label(_("PIN"))
            yield Input(id="pin", password=True, restrict=r"[0-9]*", max_length=12)
            yield Static(self.first_message, id="message")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def action_next(self) -> None:
        # The keys typed after this Enter belong where it moves the focus, so the app holds them until it has
        # moved: "kasse⏎0000⏎" typed ahead would otherwise put 0000 into the name (PosApp.on_event).
        if self.held_keys is None:
            self.held_keys = []
            self._hold_timer = self.set_timer(0.5, self.release_keys)  # whatever happens, no key stays held
        self.after_typing(self._next_then_release)

    def _next_then_release(self) -> None:
        try:
            self._next()
        finally:
            self.release_keys()

    def release_keys(self) -> None:
        if self._hold_timer is not None:  # else it would cut a later hold short
            self._hold_timer.stop()
            self._hold_timer = None
        held, self.held_keys = self.held_keys, None
        for key in held or []:
            self.app.post_message(events.Key(key.key, key.character))

    def _next(self) -> None:
        name = self.query_one("#name", Input)
        pin = self.query_one("#pin", Input)
        if not name.value.strip():
            name.focus()
        elif self.focused is name or not pin.value:
            pin.focus()
        elif not self.busy:
            self.busy = True
            self.say(self._("Checking ..."))
            self.call_service(
                self.app.check_login,
                name.value,
                pin.value,
                done=self._logged_in,
                failed=self._refused,
                database_side=False,  # the child may check it (PosApp.check_login)
            )

    def action_reset(self) -> None:
        self.query_one("#name", Input).value = ""
        self.query_one("#pin", Input).value = ""
        self.query_one("#name", Input).focus()
        self.say("")

    def _refused(self, error: PosError) -> None:
        self.busy = False
        pin = self.query_one("#pin", Input)
        pin.value = ""
        pin.focus()
        self.show_error(error)

    def _logged_in(self, login: Login) -> None:
        self.busy = False
        try:
            self._go_on(login)
        finally:  # the app loads the rest once the screen it went to is painted (PosApp, with a login helper)
            self.app.screen.call_after_refresh(self.app.painted_after_login.set)

    def _go_on(self, login: Login) -> None:
        if login.actor.role == "admin":
            self.app.start_admin(login.actor)
            return
        if not to_the_till(self.app, login.actor, login.shift):
            self.query_one("#pin", Input).value = ""
            self.say(
                self._(
                    "The shift of {name} is still open on this terminal; {name} or an admin must close it."
                ).format(name=login.shift.operator),
                error=True,
            )


def to_the_till(app: Any, operator: Actor, found: LoginShift) -> bool:
    """Resume the operator's shift, open one, or (admin) close another's; False when another's blocks it.

    Resuming goes straight to the sale screen: the shift screens (and the printing they load) load later.
    """
    if found.state == "own" and found.shift is not None:
        app.start_selling(operator, found.shift)
    elif found.state == "none":
        load_database_side()
        from pos.screens.shift import ShiftOpenScreen

        app.switch_screen(ShiftOpenScreen(operator))
    elif operator.role == "admin" and found.shift is not None:
        load_database_side()
        from pos.screens.shift import ShiftCloseScreen

        app.switch_screen(ShiftCloseScreen(operator, found.shift, owner=found.operator))
    else:
        return False
    return True


def find_shift(rt: Runtime, operator: Actor) -> LoginShift:
    from pos.services.till import shift_for_login

    return shift_for_login(rt, operator)


class AdminStartScreen(PosScreen):
    """An admin's choice after login: the till (with a cash shift) or the back office without one."""

    SECTION = "start"  # the app's section keys (Ctrl+T admin, Ctrl+R orders, Ctrl+G door) open from here
    BINDINGS = [
        Binding("enter", "till", N_("Till"), key_display="⏎", priority=True),
        Binding("escape", "app.show_login", N_("Logout"), key_display="Esc"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.found: LoginShift | None = None

    def compose(self) -> ComposeResult:
        _ = self._
        yield Header()
        with Center(), Vertical(id="admin-start", classes="box"):
            yield Static(_("Welcome, {name}").format(name=self.actor.name), classes="box-title")
            yield Static("", id="choices")
            yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        self.show_choices()
        self.call_service(find_shift, self.rt, self.actor, done=self._found)

    def _found(self, found: LoginShift) -> None:
        self.found = found
        self.show_choices()

    def show_choices(self) -> None:
        from rich.table import Table

        _ = self._
        found = self.found
        if found is None:
            till = _("Till")
        elif found.state == "own" and found.shift is not None:
            till = _("Till: resume your shift #{id}").format(id=found.shift.id)
        elif found.state == "none":
            till = _("Till: open a cash shift")
        else:
            till = _("Till: close the open shift of {name}").format(name=found.operator)
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_row("⏎", till)
        table.add_row("^T", _("Admin: articles, promo codes, export, reports"))
        table.add_row("^R", _("Orders"))
        table.add_row("^G", _("Door"))
        table.add_row("Esc", _("Log out"))
        self.query_one("#choices", Static).update(table)

    def action_till(self) -> None:
        if self.found is None:
            self.call_service(find_shift, self.rt, self.actor, done=self._till)
        else:
            self._till(self.found)

    def _till(self, found: LoginShift) -> None:
        to_the_till(self.app, self.actor, found)
