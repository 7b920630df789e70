"""Orders: the latest ones first (newest on top), or find one by order number, ticket code (scan it) or customer
name or e-mail; cancel, reprint, resend; reprint the last receipt of this terminal with one key.

Cancelling asks first and then calls `cancel_order`, the same audited service as `pos order cancel`: tickets
void, units and promo uses returned, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Header, Input, Static

from pos.i18n import N_
from pos.screens.backoffice import BackOfficeScreen, ConfirmDialog, fill_table
from pos.screens.base import footer
from pos.screens.order import ReturnScreen
from pos.services.orders import (
    OrderHit,
    Reprint,
    Resend,
    ReturnRequest,
    ReturnResult,
    find_orders,
    print_return_slip,
    reprint,
    reprint_last_receipt,
    resend,
    return_order,
    show_order,
)
from pos.wording import print_result, resend_result, return_result, tender_name


class OrdersScreen(BackOfficeScreen):
    SECTION = "orders"  # the app's section keys may leave this screen
    DEFAULT_CSS = """
    OrdersScreen #search-row {
        height: auto;
    }
    OrdersScreen #search-row Static {
        width: auto;
        padding: 0 1;
    }
    OrdersScreen #search {
        width: 1fr;
    }
    OrdersScreen #hits {
        height: 1fr;
        min-height: 4;
    }
    OrdersScreen #order-title {
        height: auto;
        padding: 0 1;
        background: $boost;
    }
    OrdersScreen #lines {
        height: 1fr;
        min-height: 4;
    }
    OrdersScreen #message {
        height: auto;
        padding: 0 1;
    }
    OrdersScreen #message.error {
        color: $error;
        text-style: bold;
    }
    """

    BINDINGS = [
        Binding("f2", "cancel_order", N_("Cancel order"), key_display="F2"),
        Binding("f7", "return_items", N_("Return"), key_display="F7"),
        Binding("f3", "ticket", N_("Ticket"), key_display="F3"),
        Binding("f8", "reprint", N_("Reprint"), key_display="F8"),
        Binding("f9", "resend", N_("Resend"), key_display="F9"),
        Binding("f6", "last_receipt", N_("Last receipt"), key_display="F6"),
        Binding("f4", "search", N_("Find"), key_display="F4"),
        Binding("escape", "back", N_("Back"), key_display="Esc"),
    ]

    def __init__(self, *, query: str = "") -> None:
        super().__init__()
        self.query_text = query
        self.hits: list[OrderHit] = []
        self.order: dict[str, Any] | None = None
        self.loading_order: int | None = None

    def compose(self) -> ComposeResult:
        _ = self._
        yield Header()
        with Horizontal(id="search-row"):
            yield Static(_("Find"))
            yield Input(
                self.query_text,
                id="search",
                placeholder=_("Order number, ticket code, or customer name or e-mail"),
                compact=True,
            )
        yield DataTable(id="hits", cursor_type="row")
        yield Static("", id="order-title")
        yield DataTable(id="lines", cursor_type="row")
        yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        _ = self._
        self.sub_title = _("Orders")
        self.fill_hits()
        self.show_order(None)
        self.query_one("#search", Input).focus()
        self.search(self.query_text)  # empty: the latest orders, newest first

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cancel_order", "return_items"):
            return self.order is not None and self.order["status"] == "paid"
        if action in ("reprint", "resend"):
            return self.order is not None and self.order["status"] == "paid"
        if action == "ticket":
            return self.selected_code() is not None
        return True

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            super().action_back()

    # --- searching --------------------------------------------------------------------------------------

    def route_scan(self, scanned: str) -> bool:
        self.query_one("#search", Input).value = scanned
        self.search(scanned)
        return True

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.search(event.value)

    def search(self, text: str) -> None:
        """Orders matching `text`; an empty text lists the latest orders, newest first."""
        self.query_text = text.strip()
        self.call_service(find_orders, self.rt, self.actor, self.query_text, done=self.show_hits)

    def fill_hits(self, hits: Sequence[OrderHit] = ()) -> DataTable[Any]:
        _ = self._
        table = self.query_one("#hits", DataTable)
        fill_table(
            table,
            [
                ("id", _("Order")),
                ("at", _("Time")),
                ("status", _("Status")),
                ("total", _("Total")),
                ("tickets", _("Tickets")),
                ("customer", _("Customer")),
            ],
            (
                (
                    str(hit.id),
                    (
                        f"#{hit.id}",
                        self.lang.datetime(hit.created_at),
                        self.status_text(hit.status),
                        self.lang.money(hit.total_cents),
                        str(hit.tickets),
                        " · ".join(part for part in (hit.customer, hit.email) if part),
                    ),
                )
                for hit in hits
            ),
        )
        return table

    def show_hits(self, hits: list[OrderHit], *, announce: bool = True) -> None:
        _ = self._
        self.hits = hits
        table = self.fill_hits(hits)
        if not hits:
            self.show_order(None)
            if self.query_text:
                self.say(_("No order matches {query!r}.").format(query=self.query_text), error=True)
            else:
                self.say(_("No order has been sold yet."))
            return
        if announce and not self.query_text:
            self.say(
                self.lang.ngettext(
                    "The latest order, newest first; type to find others.",
                    "The latest {n} orders, newest first; type to find others.",
                    len(hits),
                ).format(n=len(hits))
            )
        elif announce:
            self.say(
                self.lang.ngettext("{n} order found.", "{n} orders found.", len(hits)).format(n=len(hits))
            )
        if self.query_text:
            table.focus()
        self.load_order(hits[0].id)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # The row under the cursor now: a highlight message from before the list was refilled names a row
        # that may be gone or hold another order.
        row = event.data_table.cursor_row
        if event.data_table.id == "hits" and 0 <= row < len(self.hits):
            order_id = self.hits[row].id
            shown = self.order["id"] if self.order is not None else None
            if order_id not in (shown, self.loading_order):
                self.load_order(order_id)
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "hits":
            self.query_one("#lines", DataTable).focus()
        elif event.data_table.id == "lines":
            self.action_ticket()

    def load_order(self, order_id: int) -> None:
        self.loading_order = order_id  # asked for once, however many highlight messages name it
        self.call_service(
            show_order, self.rt, self.actor, order_id, done=self._order_loaded, group="order", exclusive=True
        )

    def _order_loaded(self, order: dict[str, Any]) -> None:
        self.loading_order = None
        self.show_order(order)

    def reload(self) -> None:
        self.call_service(find_orders, self.rt, self.actor, self.query_text, done=self._refreshed)

    def _refreshed(self, hits: list[OrderHit]) -> None:
        order_id = self.order["id"] if self.order else None
        self.show_hits(hits, announce=False)
        if order_id is not None:
            table = self.query_one("#hits", DataTable)
            for index, hit in enumerate(hits):
                if hit.id == order_id:
                    table.move_cursor(row=index)
                    self.load_order(order_id)

    def status_text(self, status: str) -> Text:
        if status == "cancelled":
            return Text(self._("cancelled"), style="bold red")
        return Text(self._("paid"))

    def show_order(self, order: dict[str, Any] | None) -> None:
        _ = self._
        lang = self.lang
        self.order = order
        rows = [
            (
                str(index),
                (
                    line["article"],
                    _("{qty} ({returned} returned)").format(qty=line["quantity"], returned=returned)
                    if (returned := line.get("returned_quantity") or 0)
                    else str(line["quantity"]),
                    lang.money(line["unit_price_cents"]),
                    lang.money(line["discount_cents"]) if line["discount_cents"] else "",
                    lang.money(line["total_cents"]),
                    line["ticket_code"] or "",
                ),
            )
            for index, line in enumerate(order["lines"] if order is not None else [])
        ]
        fill_table(
            self.query_one("#lines", DataTable),
            [
                ("article", _("Article")),
                ("qty", _("Qty")),
                ("price", _("Price")),
                ("discount", _("Discount")),
                ("amount", _("Amount")),
                ("code", _("Ticket code")),
            ],
            rows,
            shrink="article",  # the ticket code stays whole at 80 columns
        )
        title = self.query_one("#order-title", Static)
        if order is None:
            title.update("")
            self.refresh_bindings()
            return
        created = datetime.fromisoformat(order["created_at"])
        header = Text()
        header.append(_("Order #{id}").format(id=order["id"]), style="bold")
        header.append(f" · {lang.datetime(created)} · ")
        header.append_text(self.status_text(order["status"]))
        header.append(
            f" · {lang.money(order['total_cents'])} · {tender_name(lang, order['payment']['method'])}"
        )
        customer = order.get("customer")
        if customer:
            who = " · ".join(part for part in (customer.get("name"), customer.get("email")) if part)
            header.append(f"\n{_('Customer')}: {who}")
        title.update(header)
        self.refresh_bindings()

    def selected_code(self) -> str | None:
        if self.order is None:
            return None
        table = self.query_one("#lines", DataTable)
        if not table.row_count:
            return None
        row = table.cursor_row
        if 0 <= row < len(self.order["lines"]):
            code = self.order["lines"][row]["ticket_code"]
            return str(code) if code else None
        return None

    # --- actions ----------------------------------------------------------------------------------------

    def action_cancel_order(self) -> None:
        order = self.order
        if order is None or order["status"] != "paid":
            self.app.bell()
            return
        question = self.lang.ngettext(
            "Cancel order #{id} ({total}, {n} ticket)? Its ticket becomes void.",
            "Cancel order #{id} ({total}, {n} tickets)? Its tickets become void.",
            len(order["tickets"]),
        ).format(id=order["id"], total=self.lang.money(order["total_cents"]), n=len(order["tickets"]))
        order_id = order["id"]
        admitted = [
            line["ticket_code"] for line in order["lines"] if line.get("admitted") and line["ticket_code"]
        ]

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            if admitted:
                warning = self.lang.ngettext(
                    "Ticket {codes} was already used at the door. Cancel anyway? Its place is not sold again.",
                    "Tickets {codes} were already used at the door. Cancel anyway? Their places are not sold again.",
                    len(admitted),
                ).format(codes=", ".join(admitted))
                self.app.push_screen(
                    ConfirmDialog(warning, yes=N_("Cancel anyway"), no=N_("Keep it")),
                    lambda forced: self._cancel(order_id, force=True) if forced else None,
                )
            else:
                self._cancel(order_id, force=False)

        self.app.push_screen(ConfirmDialog(question, yes=N_("Cancel order"), no=N_("Keep it")), answered)

    def _cancel(self, order_id: int, *, force: bool) -> None:
        shift_id = self.app.shift.id if getattr(self.app, "shift", None) else None
        request = ReturnRequest(order_id=order_id, force=force, shift_id=shift_id)
        self.call_service(return_order, self.rt, self.actor, request, done=self._returned)

    def action_return_items(self) -> None:
        """The same key as in the order popup: choose tickets and units, then the return slip prints."""
        if self.order is None or self.order["status"] != "paid":
            self.app.bell()
            return
        self.app.push_screen(ReturnScreen(self.order), self._returned)

    def _returned(self, result: ReturnResult | None) -> None:
        if result is None:
            return
        self.say(return_result(self.lang, result), ok=True)
        self.reload()
        self.call_service(
            print_return_slip, self.rt, self.actor, result, done=self._slip_printed, group="print"
        )

    def _slip_printed(self, outcome: Any) -> None:
        if not outcome.ok:
            self.refuse(print_result(self.lang, outcome))

    def action_ticket(self) -> None:
        from pos.screens.ticket_detail import TicketDetailScreen

        code = self.selected_code()
        if code is None:
            self.app.bell()
            return
        self.app.push_screen(TicketDetailScreen(code))

    def action_reprint(self) -> None:
        if self.order is None:
            return
        self.say(self._("Printing ..."))
        self.call_service(reprint, self.rt, self.actor, self.order["id"], done=self._printed)

    def _printed(self, done: Reprint) -> None:
        if done.outcome.ok and not done.outcome.stuck:
            self.say(self._("Order reprinted."), ok=True)
        else:
            self.refuse(print_result(self.lang, done.outcome))

    def action_resend(self) -> None:
        if self.order is None:
            return
        self.call_service(resend, self.rt, self.actor, self.order["id"], done=self._resent)

    def _resent(self, done: Resend) -> None:
        self.say(
            resend_result(self.lang, done), error=not done.queued or bool(done.sent and done.sent.failed)
        )

    def action_last_receipt(self) -> None:
        """The receipt of this terminal's latest order again, wherever the cursor is."""
        self.say(self._("Printing ..."))
        self.call_service(reprint_last_receipt, self.rt, self.actor, done=self._printed)
