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

from pos.i18n import N_
from pos.screens.base import PosModal, footer
from pos.services.orders import Reprint, cancel_order, reprint
from pos.wording import print_result, tender_name


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

    def action_cancel_order(self) -> None:
        if not self.confirming:
            self.confirming = True
            self.say(self._("Cancel this order? Press Ctrl+D again to confirm."), error=True)
            return
        self.confirming = False
        self.call_service(cancel_order, self.rt, self.actor, self.order["id"], done=self._order_cancelled)

    def _order_cancelled(self, order: dict[str, Any]) -> None:
        self.order = order
        self.changed = True
        self.show_order()
        self.refresh_bindings()
        self.say(self._("Order cancelled; its tickets are void."))
