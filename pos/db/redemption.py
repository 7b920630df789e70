"""The door check against the database, and the admin's corrections of the repeat protocol.

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

from pos.db import audit
from pos.db.articles import find_article
from pos.db.engine import DatabaseError, transaction
from pos.db.models import Article, Entry, Ticket
from pos.domain.clock import iso_local
from pos.domain.redemption import PastEntry, Reason, TicketState, Verdict, decide, explain
from pos.domain.repeat import limit_json, total_entries
from pos.domain.ticket_code import CodeProblem, parse_code
from pos.errors import NotFound, Refused
from pos.runtime import Runtime

LOGGED_CODE_CHARS = 64
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
    message: str = ""  # for the steward: "already used today at 19:42 at gate North"


def redeem(rt: Runtime, scanned: str, *, at: datetime | None = None, gate: str | None = None) -> ScanResult:
    """Check one scan and record it: an Entry when accepted, a ScanLog row when rejected."""
    at = at or rt.now()
    if at.tzinfo is None:
        raise ValueError("redeem() needs an aware scan time (UTC or with an offset)")
    gate = rt.config.terminal.gate if gate is None else gate
    parsed = parse_code(scanned, rt.config.brand.id, rt.config.brand_secret())
    if parsed.serial is None:
        problem = parsed.problem or CodeProblem.MALFORMED
        result = _rejected(Reason(problem.value), printable(scanned), at, gate, rt.config.venue.zone)
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
                return self._rejected_in_transaction(_rejected(Reason.UNKNOWN, code, at, gate, zone))
            entries = [
                PastEntry(self._instant(e_at), e_gate)
                for e_at, e_gate in raw.execute(self.sql.entries, (serial,))
            ]
            state = TicketState(
                voided=bool(row[1]),
                valid_from=self._instant(row[2]) if row[2] is not None else None,
                valid_until=self._instant(row[3]) if row[3] is not None else None,
                event_date=date.fromisoformat(row[4]) if isinstance(row[4], str) else row[4],
                repeat=row[5],
                repeat_limit=row[6],
                entries=entries,
            )
            verdict = decide(state, at, zone, rt.config.venue.day_start_minutes)
            result = _result(verdict, row, serial, code, at, gate, zone)
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
        f" t.holder_name, a.name FROM ticket t JOIN article a ON a.id = t.article_id WHERE t.id = {p}{lock}",
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
    return DatabaseError(f"The database is not reachable or busy: {detail}.")


def _result(
    verdict: Verdict, row: Any, serial: int, code: str, at: datetime, gate: str, zone: ZoneInfo
) -> ScanResult:
    previous = verdict.previous
    reason = verdict.reason
    if reason is None:
        message = f"entry {verdict.entry}" + (
            f" of {verdict.allowed_entries}" if verdict.allowed_entries else ""
        )
    else:
        message = explain(
            reason, previous.at if previous else None, previous.gate if previous else None, zone
        )
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
        message=message,
    )


def _rejected(reason: Reason, code: str, at: datetime, gate: str, zone: ZoneInfo) -> ScanResult:
    return ScanResult(False, reason.value, 0, code, at, gate, message=explain(reason, None, None, zone))


def printable(scanned: str) -> str:
    """At most 64 characters, control characters and lone surrogates escaped (safe in a log and a terminal)."""
    cut = scanned[:LOGGED_CODE_CHARS]
    if cut.isprintable():
        return cut
    escaped = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in cut)
    return escaped[:LOGGED_CODE_CHARS]


# ---------------------------------------------------------------------------------------------------
# Ticket details and the admin's corrections (every change audited)


def ticket_serial(rt: Runtime, code: str) -> int:
    """The serial of a code an admin typed; a wrong code is one sentence, not a lookup."""
    cleaned = code.strip()
    parsed = parse_code(cleaned, rt.config.brand.id, rt.config.brand_secret())
    if parsed.serial is not None:
        return parsed.serial
    if parsed.problem is CodeProblem.FOREIGN_BRAND:
        raise NotFound(f"Ticket code {printable(cleaned)!r} belongs to another brand.")
    if parsed.problem is CodeProblem.FORGED:
        raise NotFound(
            f"Ticket code {printable(cleaned)!r} is not one of ours (its security digits do not match)."
        )
    raise NotFound(
        f"Ticket code {printable(cleaned)!r} is not a valid code: 24 digits with a correct check digit."
    )


def find_ticket(session: Session, rt: Runtime, code: str) -> Ticket:
    ticket = session.get(Ticket, ticket_serial(rt, code))
    if ticket is None:
        raise NotFound(f"No ticket has the code {code.strip()!r}.")
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


def show_ticket(rt: Runtime, code: str) -> dict[str, Any]:
    with transaction(rt.engine) as session:
        return ticket_json(session, find_ticket(session, rt, code), rt.config.venue.zone)


def protocol_delete(rt: Runtime, code: str, entry_id: int) -> dict[str, Any]:
    """Delete one re-entry from the protocol (a mistaken scan, or a credit): one more entry is left."""
    zone = rt.config.venue.zone
    with transaction(rt.engine) as session:
        ticket = find_ticket(session, rt, code)
        entry = session.get(Entry, entry_id)
        if entry is None or entry.ticket_id != ticket.id:
            raise NotFound(f"Ticket {ticket.code} has no protocol entry {entry_id}.")
        if entry.first:
            raise Refused(
                f"Entry {entry_id} is the first validation, not a protocol entry; "
                f"undo it with `pos ticket reset {ticket.code} --full`."
            )
        before = {
            "id": entry.id,
            "at": iso_local(entry.at, zone),
            "gate": entry.gate,
            "terminal": entry.terminal,
        }
        session.delete(entry)
        audit.record(session, rt, "ticket.protocol_delete", f"ticket #{ticket.id}", before=before)
        session.flush()
        return ticket_json(session, ticket, zone)


@dataclass(frozen=True)
class Selection:
    """Which tickets a bulk correction touches: codes, one article, or all tickets."""

    codes: Sequence[str] = ()
    article: str | None = None
    all_tickets: bool = False

    def describe(self) -> str:
        if self.all_tickets:
            return "all tickets"
        if self.article is not None:
            return f"tickets of article {self.article}"
        return f"{len(self.codes)} ticket(s)"


def _selected_ids(session: Session, rt: Runtime, selection: Selection) -> tuple[Any, str, list[Ticket]]:
    """A WHERE clause on ticket.id, an audit target, and the tickets when named one by one."""
    given = sum((bool(selection.codes), selection.article is not None, selection.all_tickets))
    if given != 1:
        raise Refused("Name the tickets by code, or give --article ARTICLE, or --all (exactly one of them).")
    if selection.all_tickets:
        return true(), "all tickets", []
    if selection.article is not None:
        article = find_article(session, selection.article)
        clause = Ticket.article_id == article.id
        return clause, f"article #{article.id}", []
    tickets = list({t.id: t for t in (find_ticket(session, rt, code) for code in selection.codes)}.values())
    ids = [t.id for t in tickets]
    return col(Ticket.id).in_(ids), "tickets " + ",".join(f"#{i}" for i in ids), tickets


def reset(rt: Runtime, selection: Selection, *, full: bool = False) -> dict[str, Any]:
    """Clear the repeat protocols of the selection; `full` also undoes the first validations."""
    with transaction(rt.engine) as session:
        clause, target, named = _selected_ids(session, rt, selection)
        ticket_ids = select(Ticket.id).where(clause)
        entry_clause = col(Entry.ticket_id).in_(ticket_ids)
        if not full:
            entry_clause = and_(entry_clause, col(Entry.first).is_(False))
        before = _protocol_summary(session, entry_clause, named, rt.config.venue.zone)
        deleted = session.execute(delete(Entry).where(entry_clause), execution_options=_BULK).rowcount
        undone = 0
        if full:
            undone = session.execute(
                update(Ticket)
                .where(clause, col(Ticket.first_redeemed_at).is_not(None))
                .values(first_redeemed_at=None, first_gate=None),
                execution_options=_BULK,
            ).rowcount
        tickets = session.execute(select(func.count()).select_from(Ticket).where(clause)).scalar_one()
        after = {"tickets": tickets, "entries_deleted": deleted, "first_validations_undone": undone}
        audit.record(session, rt, "ticket.reset_full" if full else "ticket.reset", target, before, after)
        return after


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


def set_repeat(rt: Runtime, selection: Selection, repeat: str, repeat_limit: int | None) -> dict[str, Any]:
    """Change repeat type and limit of tickets after the sale (the article's own option stays)."""
    if repeat == "none":
        repeat_limit = None
    with transaction(rt.engine) as session:
        clause, target, named = _selected_ids(session, rt, selection)
        if named:
            before: dict[str, Any] = {
                f"#{t.id}": {"repeat": t.repeat, "repeat_limit": limit_json(t.repeat, t.repeat_limit)}
                for t in named
            }
        else:
            groups = session.execute(
                select(Ticket.repeat, Ticket.repeat_limit, func.count())
                .where(clause)
                .group_by(Ticket.repeat, Ticket.repeat_limit)
            ).all()
            before = {_repeat_label(kind, limit): n for kind, limit, n in groups}
        changed = session.execute(
            update(Ticket).where(clause).values(repeat=repeat, repeat_limit=repeat_limit),
            execution_options=_BULK,
        ).rowcount
        after = {"tickets": changed, "repeat": repeat, "repeat_limit": limit_json(repeat, repeat_limit)}
        audit.record(session, rt, "ticket.set_repeat", target, before, after)
        return after


def _repeat_label(kind: str, limit: int | None) -> str:
    return kind if kind == "none" else f"{kind}/{limit_json(kind, limit)}"


def scan_json(result: ScanResult, zone: ZoneInfo) -> dict[str, Any]:
    """`pos redeem --json` and one line of `pos gate --json`."""
    return {
        "accepted": result.accepted,
        "reason": result.reason,
        "entry": result.entry,
        "allowed_entries": result.allowed_entries,
        "code": result.code,
        "ticket_id": result.ticket_id,
        "holder": result.holder,
        "article": result.article,
        "at": iso_local(result.at, zone),
        "gate": result.gate,
        "previous_at": iso_local(result.previous_at, zone),
        "previous_gate": result.previous_gate,
        "message": result.message,
    }
