"""What the door and back-office screens share: the way back, the admin check, and small dialogs.

Dialogs only collect answers; the screen that opened one calls the audited service with them, so the TUI
and the CLI correct data the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static

from pos.i18n import N_
from pos.screens.base import PosModal, PosScreen, footer
from pos.screens.widgets import fit

DIALOG_CSS = """
BackOfficeDialog {
    align: center middle;
}
BackOfficeDialog > Vertical {
    width: 64;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    border: round $primary;
    background: $surface;
    padding: 0 1;
}
BackOfficeDialog .dialog-title {
    text-style: bold;
    color: $accent;
    padding-bottom: 1;
}
BackOfficeDialog VerticalScroll {
    height: auto;
    max-height: 18;
}
BackOfficeDialog .form {
    grid-size: 2;
    grid-columns: 22 1fr;
    grid-rows: auto;
    grid-gutter: 0 1;
    height: auto;
    padding-bottom: 1;
}
BackOfficeDialog .form Label {
    color: $text-muted;
}
BackOfficeDialog .buttons {
    height: auto;
    align-horizontal: right;
}
BackOfficeDialog Button {
    margin-left: 1;
}
"""


class BackOffice:
    """Mixin for the door and back-office screens: who may correct, and the way back to the sale screen."""

    app: Any

    @property
    def is_admin(self) -> bool:
        operator = getattr(self.app, "operator", None)
        return operator is not None and operator.role == "admin"

    def action_back(self) -> None:
        if hasattr(self.app, "open_section"):
            self.app.open_section("sale")
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()


class BackOfficeScreen(BackOffice, PosScreen):
    pass


def fill_table(
    table: DataTable[Any],
    columns: Sequence[tuple[str, str]],
    rows: Iterable[tuple[str, Sequence[str | Text]]],
    *,
    shrink: str | None = None,
) -> None:
    """Empty the table and fill it with (key, cells) rows, each column as wide as its widest cell.

    The widths are measured here: DataTable's own measuring waits for its idle pass, and on a loaded machine
    columns were painted (and stayed) at the widths of their labels. `shrink`: the key of the column that gives
    up width (its cells cut with an ellipsis) when a table as wide as the screen would be wider, so the others
    (a ticket code) stay whole instead of running off the edge."""
    rows = list(rows)
    table.clear(columns=True)
    widths = [
        max([cell_len(label), *(cell_width(cells[index]) for _key, cells in rows)])
        for index, (_key, label) in enumerate(columns)
    ]
    keys = [key for key, _label in columns]
    if shrink in keys:
        index = keys.index(shrink)
        # Such a table spans the screen; the table's own size is only its content's.
        room = table.app.size.width - TABLE_GUTTER
        over = sum(widths) + 2 * len(widths) - room  # each cell is padded by one on either side
        if over > 0:
            widths[index] = max(SHRUNK_MIN, widths[index] - over)
            rows = [
                (key, [*cells[:index], _cut(cells[index], widths[index]), *cells[index + 1 :]])
                for key, cells in rows
            ]
    for (key, label), width in zip(columns, widths, strict=True):
        table.add_column(label, key=key, width=width)
    for key, cells in rows:
        table.add_row(*cells, key=key)


TABLE_GUTTER = 2  # the vertical scrollbar and a cell of margin
SHRUNK_MIN = 8


def _cut(cell: str | Text, width: int) -> str | Text:
    if isinstance(cell, Text):
        if cell.cell_len > width:
            cell = cell.copy()
            cell.truncate(width, overflow="ellipsis")
        return cell
    return fit(cell, width).rstrip()


def cell_width(cell: str | Text) -> int:
    text = cell.plain if isinstance(cell, Text) else cell
    return max((cell_len(line) for line in text.splitlines()), default=0)


class BackOfficeDialog(PosModal):
    DEFAULT_CSS = DIALOG_CSS


class ConfirmDialog(BackOfficeDialog):
    """Yes or no; dismisses with True only on an explicit yes."""

    BINDINGS = [
        Binding("escape", "answer(False)", N_("No"), key_display="Esc"),
        Binding("f2", "answer(True)", N_("Yes"), key_display="F2"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, classes="dialog-title")
            with Horizontal(classes="buttons"):
                yield Button(self._(self.no), id="no")
                yield Button(self._(self.yes), id="yes", variant="error")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The footer names the answers as the buttons do ("Esc Keep it", "F2 Cancel order")."""
        words = {"answer(True)": self._(self.yes), "answer(False)": self._(self.no)}
        return {
            key: active._replace(binding=replace(active.binding, description=words[active.binding.action]))
            if active.binding.action in words
            else active
            for key, active in super().active_bindings.items()
        }

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


@dataclass(frozen=True)
class FormField:
    """One field of a FormDialog: a text input, a choice (Select) or a checkbox."""

    key: str
    label: str
    value: str = ""
    placeholder: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (shown, value)
    checkbox: bool = False


class FormDialog(BackOfficeDialog):
    """A few fields; dismisses with {key: str | bool} on OK (F2, or Enter in the last input), None on Escape."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), key_display="Esc"),
        Binding("f2", "ok", N_("OK"), key_display="F2"),
    ]

    def __init__(self, title: str, fields: list[FormField], *, ok: str = "OK") -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.ok = ok

    def compose(self) -> ComposeResult:
        """One line per field (label, then the compact field), so a dialog of ten fields fits 80x24."""
        with Vertical():
            yield Static(self.title_text, classes="dialog-title")
            with VerticalScroll(), Grid(classes="form"):
                for field in self.fields:
                    yield Label(field.label)
                    if field.checkbox:
                        yield Checkbox("", value=field.value == "1", id=f"field-{field.key}", compact=True)
                    elif field.choices:
                        yield Select(
                            field.choices,
                            value=field.value or field.choices[0][1],
                            allow_blank=False,
                            id=f"field-{field.key}",
                            compact=True,
                        )
                    else:
                        yield Input(
                            field.value, placeholder=field.placeholder, id=f"field-{field.key}", compact=True
                        )
            with Horizontal(classes="buttons"):
                yield Button(self._("Cancel"), id="cancel")
                yield Button(self._(self.ok), id="ok", variant="primary")
        yield footer()

    def on_mount(self) -> None:
        self.query_one(f"#field-{self.fields[0].key}").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.action_ok()
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.action_ok()
        else:
            self.action_cancel()

    def values(self) -> dict[str, str | bool]:
        answers: dict[str, str | bool] = {}
        for field in self.fields:
            widget = self.query_one(f"#field-{field.key}")
            if isinstance(widget, Checkbox):
                answers[field.key] = widget.value
            elif isinstance(widget, Select):
                answers[field.key] = str(widget.value)
            else:
                assert isinstance(widget, Input)
                answers[field.key] = widget.value.strip()
        return answers

    def action_ok(self) -> None:
        self.dismiss(self.values())

    def action_cancel(self) -> None:
        self.dismiss(None)
