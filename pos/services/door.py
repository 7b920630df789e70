"""The door: check a scan and record it, the gate's running count. Called alike by the door screen, `pos redeem`
and the headless `pos gate`, so the three give the same verdict in the same words.

A verdict carries what a steward sees: accepted or the reason (a DESIGN identifier), "entry n of m", the holder,
the article with its event day and start, the order's customer and whether it is their birthday, and the
sentence in English for the CLI (screens word it in the venue language with `pos.wording`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from pos.db import redemption as store
from pos.db.engine import DatabaseError
from pos.domain.birthday import is_birthday
from pos.domain.clock import business_day, iso_local
from pos.domain.roles import Role
from pos.domain.ticket_code import printable
from pos.i18n import venue_language
from pos.runtime import Runtime
from pos.services.base import Actor, require
from pos.wording import door_sentence, not_checked_words


@dataclass(frozen=True)
class DoorVerdict:
    accepted: bool
    reason: str | None  # a DESIGN identifier; None when accepted
    entry: int  # this entry's number when accepted, the entries so far when rejected
    allowed_entries: int | None  # None: unlimited (or no ticket found)
    code: str  # what was scanned (cut and made printable when it is not a code)
    at: datetime
    gate: str
    ticket_id: int | None = None
    holder: str | None = None
    article: str | None = None
    previous_at: datetime | None = None  # the entry a rejection refers to, or the latest before an accept
    previous_gate: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    event_date: date | None = None
    customer: str | None = None  # the order's customer record
    birthday: bool = False  # that customer's birthday falls on the business day of the scan
    offline: bool = False  # decided at the gate without the database
    review: bool = False  # offline, a ticket the gate's copy did not know yet: admitted on its code alone
    message: str = ""  # the verdict in English words: "already used today at 19:42 at gate North"

    @property
    def starts_at(self) -> datetime | None:
        """The event's start where the ticket has one (the start of its validity window)."""
        return self.valid_from

    @property
    def shown_holder(self) -> str | None:
        return self.holder or self.customer

    def json(self, rt: Runtime) -> dict[str, Any]:
        """`pos redeem --json` and one line of `pos gate --json`."""
        zone = rt.config.venue.zone
        return {
            "accepted": self.accepted,
            "reason": self.reason,
            "entry": self.entry,
            "allowed_entries": self.allowed_entries,
            "code": self.code,
            "ticket_id": self.ticket_id,
            "holder": self.holder,
            "article": self.article,
            "event_date": self.event_date.isoformat() if self.event_date else None,
            "starts_at": iso_local(self.starts_at, zone),
            "at": iso_local(self.at, zone),
            "gate": self.gate,
            "previous_at": iso_local(self.previous_at, zone),
            "previous_gate": self.previous_gate,
            "offline": self.offline,
            "review": self.review,
            "message": self.message,
        }


@dataclass(frozen=True)
class GateTally:
    entries: int
    rejections: int


def door_actor(rt: Runtime) -> Actor:
    """Who `pos redeem` and `pos gate` act as: `[terminal] operator` with the cashier role.

    Checking tickets needs no more, and a gate must answer without asking the database who its operator is.
    """
    return Actor(rt.config.terminal.operator, Role.CASHIER)


def scan(
    rt: Runtime, actor: Actor, scanned: str, *, at: datetime | None = None, gate: str | None = None
) -> DoorVerdict:
    """Check one scan and record it atomically: an entry when accepted, a logged rejection otherwise.

    A database that cannot be reached is an `offline` verdict (not checked), never an exception.
    """
    require(actor, Role.CASHIER, "check tickets at the door")
    gate_name = rt.config.terminal.gate if gate is None else gate
    try:
        result = store.redeem(rt, scanned, at=at, gate=gate_name)
    except DatabaseError as exc:
        return not_checked(rt, scanned, gate_name, "offline", str(exc).rstrip("."))
    return verdict_of(rt, result)


def not_checked(rt: Runtime, scanned: str, gate: str, reason: str, detail: str) -> DoorVerdict:
    """A scan that got no verdict (`offline`: no database; `error`: something unexpected), in words."""
    english = venue_language(rt.config.venue, "en")
    return DoorVerdict(
        accepted=False,
        reason=reason,
        entry=0,
        allowed_entries=None,
        code=printable(scanned),
        at=rt.now(),
        gate=gate,
        message=not_checked_words(english, detail),
    )


def verdict_of(
    rt: Runtime, result: store.ScanResult, *, offline: bool = False, review: bool = False
) -> DoorVerdict:
    venue = rt.config.venue
    day = business_day(result.at, venue.zone, venue.day_start_minutes)
    verdict = DoorVerdict(
        accepted=result.accepted,
        reason=result.reason,
        entry=result.entry,
        allowed_entries=result.allowed_entries,
        code=result.code,
        at=result.at,
        gate=result.gate,
        ticket_id=result.ticket_id,
        holder=result.holder,
        article=result.article,
        previous_at=result.previous_at,
        previous_gate=result.previous_gate,
        valid_from=result.valid_from,
        valid_until=result.valid_until,
        event_date=result.event_date,
        customer=result.customer,
        birthday=is_birthday(result.birthday, day),
        offline=offline,
        review=review,
    )
    english = venue_language(venue, "en")
    return replace(verdict, message=door_sentence(english, verdict, venue.day_start_minutes))


def gate_tally(rt: Runtime, actor: Actor, gate: str | None = None) -> GateTally:
    """Entries and rejections at this gate in the current business day (the door screen's running count)."""
    require(actor, Role.CASHIER, "see the door's count")
    entries, rejections = store.gate_counts(rt, rt.config.terminal.gate if gate is None else gate, rt.now())
    return GateTally(entries, rejections)
