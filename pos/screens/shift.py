"""Opening a shift with a cash float, closing it with the counted cash (confirmed), X and Z reports, cash in/out.

Every figure comes from the journal through pos.services.till, so what the screen shows is what prints.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical, VerticalScroll
from textual.widgets import Header, Input, Label, Static

from pos.domain.money import parse_amount
from pos.domain.till import ShiftFigures, check_counted
from pos.errors import PosError
from pos.i18n import N_, Language
from pos.screens.base import PosModal, PosScreen, footer
from pos.services.base import Actor
from pos.services.delivery import PrintOutcome, retry_print
from pos.services.till import (
    CashMovement,
    ShiftView,
    cash_movement,
    close_shift,
    open_shift,
    print_cash_slip,
    print_report,
    shift_report,
)
from pos.wording import print_result, tender_name


def cash_table(figures: ShiftFigures, lang: Language, counted: int | None = None) -> Table:
    """The drawer: float, cash taken and given back, refunds, cash in and out, expected against counted."""
    _ = lang._
    sums = figures.sums
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(ratio=1)
    table.add_column(justify="right")
    table.add_row(Text(_("Cash drawer"), style="bold"), "")
    rows = [
        (_("Float"), sums.float_cents),
        (_("Cash taken"), sums.cash_taken_cents),
        (_("Change given"), -sums.change_cents),
        (_("Cash refunded"), -sums.cash_refunded_cents),
        (_("Cash in"), sums.cash_in_cents),
        (_("Cash out"), -sums.cash_out_cents),
    ]
    for label, cents in rows:
        table.add_row("  " + label, lang.money(cents))
    table.add_row(
        Text(_("Expected cash"), style="bold"), Text(lang.money(figures.expected_cash_cents), style="bold")
    )
    if figures.tse_outages:
        table.add_row(Text(_("TSE outages: {n}").format(n=figures.tse_outages), style="bold red"), "")
    counted = figures.counted_cents if counted is None else counted
    if counted is not None:
        difference = counted - figures.expected_cash_cents
        table.add_row(_("Counted cash"), lang.money(counted))
        style = "bold green" if difference == 0 else "bold red"
        table.add_row(Text(_("Difference"), style="bold"), Text(lang.money(difference), style=style))
    return table


def sales_table(figures: ShiftFigures, lang: Language) -> Table:
    """Sales by tender, returns, by article group and VAT per rate."""
    _ = lang._
    sums = figures.sums
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(ratio=1)
    table.add_column(justify="right")
    table.add_row(Text(_("Sales by tender"), style="bold"), "")
    for row in sums.by_tender:
        table.add_row(f"  {tender_name(lang, row.tender)} ({row.count})", lang.money(row.total_cents))
    table.add_row(_("Sales"), lang.money(sums.sales_cents))
    table.add_row(_("Returns ({n})").format(n=sums.returns), lang.money(sums.returns_cents))
    table.add_row(Text(_("Net sales"), style="bold"), Text(lang.money(sums.net_sales_cents), style="bold"))
    table.add_row(Text(_("Sales by article group"), style="bold"), "")
    for group in sums.by_group:
        table.add_row(f"  {group.group} ({group.units})", lang.money(group.total_cents))
    table.add_row(Text(_("VAT by rate"), style="bold"), "")
    for vat in sums.by_vat:
        # One row per figure: in the half-width column of 80x24 a joined line wrapped its VAT beside the gross.
        rate = lang._("{rate} %").format(rate=_rate(vat.rate_bp, lang))
        table.add_row(f"  {rate}", lang.money(vat.gross_cents))
        table.add_row("    " + _("Net"), lang.money(vat.net_cents))
        table.add_row("    " + _("VAT"), lang.money(vat.vat_cents))
    return table


def _rate(bp: int, lang: Language) -> str:
    text = f"{bp // 100}" if bp % 100 == 0 else f"{bp / 100:g}"
    return text.replace(".", ",") if lang.code == "de" else text


def report_title(figures: ShiftFigures, lang: Language) -> str:
    if figures.z_number is None:
        return lang._("X report · shift #{id} of {name}").format(id=figures.shift_id, name=figures.operator)
    return lang._("Z report {z} · shift #{id} of {name}").format(
        z=figures.z_number, id=figures.shift_id, name=figures.operator
    )


class AmountScreen(PosScreen):
    """A box with one amount field and a message line."""

    def amount(self, *, required: bool = False) -> int | None:
        field = self.query_one("#amount", Input)
        try:
            if required:
                return check_counted(parse_amount(field.value) if field.value.strip() else None)
            return parse_amount(field.value or "0")
        except PosError as error:
            self.show_error(error)
        except ValueError:
            self.refuse(self._("Enter an amount such as 150,00."))
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
    """Count the drawer: the expected cash and the difference show as the amount is typed; Enter asks, a second
    Enter closes, then the Z report is shown and printed."""

    BINDINGS = [
        Binding("enter", "close_shift", N_("Close shift"), key_display="⏎", priority=True),
        Binding("enter", "back", N_("Done"), key_display="⏎", priority=True),
        Binding("f8", "print_report", N_("Print again"), key_display="F8"),
        Binding("pagedown", "scroll_sales(1)", N_("More"), key_display="PgDn"),
        Binding("pageup", "scroll_sales(-1)", show=False),
        Binding("escape", "back", N_("Back"), key_display="Esc"),
    ]

    def __init__(self, operator: Actor, shift: ShiftView, *, owner: str = "") -> None:
        super().__init__()
        self.operator = operator
        self.shift = shift
        self.owner = owner or operator.name
        self.figures: ShiftFigures | None = None
        self.confirming: int | None = None  # the counted amount waiting for the second Enter
        self.closed = False
        self.print_failed: tuple[int, ...] = ()

    def compose(self) -> ComposeResult:
        _ = self._
        yield Header()
        with Vertical(id="close-box"):
            yield Static(
                _("Close shift #{id} of {name}").format(id=self.shift.id, name=self.owner),
                classes="box-title",
                id="close-title",
            )
            with Horizontal(id="close-columns"):
                with Vertical(id="close-cash"):
                    yield Static("", id="cash")
                    with Horizontal(classes="field"):
                        yield Label(_("Counted cash"), id="amount-label")
                        yield Input(
                            id="amount",
                            placeholder="0,00" if self.lang.code == "de" else "0.00",
                            compact=True,
                        )
                with VerticalScroll(id="close-sales"):
                    yield Static("", id="sales")
            yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#amount", Input).focus()
        self.call_service(shift_report, self.rt, self.operator, self.shift.id, done=self._show)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "print_report":
            return self.closed
        if action == "close_shift":
            return not self.closed
        return True

    def _show(self, figures: ShiftFigures) -> None:
        self.figures = figures
        if figures.z_number is not None:
            self.query_one("#close-title", Static).update(report_title(figures, self.lang))
        self.show_counted()
        self.query_one("#sales", Static).update(sales_table(figures, self.lang))

    def show_counted(self) -> None:
        if self.figures is None:
            return
        counted = None
        if not self.closed:
            try:
                text = self.query_one("#amount", Input).value.strip()
                counted = parse_amount(text) if text else None
            except ValueError:
                counted = None
        self.query_one("#cash", Static).update(cash_table(self.figures, self.lang, counted))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "amount":
            self.confirming = None
            self.say("")
            self.show_counted()

    def action_scroll_sales(self, direction: int) -> None:
        panel = self.query_one("#close-sales", VerticalScroll)
        if direction > 0:
            panel.scroll_page_down()
        else:
            panel.scroll_page_up()

    def action_close_shift(self) -> None:
        self.after_typing(self._close)

    def _close(self) -> None:
        if self.closed:
            self.action_back()
            return
        cents = self.amount(required=True)
        if cents is None or self.figures is None:
            return
        if self.confirming != cents:
            self.confirming = cents
            difference = cents - self.figures.expected_cash_cents
            self.say(
                self._(
                    "Close the shift with {counted} counted (difference {difference})? ⏎ closes, Esc goes back."
                ).format(counted=self.lang.money(cents), difference=self.lang.money(difference)),
                error=difference != 0,
            )
            return
        self.call_service(close_shift, self.rt, self.operator, self.shift.id, cents, done=self._shift_closed)

    def _shift_closed(self, figures: ShiftFigures) -> None:
        self.closed = True
        self.confirming = None
        self._show(figures)
        self.query_one("#amount", Input).display = False
        self.query_one("#amount-label", Label).display = False
        self.set_focus(None)
        self.say(self._("Shift closed. Enter: done."))
        self.refresh_bindings()
        self.action_print_report()

    def action_print_report(self) -> None:
        if self.figures is None:
            return
        self.say(self._("Printing the Z report ..."))
        if self.print_failed:
            self.call_service(retry_print, self.rt, self.operator, self.print_failed, done=self._printed)
        else:
            self.call_service(print_report, self.rt, self.operator, self.figures.shift_id, done=self._printed)

    def _printed(self, outcome: PrintOutcome) -> None:
        self.print_failed = outcome.retry_job_ids
        text = print_result(self.lang, outcome)
        self.say(text if not outcome.ok else self._("Z report printed. Enter: done."), error=not outcome.ok)

    def action_back(self) -> None:
        if self.confirming is not None and not self.closed:
            self.confirming = None
            self.say("")
            self.query_one("#amount", Input).focus()
            return
        if self.closed:
            if self.operator.name != self.owner:
                self.app.switch_screen(ShiftOpenScreen(self.operator))
            else:
                self.app.show_login()
        elif self.app.shift is not None and self.app.shift.id == self.shift.id:
            self.app.open_section("sale")
        else:
            self.app.show_login()


class XReportScreen(PosModal):
    """The interim report of the open shift; the shift stays open."""

    BINDINGS = [
        Binding("f8", "print_report", N_("Print"), key_display="F8"),
        Binding("pagedown", "scroll_sales(1)", N_("More"), key_display="PgDn"),
        Binding("pageup", "scroll_sales(-1)", show=False),
        Binding("escape", "dismiss", N_("Back"), key_display="Esc"),
    ]

    def __init__(self, shift_id: int) -> None:
        super().__init__()
        self.shift_id = shift_id

    def compose(self) -> ComposeResult:
        with Vertical(id="close-box"):
            yield Static(self._("X report"), classes="box-title", id="close-title")
            with Horizontal(id="close-columns"):
                with Vertical(id="close-cash"):
                    yield Static("", id="cash")
                with VerticalScroll(id="close-sales"):
                    yield Static("", id="sales")
            yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        self.call_service(shift_report, self.rt, self.actor, self.shift_id, done=self._show)

    def _show(self, figures: ShiftFigures) -> None:
        self.query_one("#close-title", Static).update(report_title(figures, self.lang))
        self.query_one("#cash", Static).update(cash_table(figures, self.lang))
        self.query_one("#sales", Static).update(sales_table(figures, self.lang))

    def action_scroll_sales(self, direction: int) -> None:
        panel = self.query_one("#close-sales", VerticalScroll)
        if direction > 0:
            panel.scroll_page_down()
        else:
            panel.scroll_page_up()

    def action_print_report(self) -> None:
        self.say(self._("Printing ..."))
        self.call_service(print_report, self.rt, self.actor, self.shift_id, done=self._printed)

    def _printed(self, outcome: PrintOutcome) -> None:
        self.say(print_result(self.lang, outcome), error=not outcome.ok)


class CashScreen(PosModal):
    """Cash in or out of the drawer with a reason; prints a slip and opens the drawer."""

    BINDINGS = [
        Binding("f5", "book('cash_in')", N_("Cash in"), key_display="F5"),
        Binding("f6", "book('cash_out')", N_("Cash out"), key_display="F6"),
        Binding("escape", "dismiss", N_("Back"), key_display="Esc"),
    ]

    def __init__(self, shift_id: int) -> None:
        super().__init__()
        self.shift_id = shift_id
        self.busy = False

    def compose(self) -> ComposeResult:
        _ = self._
        with Vertical(classes="box"):
            yield Static(_("Cash in or out"), classes="box-title")
            yield Label(_("Amount"))
            yield Input(id="amount", placeholder="0,00" if self.lang.code == "de" else "0.00")
            yield Label(_("Reason"))
            yield Input(id="reason", placeholder=_("e.g. change from the safe"))
            yield Static(_("F5: put in   F6: take out"))
            yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#amount", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "amount":
            self.query_one("#reason", Input).focus()

    def action_book(self, kind: str) -> None:
        if self.busy:
            return
        text = self.query_one("#amount", Input).value.strip()
        try:
            cents = parse_amount(text) if text else 0
        except ValueError:
            self.refuse(self._("Enter an amount such as 150,00."))
            return
        reason = self.query_one("#reason", Input).value
        self.busy = True
        self.call_service(
            cash_movement,
            self.rt,
            self.actor,
            kind,
            cents,
            reason,
            shift_id=self.shift_id,
            done=self._booked,
            failed=self._refused,
        )

    def _refused(self, error: PosError) -> None:
        self.busy = False
        self.show_error(error)

    def _booked(self, movement: CashMovement) -> None:
        self.busy = False
        words = self._("Cash in") if movement.kind == "cash_in" else self._("Cash out")
        self.query_one("#amount", Input).value = ""
        self.query_one("#reason", Input).value = ""
        self.say(f"{words}: {self.lang.money(movement.amount_cents)} · {movement.reason}", ok=True)
        self.call_service(print_cash_slip, self.rt, self.actor, movement, done=self._printed, group="print")

    def _printed(self, outcome: PrintOutcome) -> None:
        if not outcome.ok:
            self.refuse(print_result(self.lang, outcome))
