"""Payment: reduction codes with the live best allocation, cash with change, card, free; then print and mail.

Every code change asks `quote` for the best allocation (in a worker), so the cashier sees per ticket which code
applies and what each code saves before taking money. `sell` writes the order in one transaction; printing runs
after it in a worker, and a print failure names what did not print and offers a retry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Digits, Header, Input, Label, Static

from pos.domain.customer import guest
from pos.domain.money import parse_amount
from pos.domain.till import TenderRequest, settle_tenders
from pos.errors import PosError
from pos.i18n import N_
from pos.screens.base import PosModal, PosScreen, footer
from pos.screens.cart import Cart
from pos.screens.widgets import fit
from pos.services.checkout import Quote, SaleRequest, SaleResult, quote, sell
from pos.services.delivery import PrintOutcome, print_order, retry_print, send_pending
from pos.wording import print_result, tender_name

if TYPE_CHECKING:
    from pos.services.delivery import SendOutcome
    from pos.services.views import ArticleView


class CodeTable(DataTable[str]):
    BINDINGS = [
        Binding("delete", "remove", N_("Remove code"), key_display="Del"),
        Binding("backspace", "remove", show=False),
    ]

    def action_remove(self) -> None:
        self.screen.remove_code(self.cursor_row)  # type: ignore[attr-defined]


class CardScreen(PosModal):
    """The external card terminal: the cashier confirms with a key once it approved the payment."""

    BINDINGS = [
        Binding("enter", "approved", N_("Approved"), key_display="⏎"),
        Binding("escape", "back", N_("Back"), key_display="Esc"),
    ]

    def __init__(self, amount: str) -> None:
        super().__init__()
        self.amount = amount

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Static(self._("Card payment"), classes="box-title")
            yield Static(
                self._("Charge {amount} on the card terminal.").format(amount=self.amount), id="card-amount"
            )
            yield Static(self._("Enter: the terminal approved it.  Esc: back."))
        yield footer()

    def action_approved(self) -> None:
        self.dismiss(True)

    def action_back(self) -> None:
        self.dismiss(False)


class PaymentScreen(PosScreen):
    BINDINGS = [
        Binding("f2", "focus_code", N_("Code"), key_display="F2"),
        Binding("f3", "focus_given", N_("Amount"), key_display="F3"),
        Binding("f4", "focus_name", N_("Customer"), key_display="F4"),
        Binding("f5", "cash", N_("Cash"), key_display="F5"),
        Binding("f6", "card", N_("Card"), key_display="F6"),
        Binding("escape", "back", N_("Back"), key_display="Esc"),
        Binding("f8", "retry_print", N_("Retry print"), key_display="F8"),
        Binding("f7", "send_mail", N_("Send e-mail"), key_display="F7"),
        Binding("enter", "new_sale", N_("New sale"), key_display="⏎"),
    ]

    def __init__(self, cart: Cart, articles: dict[int, ArticleView]) -> None:
        super().__init__()
        self.cart = cart
        self.articles = articles
        self.codes: list[str] = list(cart.promo_codes)  # kept in the cart when Esc goes back to it
        self.tenders: list[TenderRequest] = list(cart.tenders)  # part payments taken so far (split tender)
        self.quote: Quote | None = None
        self.busy = False
        self.result: SaleResult | None = None
        self.print_retry: tuple[int, ...] = ()
        # A cart link that names its customer takes no other: what it gives is shown and cannot be changed.
        self.link_name = bool(cart.link and cart.customer_name)
        self.link_email = bool(cart.link and cart.customer_email)

    # --- layout -----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        _ = self._
        yield Header()
        with Horizontal(id="payment"):
            with Vertical(id="pay-left"):
                yield DataTable(id="lines", cursor_type="none", zebra_stripes=True)
                yield Static("", id="totals")
            with Vertical(id="pay-right"):
                with Vertical(id="entry"):
                    with Horizontal(classes="field"):
                        yield Label(_("Code F2"))
                        yield Input(id="code", compact=True)
                    yield CodeTable(id="codes", cursor_type="row", show_header=False)
                    with Horizontal(classes="field"):
                        yield Label(_("Name F4"))
                        yield Input(
                            id="name",
                            value=self.cart.customer_name or "",
                            compact=True,
                            disabled=self.link_name,
                        )
                    with Horizontal(classes="field"):
                        yield Label(_("E-mail"))
                        yield Input(
                            id="email",
                            value=self.cart.customer_email or "",
                            compact=True,
                            disabled=self.link_email,
                        )
                    with Horizontal(classes="field"):
                        yield Label(_("Amount F3"))
                        yield Input(
                            id="given", compact=True, restrict=r"[0-9.,]*", placeholder=_("empty: the rest")
                        )
                yield Static("", id="tenders")
                yield Static("", id="due-label")
                yield Digits("", id="due")
                yield Static("", id="change")
                yield Static("", id="message")
        yield footer()

    def on_mount(self) -> None:
        lines = self.query_one("#lines", DataTable)
        lines.add_column(self._("Article"), key="name")
        lines.add_column(self._("Amount"), key="amount")
        self.query_one("#codes", CodeTable).add_columns("code", "saves")
        self.query_one("#given", Input).focus()
        self.requote()

    def on_resize(self) -> None:
        self.show_quote()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        done = self.result is not None
        if action in ("retry_print",):
            return done and bool(self.print_retry)
        if action == "send_mail":
            return done and bool(self.result and self.result.mail_ids and self.result.mail_delivery)
        if action == "new_sale":
            return done
        return not done

    # --- codes and the live quote ---------------------------------------------------------------------

    def request(self, **changes: object) -> SaleRequest:
        request = self.cart.request()
        request.promo_codes = list(self.codes)
        request.shift_id = self.app.shift.id if self.app.shift else None
        request.guest_name = self.query_one("#name", Input).value.strip() or None
        request.guest_email = self.query_one("#email", Input).value.strip() or None
        for name, value in changes.items():
            setattr(request, name, value)
        return request

    def requote(self, added: str | None = None) -> None:
        self.call_service(
            quote,
            self.rt,
            self.actor,
            self.request(guest_name=None, guest_email=None),
            done=lambda result: self._quoted(result, added),
            failed=lambda error: self._quote_refused(error, added),
            group="quote",
            exclusive=True,
        )

    def _quote_refused(self, error: PosError, added: str | None) -> None:
        if added is not None and added in self.codes:
            self.codes.remove(added)
            self.show_codes()
        self.show_error(error)
        if added is not None:
            self.requote()

    def _quoted(self, result: Quote, added: str | None = None) -> None:
        if added is not None:
            self.say("")
        self.quote = result
        self.show_quote()
        self.show_codes()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "code":
            code = event.value.strip().upper()
            event.input.value = ""
            if not code:
                self.action_focus_given()
            elif code not in self.codes:
                self.codes.append(code)
                self.say(self._("Checking code {code} ...").format(code=code))
                self.show_codes()
                self.requote(added=code)
        elif event.input.id == "name":
            self.query_one("#email", Input).focus()
        elif event.input.id == "email":
            self.query_one("#given", Input).focus()
        elif event.input.id == "given":
            self.action_cash()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "given":
            self.show_due()

    def remove_code(self, row: int) -> None:
        if 0 <= row < len(self.codes):
            del self.codes[row]
            self.show_codes()
            self.requote()

    def action_focus_code(self) -> None:
        self.query_one("#code", Input).focus()

    def action_focus_given(self) -> None:
        self.query_one("#given", Input).focus()

    def action_focus_name(self) -> None:
        self.query_one("#name", Input).focus()

    def show_quote(self) -> None:
        table = self.query_one("#lines", DataTable)
        table.clear()
        if self.quote is None:
            return
        width = max(10, table.size.width - 16)
        for line in self.quote.lines:
            name = line.name if line.quantity == 1 else f"{line.quantity} × {line.name}"
            article = Text(fit(name, width))
            amount = Text(self.lang.money(line.total_cents), justify="right", style="bold")
            if line.discount_cents:
                saved = self.lang.money(-line.discount_cents * line.quantity)
                price = self.lang.money(line.unit_price_cents * line.quantity)
                article.append("\n" + fit(f"  {line.promo_code} {saved}", width), "green")
                amount = Text.assemble((price, "strike dim"), "\n", amount, justify="right")
            table.add_row(article, amount, height=2 if line.discount_cents else 1)
        totals = self.quote.totals
        text = Text()
        if totals.discount_cents:
            text.append(self._("Subtotal") + " " + self.lang.money(totals.subtotal_cents) + "   ")
            text.append(self._("Discount") + " " + self.lang.money(-totals.discount_cents), "green")
        self.query_one("#totals", Static).update(text)
        self.show_due()

    def show_codes(self) -> None:
        table = self.query_one("#codes", CodeTable)
        table.clear()
        saved: dict[str, int] = {}
        for line in self.quote.lines if self.quote else ():
            if line.promo_code:
                saved[line.promo_code] = saved.get(line.promo_code, 0) + line.discount_cents * line.quantity
        unused = set(self.quote.unused_codes) if self.quote else set()
        for code in self.codes:
            if code in saved:
                note = Text(
                    self._("saves {amount}").format(amount=self.lang.money(saved[code])), style="green"
                )
            elif code in unused:
                note = Text(self._("not used"), style="yellow")
            else:
                note = Text(self._("unlocks") if self.quote else "…")
            table.add_row(code, note)  # type: ignore[arg-type]
        table.display = bool(self.codes)

    def given_cents(self) -> int | None:
        text = self.query_one("#given", Input).value.strip()
        return parse_amount(text) if text else None

    def left_to_pay(self) -> int:
        """The total less the part payments taken so far."""
        total = self.quote.total_cents if self.quote is not None else 0
        return total - sum(t.amount_cents or 0 for t in self.tenders)

    def show_due(self) -> None:
        if self.quote is None or self.result is not None:
            return
        total = self.quote.total_cents
        left = self.left_to_pay()
        taken = Text()
        for tender in self.tenders:
            taken.append(
                f"{tender_name(self.lang, tender.tender)}  {self.lang.money(tender.amount_cents or 0)}\n"
            )
        self.query_one("#tenders", Static).update(taken)
        label = self._("Total") if not self.tenders else self._("Left to pay")
        self.query_one("#due-label", Static).update(Text(label, style="bold"))
        self.query_one("#due", Digits).update(self.lang.money(left).replace("\xa0", " "))
        text = Text()
        if total == 0:
            text.append(self._("Free order: F5 completes it."), "green")
        else:
            try:
                given = self.given_cents()
            except ValueError:
                given = None
            if given is not None and given >= left:
                text.append(self._("Change") + "  " + self.lang.money(given - left), "bold green")
            elif given is not None:
                text.append(
                    self._("Part payment; {amount} left after it").format(
                        amount=self.lang.money(left - given)
                    ),
                    "bold yellow",
                )
        self.query_one("#change", Static).update(text)

    # --- paying ---------------------------------------------------------------------------------------

    def action_cash(self) -> None:
        """Cash: an amount below what is left is a part payment; the rest (or more, with change) completes."""
        if self.busy or self.quote is None or self.result is not None:
            return
        try:
            given = self.given_cents()
        except ValueError:
            self.refuse(self._("Enter an amount such as 50,00."))
            return
        left = self.left_to_pay()
        if self.quote.total_cents == 0:
            self.complete(self.request(tenders=[], given_cents=None))
            return
        if given is not None and 0 < given < left:
            self.take_part(TenderRequest("cash", given))
            return
        cash_before = sum(t.amount_cents or 0 for t in self.tenders if t.tender == "cash")
        handed = None if given is None else cash_before + given
        tenders = [*self.tenders, TenderRequest("cash")]
        try:
            settle_tenders(self.quote.total_cents, tenders, handed)
        except PosError as error:
            self.show_error(error)
            return
        self.complete(self.request(tenders=tenders, given_cents=handed))

    def action_card(self) -> None:
        """Card: the amount typed (or what is left); the card terminal must approve it, then it counts."""
        if self.busy or self.quote is None or self.result is not None:
            return
        if self.quote.total_cents == 0:
            self.complete(self.request(tenders=[], given_cents=None))
            return
        try:
            amount = self.given_cents()
        except ValueError:
            self.refuse(self._("Enter an amount such as 50,00."))
            return
        left = self.left_to_pay()
        amount = left if amount is None else amount
        tenders = [*self.tenders, TenderRequest("card", amount)]
        if amount >= left:
            try:  # the same rules as every sale: card never more than is due, cash may give change
                settle_tenders(self.quote.total_cents, tenders)
            except PosError as error:
                self.show_error(error)
                return
        self.app.push_screen(
            CardScreen(self.lang.money(amount)),
            callback=lambda approved: self._card_confirmed(approved, amount),
        )

    def _card_confirmed(self, approved: bool | None, amount: int) -> None:
        if not approved:
            return
        if amount < self.left_to_pay():
            self.take_part(TenderRequest("card", amount))
            return
        self.complete(self.request(tenders=[*self.tenders, TenderRequest("card", amount)], given_cents=None))

    def take_part(self, tender: TenderRequest) -> None:
        """A part payment: counted, shown with what is left; the sale completes with the last tender."""
        self.tenders.append(tender)
        self.cart.tenders = list(self.tenders)
        self.query_one("#given", Input).value = ""
        self.say(
            self._("{tender} {amount} taken; {left} left to pay.").format(
                tender=tender_name(self.lang, tender.tender),
                amount=self.lang.money(tender.amount_cents or 0),
                left=self.lang.money(self.left_to_pay()),
            ),
            ok=True,
        )
        self.show_due()
        self.query_one("#given", Input).focus()

    def complete(self, request: SaleRequest) -> None:
        try:
            guest(request.guest_name, request.guest_email)
        except PosError as error:
            self.show_error(error)
            self.action_focus_name()
            return
        self.busy = True
        self.say(self._("Saving the order ..."))
        self.call_service(sell, self.rt, self.actor, request, done=self._sold, failed=self._sale_refused)

    def _sale_refused(self, error: PosError) -> None:
        self.busy = False
        self.show_error(error)
        self.requote()

    def _sold(self, result: SaleResult) -> None:
        self.busy = False
        self.result = result
        self.set_focus(None)
        payment = result.payment
        text = Text()
        text.append(self._("Order {id} paid").format(id=result.order_id) + "\n", "bold")
        for tender in payment.tenders:
            shown = tender.given_cents if tender.tender == "cash" else tender.amount_cents
            text.append(f"{tender_name(self.lang, tender.tender)}  {self.lang.money(shown)}\n")
        if result.mail_ids and result.mail_delivery:
            email = result.customer_email or ""
            text.append(
                self._("Tickets will be e-mailed to {email} (F7: send now).").format(email=email) + "\n"
            )
        if payment.change_cents or payment.method == "cash":
            text.append("\n" + self._("Change"), "bold")
            self.query_one("#due", Digits).update(self.lang.money(payment.change_cents).replace("\xa0", " "))
        else:
            self.query_one("#due", Digits).display = False
        self.query_one("#entry").display = False
        self.query_one("#tenders").display = False  # the paid text lists every tender once
        self.query_one("#due-label", Static).update(text)
        self.query_one("#change", Static).update("")
        self.refresh_bindings()
        self.say(self._("Printing ..."))
        self.call_service(
            print_order, self.rt, self.actor, result.order_id, done=self._printed, group="print"
        )

    def _printed(self, outcome: PrintOutcome) -> None:
        self.print_retry = outcome.retry_job_ids
        if outcome.ok:
            self.say(self._("Printed. Enter: next sale."), ok=True)
        else:
            self.refuse(print_result(self.lang, outcome))
        self.refresh_bindings()

    def action_retry_print(self) -> None:
        if self.print_retry:
            self.say(self._("Printing ..."))
            self.call_service(
                retry_print, self.rt, self.actor, self.print_retry, done=self._printed, group="print"
            )

    def action_send_mail(self) -> None:
        if self.result is None:
            return
        self.say(self._("Sending e-mail ..."))
        self.call_service(
            send_pending, self.rt, self.actor, order_id=self.result.order_id, done=self._mailed, group="mail"
        )

    def _mailed(self, outcome: SendOutcome) -> None:
        if outcome.failed:
            self.refuse(self._("E-mail not sent: {reason}").format(reason=outcome.failed[0][1]))
        elif outcome.sent:
            count = len(outcome.sent)
            self.say(
                self.lang.ngettext("{n} e-mail sent.", "{n} e-mails sent.", count).format(n=count), ok=True
            )
        else:
            self.say(self._("No e-mail was waiting to be sent."))

    def action_new_sale(self) -> None:
        if self.result is not None:
            self.dismiss(True)

    def action_back(self) -> None:
        """Back to the cart: the codes and the part payments taken stay with it."""
        if self.result is None and not self.busy:
            self.cart.promo_codes = list(self.codes)
            self.cart.tenders = list(self.tenders)
            self.dismiss(False)
