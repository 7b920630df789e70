"""A scanned ticket's order: what was sold, its tickets and payment; reprint it or cancel it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from pos.db.till import PrintReport, reprint_order
from pos.errors import PosError
from pos.i18n import N_
from pos.screens.base import PAYMENT_NAMES, PosModal, footer
from pos.screens.printing import describe_print


class OrderScreen(PosModal):
    BINDINGS = [
        Binding("escape", "close", N_("Close"), key_display="Esc"),
        Binding("f8", "reprint", N_("Reprint"), key_display="F8"),
        Binding("ctrl+d", "cancel_order", N_("Cancel order"), key_display="^D"),
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
        if action in ("reprint", "cancel_order"):
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
        table.add_row(
            Text(_("Total"), style="bold"), Text(self.lang.money(order["total_cents"]), style="bold")
        )
        payment = order["payment"]
        table.add_row(_("Payment"), _(PAYMENT_NAMES.get(payment["method"], payment["method"])))
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
        self.call_service(reprint_order, self.rt, self.order["id"], done=self._printed, group="print")

    def _printed(self, report: PrintReport) -> None:
        self.say(describe_print(report, self.lang), error=not report.ok)

    def action_cancel_order(self) -> None:
        from pos.db.sales import cancel_order, get_order

        if not self.confirming:
            self.confirming = True
            self.say(self._("Cancel this order? Press Ctrl+D again to confirm."), error=True)
            return
        self.confirming = False

        def cancel_and_read(order_id: int) -> dict[str, Any]:
            cancel_order(self.rt, order_id)
            return get_order(self.rt, order_id)

        self.call_service(cancel_and_read, self.order["id"], done=self._order_cancelled)

    def _order_cancelled(self, order: dict[str, Any]) -> None:
        self.order = order
        self.changed = True
        self.show_order()
        self.refresh_bindings()
        self.say(self._("Order cancelled; its tickets are void."))

    def say(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#message", Static)
        message.update(text)
        message.set_class(error, "error")

    def show_error(self, error: PosError) -> None:
        self.app.bell()
        self.say(str(error), error=True)
