"""The words every face shows for the same thing: tenders, repeat options, print results, document kinds.

One place, so the cashier app, the door, `pos gate`, receipts and reports say the same thing. Each function
takes a `Language` (pos.i18n) and returns text in it; the source strings are English and go through the
gettext catalog. The door's rejection reasons live in `reason_text` below, next to the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
