"""The words every face shows for the same thing: tenders, repeat options, print results, document kinds.

One place, so the cashier app, the door, `pos gate`, receipts and reports say the same thing. Each function
takes a `Language` (pos.i18n) and returns text in it; the source strings are English and go through the
gettext catalog. The door's rejection reasons live in `reason_text` below, next to the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from pos.errors import PosError
from pos.i18n import N_

if TYPE_CHECKING:
    from pos.i18n import Language

TENDER_NAMES = {"cash": N_("Cash"), "card": N_("Card"), "free": N_("Free")}
REPEAT_KINDS = {"anytime": N_("anytime"), "daily": N_("once per day"), "same-day": N_("same day only")}
DOCUMENT_KINDS = {
    "ticket": N_("Ticket"),
    "slip": N_("Order slip"),
    "receipt": N_("Receipt"),
    "zreport": N_("Z report"),
    "xreport": N_("X report"),
    "return": N_("Return slip"),
}


def tender_name(lang: Language, tender: str) -> str:
    """'Cash', 'Card', 'Free' in the venue language (an unknown tender is shown as it is)."""
    return lang._(TENDER_NAMES[tender]) if tender in TENDER_NAMES else tender


def document_kind(lang: Language, kind: str) -> str:
    return lang._(DOCUMENT_KINDS[kind]) if kind in DOCUMENT_KINDS else kind


def repeat_words(lang: Language, repeat: str, limit: int | str | None) -> str:
    """'single entry', 'anytime, unlimited re-entries' or 'once per day, 9 re-entries (10 entries in all)'."""
    _ = lang._
    if repeat == "none":
        return _("single entry")
    kind = _(REPEAT_KINDS[repeat]) if repeat in REPEAT_KINDS else repeat
    if limit == "unlimited" or limit is None:
        return _("{kind}, unlimited re-entries").format(kind=kind)
    count = int(limit)
    return _("{kind}, {n} re-entries ({total} entries in all)").format(kind=kind, n=count, total=count + 1)


def print_result(lang: Language, outcome: PrintOutcomeLike) -> str:
    """'Printed.', or what did not print and why with the retry key: one sentence for every screen."""
    _ = lang._
    if outcome.failed:
        items = []
        for problem in outcome.failed:
            name = document_kind(lang, problem.kind)
            items.append(f"{name} {problem.ticket_code}" if problem.ticket_code else name)
        reason = outcome.failed[0].reason.in_language(lang).rstrip(".")
        return _("Not printed: {items} ({reason}). F8: retry.").format(items=", ".join(items), reason=reason)
    if outcome.stuck:
        return _("A print job was interrupted while printing; check the printer, then reprint.")
    if not outcome.printed:
        return _("Nothing was waiting to be printed.")
    return _("Printed.")


class _Problem(Protocol):
    kind: str
    ticket_code: str | None
    reason: PosError


class PrintOutcomeLike(Protocol):
    """pos.services.delivery.PrintOutcome, as far as the words need it."""

    printed: list[int]
    stuck: list[int]

    @property
    def failed(self) -> Sequence[_Problem]: ...


def resend_result(lang: Language, done: ResendLike) -> str:
    """What a resend of an order's ticket mails did (the orders screen and the ticket detail say the same)."""
    _ = lang._
    if not done.queued:
        return _("This order has no e-mail address to send to.")
    if done.sent is None:
        n = len(done.queued)
        return lang.ngettext(
            "{n} mail queued; it goes out when mail is set up.",
            "{n} mails queued; they go out when mail is set up.",
            n,
        ).format(n=n)
    if done.sent.failed:
        return _("E-mail not sent: {reason}").format(reason=done.sent.failed[0][1])
    n = len(done.sent.sent)
    return lang.ngettext("{n} e-mail sent.", "{n} e-mails sent.", n).format(n=n)


class _SendLike(Protocol):
    sent: list[int]
    failed: list[tuple[int, str]]


class ResendLike(Protocol):
    """pos.services.orders.Resend."""

    queued: list[int]

    @property
    def sent(self) -> _SendLike | None: ...


def return_result(lang: Language, result: ReturnLike) -> str:
    """'Returned 2 tickets and 1 × Bier; refund 54,50 € (Cash).' for every screen that returns."""
    _ = lang._
    parts = []
    if result.tickets:
        n = len(result.tickets)
        parts.append(lang.ngettext("{n} ticket", "{n} tickets", n).format(n=n))
    for line in result.lines:
        parts.append(f"{line['quantity']} × {line['article']}")
    by = ", ".join(f"{tender_name(lang, t.tender)} {lang.money(-t.amount_cents)}" for t in result.tenders)
    return _("Returned {items}; refund {amount} ({by}).").format(
        items=", ".join(parts), amount=lang.money(result.refund_cents), by=by or "-"
    )


class _TenderLike(Protocol):
    tender: str
    amount_cents: int


class ReturnLike(Protocol):
    """pos.services.orders.ReturnResult."""

    refund_cents: int

    @property
    def tickets(self) -> Sequence[str]: ...

    @property
    def lines(self) -> Sequence[dict[str, object]]: ...

    @property
    def tenders(self) -> Sequence[_TenderLike]: ...
