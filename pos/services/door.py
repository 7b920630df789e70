"""The door: check a scan and record it, the gate's running count. Called alike by the door screen, `pos redeem`
and the headless `pos gate`, so the three give the same verdict in the same words.

A verdict carries what a steward sees: accepted or the reason (a DESIGN identifier), "entry n of m", the holder,
the article with its event day and start, the order's customer and whether it is their birthday, and the
sentence in English for the CLI (screens word it in the venue language with `pos.wording`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from pos.db import audit
from pos.db import conflicts as conflict_store
from pos.db import redemption as store
from pos.db.engine import transaction
from pos.db.models import DoorConflict
from pos.domain.birthday import is_birthday
from pos.domain.clock import business_day, iso_local
from pos.domain.roles import Role
from pos.domain.ticket_code import CodeProblem, parse_code, printable
from pos.errors import Refused
from pos.i18n import venue_language
from pos.runtime import Runtime
from pos.services.base import Actor, require
from pos.services.door_gate import SyncResult, UploadResult, gate_state
from pos.wording import door_reason, door_sentence, not_checked_words, offline_words


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

    The database gets `[gate] offline_after_ms` to answer; after that (or when it is known to be away) the gate
    decides from its local copy with the same rules and queues the scan durably: the verdict says offline.
    A code that fails the pure checks (malformed, another brand, forged) is answered at once, always.
    """
    require(actor, Role.CASHIER, "check tickets at the door")
    gate_name = rt.config.terminal.gate if gate is None else gate
    result, offline, review = gate_state(rt, gate_name).scan(rt, scanned, at, gate_name)
    return verdict_of(rt, result, offline=offline, review=review)


def offline_verdict(
    rt: Runtime, actor: Actor, scanned: str, *, at: datetime | None = None, gate: str | None = None
) -> DoorVerdict:
    """What the gate would answer offline now, from its copy (nothing is queued or recorded)."""
    require(actor, Role.CASHIER, "check tickets at the door")
    gate_name = rt.config.terminal.gate if gate is None else gate
    when = at or rt.now()
    parsed = parse_code(scanned, rt.config.brand.id, rt.config.brand_secret())
    if parsed.serial is None:
        problem = parsed.problem or CodeProblem.MALFORMED
        return verdict_of(
            rt, store.ScanResult(False, problem.value, 0, printable(scanned), when, gate_name), offline=True
        )
    state = gate_state(rt, gate_name)
    result, _offline, review = state.decide_offline(
        rt, parsed.serial, scanned, when, gate_name, "", record=False
    )
    return verdict_of(rt, result, offline=True, review=review)


def settle(rt: Runtime, actor: Actor, gate: str | None = None) -> None:
    """Before a one-shot command exits: let the background log lines reach the database (bounded)."""
    require(actor, Role.CASHIER, "check tickets at the door")
    gate_state(rt, rt.config.terminal.gate if gate is None else gate).settle(rt)


@dataclass(frozen=True)
class GateStatus:
    gate: str
    online: bool
    pending: int  # scans decided offline and not uploaded yet
    problem: str  # why the gate went offline (English)
    copy_path: str


def gate_status(rt: Runtime, actor: Actor, gate: str | None = None) -> GateStatus:
    """Is the gate online, how many scans wait for the upload (no database, no file: it asks the gate)."""
    require(actor, Role.CASHIER, "see the gate's state")
    gate_name = rt.config.terminal.gate if gate is None else gate
    state = gate_state(rt, gate_name)
    return GateStatus(gate_name, state.online, state.pending, state.last_problem, str(state.copy_path))


def sync(rt: Runtime, actor: Actor, gate: str | None = None) -> SyncResult:
    """`pos gate sync`: refresh the gate's local copy now (only the tickets changed since the last refresh)."""
    require(actor, Role.CASHIER, "refresh the gate's copy")
    return gate_state(rt, rt.config.terminal.gate if gate is None else gate).sync(rt)


def upload(rt: Runtime, actor: Actor, gate: str | None = None) -> UploadResult:
    """`pos gate upload`: send the scans queued offline now, in scan order, each recorded once."""
    require(actor, Role.CASHIER, "upload the gate's offline scans")
    return gate_state(rt, rt.config.terminal.gate if gate is None else gate).upload(rt)


def keep_in_sync(rt: Runtime, actor: Actor, gate: str | None = None) -> Callable[[], None]:
    """For a running gate (door screen, `pos gate`): refresh the copy now and every `[gate] sync_seconds`,
    upload what was queued; returns the function that stops it."""
    require(actor, Role.CASHIER, "check tickets at the door")
    return gate_state(rt, rt.config.terminal.gate if gate is None else gate).keep_in_sync(rt)


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
    message = door_sentence(english, verdict, venue.day_start_minutes)
    if offline:
        message += f" ({offline_words(english, review=review)})"
    return replace(verdict, message=message)


def gate_tally(rt: Runtime, actor: Actor, gate: str | None = None) -> GateTally:
    """Entries and rejections at this gate in the current business day (the door screen's running count).

    Bounded like a scan: a database that does not answer within offline_after_ms is a DatabaseError.
    """
    require(actor, Role.CASHIER, "see the door's count")
    gate_name = rt.config.terminal.gate if gate is None else gate
    state = gate_state(rt, gate_name)
    entries, rejections = state.bounded(
        rt, lambda: store.gate_counts(rt, gate_name, rt.now(), engine=state.engine)
    )
    return GateTally(entries, rejections)


# --- conflicts -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictView:
    id: int
    status: str  # open | accepted | credited
    reason: str  # the rule the offline admission broke (a redemption reason)
    code: str
    ticket_id: int | None
    entry_id: int | None
    at: datetime  # when the gate admitted the ticket
    gate: str
    terminal: str
    previous_at: datetime | None  # the entry it collides with
    previous_gate: str | None
    uploaded_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    message: str = ""  # the reason in English words

    # What the door's words read besides the above (pos.wording.DoorFacts): a rejection at its time.
    entry = 0
    allowed_entries = None
    valid_from = None
    valid_until = None
    event_date = None

    def json(self, rt: Runtime) -> dict[str, Any]:
        zone = rt.config.venue.zone
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "code": self.code,
            "ticket_id": self.ticket_id,
            "entry_id": self.entry_id,
            "at": iso_local(self.at, zone),
            "gate": self.gate,
            "terminal": self.terminal,
            "previous_at": iso_local(self.previous_at, zone),
            "previous_gate": self.previous_gate,
            "uploaded_at": iso_local(self.uploaded_at, zone),
            "resolved_at": iso_local(self.resolved_at, zone),
            "resolved_by": self.resolved_by,
        }


def _conflict_view(rt: Runtime, found: DoorConflict, code: str | None) -> ConflictView:
    assert found.id is not None
    view = ConflictView(
        id=found.id,
        status=found.status,
        reason=found.reason,
        code=code or found.code,
        ticket_id=found.ticket_id,
        entry_id=found.entry_id,
        at=found.at,
        gate=found.gate,
        terminal=found.terminal,
        previous_at=found.previous_at,
        previous_gate=found.previous_gate,
        uploaded_at=found.uploaded_at,
        resolved_at=found.resolved_at,
        resolved_by=found.resolved_by,
    )
    english = venue_language(rt.config.venue, "en")
    return replace(view, message=door_reason(english, view, rt.config.venue.day_start_minutes))


def conflicts(rt: Runtime, actor: Actor, *, only_open: bool = False) -> list[ConflictView]:
    """`pos door conflicts`: offline admissions that broke a rule in the database, oldest first."""
    require(actor, Role.ADMIN, "see door conflicts")
    with transaction(rt.engine) as session:
        return [
            _conflict_view(rt, found, conflict_store.ticket_code(session, found.ticket_id))
            for found in conflict_store.list_conflicts(session, only_open=only_open)
        ]


RESOLUTIONS = {"accept": "accepted", "credit": "credited"}


def resolve_conflict(rt: Runtime, actor: Actor, conflict_id: int, action: str) -> ConflictView:
    """`pos door resolve ID accept|credit`: keep the entry, or delete it and give the ticket the entry back."""
    require(actor, Role.ADMIN, "resolve door conflicts")
    status = RESOLUTIONS.get(action.strip().lower())
    if status is None:
        raise Refused("A door conflict is resolved with accept or credit, not {action!r}.", action=action)
    with transaction(rt.engine) as session:
        found = conflict_store.conflict(session, conflict_id)
        before = {"status": found.status, "entry_id": found.entry_id}
        conflict_store.resolve(session, found, status, actor.name, rt.now())
        audit.record(
            session,
            rt,
            f"door.conflict_{action.strip().lower()}",
            f"door conflict #{found.id}",
            before=before,
            after={"status": found.status, "ticket_id": found.ticket_id, "entry_id": found.entry_id},
            by=actor.name,
        )
        return _conflict_view(rt, found, conflict_store.ticket_code(session, found.ticket_id))
