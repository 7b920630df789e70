"""A locked-down till (`[terminal] kiosk = true`): quitting needs an admin, and no key drops to a shell.

At a till in a public place the cashier app is the terminal user's only program (see README, "A locked-down
till"). Quitting it would hand whoever stands there a shell and with it the admin CLI, so in kiosk mode Ctrl+Q,
wherever it is pressed (the login screen too), asks for an admin's name and PIN first. Ctrl+Z and Ctrl+C arrive
as plain keys (Textual turns the terminal's signal keys off) and do nothing; SIGINT, SIGTSTP and SIGQUIT are
ignored as well, for the moments before and after Textual owns the terminal.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from pos.errors import Forbidden, PosError, Refused
from pos.i18n import N_
from pos.screens.base import PosModal, footer

if TYPE_CHECKING:
    from pos.runtime import Runtime
    from pos.services.base import Actor

LOCKED_SIGNALS = ("SIGINT", "SIGTSTP", "SIGQUIT")


def lock_down() -> Callable[[], None]:
    """Ignore the keyboard's signals for this process; returns what undoes it (the tests run in one process)."""
    os.environ.pop("TEXTUAL_ALLOW_SIGNALS", None)  # Textual would leave Ctrl+C/Ctrl+Z as signals with it
    previous: dict[int, Any] = {}
    for name in LOCKED_SIGNALS:
        number = getattr(signal, name, None)
        if number is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # not the main thread: nothing to lock here
            previous[number] = signal.signal(number, signal.SIG_IGN)

    def restore() -> None:
        for number, handler in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(number, handler)

    return restore


def admin_may_quit(rt: Runtime, name: str, pin: str) -> Actor:
    """The admin with this name and PIN; anyone else is refused (runs in a worker: the PIN check is slow)."""
    from pos.domain.roles import Role
    from pos.services.base import require
    from pos.services.operators import log_in

    actor = log_in(rt, name, pin)
    require(actor, Role.ADMIN, "quit the cashier app")
    return actor


class QuitConfirmDialog(PosModal):
    """Admin name and PIN, then the app exits; Escape goes back to where the cashier was."""

    DEFAULT_CSS = """
    QuitConfirmDialog { align: center middle; }
    QuitConfirmDialog > Vertical { width: 50; height: auto; border: thick $error; padding: 1 2; background: $panel; }
    QuitConfirmDialog .dialog-title { text-style: bold; margin-bottom: 1; }
    QuitConfirmDialog #quit-message { height: auto; margin-top: 1; }
    QuitConfirmDialog #quit-message.error { color: $error; }
    """
    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), key_display="Esc"),
        Binding("ctrl+q", "ignore", show=False, priority=True),  # asked already
    ]

    def __init__(self) -> None:
        super().__init__()
        self.busy = False

    def compose(self) -> ComposeResult:
        _ = self._
        with Vertical():
            yield Static(_("Quit the cashier app"), classes="dialog-title")
            yield Label(_("Admin name"))
            yield Input(id="quit-name")
            yield Label(_("PIN"))
            yield Input(id="quit-pin", password=True, restrict=r"[0-9]*", max_length=12)
            yield Static(_("Only an admin may quit this till."), id="quit-message")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#quit-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = self.query_one("#quit-name", Input)
        pin = self.query_one("#quit-pin", Input)
        if not name.value.strip():
            name.focus()
        elif event.input is name or not pin.value:
            pin.focus()
        elif not self.busy:
            self.busy = True
            self.call_service(
                admin_may_quit, self.rt, name.value, pin.value, done=self._allowed, failed=self._refused
            )

    def _allowed(self, _actor: Actor) -> None:
        self.app.exit()

    def _refused(self, error: PosError) -> None:
        self.busy = False
        pin = self.query_one("#quit-pin", Input)
        pin.value = ""
        pin.focus()
        self.app.bell()
        if isinstance(error, Forbidden):
            text = self._("Only an admin may quit this till.")
        elif isinstance(error, Refused):
            text = self._("Wrong name or PIN.")
        else:
            text = error.in_language(self.lang)
        message = self.query_one("#quit-message", Static)
        message.update(text)
        message.add_class("error")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_ignore(self) -> None:
        pass


def ask_to_quit(app: Any) -> None:
    """Ctrl+Q on a kiosk till: the dialog, unless it is up already."""
    if not isinstance(app.screen, QuitConfirmDialog):
        app.push_screen(QuitConfirmDialog())
