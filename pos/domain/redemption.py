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


def entry_count(entry: int, allowed_entries: int | None) -> tuple[int, int | None] | None:
    """What "entry n of m" shows: (n, m) for a limited multi-entry ticket, (n, None) when unlimited,
    None for a single-use ticket (its one entry needs no number)."""
    if allowed_entries == 1:
        return None
    return entry, allowed_entries


class Bound(StrEnum):
    """Which part of the validity refused a scan: the window's start or end, or the event's business day."""

    FROM = "from"
    UNTIL = "until"
    EVENT_DAY = "event_day"


def refusing_bound(
    reason: str | None,
    at: datetime,
    valid_from: datetime | None,
    valid_until: datetime | None,
    event_date: date | None,
) -> Bound | None:
    """For `not_yet_valid` and `expired`: the bound that refused the scan at `at` (None when unknown).

    The window is checked before the event day, as `validity_problem` does.
    """
    if reason == Reason.NOT_YET_VALID:
        if valid_from is not None and at < valid_from:
            return Bound.FROM
        return Bound.EVENT_DAY if event_date is not None else None
    if reason == Reason.EXPIRED:
        if valid_until is not None and at > valid_until:
            return Bound.UNTIL
        return Bound.EVENT_DAY if event_date is not None else None
    return None


def on_scan_day(previous: datetime, at: datetime, zone: ZoneInfo, day_start_minutes: int) -> bool:
    """Was the earlier entry on the business day of the scan at `at` ("today" for the steward)?"""
    return business_day(previous, zone, day_start_minutes) == business_day(at, zone, day_start_minutes)
