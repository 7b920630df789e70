"""A scanned ticket's order: what was sold, its tickets and payment; reprint it or cancel it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from pos.errors import PosError
from pos.i18n import N_
from pos.screens.backoffice import ConfirmDialog
from pos.screens.base import PosModal, footer
from pos.services.delivery import PrintOutcome
from pos.services.orders import Reprint, ReturnRequest, ReturnResult, print_return_slip, reprint, return_order
from pos.wording import print_result, return_result, tender_name


class OrderScreen(PosModal):
    BINDINGS = [
        Binding("escape", "close", N_("Close"), key_display="Esc"),
        Binding("f7", "return_items", N_("Return"), key_display="F7"),
        Binding("f8", "reprint", N_("Reprint"), key_display="F8"),
    ]

    def __init__(self, order: dict[str, Any]) -> None:
        super().__init__()
        self.order = order
        self.confirming = False
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="box wide"):
            yield Static("", classes="box-title", id="order-title")
            with VerticalScroll():
                yield Static("", id="order")
            yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        self.show_order()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("reprint", "return_items"):
            return bool(self.order["status"] != "cancelled")
        return True

    def show_order(self) -> None:
        _ = self._
        order = self.order
        created = self.lang.datetime(datetime.fromisoformat(order["created_at"]))
        title = _("Order {id} · {time}").format(id=order["id"], time=created)
        if order["status"] == "cancelled":
            title += " · " + _("CANCELLED")
        self.query_one("#order-title", Static).update(title)
        table = Table.grid(padding=(0, 2))
        table.add_column()
        table.add_column(justify="right")
        for line in order["lines"]:
            name = line["article"] if line["quantity"] == 1 else f"{line['quantity']} × {line['article']}"
            table.add_row(name, self.lang.money(line["total_cents"]))
            if line.get("ticket_code"):
                table.add_row(f"  [dim]{line['ticket_code']}[/dim]", "")
            if line.get("returned_quantity"):
                returned = _("{n} returned").format(n=line["returned_quantity"])
                table.add_row(f"  [dim]{returned}[/dim]", "")
        table.add_row(
            Text(_("Total"), style="bold"), Text(self.lang.money(order["total_cents"]), style="bold")
        )
        payment = order["payment"]
        table.add_row(_("Payment"), tender_name(self.lang, payment["method"]))
        if order.get("customer"):
            customer = order["customer"]
            table.add_row(
                _("Customer"), " ".join(filter(None, [customer.get("name"), customer.get("email")]))
            )
        self.query_one("#order", Static).update(table)

    def action_close(self) -> None:
        self.dismiss(self.changed)

    def action_reprint(self) -> None:
        self.say(self._("Printing ..."))
        self.call_service(reprint, self.rt, self.actor, self.order["id"], done=self._printed, group="print")

    def _printed(self, done: Reprint) -> None:
        self.say(print_result(self.lang, done.outcome), error=not done.outcome.ok)

    def action_return_items(self) -> None:
        """The same key as on the orders screen: choose what comes back, then the return slip prints."""
        self.app.push_screen(ReturnScreen(self.order), self._returned)

    def _returned(self, result: ReturnResult | None) -> None:
        if result is None:
            return
        self.changed = True
        self.order = result.data
        self.show_order()
        self.refresh_bindings()
        self.say(return_result(self.lang, result), ok=True)
        self.call_service(
            print_return_slip, self.rt, self.actor, result, done=self._slip_printed, group="print"
        )

    def _slip_printed(self, outcome: PrintOutcome) -> None:
        if not outcome.ok:
            self.refuse(print_result(self.lang, outcome))


class ReturnScreen(PosModal):
    """Choose what comes back: tickets (Space), units of other lines (+/-), the refund tender; F2 returns it.

    Tickets already admitted at the door are marked; returning one asks first (it is forced and audited, and its
    place is not sold again). Dismisses with the ReturnResult, or None.
    """

    BINDINGS = [
        Binding("space", "toggle", N_("Choose"), key_display="Space"),
        Binding("plus", "units(1)", N_("+1"), key_display="+"),
        Binding("minus", "units(-1)", N_("-1"), key_display="-"),
        Binding("f3", "everything", N_("All"), key_display="F3"),
        Binding("f4", "tender", N_("Refund by"), key_display="F4"),
        Binding("f2", "confirm", N_("Return"), key_display="F2"),
        Binding("escape", "dismiss(None)", N_("Back"), key_display="Esc"),
    ]
    TENDERS = (None, "cash", "card")

    def __init__(self, order: dict[str, Any]) -> None:
        super().__init__()
        self.order = order
        self.rows: list[dict[str, Any]] = []
        self.chosen: dict[int, int] = {}  # row index -> units to return
        self.tender_index = 0
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="box wide"):
            yield Static(
                self._("Return from order {id}").format(id=self.order["id"]),
                classes="box-title",
                id="return-title",
            )
            yield DataTable(id="return-lines", cursor_type="row", zebra_stripes=True)
            yield Static("", id="return-sum")
            yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        _ = self._
        table = self.query_one("#return-lines", DataTable)
        table.add_columns(_("Back"), _("Article"), _("Ticket code"), _("Amount"))
        for line in self.order["lines"]:
            left = line["quantity"] - line.get("returned_quantity", 0)
            if left <= 0:
                continue
            self.rows.append({**line, "left": left})
        self.show()
        table.focus()

    def show(self) -> None:
        _ = self._
        table = self.query_one("#return-lines", DataTable)
        table.clear()
        for index, row in enumerate(self.rows):
            units = self.chosen.get(index, 0)
            mark = ("✓" if units else "·") if row["ticket_code"] else f"{units}/{row['left']}"
            code = row["ticket_code"] or ""
            if row.get("admitted"):
                code += " " + _("(admitted)")
            amount = (
                row["total_cents"] // row["quantity"] * (units or (1 if row["ticket_code"] else row["left"]))
            )
            table.add_row(mark, row["article"], code, self.lang.money(amount))
        refund = self.refund_cents()
        tender = self.TENDERS[self.tender_index]
        by = _("as paid") if tender is None else tender_name(self.lang, tender)
        self.query_one("#return-sum", Static).update(
            _("Refund {amount}, by: {by} (F4)").format(amount=self.lang.money(refund), by=by)
        )

    def refund_cents(self) -> int:
        return sum(
            self.rows[i]["total_cents"] // self.rows[i]["quantity"] * units
            for i, units in self.chosen.items()
        )

    def _row(self) -> int | None:
        table = self.query_one("#return-lines", DataTable)
        return table.cursor_row if self.rows and 0 <= table.cursor_row < len(self.rows) else None

    def action_toggle(self) -> None:
        index = self._row()
        if index is None:
            return
        row = self.rows[index]
        if row["ticket_code"]:
            self.chosen[index] = 0 if self.chosen.get(index) else 1
        else:
            self.chosen[index] = 0 if self.chosen.get(index) else row["left"]
        self.chosen = {i: n for i, n in self.chosen.items() if n}
        self.show()

    def action_units(self, delta: int) -> None:
        index = self._row()
        if index is None or self.rows[index]["ticket_code"]:
            self.action_toggle()
            return
        units = min(max(self.chosen.get(index, 0) + delta, 0), self.rows[index]["left"])
        self.chosen[index] = units
        self.chosen = {i: n for i, n in self.chosen.items() if n}
        self.show()

    def action_everything(self) -> None:
        self.chosen = {i: (1 if row["ticket_code"] else row["left"]) for i, row in enumerate(self.rows)}
        self.show()

    def action_tender(self) -> None:
        self.tender_index = (self.tender_index + 1) % len(self.TENDERS)
        self.show()

    def action_confirm(self, force: bool = False) -> None:
        if self.busy:
            return
        if not self.chosen:
            self.refuse(self._("Choose what comes back (Space, + or F3 for everything)."))
            return
        tickets = [self.rows[i]["ticket_code"] for i in sorted(self.chosen) if self.rows[i]["ticket_code"]]
        lines = [
            (f"#{self.rows[i]['article_id']}", units)
            for i, units in sorted(self.chosen.items())
            if not self.rows[i]["ticket_code"]
        ]
        admitted = [self.rows[i]["ticket_code"] for i in self.chosen if self.rows[i].get("admitted")]
        if admitted and not force:
            question = self.lang.ngettext(
                "Ticket {codes} was already used at the door. Return it anyway? Its place is not sold again.",
                "Tickets {codes} were already used at the door. Return them anyway? Their places are not sold again.",
                len(admitted),
            ).format(codes=", ".join(admitted))
            self.app.push_screen(
                ConfirmDialog(question, yes=N_("Return anyway"), no=N_("Keep them")),
                lambda yes: self.action_confirm(force=True) if yes else None,
            )
            return
        request = ReturnRequest(
            order_id=self.order["id"],
            ticket_codes=tickets,
            lines=lines,
            refund=self.TENDERS[self.tender_index],
            force=force,
            shift_id=self.app.shift.id if getattr(self.app, "shift", None) else None,
        )
        self.busy = True
        self.say(self._("Returning ..."))
        self.call_service(
            return_order, self.rt, self.actor, request, done=self._returned, failed=self._refused
        )

    def _refused(self, error: PosError) -> None:
        self.busy = False
        self.show_error(error)

    def _returned(self, result: ReturnResult) -> None:
        self.busy = False
        self.dismiss(result)
