"""One ticket: its settings, first validation, repeat protocol, order and customer, and the admin's corrections.

Corrections (delete a protocol entry, reset the protocol, undo the first validation, change the repeat
options) are for admins only and go through the audited services of pos.services.tickets, the same ones the
`pos ticket ...` commands use. Reprint and resend go through the order services.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Header, Input, Static

from pos.domain.repeat import parse_repeat
from pos.errors import PosError
from pos.i18n import N_, Language
from pos.screens.backoffice import (
    BackOfficeScreen,
    ConfirmDialog,
    FormDialog,
    FormField,
    fill_table,
)
from pos.screens.base import footer
from pos.services.orders import Reprint, Resend, reprint, resend
from pos.services.tickets import Selection, TicketDetail, protocol_delete, reset, set_repeat, ticket_detail
from pos.wording import print_result, repeat_words, resend_result, tender_name

ADMIN_ACTIONS = frozenset({"delete_entry", "reset", "reset_full", "repeat"})


def parse_local(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def validity_words(lang: Language, ticket: dict[str, Any]) -> str:
    _ = lang._
    start, end = parse_local(ticket["valid_from"]), parse_local(ticket["valid_until"])
    parts = []
    if ticket.get("event_date"):
        parts.append(_("on {date}").format(date=lang.date(date.fromisoformat(ticket["event_date"]))))
    if start and end:
        parts.append(f"{lang.datetime(start)} - {lang.datetime(end)}")
    elif start:
        parts.append(_("from {when}").format(when=lang.datetime(start)))
    elif end:
        parts.append(_("until {when}").format(when=lang.datetime(end)))
    return ", ".join(parts) or _("always")


class ProtocolTable(DataTable[str]):
    BINDINGS = [
        Binding("delete", "screen.delete_entry", N_("Delete"), key_display="Del"),
    ]


class TicketDetailScreen(BackOfficeScreen):
    SECTION = "ticket"  # the app's section keys may leave this screen
    DEFAULT_CSS = """
    TicketDetailScreen #code-row {
        height: auto;
    }
    TicketDetailScreen #code-row Static {
        width: auto;
        padding: 0 1;
    }
    TicketDetailScreen #code {
        width: 1fr;
    }
    TicketDetailScreen #summary, TicketDetailScreen #order {
        height: auto;
        padding: 0 1;
    }
    TicketDetailScreen #protocol-title {
        padding: 0 1;
        text-style: bold;
    }
    TicketDetailScreen #protocol {
        height: auto;
        max-height: 8;
        margin: 0 1;
    }
    TicketDetailScreen #message {
        height: auto;
        padding: 0 1;
    }
    TicketDetailScreen #message.error {
        color: $error;
        text-style: bold;
    }
    """

    BINDINGS = [
        Binding("f5", "reset", N_("Reset"), key_display="F5"),
        Binding("f6", "reset_full", N_("Undo entry"), key_display="F6"),
        Binding("f7", "repeat", N_("Repeat"), key_display="F7"),
        Binding("f8", "reprint", N_("Reprint"), key_display="F8"),
        Binding("f9", "resend", N_("Resend"), key_display="F9"),
        Binding("f10", "order", N_("Order"), key_display="F10"),
        Binding("escape", "back", N_("Back"), key_display="Esc"),
    ]

    def __init__(self, code: str = "") -> None:
        super().__init__()
        self.code = code.strip()
        self.detail: TicketDetail | None = None

    def compose(self) -> ComposeResult:
        _ = self._
        yield Header()
        with Horizontal(id="code-row"):
            yield Static(_("Ticket"))
            yield Input(self.code, id="code", placeholder=_("Scan or type a ticket code"), compact=True)
        with VerticalScroll():
            yield Static("", id="summary")
            yield Static(_("Repeat protocol (re-entries)"), id="protocol-title")
            yield ProtocolTable(id="protocol", cursor_type="row")
            yield Static("", id="order")
        yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        _ = self._
        self.sub_title = _("Ticket")
        if self.code:
            self.load(self.code)
        else:
            self.query_one("#code", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ADMIN_ACTIONS:
            return self.is_admin and self.detail is not None
        if action in ("reprint", "resend", "order"):
            return self.detail is not None
        return True

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            super().action_back()

    # --- loading ----------------------------------------------------------------------------------------

    def route_scan(self, scanned: str) -> bool:
        self.query_one("#code", Input).value = scanned
        self.load(scanned)
        return True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.load(event.value)

    def load(self, code: str) -> None:
        self.code = code.strip()
        self.call_service(
            ticket_detail, self.rt, self.actor, self.code, done=self.show, failed=self.not_found
        )

    def not_found(self, error: PosError) -> None:
        self.detail = None
        self.query_one("#summary", Static).update("")
        self.query_one("#order", Static).update("")
        self.query_one("#protocol", ProtocolTable).clear()
        self.refresh_bindings()
        self.show_error(error)

    def reload(self, _result: object = None) -> None:
        self.load(self.code)

    def show(self, detail: TicketDetail) -> None:
        self.detail = detail
        self.code = detail.ticket["code"]
        self.query_one("#code", Input).value = self.code
        self.query_one("#summary", Static).update(self.summary_table(detail))
        self.show_protocol(detail.ticket)
        self.query_one("#order", Static).update(self.order_table(detail))
        self.refresh_bindings()
        protocol = self.query_one("#protocol", ProtocolTable)
        if protocol.row_count:
            protocol.focus()

    def summary_table(self, detail: TicketDetail) -> Table:
        _ = self._
        lang = self.lang
        ticket = detail.ticket
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_row(_("Article"), ticket["article"] or "")
        table.add_row(_("Holder"), ticket["holder"] or "-")
        if ticket["voided"]:
            table.add_row(_("Status"), Text(_("VOID (order cancelled)"), style="bold red"))
        table.add_row(_("Valid"), validity_words(lang, ticket))
        table.add_row(_("Repeat"), repeat_words(lang, ticket["repeat"], ticket["repeat_limit"]))
        first = parse_local(ticket["first_redeemed_at"])
        if first is None:
            table.add_row(_("First entry"), _("not yet"))
        else:
            where = ticket.get("first_gate") or ""
            text = lang.datetime(first, "medium")
            if where:
                text = _("{when} at gate {gate}").format(when=text, gate=where)
            table.add_row(_("First entry"), text)
        allowed = ticket.get("allowed_entries")
        entries = detail.entries
        used = _("{n} of {total}").format(n=entries, total=allowed) if allowed else _("{n}").format(n=entries)
        table.add_row(_("Entries"), used)
        return table

    def show_protocol(self, ticket: dict[str, Any]) -> None:
        _ = self._
        table = self.query_one("#protocol", ProtocolTable)
        fill_table(
            table,
            [("id", _("No.")), ("at", _("Time")), ("gate", _("Gate"))],
            (
                (
                    str(entry["id"]),
                    (str(entry["id"]), self.lang.datetime(at, "medium") if at else "", entry["gate"]),
                )
                for entry in ticket["protocol"]
                for at in [parse_local(entry["at"])]
            ),
        )

    def order_table(self, detail: TicketDetail) -> Table:
        _ = self._
        lang = self.lang
        order = detail.order
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        created = parse_local(order["created_at"])
        status = _("paid") if order["status"] == "paid" else _("cancelled")
        table.add_row(
            _("Order"),
            f"#{order['id']} · {status} · {lang.datetime(created) if created else ''} · "
            f"{lang.money(order['total_cents'])} · {tender_name(lang, order['payment']['method'])}",
        )
        customer = order.get("customer")
        if customer:
            who = " · ".join(part for part in (customer.get("name"), customer.get("email")) if part)
            if detail.birthday:
                who += " · " + _("born {date}").format(date=lang.date(detail.birthday))
            table.add_row(_("Customer"), who)
        return table

    # --- corrections (admin) ----------------------------------------------------------------------------

    def selected_entry(self) -> int | None:
        table = self.query_one("#protocol", ProtocolTable)
        if not table.row_count:
            return None
        row_key, _column = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    def action_delete_entry(self) -> None:
        if not self.is_admin or self.detail is None:
            return
        entry_id = self.selected_entry()
        if entry_id is None:
            self.app.bell()
            return
        question = self._(
            "Delete protocol entry {id} of this ticket? The ticket gets one entry back."
        ).format(id=entry_id)

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_service(
                    protocol_delete,
                    self.rt,
                    self.actor,
                    self.code,
                    entry_id,
                    done=self._corrected(self._("Entry deleted.")),
                )

        self.app.push_screen(ConfirmDialog(question), answered)

    def action_reset(self) -> None:
        self._confirm_reset(full=False)

    def action_reset_full(self) -> None:
        self._confirm_reset(full=True)

    def _confirm_reset(self, *, full: bool) -> None:
        if not self.is_admin or self.detail is None:
            return
        if full:
            question = self._("Delete every entry of this ticket, the first validation included?")
            done = self._("First validation undone; the ticket is as new.")
        else:
            question = self._("Delete the whole repeat protocol of this ticket (the first validation stays)?")
            done = self._("Protocol reset.")
        selection = Selection(codes=[self.code])

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_service(
                    reset, self.rt, self.actor, selection, full=full, done=self._corrected(done)
                )

        self.app.push_screen(ConfirmDialog(question), answered)

    def action_repeat(self) -> None:
        if not self.is_admin or self.detail is None:
            return
        ticket = self.detail.ticket
        self.app.push_screen(repeat_dialog(self.lang, ticket["repeat"], ticket["repeat_limit"]), self._repeat)

    def _repeat(self, answers: dict[str, Any] | None) -> None:
        if answers is None:
            return
        try:
            kind, limit = parse_repeat(str(answers["repeat"]), str(answers["limit"]) or None)
        except ValueError as exc:
            self.refuse(str(exc))
            return
        self.call_service(
            set_repeat,
            self.rt,
            self.actor,
            Selection(codes=[self.code]),
            kind,
            limit,
            done=self._corrected(self._("Repeat options changed.")),
        )

    def _corrected(self, message: str) -> Any:
        def done(_result: object) -> None:
            self.say(message)
            self.reload()

        return done

    # --- order, reprint, resend -------------------------------------------------------------------------

    def action_reprint(self) -> None:
        if self.detail is None:
            return
        self.say(self._("Printing ..."))
        self.call_service(
            reprint, self.rt, self.actor, self.detail.order["id"], [self.code], done=self._printed
        )

    def _printed(self, done: Reprint) -> None:
        if done.outcome.ok and not done.outcome.stuck:
            self.say(self._("Ticket reprinted."), ok=True)
        else:
            self.refuse(print_result(self.lang, done.outcome))

    def action_resend(self) -> None:
        if self.detail is None:
            return
        self.call_service(resend, self.rt, self.actor, self.detail.order["id"], done=self._resent)

    def _resent(self, done: Resend) -> None:
        self.say(
            resend_result(self.lang, done), error=not done.queued or bool(done.sent and done.sent.failed)
        )

    def action_order(self) -> None:
        if self.detail is not None:  # the app opens it: the orders screen imports this one
            self.app.show_orders(str(self.detail.order["id"]))  # type: ignore[attr-defined]


def repeat_dialog(lang: Language, repeat: str = "none", limit: int | str | None = None) -> FormDialog:
    """Repeat type and limit, as `--repeat` and `--repeat-limit` take them."""
    _ = lang._
    choices = (
        (_("single entry"), "none"),
        (_("anytime"), "anytime"),
        (_("once per day"), "daily"),
        (_("same day only"), "same-day"),
    )
    return FormDialog(
        _("Repeat options"),
        [
            FormField("repeat", _("Repeat type"), value=repeat, choices=choices),
            FormField(
                "limit",
                _("Re-entries after the first (a number, or empty for unlimited)"),
                value="" if limit in (None, "unlimited") else str(limit),
                placeholder=_("unlimited"),
            ),
        ],
    )
