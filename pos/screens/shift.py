"""Opening a shift with a cash float, closing it with the counted cash, and the Z report."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical, VerticalScroll
from textual.widgets import Header, Input, Label, Static

from pos.domain.money import parse_amount
from pos.i18n import N_, Language
from pos.screens.base import PosScreen, footer
from pos.services.base import Actor
from pos.services.delivery import PrintOutcome, retry_print
from pos.services.till import ShiftView, ZReport, close_shift, open_shift, print_z_report, z_report
from pos.wording import print_result, tender_name


def report_table(report: ZReport, lang: Language) -> Table:
    """The Z report as the screen shows it (the printer has its own layout)."""
    _ = lang._
    table = Table.grid(padding=(0, 2))
    table.add_column()
    table.add_column(justify="right")
    table.add_column(justify="right")

    def heading(text: str) -> None:
        table.add_row(f"[b]{text}[/b]", "", "")

    table.add_row(_("Opened"), lang.datetime(report.opened_at), "")
    if report.closed_at is not None:
        table.add_row(_("Closed"), lang.datetime(report.closed_at), "")
    heading(_("Sales by payment method"))
    for row in report.by_payment:
        table.add_row("  " + tender_name(lang, row.name), str(row.count), lang.money(row.total_cents))
    table.add_row(_("Total"), str(report.orders), lang.money(report.sales_cents))
    heading(_("Sales by article group"))
    for row in report.by_group:
        table.add_row("  " + row.name, str(row.count), lang.money(row.total_cents))
    if report.cancelled.count:
        table.add_row(
            _("Cancelled orders"), str(report.cancelled.count), lang.money(report.cancelled.total_cents)
        )
    heading(_("Cash"))
    table.add_row("  " + _("Float"), "", lang.money(report.float_cents))
    table.add_row("  " + _("Cash taken"), "", lang.money(report.cash_taken_cents))
    table.add_row("  " + _("Change given"), "", lang.money(-report.change_cents))
    table.add_row(_("Expected cash"), "", f"[b]{lang.money(report.expected_cash_cents)}[/b]")
    if report.counted_cents is not None and report.difference_cents is not None:
        table.add_row(_("Counted cash"), "", f"[b]{lang.money(report.counted_cents)}[/b]")
        style = "green" if report.difference_cents == 0 else "red"
        table.add_row(_("Difference"), "", f"[b {style}]{lang.money(report.difference_cents)}[/b {style}]")
    return table


class AmountScreen(PosScreen):
    """A box with one amount field and a message line."""

    def amount(self) -> int | None:
        field = self.query_one("#amount", Input)
        try:
            return parse_amount(field.value or "0")
        except ValueError:
            self.say(self._("Enter an amount such as 150,00."), error=True)
            field.focus()
            return None


class ShiftOpenScreen(AmountScreen):
    BINDINGS = [
        Binding("enter", "open", N_("Open shift"), key_display="⏎", priority=True),
        Binding("escape", "app.show_login", N_("Logout"), key_display="Esc"),
    ]

    def __init__(self, operator: Actor) -> None:
        super().__init__()
        self.operator = operator

    def compose(self) -> ComposeResult:
        _ = self._
        yield Header()
        with Center(), Vertical(classes="box"):
            yield Static(_("Open shift"), classes="box-title")
            yield Static(_("{name} on {terminal}").format(name=self.operator.name, terminal=self.rt.terminal))
            yield Label(_("Cash float"))
            yield Input(id="amount", placeholder="0,00" if self.lang.code == "de" else "0.00")
            yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#amount", Input).focus()

    def action_open(self) -> None:
        self.after_typing(self._open)

    def _open(self) -> None:
        cents = self.amount()
        if cents is not None:
            self.call_service(
                open_shift,
                self.rt,
                self.operator,
                cents,
                done=lambda s: self.app.start_selling(self.operator, s),
            )


class ShiftCloseScreen(AmountScreen):
    """Count the drawer, close the shift, see and print the Z report."""

    BINDINGS = [
        Binding("enter", "close_shift", N_("Close shift"), key_display="⏎", priority=True),
        Binding("enter", "back", N_("Done"), key_display="⏎", priority=True),
        Binding("f8", "print_report", N_("Print again"), key_display="F8"),
        Binding("escape", "back", N_("Back"), key_display="Esc"),
    ]

    def __init__(self, operator: Actor, shift: ShiftView, *, owner: str = "") -> None:
        super().__init__()
        self.operator = operator
        self.shift = shift
        self.owner = owner or operator.name
        self.report: ZReport | None = None
        self.closed = False
        self.print_failed: tuple[int, ...] = ()

    def compose(self) -> ComposeResult:
        _ = self._
        yield Header()
        with Center(), Vertical(classes="box wide tall"):
            yield Static(
                _("Close shift #{id} of {name}").format(id=self.shift.id, name=self.owner),
                classes="box-title",
            )
            with VerticalScroll(id="report-scroll"):
                yield Static("", id="report")
            yield Label(_("Counted cash"), id="amount-label")
            yield Input(id="amount", placeholder="0,00" if self.lang.code == "de" else "0.00")
            yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#amount", Input).focus()
        self.call_service(z_report, self.rt, self.operator, self.shift.id, done=self._show_report)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "print_report":
            return self.closed
        if action == "close_shift":
            return not self.closed
        return True

    def _show_report(self, report: ZReport) -> None:
        self.report = report
        self.query_one("#report", Static).update(report_table(report, self.lang))

    def action_close_shift(self) -> None:
        self.after_typing(self._close)

    def _close(self) -> None:
        if self.closed:
            self.action_back()
            return
        cents = self.amount()
        if cents is not None:
            self.call_service(
                close_shift, self.rt, self.operator, self.shift.id, cents, done=self._shift_closed
            )

    def _shift_closed(self, report: ZReport) -> None:
        self.closed = True
        self._show_report(report)
        self.query_one("#amount", Input).display = False
        self.query_one("#amount-label", Label).display = False
        self.query_one("#report-scroll").focus()
        self.say(self._("Shift closed. Enter: done."))
        self.refresh_bindings()
        self.action_print_report()

    def action_print_report(self) -> None:
        if self.report is None:
            return
        self.say(self._("Printing the Z report ..."))
        if self.print_failed:
            self.call_service(retry_print, self.rt, self.operator, self.print_failed, done=self._printed)
        else:
            self.call_service(
                print_z_report, self.rt, self.operator, self.report.shift_id, done=self._printed
            )

    def _printed(self, outcome: PrintOutcome) -> None:
        self.print_failed = outcome.retry_job_ids
        text = print_result(self.lang, outcome)
        self.say(text if not outcome.ok else self._("Z report printed. Enter: done."), error=not outcome.ok)

    def action_back(self) -> None:
        if self.closed:
            if self.operator.name != self.owner:
                self.app.switch_screen(ShiftOpenScreen(self.operator))
            else:
                self.app.show_login()
        elif self.app.shift is not None and self.app.shift.id == self.shift.id:
            self.app.open_section("sale")
        else:
            self.app.show_login()
