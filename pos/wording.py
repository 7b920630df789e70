"""The words every face shows for the same thing: tenders, repeat options, print results, document kinds.

One place, so the cashier app, the door, `pos gate`, receipts and reports say the same thing. Each function
takes a `Language` (pos.i18n) and returns text in it; the source strings are English and go through the
gettext catalog. The door's rejection reasons live in `reason_text` below, next to the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pos.errors import PosError, Translator, Wording
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


# Where `pos article add` puts an article when no group is given, named in the venue language.
DEFAULT_GROUP = N_("General")
DEFAULT_SHOP_GROUPS = {True: N_("Events"), False: N_("General")}


def default_group(lang: Language) -> str:
    """The article group (for reports) of an article added without one."""
    return lang._(DEFAULT_GROUP)


def default_shop_group(lang: Language, *, is_ticket: bool) -> str:
    """The sale screen's group of an article added without one: 'Veranstaltungen' for tickets, else 'Allgemein'."""
    return lang._(DEFAULT_SHOP_GROUPS[is_ticket])


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


def promo_words(lang: Language, promo: PromoLike) -> str:
    """What a code does and to what: 'unlocks Konzert VIP', '10 % off tickets', '€5.00 off each ticket of Konzert
    Kind', joined with 'and'. Codes reduce ticket prices only, so the words always say which tickets."""
    _ = lang._
    does = []
    unlocks = ", ".join(promo["unlocks"])
    applies = ", ".join(promo["applies_to"])
    if unlocks:
        does.append(_("unlocks {articles}").format(articles=unlocks))
    if promo["percent"] is not None:
        percent = lang.number(promo["percent"])
        if applies:
            does.append(_("{percent} % off {articles}").format(percent=percent, articles=applies))
        else:
            does.append(_("{percent} % off tickets").format(percent=percent))
    if promo["amount_cents"] is not None:
        amount = lang.money(promo["amount_cents"])
        if applies:
            does.append(_("{amount} off each ticket of {articles}").format(amount=amount, articles=applies))
        else:
            does.append(_("{amount} off each ticket").format(amount=amount))
    return _(" and ").join(does)


class PromoLike(Protocol):
    """A promo code as `pos promo list --json` shows it (pos.db.promos.promos_json), as far as the words need."""

    def __getitem__(self, key: str) -> Any: ...


class PromoWording(Wording):
    """`promo_words` as an argument of an error message: translated where the message is shown."""

    def __init__(self, promo: dict[str, Any]) -> None:
        super().__init__("")
        self.promo = promo

    def in_language(self, lang: Translator) -> str:
        from pos.i18n import Language

        return promo_words(lang, self.promo) if isinstance(lang, Language) else str(self)

    def __str__(self) -> str:
        from pos.i18n import language

        return promo_words(language("en"), self.promo)
