"""The door check against the database, the ticket read model, and the queries behind the protocol corrections.

`redeem` is the hot path of a gate. Codes that fail the pure checks (shape, check digit, brand, MAC)
never touch a ticket. The rest lock their ticket row, read its entries, let pos.domain.redemption
decide and record the verdict in one short transaction: on SQLite it starts with BEGIN IMMEDIATE, on
PostgreSQL the ticket row is locked FOR UPDATE, so two gates scanning one code at once can never both
take the last entry.

The hot path speaks to the driver connection (from the engine's pool) with four or five fixed
statements instead of going through SQLAlchemy: that cuts the client CPU per scan about threefold,
which is what limits eight gate processes on a small box. It reads and writes times exactly as
`UTCDateTime` stores them (naive UTC; SQLite text "YYYY-MM-DD HH:MM:SS.ffffff"); the tests read its
rows back through the models. Everything else here uses the ORM.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, select, true, update
from sqlalchemy import exc as sa_exc
from sqlmodel import Session, col

from pos.db.articles import find_article
from pos.db.engine import DatabaseError, read_snapshot
from pos.db.models import Article, Customer, Entry, ScanLog, Ticket
from pos.domain.clock import business_day, business_day_bounds, iso_local
from pos.domain.redemption import PastEntry, Reason, TicketState, Verdict, decide
from pos.domain.repeat import limit_json, total_entries
from pos.domain.ticket_code import CodeProblem, parse_code, printable
from pos.errors import NotFound, Refused
from pos.runtime import Runtime

_BULK = {"synchronize_session": False}  # bulk corrections: no per-row bookkeeping in the session


@dataclass(frozen=True, slots=True)
class ScanResult:
    accepted: bool
    reason: str | None  # a DESIGN identifier, None when accepted
    entry: int  # this entry's number when accepted, the entries so far when rejected
    code: str  # what was scanned (cut and made printable when it is not a code)
    at: datetime
    gate: str
    ticket_id: int | None = None
    holder: str | None = None
    article: str | None = None
    allowed_entries: int | None = None  # None: unlimited (or no ticket found)
    previous_at: datetime | None = None
    previous_gate: str | None = None
    # what the door shows besides the verdict (read in the same locked transaction)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    event_date: date | None = None
    customer: str | None = None  # the order's customer record
    birthday: date | None = None  # of that customer


def redeem(rt: Runtime, scanned: str, *, at: datetime | None = None, gate: str | None = None) -> ScanResult:
    """Check one scan and record it: an Entry when accepted, a ScanLog row when rejected."""
    at = at or rt.now()
    if at.tzinfo is None:
        raise ValueError("redeem() needs an aware scan time (UTC or with an offset)")
    gate = rt.config.terminal.gate if gate is None else gate
    parsed = parse_code(scanned, rt.config.brand.id, rt.config.brand_secret())
    if parsed.serial is None:
        problem = parsed.problem or CodeProblem.MALFORMED
        result = _rejected(Reason(problem.value), printable(scanned), at, gate)
        with contextlib.suppress(DatabaseError), _door(rt) as door:
            door.log_rejection(result)  # the verdict stands even when the database is away
        return result
    with _door(rt) as door:
        return door.check_and_record(rt, scanned, parsed.serial, at, gate)


class _Door:
    """One pooled driver connection and the fixed statements of the door check."""

    def __init__(self, raw: Any, sqlite: bool, terminal: str) -> None:
        self.raw = raw
        self.sqlite = sqlite
        self.terminal = terminal
        self.sql = _SQLITE if sqlite else _POSTGRES

    def check_and_record(self, rt: Runtime, code: str, serial: int, at: datetime, gate: str) -> ScanResult:
        """The locked read-decide-write: an entry committed durably, or a rejection logged cheaply."""
        zone = rt.config.venue.zone
        raw = self.raw
        try:
            if self.sqlite:
                raw.execute("BEGIN IMMEDIATE")
            row = raw.execute(self.sql.lookup, (serial,)).fetchone()
            if row is None:
                return self._rejected_in_transaction(_rejected(Reason.UNKNOWN, code, at, gate))
            entries = [
                PastEntry(self._instant(e_at), e_gate)
                for e_at, e_gate in raw.execute(self.sql.entries, (serial,))
            ]
            state = TicketState(
                voided=bool(row[1]),
                valid_from=self._instant(row[2]) if row[2] is not None else None,
                valid_until=self._instant(row[3]) if row[3] is not None else None,
                event_date=_day(row[4]),
                repeat=row[5],
                repeat_limit=row[6],
                entries=entries,
            )
            verdict = decide(state, at, zone, rt.config.venue.day_start_minutes)
            result = _result(verdict, row, serial, code, at, gate)
            if not verdict.accepted:
                return self._rejected_in_transaction(result)
            stamp = self._stored(at)
            raw.execute(self.sql.enter, (serial, stamp, gate, not entries, self.terminal))
            if not entries:
                raw.execute(self.sql.first, (stamp, gate, serial))
            raw.commit()
            return result
        except BaseException:
            raw.rollback()
            raise

    def _rejected_in_transaction(self, result: ScanResult) -> ScanResult:
        """End the locked transaction of a rejection and log it without waiting for the disk."""
        if self.sqlite:
            self.raw.rollback()  # it only read; the log follows in a transaction of its own
            self.log_rejection(result)
        else:
            self.raw.execute("SET LOCAL synchronous_commit = off")
            self.raw.execute(self.sql.log, self._log_values(result))
            self.raw.commit()
        return result

    def log_rejection(self, result: ScanResult) -> None:
        """One INSERT committed without waiting for the disk flush.

        Rejections are door statistics, not admissions: a power cut may lose the last few, never an
        entry. SQLite can switch off the flush only between transactions and per connection (restored
        at once); PostgreSQL per transaction.
        """
        raw = self.raw
        values = self._log_values(result)
        if not self.sqlite:
            try:
                raw.execute("SET LOCAL synchronous_commit = off")
                raw.execute(self.sql.log, values)
                raw.commit()
            except BaseException:
                raw.rollback()
                raise
            return
        level = int(raw.execute("PRAGMA synchronous").fetchone()[0])
        raw.execute("PRAGMA synchronous=NORMAL")
        try:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute(self.sql.log, values)
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.execute(f"PRAGMA synchronous={level}")

    def _log_values(self, result: ScanResult) -> tuple[Any, ...]:
        return (
            self._stored(result.at),
            result.gate,
            self.terminal,
            result.code,
            result.ticket_id,
            result.reason,
        )

    def _stored(self, at: datetime) -> Any:
        """An instant as UTCDateTime stores it: naive UTC (as text on SQLite, as SQLAlchemy writes it)."""
        naive = at.astimezone(UTC).replace(tzinfo=None)
        return naive.isoformat(sep=" ", timespec="microseconds") if self.sqlite else naive

    @staticmethod
    def _instant(value: Any) -> datetime:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Statements:
    lookup: str
    entries: str
    enter: str
    first: str
    log: str


def _statements(placeholder: str, lock: str) -> _Statements:
    p = placeholder
    return _Statements(
        lookup="SELECT t.id, t.voided, t.valid_from, t.valid_until, t.event_date, t.repeat, t.repeat_limit,"
        " t.holder_name, a.name, c.name, c.birthday FROM ticket t JOIN article a ON a.id = t.article_id"
        " JOIN orders o ON o.id = t.order_id LEFT JOIN customer c ON c.id = o.customer_id"
        f" WHERE t.id = {p}{lock}",
        entries=f"SELECT at, gate FROM entry WHERE ticket_id = {p} ORDER BY first DESC, at, id",
        enter=f"INSERT INTO entry (ticket_id, at, gate, first, terminal) VALUES ({p}, {p}, {p}, {p}, {p})",
        first=f"UPDATE ticket SET first_redeemed_at = {p}, first_gate = {p} WHERE id = {p}",
        log=f"INSERT INTO scan_log (at, gate, terminal, code, ticket_id, reason) VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
    )


_SQLITE = _statements("?", "")  # BEGIN IMMEDIATE has taken the write lock already
_POSTGRES = _statements("%s", " FOR UPDATE OF t")


@contextlib.contextmanager
def _door(rt: Runtime) -> Iterator[_Door]:
    """A pooled driver connection for the door check; a lost or busy database is one DatabaseError."""
    engine = rt.engine
    dbapi = engine.dialect.loaded_dbapi
    unreachable = (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        dbapi.OperationalError,
        dbapi.InterfaceError,
    )
    try:
        fairy = engine.raw_connection()
    except unreachable as exc:
        raise _database_error(exc) from exc
    try:
        yield _Door(fairy.driver_connection, engine.dialect.name == "sqlite", rt.terminal)
    except unreachable as exc:
        fairy.invalidate()  # never hand a broken (or relaxed) connection back to the pool
        raise _database_error(exc) from exc
    finally:
        fairy.close()


def _database_error(exc: BaseException) -> DatabaseError:
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    detail = lines[0].rstrip(".") if lines else "unknown error"
    return DatabaseError("The database is not reachable or busy: {detail}.", detail=detail)


def _result(verdict: Verdict, row: Any, serial: int, code: str, at: datetime, gate: str) -> ScanResult:
    previous = verdict.previous
    reason = verdict.reason
    return ScanResult(
        accepted=verdict.accepted,
        reason=None if reason is None else reason.value,
        entry=verdict.entry,
        code=code,
        at=at,
        gate=gate,
        ticket_id=serial,
        holder=row[7],
        article=row[8],
        allowed_entries=verdict.allowed_entries,
        previous_at=previous.at if previous else None,
        previous_gate=previous.gate if previous else None,
        valid_from=_Door._instant(row[2]) if row[2] is not None else None,
        valid_until=_Door._instant(row[3]) if row[3] is not None else None,
        event_date=_day(row[4]),
        customer=row[9],
        birthday=_day(row[10]),
    )


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _rejected(reason: Reason, code: str, at: datetime, gate: str) -> ScanResult:
    return ScanResult(False, reason.value, 0, code, at, gate)


# ---------------------------------------------------------------------------------------------------
# The door's running count


def gate_counts(rt: Runtime, gate: str, now: datetime) -> tuple[int, int]:
    """Accepted and rejected scans at this gate during the business day of `now`."""
    venue = rt.config.venue
    start, end = business_day_bounds(
        business_day(now, venue.zone, venue.day_start_minutes), venue.zone, venue.day_start_minutes
    )
    with read_snapshot(rt.engine) as connection:
        entries = connection.execute(
            select(func.count())
            .select_from(Entry)
            .where(col(Entry.gate) == gate, col(Entry.at) >= start, col(Entry.at) < end)
        ).scalar_one()
        rejections = connection.execute(
            select(func.count())
            .select_from(ScanLog)
            .where(col(ScanLog.gate) == gate, col(ScanLog.at) >= start, col(ScanLog.at) < end)
        ).scalar_one()
    return int(entries), int(rejections)


# ---------------------------------------------------------------------------------------------------
# The ticket read model and the queries of the admin's corrections (the services audit them)


def ticket_serial(rt: Runtime, code: str) -> int:
    """The serial of a code an admin typed; a wrong code is one sentence, not a lookup."""
    cleaned = code.strip()
    parsed = parse_code(cleaned, rt.config.brand.id, rt.config.brand_secret())
    if parsed.serial is not None:
        return parsed.serial
    shown = printable(cleaned)
    if parsed.problem is CodeProblem.FOREIGN_BRAND:
        raise NotFound("Ticket code {code!r} belongs to another brand.", code=shown)
    if parsed.problem is CodeProblem.FORGED:
        raise NotFound(
            "Ticket code {code!r} is not one of ours (its security digits do not match).", code=shown
        )
    raise NotFound(
        "Ticket code {code!r} is not a valid code: 24 digits with a correct check digit.", code=shown
    )


def find_ticket(session: Session, rt: Runtime, code: str) -> Ticket:
    ticket = session.get(Ticket, ticket_serial(rt, code))
    if ticket is None:
        raise NotFound("No ticket has the code {code!r}.", code=code.strip())
    return ticket


def ticket_json(session: Session, ticket: Ticket, zone: ZoneInfo) -> dict[str, Any]:
    """`pos ticket show`: the ticket, its first validation and its repeat protocol (re-entries only)."""
    article = session.get(Article, ticket.article_id)
    protocol = session.scalars(
        select(Entry)
        .where(Entry.ticket_id == ticket.id, col(Entry.first).is_(False))
        .order_by(col(Entry.at), col(Entry.id))
    ).all()
    return {
        "id": ticket.id,
        "code": ticket.code,
        "article": article.name if article else None,
        "order_id": ticket.order_id,
        "holder": ticket.holder_name,
        "repeat": ticket.repeat,
        "repeat_limit": limit_json(ticket.repeat, ticket.repeat_limit),
        "allowed_entries": total_entries(ticket.repeat, ticket.repeat_limit),
        "valid_from": iso_local(ticket.valid_from, zone),
        "valid_until": iso_local(ticket.valid_until, zone),
        "event_date": ticket.event_date.isoformat() if ticket.event_date else None,
        "voided": ticket.voided,
        "first_redeemed_at": iso_local(ticket.first_redeemed_at, zone),
        "first_gate": ticket.first_gate,
        "protocol": [{"id": e.id, "at": iso_local(e.at, zone), "gate": e.gate} for e in protocol],
    }


def delete_protocol_entry(session: Session, ticket: Ticket, entry_id: int, zone: ZoneInfo) -> dict[str, Any]:
    """Delete one re-entry of the ticket; returns the entry as it was (for the audit log)."""
    entry = session.get(Entry, entry_id)
    if entry is None or entry.ticket_id != ticket.id:
        raise NotFound("Ticket {code} has no protocol entry {id}.", code=ticket.code, id=entry_id)
    if entry.first:
        raise Refused(
            "Entry {id} is the first validation, not a protocol entry; undo it with `pos ticket reset {code} --full`.",
            id=entry_id,
            code=ticket.code,
        )
    before = {"id": entry.id, "at": iso_local(entry.at, zone), "gate": entry.gate, "terminal": entry.terminal}
    session.delete(entry)
    session.flush()
    return before


@dataclass(frozen=True)
class Selected:
    """The tickets a bulk correction touches: a WHERE clause on ticket, an audit target, the tickets named."""

    clause: Any
    target: str
    named: list[Ticket]


def select_tickets(
    session: Session, rt: Runtime, codes: Sequence[str], article: str | None, all_tickets: bool
) -> Selected:
    given = sum((bool(codes), article is not None, all_tickets))
    if given != 1:
        raise Refused("Name the tickets by code, or give --article ARTICLE, or --all (exactly one of them).")
    if all_tickets:
        return Selected(true(), "all tickets", [])
    if article is not None:
        found = find_article(session, article)
        return Selected(Ticket.article_id == found.id, f"article #{found.id}", [])
    tickets = list({t.id: t for t in (find_ticket(session, rt, code) for code in codes)}.values())
    ids = [t.id for t in tickets]
    return Selected(col(Ticket.id).in_(ids), "tickets " + ",".join(f"#{i}" for i in ids), tickets)


def reset_protocols(
    session: Session, selected: Selected, *, full: bool, zone: ZoneInfo
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Clear the repeat protocols of the selection (`full`: the first validations too); (before, after)."""
    ticket_ids = select(Ticket.id).where(selected.clause)
    entry_clause = col(Entry.ticket_id).in_(ticket_ids)
    if not full:
        entry_clause = and_(entry_clause, col(Entry.first).is_(False))
    before = _protocol_summary(session, entry_clause, selected.named, zone)
    deleted = session.execute(delete(Entry).where(entry_clause), execution_options=_BULK).rowcount
    undone = 0
    if full:
        undone = session.execute(
            update(Ticket)
            .where(selected.clause, col(Ticket.first_redeemed_at).is_not(None))
            .values(first_redeemed_at=None, first_gate=None),
            execution_options=_BULK,
        ).rowcount
    tickets = session.execute(select(func.count()).select_from(Ticket).where(selected.clause)).scalar_one()
    return before, {"tickets": tickets, "entries_deleted": deleted, "first_validations_undone": undone}


def _protocol_summary(
    session: Session, entry_clause: Any, named: list[Ticket], zone: ZoneInfo
) -> dict[str, Any]:
    """What a reset deletes: every entry for tickets named by code, counts for an article or all."""
    if not named:
        count = session.execute(select(func.count()).select_from(Entry).where(entry_clause)).scalar_one()
        return {"entries": count}
    rows = session.scalars(
        select(Entry).where(entry_clause).order_by(col(Entry.ticket_id), col(Entry.at))
    ).all()
    by_ticket: dict[str, list[dict[str, Any]]] = {}
    for entry in rows:
        item = {"id": entry.id, "at": iso_local(entry.at, zone), "gate": entry.gate, "first": entry.first}
        by_ticket.setdefault(f"#{entry.ticket_id}", []).append(item)
    return {"entries": len(rows), "by_ticket": by_ticket}


def change_repeat(
    session: Session, selected: Selected, repeat: str, repeat_limit: int | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set repeat type and limit of the selected tickets (the article's own option stays); (before, after)."""
    if repeat == "none":
        repeat_limit = None
    if selected.named:
        before: dict[str, Any] = {
            f"#{t.id}": {"repeat": t.repeat, "repeat_limit": limit_json(t.repeat, t.repeat_limit)}
            for t in selected.named
        }
    else:
        groups = session.execute(
            select(Ticket.repeat, Ticket.repeat_limit, func.count())
            .where(selected.clause)
            .group_by(Ticket.repeat, Ticket.repeat_limit)
        ).all()
        before = {_repeat_label(kind, limit): n for kind, limit, n in groups}
    changed = session.execute(
        update(Ticket).where(selected.clause).values(repeat=repeat, repeat_limit=repeat_limit),
        execution_options=_BULK,
    ).rowcount
    return before, {"tickets": changed, "repeat": repeat, "repeat_limit": limit_json(repeat, repeat_limit)}


def _repeat_label(kind: str, limit: int | None) -> str:
    return kind if kind == "none" else f"{kind}/{limit_json(kind, limit)}"


def customer_birthday(session: Session, customer_id: int | None) -> date | None:
    """The birthday of the order's customer record (the ticket detail shows it)."""
    if customer_id is None:
        return None
    customer = session.get(Customer, customer_id)
    return customer.birthday if customer else None
