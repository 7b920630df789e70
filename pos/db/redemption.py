"""The door check against the database, and the admin's corrections of the repeat protocol.

`redeem` is the hot path of a gate: codes that fail the pure checks (shape, check digit, brand, MAC)
never touch a ticket; the rest lock their ticket row, read its entries, let pos.domain.redemption
decide and record the verdict, all in one short transaction of plain Core statements. On SQLite the
transaction starts with BEGIN IMMEDIATE, on PostgreSQL the ticket row is locked FOR UPDATE, so two
gates scanning one code at once can never both take the last entry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, delete, func, insert, select, true, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col

from pos.db import audit
from pos.db.articles import find_article
from pos.db.engine import DatabaseError, transaction
from pos.db.models import Article, Entry, ScanLog, Ticket
from pos.domain.clock import iso_local
from pos.domain.redemption import PastEntry, Reason, TicketState, Verdict, decide, explain
from pos.domain.repeat import limit_json, total_entries
from pos.domain.ticket_code import CodeProblem, parse_code
from pos.errors import NotFound, Refused
from pos.runtime import Runtime

LOGGED_CODE_CHARS = 64
_BULK = {"synchronize_session": False}  # bulk corrections: no per-row bookkeeping in the session
T = TypeVar("T")


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
    gate = rt.config.terminal.gate if gate is None else gate
    parsed = parse_code(scanned, rt.config.brand.id, rt.config.brand_secret())
    if parsed.serial is None:
        problem = parsed.problem or CodeProblem.MALFORMED
        result = _rejected(Reason(problem.value), printable(scanned), at, gate, rt.config.venue.zone)
        _log_rejection(rt, result)
        return result
    serial = parsed.serial
    result = _in_transaction(rt, lambda conn: _check_and_record(conn, rt, scanned, serial, at, gate))
    if not result.accepted and rt.engine.dialect.name == "sqlite":
        _log_rejection(
            rt, result
        )  # after the locked transaction, which then wrote nothing and needed no flush
    return result


def _check_and_record(
    conn: Connection, rt: Runtime, code: str, serial: int, at: datetime, gate: str
) -> ScanResult:
    zone = rt.config.venue.zone
    statements = _statements(conn.dialect.name)
    row = conn.execute(statements.ticket, {"serial": serial}).first()
    if row is None:
        return _log_in_transaction(conn, rt, _rejected(Reason.UNKNOWN, code, at, gate, zone))
    entries = [PastEntry(e.at, e.gate) for e in conn.execute(statements.entries, {"ticket_id": serial})]
    state = TicketState(
        voided=row.voided,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        event_date=row.event_date,
        repeat=row.repeat,
        repeat_limit=row.repeat_limit,
        entries=entries,
    )
    verdict = decide(state, at, zone, rt.config.venue.day_start_minutes)
    result = _result(verdict, row, code, at, gate, zone)
    if not verdict.accepted:
        return _log_in_transaction(conn, rt, result)
    first = not entries
    conn.execute(statements.enter, _entry_row(rt, serial, at, gate, first))
    if first:
        conn.execute(statements.first, {"ticket_id": serial, "at": at, "gate": gate})
    return result


def _log_in_transaction(conn: Connection, rt: Runtime, result: ScanResult) -> ScanResult:
    """PostgreSQL: log the rejection here, without waiting for the WAL flush. SQLite: redeem() logs it after."""
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")  # statistics, not an admission
        conn.execute(_statements(conn.dialect.name).log, _log_row(rt, result))
    return result


def _result(verdict: Verdict, row: Any, code: str, at: datetime, gate: str, zone: ZoneInfo) -> ScanResult:
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
        ticket_id=row.id,
        holder=row.holder_name,
        article=row.article,
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


def _log_row(rt: Runtime, result: ScanResult) -> dict[str, Any]:
    return {
        "at": result.at,
        "gate": result.gate,
        "terminal": rt.terminal,
        "code": result.code,
        "ticket_id": result.ticket_id,
        "reason": result.reason,
    }


def _entry_row(rt: Runtime, ticket_id: int, at: datetime, gate: str, first: bool) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "at": at, "gate": gate, "first": first, "terminal": rt.terminal}


def _log_rejection(rt: Runtime, result: ScanResult) -> None:
    """One INSERT, committed without waiting for the disk (SQLite synchronous=NORMAL for this commit only).

    Rejections are door statistics, not admissions: a power cut may lose the last few, never an entry.
    The verdict stands even when the log cannot be written (the database is away).
    """
    with contextlib.suppress(DatabaseError):
        _in_transaction(
            rt,
            lambda conn: conn.execute(_statements(conn.dialect.name).log, _log_row(rt, result)),
            flush=False,
        )


def _in_transaction(rt: Runtime, work: Callable[[Connection], T], *, flush: bool = True) -> T:
    """One short transaction on a pooled connection; driver errors become one DatabaseError sentence."""
    try:
        with rt.engine.connect() as conn:
            if flush:
                with conn.begin():
                    return work(conn)
            return _without_flush(conn, work)
    except (OperationalError, InterfaceError) as exc:
        first_line = str(exc.orig or exc).strip().splitlines()
        detail = first_line[0].rstrip(".") if first_line else "unknown error"
        raise DatabaseError(f"The database is not reachable or busy: {detail}.") from exc


def _without_flush(conn: Connection, work: Callable[[Connection], T]) -> T:
    """Commit without waiting for the disk: PostgreSQL per transaction, SQLite per connection (then restored)."""
    if conn.dialect.name != "sqlite":
        with conn.begin():
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            return work(conn)
    raw = conn.connection.driver_connection
    level = int(raw.execute("PRAGMA synchronous").fetchone()[0])
    raw.execute(
        "PRAGMA synchronous=NORMAL"
    )  # allowed only outside a transaction, hence on the raw connection
    try:
        with conn.begin():
            return work(conn)
    finally:
        try:
            raw.execute(f"PRAGMA synchronous={level}")
        except Exception:  # noqa: BLE001 - never hand a relaxed connection back to the pool
            conn.invalidate()


@dataclass(frozen=True)
class _Statements:
    ticket: Any
    entries: Any
    enter: Any
    first: Any
    log: Any


@cache
def _statements(dialect: str) -> _Statements:
    """Built once per dialect so the hot path only binds parameters (SQLAlchemy caches the compilation)."""
    ticket, article, entry = Ticket.__table__, Article.__table__, Entry.__table__
    lookup = (
        select(
            ticket.c.id,
            ticket.c.voided,
            ticket.c.valid_from,
            ticket.c.valid_until,
            ticket.c.event_date,
            ticket.c.repeat,
            ticket.c.repeat_limit,
            ticket.c.holder_name,
            article.c.name.label("article"),
        )
        .join_from(ticket, article, ticket.c.article_id == article.c.id)
        .where(ticket.c.id == bindparam("serial"))
    )
    if dialect == "postgresql":
        lookup = lookup.with_for_update(of=ticket)  # SQLite: BEGIN IMMEDIATE has serialised us already
    entries = (
        select(entry.c.at, entry.c.gate)
        .where(entry.c.ticket_id == bindparam("ticket_id"))
        .order_by(entry.c.first.desc(), entry.c.at, entry.c.id)
    )
    first = (
        update(ticket)
        .where(ticket.c.id == bindparam("ticket_id"))
        .values(
            first_redeemed_at=bindparam("at", ticket.c.first_redeemed_at.type), first_gate=bindparam("gate")
        )
    )
    return _Statements(lookup, entries, insert(entry), first, insert(ScanLog.__table__))


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
