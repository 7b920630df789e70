"""Login with name and PIN (masked), then on to the shift: resume it, open one, or (admin) close another's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.widgets import Header, Input, Label, Static

from pos.errors import PosError
from pos.i18n import N_
from pos.screens.base import PosScreen, footer

if TYPE_CHECKING:  # the services load in the background while the login screen is up (see PosApp)
    from pos.runtime import Runtime
    from pos.services.till import Login


def log_in(rt: Runtime, name: str, pin: str) -> Login:
    """The operator and what their login finds on this terminal; runs in a worker (the imports too)."""
    from pos.services.till import log_in as check

    return check(rt, name, pin)


class LoginScreen(PosScreen):
    BINDINGS = [
        Binding("enter", "next", N_("Log in"), key_display="⏎", priority=True),
        Binding("escape", "reset", N_("Clear"), key_display="Esc"),
        Binding("ctrl+q", "app.quit", N_("Quit"), key_display="^Q", priority=True),
    ]

    def __init__(self, message: str = "") -> None:
        super().__init__()
        self.first_message = message
        self.busy = False

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
        self.after_typing(self._next)

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
                log_in, self.rt, name.value, pin.value, done=self._logged_in, failed=self._refused
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
        from pos.screens.shift import ShiftCloseScreen, ShiftOpenScreen

        operator, found = login.actor, login.shift
        self.busy = False
        if found.state == "own" and found.shift is not None:
            self.app.start_selling(operator, found.shift)
        elif found.state == "none":
            self.app.switch_screen(ShiftOpenScreen(operator))
        elif operator.role == "admin" and found.shift is not None:
            self.app.switch_screen(ShiftCloseScreen(operator, found.shift, owner=found.operator))
        else:
            self.query_one("#pin", Input).value = ""
            self.say(
                self._(
                    "The shift of {name} is still open on this terminal; {name} or an admin must close it."
                ).format(name=found.operator),
                error=True,
            )
