"""Door conflicts (admins): tickets a gate admitted offline although the database's rules refuse them.

Each row is one conflict: when and at which gate the ticket was admitted, the rule it broke in words (the same
words the door uses). `F5` accepts it (the entry stands), `F6` credits it back (the entry is deleted, e.g. a
ride of a 10-ride card); both ask first and are audited, as `pos door resolve` is.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from pos.errors import PosError
from pos.i18n import N_
from pos.screens.backoffice import BackOfficeScreen, ConfirmDialog, fill_table
from pos.screens.base import footer
from pos.services.door import ConflictView, conflicts, resolve_conflict
from pos.wording import door_reason

STATUS_WORDS = {"open": N_("open"), "accepted": N_("accepted"), "credited": N_("credited")}


class DoorConflictsScreen(BackOfficeScreen):
    DEFAULT_CSS = """
    DoorConflictsScreen DataTable {
        height: 1fr;
    }
    DoorConflictsScreen #message {
        height: auto;
        padding: 0 1;
    }
    DoorConflictsScreen #message.error {
        color: $error;
        text-style: bold;
    }
    """

    BINDINGS = [
        Binding("f5", "resolve('accept')", N_("Accept"), key_display="F5"),
        Binding("f6", "resolve('credit')", N_("Credit"), key_display="F6"),
        Binding("f2", "reload", N_("Refresh"), key_display="F2"),
        Binding("escape", "back", N_("Back"), key_display="Esc"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.listed: list[ConflictView] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="conflicts", cursor_type="row")
        yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        if not self.is_admin:
            self.app.bell()
            self.action_back()
            return
        self.sub_title = self._("Door conflicts")
        self.action_reload()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            super().action_back()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resolve":
            selected = self.selected()
            return self.is_admin and selected is not None and selected.status == "open"
        return True

    def action_reload(self, _result: object = None) -> None:
        self.call_service(conflicts, self.rt, self.app.actor, done=self.show)

    def show(self, listed: list[ConflictView]) -> None:
        _ = self._
        lang = self.lang
        self.listed = listed
        table = self.query_one("#conflicts", DataTable)
        columns = [
            ("id", _("No.")),
            ("status", _("Status")),
            ("at", _("Time")),
            ("gate", _("Gate")),
            ("reason", _("Reason")),
            ("code", _("Ticket")),
        ]
        day_start = self.rt.config.venue.day_start_minutes
        fill_table(
            table,
            columns,
            (
                (
                    str(conflict.id),
                    (
                        str(conflict.id),
                        _(STATUS_WORDS.get(conflict.status, conflict.status)),
                        lang.datetime(conflict.at, "medium"),
                        conflict.gate or "-",
                        door_reason(lang, conflict, day_start),
                        conflict.code,
                    ),
                )
                for conflict in listed
            ),
        )
        if not listed:
            self.say(_("No door conflicts."))
        table.focus()
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def selected(self) -> ConflictView | None:
        table = self.query_one("#conflicts", DataTable)
        if not table.row_count or not self.listed:
            return None
        row_key, _column = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((c for c in self.listed if str(c.id) == row_key.value), None)

    def action_resolve(self, action: str) -> None:
        conflict = self.selected()
        if conflict is None or conflict.status != "open":
            self.app.bell()
            return
        if action == "credit":
            question = self._("Credit conflict {id} back? The entry is deleted; the ticket has it again.")
        else:
            question = self._("Accept conflict {id}? The entry stands.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_service(
                    resolve_conflict, self.rt, self.app.actor, conflict.id, action, done=self.resolved
                )

        self.app.push_screen(ConfirmDialog(question.format(id=conflict.id)), answered)

    def resolved(self, conflict: ConflictView) -> None:
        status = self._(STATUS_WORDS.get(conflict.status, conflict.status))
        self.say(self._("Conflict {id}: {status}.").format(id=conflict.id, status=status))
        self.action_reload()

    def say(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#message", Static)
        message.update(text)
        message.set_class(error, "error")

    def show_error(self, error: PosError) -> None:
        self.app.bell()
        self.say(error.in_language(self.lang), error=True)
