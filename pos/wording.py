"""The words every face shows for the same thing: tenders, repeat options, print results, document kinds.

One place, so the cashier app, the door, `pos gate`, receipts and reports say the same thing. Each function
takes a `Language` (pos.i18n) and returns text in it; the source strings are English and go through the
gettext catalog. The door's rejection reasons and "entry n of m" are below (`door_reason`, `entry_words`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from pos.domain.redemption import Bound, entry_count, on_scan_day, refusing_bound
from pos.errors import PosError, Translator, Wording
from pos.i18n import N_

if TYPE_CHECKING:
    from pos.i18n import Language

TENDER_NAMES = {"cash": N_("Cash"), "card": N_("Card"), "free": N_("Free"), "split": N_("several tenders")}
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


# --- the door ---------------------------------------------------------------------------------------------
# One sentence per rejection reason of DESIGN (the stable identifiers), shared by the door screen, `pos gate`,
# `pos redeem` and the door report. "offline" and "error" are the gate's own: no verdict could be reached.

REASON_WORDS = {
    "malformed": N_("not a ticket code (mistyped or damaged)"),
    "foreign_brand": N_("ticket of another brand"),
    "forged": N_("forged or invented code"),
    "unknown": N_("unknown ticket"),
    "voided": N_("ticket was cancelled"),
    "not_yet_valid": N_("not valid yet"),
    "expired": N_("no longer valid"),
    "already_redeemed": N_("already used"),
    "already_today": N_("already used today"),
    "limit_reached": N_("all entries used"),
    "not_same_day": N_("only valid on the day of its first entry"),
    "offline": N_("not checked: the database cannot be reached"),
    "error": N_("not checked: an unexpected error"),
}


class DoorFacts(Protocol):
    """What the door words need to know about a verdict (a DoorVerdict, or any object with these fields)."""

    @property
    def reason(self) -> str | None: ...
    @property
    def at(self) -> datetime: ...
    @property
    def entry(self) -> int: ...
    @property
    def allowed_entries(self) -> int | None: ...
    @property
    def previous_at(self) -> datetime | None: ...
    @property
    def previous_gate(self) -> str | None: ...
    @property
    def valid_from(self) -> datetime | None: ...
    @property
    def valid_until(self) -> datetime | None: ...
    @property
    def event_date(self) -> date | None: ...


def reason_name(lang: Language, reason: str) -> str:
    """The short words for a reason identifier (reports, lists): 'already used', 'forged or invented code'."""
    return lang._(REASON_WORDS[reason]) if reason in REASON_WORDS else reason


def entry_words(lang: Language, entry: int, allowed_entries: int | None) -> str:
    """'entry 3 of 10' for limited multi-entry tickets, 'entry 3' when unlimited, nothing for single use."""
    count = entry_count(entry, allowed_entries)
    if count is None:
        return ""
    number, total = count
    if total is None:
        return lang._("entry {n}").format(n=number)
    return lang._("entry {n} of {total}").format(n=number, total=total)


def when_words(lang: Language, at: datetime) -> str:
    """'31.12.2026 20:00' (de) or '31 Dec 2026 20:00' (en), venue time."""
    return f"{lang.date(at.astimezone(lang.zone).date())} {lang.time(at)}"


def moment_words(
    lang: Language, previous: datetime, gate: str | None, at: datetime, day_start_minutes: int
) -> str:
    """'today at 19:42 at gate North' or 'on 30 Dec 2026 at 19:42': the entry a rejection refers to."""
    _ = lang._
    values = {
        "time": lang.time(previous),
        "date": lang.date(previous.astimezone(lang.zone).date()),
        "gate": gate,
    }
    if on_scan_day(previous, at, lang.zone, day_start_minutes):
        text = _("today at {time} at gate {gate}") if gate else _("today at {time}")
    else:
        text = _("on {date} at {time} at gate {gate}") if gate else _("on {date} at {time}")
    return text.format(**values)


def door_reason(lang: Language, facts: DoorFacts, day_start_minutes: int) -> str:
    """The rejection in plain words: 'already used today at 19:42 at gate North', 'not valid before ...'."""
    _ = lang._
    reason = facts.reason or ""
    previous = facts.previous_at
    moment = (
        moment_words(lang, previous, facts.previous_gate, facts.at, day_start_minutes)
        if previous is not None
        else None
    )
    if reason in ("not_yet_valid", "expired"):
        bound = refusing_bound(reason, facts.at, facts.valid_from, facts.valid_until, facts.event_date)
        if bound is Bound.FROM and facts.valid_from is not None:
            return _("not valid before {when}").format(when=when_words(lang, facts.valid_from))
        if bound is Bound.UNTIL and facts.valid_until is not None:
            return _("expired since {when}").format(when=when_words(lang, facts.valid_until))
        if bound is Bound.EVENT_DAY and facts.event_date is not None:
            return _("only valid on {date}").format(date=lang.date(facts.event_date))
        return reason_name(lang, reason)
    if reason in ("already_redeemed", "already_today") and moment:
        return _("already used {moment}").format(moment=moment)
    if reason == "already_redeemed":
        return _("already used")
    if reason == "limit_reached":
        total = facts.allowed_entries or facts.entry
        if moment:
            return _("all {n} entries used, the last {moment}").format(n=total, moment=moment)
        return _("all {n} entries used").format(n=total)
    if reason == "not_same_day" and moment:
        return _("only valid on the day of its first entry, {moment}").format(moment=moment)
    return reason_name(lang, reason)


def door_sentence(lang: Language, facts: DoorFacts, day_start_minutes: int) -> str:
    """The verdict's one line for a steward: the entry count when accepted, else the reason."""
    if facts.reason is None:
        return entry_words(lang, facts.entry, facts.allowed_entries) or lang._("admitted")
    return door_reason(lang, facts, day_start_minutes)


def not_checked_words(lang: Language, detail: str) -> str:
    """A scan the gate could not check at all: what went wrong, and what the steward does now."""
    return lang._("not checked ({detail}); admit by hand or scan again").format(detail=detail)


def offline_words(lang: Language, *, review: bool) -> str:
    """What an offline verdict adds: it was decided at the gate, and a ticket the copy lacked is for review."""
    if review:
        return lang._("offline: not in this gate's copy yet, admitted on its code once (for review)")
    return lang._("offline: decided from this gate's copy")


def birthday_greeting(lang: Language, holder: str | None) -> str:
    """'Happy birthday, Max!' (the first word of the name), or without a name."""
    name = (holder or "").split(" ")[0]
    return lang._("Happy birthday, {name}!").format(name=name) if name else lang._("Happy birthday!")


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
