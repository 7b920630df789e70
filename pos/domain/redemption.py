"""The door check: may this ticket enter now? Decided from the ticket's state alone, no I/O.

The checks run in the order DESIGN gives, so the first problem found is the one the steward sees:
voided, validity (window, event day), then the repeat rules (one entry in all, the limit, then the
per-day rules of `daily` and `same-day`). Days are business days that start at `day_starts_at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from pos.domain.clock import business_day, business_day_bounds
from pos.domain.repeat import total_entries


class Reason(StrEnum):
    """Rejection reasons; the values are the stable identifiers of DESIGN."""

    MALFORMED = "malformed"
    FOREIGN_BRAND = "foreign_brand"
    FORGED = "forged"
    UNKNOWN = "unknown"
    VOIDED = "voided"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    ALREADY_REDEEMED = "already_redeemed"
    LIMIT_REACHED = "limit_reached"
    ALREADY_TODAY = "already_today"
    NOT_SAME_DAY = "not_same_day"


@dataclass(frozen=True, slots=True)
class PastEntry:
    """An accepted scan of the ticket."""

    at: datetime
    gate: str = ""


@dataclass(frozen=True, slots=True)
class TicketState:
    """What the rules need to know about a ticket. `entries` starts with the first validation."""

    voided: bool = False
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    event_date: date | None = None
    repeat: str = "none"
    repeat_limit: int | None = None
    entries: Sequence[PastEntry] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    accepted: bool
    reason: Reason | None
    entry: int  # this entry's number when accepted, the entries so far when rejected
    allowed_entries: int | None  # None: unlimited
    previous: PastEntry | None  # the entry that explains a rejection, or the latest before an accept


def decide(ticket: TicketState, at: datetime, zone: ZoneInfo, day_start_minutes: int) -> Verdict:
    """The verdict for a scan of `ticket` at instant `at` (aware)."""
    entries = ticket.entries
    allowed = total_entries(ticket.repeat, ticket.repeat_limit)
    latest = max(entries, key=_instant) if entries else None
    if ticket.voided:
        return Verdict(False, Reason.VOIDED, len(entries), allowed, latest)
    validity = validity_problem(ticket, at, zone, day_start_minutes)
    if validity is not None:
        return Verdict(False, validity, len(entries), allowed, latest)
    repeat = repeat_problem(ticket, at, zone, day_start_minutes)
    if repeat is not None:
        reason, cause = repeat
        return Verdict(False, reason, len(entries), allowed, cause)
    return Verdict(True, None, len(entries) + 1, allowed, latest)


def validity_problem(
    ticket: TicketState, at: datetime, zone: ZoneInfo, day_start_minutes: int
) -> Reason | None:
    """`valid_from` <= at <= `valid_until`, and inside the business day of `event_date` when it is set."""
    day = business_day_bounds(ticket.event_date, zone, day_start_minutes) if ticket.event_date else None
    if (ticket.valid_from and at < ticket.valid_from) or (day and at < day[0]):
        return Reason.NOT_YET_VALID
    if (ticket.valid_until and at > ticket.valid_until) or (day and at >= day[1]):
        return Reason.EXPIRED
    return None


def repeat_problem(
    ticket: TicketState, at: datetime, zone: ZoneInfo, day_start_minutes: int
) -> tuple[Reason, PastEntry] | None:
    """The repeat rule that refuses another entry, with the entry it refers to."""
    entries = ticket.entries
    if not entries:
        return None
    first = entries[0]
    allowed = total_entries(ticket.repeat, ticket.repeat_limit)
    if allowed == 1:
        return Reason.ALREADY_REDEEMED, first
    if allowed is not None and len(entries) >= allowed:
        return Reason.LIMIT_REACHED, max(entries, key=_instant)
    if ticket.repeat == "daily":
        today = business_day(at, zone, day_start_minutes)
        same_day = [e for e in entries if business_day(e.at, zone, day_start_minutes) == today]
        if same_day:
            return Reason.ALREADY_TODAY, max(same_day, key=_instant)
    elif ticket.repeat == "same-day" and business_day(at, zone, day_start_minutes) != business_day(
        first.at, zone, day_start_minutes
    ):
        return Reason.NOT_SAME_DAY, first
    return None


def _instant(entry: PastEntry) -> datetime:
    return entry.at


REASON_TEXT: dict[Reason, str] = {
    Reason.MALFORMED: "not a valid ticket code (mistyped or damaged)",
    Reason.FOREIGN_BRAND: "a ticket of another organiser",
    Reason.FORGED: "forged or invented code",
    Reason.UNKNOWN: "no such ticket",
    Reason.VOIDED: "ticket was cancelled",
    Reason.NOT_YET_VALID: "not valid yet",
    Reason.EXPIRED: "no longer valid",
    Reason.ALREADY_REDEEMED: "already used",
    Reason.LIMIT_REACHED: "all entries used",
    Reason.ALREADY_TODAY: "already used today",
    Reason.NOT_SAME_DAY: "only valid on the day of its first entry",
}


def explain(reason: Reason, previous_at: datetime | None, previous_gate: str | None, zone: ZoneInfo) -> str:
    """A steward-facing phrase such as 'already used today at 19:42 at gate North'."""
    text = REASON_TEXT[reason]
    if previous_at is None or reason not in _REFERS_TO_AN_ENTRY:
        return text
    local = previous_at.astimezone(zone)
    when = f"at {local:%H:%M}" if reason is Reason.ALREADY_TODAY else f"on {local:%Y-%m-%d} at {local:%H:%M}"
    where = f" at gate {previous_gate}" if previous_gate else ""
    if reason is Reason.LIMIT_REACHED:
        return f"{text}, the last {when}{where}"
    if reason is Reason.NOT_SAME_DAY:
        return f"{text}, which was {when}{where}"
    return f"{text} {when}{where}"


_REFERS_TO_AN_ENTRY = frozenset(
    {Reason.ALREADY_REDEEMED, Reason.LIMIT_REACHED, Reason.ALREADY_TODAY, Reason.NOT_SAME_DAY}
)
