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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, event, func, select, true, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from pos.db.articles import find_article
from pos.db.engine import DatabaseError, is_sqlite, make_engine, read_snapshot
from pos.db.gate_copy import QueuedScan
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
    scan_id: str | None = None


class Abandoned(Exception):
    """The gate stopped waiting for this scan (it decided offline): nothing was written."""


def redeem(
    rt: Runtime,
    scanned: str,
    *,
    at: datetime | None = None,
    gate: str | None = None,
    scan_id: str | None = None,
    engine: Engine | None = None,
    still_wanted: Callable[[], bool] | None = None,
) -> ScanResult:
    """Check one scan and record it: an Entry when accepted, a ScanLog row when rejected.

    `engine`: the door's engine with its bounded waits (see `door_engine`); default the runtime's.
    `still_wanted`: asked after the locked read and before anything is written; False rolls back and raises
    Abandoned (the gate gave up waiting and decided without the database).
    """
    at = at or rt.now()
    if at.tzinfo is None:
        raise ValueError("redeem() needs an aware scan time (UTC or with an offset)")
    gate = rt.config.terminal.gate if gate is None else gate
    parsed = parse_code(scanned, rt.config.brand.id, rt.config.brand_secret())
    if parsed.serial is None:
        problem = parsed.problem or CodeProblem.MALFORMED
        result = _rejected(Reason(problem.value), printable(scanned), at, gate, scan_id)
        with contextlib.suppress(DatabaseError), _door(rt, engine) as door:
            door.log_rejections([result])  # the verdict stands even when the database is away
        return result
    with _door(rt, engine) as door:
        return door.check_and_record(rt, scanned, parsed.serial, at, gate, scan_id, still_wanted)


def log_rejections(rt: Runtime, results: Sequence[ScanResult], *, engine: Engine | None = None) -> None:
    """Log rejections decided without a lookup (bad codes), in one transaction; a scan id logs once."""
    with _door(rt, engine) as door:
        door.log_rejections(results)


class UploadOutcome(StrEnum):
    RECORDED = "recorded"  # the offline entry (or rejection) is now in the database
    CONFLICT = "conflict"  # recorded, but it breaks a rule there: listed for an admin
    DUPLICATE = "duplicate"  # it was there already (an upload repeated after a lost acknowledgement)


# A scan a gate decided without the database, as its queue hands it over (the queue's own row type).
OfflineScan = QueuedScan


def upload_scan(rt: Runtime, scan: OfflineScan, *, engine: Engine | None = None) -> UploadOutcome:
    """Record one offline scan at its original time, once however often it is sent.

    An admission is recorded as an entry marked offline; when the database's rules refuse it (the ticket
    was used at another gate meanwhile, was voided, is unknown) it is recorded all the same, the person is
    inside, and a conflict is listed. A rejection goes to the scan log, and takes back an entry that an
    online attempt of the same scan may have committed after the gate had stopped waiting for it.
    """
    with _door(rt, engine) as door:
        try:
            if scan.accepted:
                return door.upload_entry(rt, scan)
            return door.upload_rejection(scan)
        except door.duplicate:  # the same scan sent at the same moment by a retry: recorded once
            return UploadOutcome.DUPLICATE


class _Door:
    """One pooled driver connection and the fixed statements of the door check."""

    def __init__(
        self,
        raw: Any,
        sqlite: bool,
        terminal: str,
        duplicate: type[Exception] = Exception,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.raw = raw
        self.sqlite = sqlite
        self.duplicate = duplicate
        self.terminal = terminal
        self.info = info if info is not None else {}  # per connection: its prepared statements
        self.sql = _SQLITE if sqlite else _POSTGRES

    @property
    def escaping(self) -> Any:
        from psycopg.pq import Escaping  # here: importing psycopg costs a SQLite `pos redeem` 0.1 s at start

        escaping = self.info.get("door_escaping")
        if escaping is None:
            escaping = self.info["door_escaping"] = Escaping(self.raw.pgconn)
        return escaping

    def _locked_read(self, serial: int) -> tuple[Any, list[PastEntry]]:
        """Lock the ticket row and read it with its entries; on PostgreSQL in one round trip.

        PostgreSQL: BEGIN, the locking read and the entries go out as one simple query of prepared statements
        (the serial is an integer from a checked code), so no answer is waited for in between and the server
        plans nothing per scan.
        """
        raw = self.raw
        if self.sqlite:
            raw.execute("BEGIN IMMEDIATE")
            row = raw.execute(self.sql.lookup, (serial,)).fetchone()
            entries = raw.execute(self.sql.entries, (serial,)).fetchall() if row is not None else []
        else:
            self._prepare()
            number = int(serial)
            cursor = raw.cursor()
            cursor.execute(f"BEGIN; EXECUTE door_lookup({number}); EXECUTE door_entries({number})".encode())
            cursor.nextset()
            row = cursor.fetchone()
            cursor.nextset()
            entries = cursor.fetchall()
        return row, [PastEntry(self._instant(at), gate) for at, gate in entries]

    def _prepare(self) -> None:
        """PostgreSQL: prepare the hot path's statements once per connection (one round trip, the first time)."""
        if self.info.get("door_prepared"):
            return
        self.raw.execute(
            "; ".join(
                f"PREPARE {name} AS {_numbered(getattr(self.sql, attr))}" for attr, name in _PREPARED.items()
            )
        )
        self.info["door_prepared"] = True

    def _send(self, *statements: tuple[str, tuple[Any, ...]], commit: bool = True) -> None:
        """PostgreSQL: statements (the prepared ones by name) with their values written in as literals, and
        COMMIT, as one simple query: one round trip."""
        self._prepare()
        parts = []
        for text, values in statements:
            literals = [self._literal(value) for value in values]
            name = _PREPARED_BY_TEXT.get(text)
            if name is not None:
                parts.append(f"EXECUTE {name}({', '.join(literals)})")
            else:
                parts.append(text % tuple(literals) if literals else text)
        if commit:
            parts.append("COMMIT")
        self.raw.execute("; ".join(parts).encode())

    def _literal(self, value: Any) -> str:
        """A value as an SQL literal; text through libpq's own quoting (PQescapeLiteral)."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return str(int(value))
        if isinstance(value, datetime):
            return f"'{value.isoformat(sep=' ')}'::timestamp"
        return bytes(self.escaping.escape_literal(str(value).encode())).decode()

    def check_and_record(
        self,
        rt: Runtime,
        code: str,
        serial: int,
        at: datetime,
        gate: str,
        scan_id: str | None,
        still_wanted: Callable[[], bool] | None = None,
    ) -> ScanResult:
        """The locked read-decide-write: an entry committed durably, or a rejection logged cheaply.

        PostgreSQL: two round trips, the locked read (BEGIN, lock and read the ticket, read its entries)
        and the write with COMMIT; a rejection writes its log line in the second, unflushed.
        """
        raw = self.raw
        try:
            row, entries = self._locked_read(serial)
            if still_wanted is not None and not still_wanted():
                raise Abandoned()
            if row is None:
                return self._rejected_in_transaction(_rejected(Reason.UNKNOWN, code, at, gate, scan_id))
            verdict = decide(
                _state(row, entries), at, rt.config.venue.zone, rt.config.venue.day_start_minutes
            )
            result = _result(verdict, row, serial, code, at, gate, scan_id)
            if not verdict.accepted:
                return self._rejected_in_transaction(result)
            if self.sqlite:
                self._enter(serial, at, gate, first=not entries, scan_id=scan_id, offline=False)
                raw.commit()
            else:
                self._send(
                    *self._entering(serial, at, gate, first=not entries, scan_id=scan_id, offline=False)
                )
            return result
        except BaseException:
            raw.rollback()
            raise

    def _entering(
        self, serial: int, at: datetime, gate: str, *, first: bool, scan_id: str | None, offline: bool
    ) -> list[tuple[str, tuple[Any, ...]]]:
        stamp = self._stored(at)
        statements = [(self.sql.enter, (serial, stamp, gate, first, self.terminal, scan_id, offline))]
        if first:
            statements.append((self.sql.first, (stamp, gate, serial)))
        return statements

    def _enter(
        self, serial: int, at: datetime, gate: str, *, first: bool, scan_id: str | None, offline: bool
    ) -> None:
        for statement, values in self._entering(
            serial, at, gate, first=first, scan_id=scan_id, offline=offline
        ):
            self.raw.execute(statement, values)

    def _rejected_in_transaction(self, result: ScanResult) -> ScanResult:
        """End the locked transaction of a rejection and log it without waiting for the disk."""
        if self.sqlite:
            self.raw.rollback()  # it only read; the log follows in a transaction of its own
            self.log_rejections([result])
        else:
            self._send(
                ("SET LOCAL synchronous_commit = off", ()),
                (self.sql.log, self._log_values(result, offline=False)),
            )
        return result

    def log_rejections(self, results: Sequence[ScanResult], *, offline: bool = False) -> None:
        """INSERTs committed without waiting for the disk flush.

        Rejections are door statistics, not admissions: a power cut may lose the last few, never an
        entry. SQLite can switch off the flush only between transactions and per connection (restored
        at once); PostgreSQL per transaction.
        """
        raw = self.raw
        rows = [self._log_values(result, offline=offline) for result in results]
        if not self.sqlite:
            try:
                self._send(
                    ("BEGIN", ()),
                    ("SET LOCAL synchronous_commit = off", ()),
                    *[(self.sql.log, row) for row in rows],
                )
            except BaseException:
                raw.rollback()
                raise
            return
        level = int(raw.execute("PRAGMA synchronous").fetchone()[0])
        raw.execute("PRAGMA synchronous=NORMAL")
        try:
            raw.execute("BEGIN IMMEDIATE")
            raw.executemany(self.sql.log, rows)
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.execute(f"PRAGMA synchronous={level}")

    def upload_entry(self, rt: Runtime, scan: OfflineScan) -> UploadOutcome:
        raw = self.raw
        now = self._stored(rt.now())
        try:
            if scan.serial is None:
                raise ValueError("an admitted offline scan names its ticket")
            row, entries = self._locked_read(scan.serial)
            if raw.execute(self.sql.seen, (scan.scan_id, scan.scan_id)).fetchone() is not None:
                raw.rollback()
                return UploadOutcome.DUPLICATE
            raw.execute(self.sql.unlog, (scan.scan_id,))  # an online attempt that logged a rejection
            if row is None:
                self._conflict(scan, None, Reason.UNKNOWN.value, None, now)
                raw.commit()
                return UploadOutcome.CONFLICT
            state = _state(row, entries)
            verdict = decide(state, scan.at, rt.config.venue.zone, rt.config.venue.day_start_minutes)
            self._enter(
                scan.serial, scan.at, scan.gate, first=not entries, scan_id=scan.scan_id, offline=True
            )
            if verdict.accepted:
                raw.commit()
                return UploadOutcome.RECORDED
            entry_id = raw.execute(self.sql.entry_of_scan, (scan.scan_id,)).fetchone()[0]
            assert verdict.reason is not None
            self._conflict(scan, entry_id, verdict.reason.value, verdict.previous, now)
            raw.commit()
            return UploadOutcome.CONFLICT
        except BaseException:
            raw.rollback()
            raise

    def _conflict(
        self, scan: OfflineScan, entry_id: int | None, reason: str, previous: PastEntry | None, now: Any
    ) -> None:
        self.raw.execute(
            self.sql.conflict,
            (
                scan.scan_id,
                scan.serial if entry_id is not None else None,
                entry_id,
                scan.code,
                self._stored(scan.at),
                scan.gate,
                scan.terminal,
                reason,
                self._stored(previous.at) if previous else None,
                previous.gate if previous else None,
                now,
            ),
        )

    def upload_rejection(self, scan: OfflineScan) -> UploadOutcome:
        """Log the rejection once; take back an entry an abandoned online attempt of this scan committed."""
        raw = self.raw
        try:
            raw.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
            if raw.execute(self.sql.logged, (scan.scan_id,)).fetchone() is not None:
                raw.rollback()
                return UploadOutcome.DUPLICATE
            taken = raw.execute(self.sql.entry_of_scan, (scan.scan_id,)).fetchone()
            if taken is not None:
                self._take_back(taken[0], scan.serial)
            result = ScanResult(
                False,
                scan.reason,
                0,
                scan.code,
                scan.at,
                scan.gate,
                ticket_id=scan.serial,
                scan_id=scan.scan_id,
            )
            raw.execute(self.sql.log, self._log_values(result, offline=True))
            raw.commit()
            return UploadOutcome.RECORDED
        except BaseException:
            raw.rollback()
            raise

    def _take_back(self, entry_id: int, serial: int | None) -> None:
        """Delete an entry; when it was the first validation, the earliest remaining entry becomes first."""
        raw = self.raw
        raw.execute(self.sql.delete_entry, (entry_id,))
        if serial is None:
            return
        first = raw.execute(self.sql.first_entry, (serial,)).fetchone()
        if first is None:
            raw.execute(self.sql.first, (None, None, serial))
        else:
            raw.execute(self.sql.make_first, (first[0],))
            raw.execute(self.sql.first, (first[1], first[2], serial))

    def _log_values(self, result: ScanResult, *, offline: bool) -> tuple[Any, ...]:
        return (
            self._stored(result.at),
            result.gate,
            self.terminal,
            result.code,
            result.ticket_id,
            result.reason,
            result.scan_id,
            offline,
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


def _state(row: Any, entries: list[PastEntry]) -> TicketState:
    return TicketState(
        voided=bool(row[1]),
        valid_from=_Door._instant(row[2]) if row[2] is not None else None,
        valid_until=_Door._instant(row[3]) if row[3] is not None else None,
        event_date=_day(row[4]),
        repeat=row[5],
        repeat_limit=row[6],
        entries=entries,
    )


@dataclass(frozen=True)
class _Statements:
    lookup: str
    entries: str
    enter: str
    first: str
    log: str
    seen: str
    unlog: str
    logged: str
    entry_of_scan: str
    conflict: str
    delete_entry: str
    first_entry: str
    make_first: str


def _statements(placeholder: str, lock: str) -> _Statements:
    p = placeholder
    return _Statements(
        lookup="SELECT t.id, t.voided, t.valid_from, t.valid_until, t.event_date, t.repeat, t.repeat_limit,"
        " t.holder_name, a.name, c.name, c.birthday FROM ticket t JOIN article a ON a.id = t.article_id"
        " JOIN orders o ON o.id = t.order_id LEFT JOIN customer c ON c.id = o.customer_id"
        f" WHERE t.id = {p}{lock}",
        entries=f"SELECT at, gate FROM entry WHERE ticket_id = {p} ORDER BY first DESC, at, id",
        enter="INSERT INTO entry (ticket_id, at, gate, first, terminal, scan_id, offline)"
        f" VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
        first=f"UPDATE ticket SET first_redeemed_at = {p}, first_gate = {p} WHERE id = {p}",
        log="INSERT INTO scan_log (at, gate, terminal, code, ticket_id, reason, scan_id, offline)"
        f" VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (scan_id) DO NOTHING",
        seen=f"SELECT 1 FROM entry WHERE scan_id = {p} UNION ALL SELECT 1 FROM door_conflict WHERE scan_id = {p}",
        unlog=f"DELETE FROM scan_log WHERE scan_id = {p}",
        logged=f"SELECT 1 FROM scan_log WHERE scan_id = {p}",
        entry_of_scan=f"SELECT id FROM entry WHERE scan_id = {p}",
        conflict="INSERT INTO door_conflict (scan_id, ticket_id, entry_id, code, at, gate, terminal, reason,"
        " previous_at, previous_gate, uploaded_at, status)"
        f" VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, 'open')",
        delete_entry=f"DELETE FROM entry WHERE id = {p}",
        first_entry=f"SELECT id, at, gate FROM entry WHERE ticket_id = {p} ORDER BY at, id LIMIT 1",
        make_first=f"UPDATE entry SET first = TRUE WHERE id = {p}",
    )


_SQLITE = _statements("?", "")  # BEGIN IMMEDIATE has taken the write lock already
_POSTGRES = _statements("%s", " FOR UPDATE OF t")
_PREPARED = {
    "lookup": "door_lookup",
    "entries": "door_entries",
    "enter": "door_enter",
    "first": "door_first",
    "log": "door_log",
}
_PREPARED_BY_TEXT = {getattr(_POSTGRES, attr): name for attr, name in _PREPARED.items()}


def _numbered(text: str) -> str:
    """%s placeholders as $1, $2, ... (PREPARE's parameters)."""
    parts = text.split("%s")
    return "".join(
        part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, start=1)
    )


@contextlib.contextmanager
def _door(rt: Runtime, engine: Engine | None = None) -> Iterator[_Door]:
    """A pooled driver connection for the door check; a lost or busy database is one DatabaseError."""
    engine = engine or rt.engine
    dbapi = engine.dialect.loaded_dbapi
    unreachable = (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.TimeoutError,
        dbapi.OperationalError,
        dbapi.InterfaceError,
    )
    try:
        fairy = engine.raw_connection()
    except unreachable as exc:
        raise _database_error(exc) from exc
    sqlite = engine.dialect.name == "sqlite"
    raw = fairy.driver_connection
    try:
        if not sqlite:
            raw.autocommit = True  # every transaction of the door is explicit: BEGIN ... COMMIT
        yield _Door(raw, sqlite, rt.terminal, dbapi.IntegrityError, fairy.info)
    except unreachable as exc:
        fairy.invalidate()  # never hand a broken (or relaxed) connection back to the pool
        raise _database_error(exc) from exc
    except Abandoned:
        fairy.invalidate()  # it may have waited on a stalled network: start the next scan afresh
        raise
    finally:
        if not sqlite and fairy.is_valid:
            if raw.info.transaction_status == 0:  # idle: hand it back as the pool expects it
                raw.autocommit = False
            else:
                fairy.invalidate()
        fairy.close()


def door_engine(url: str, offline_after_ms: int) -> Engine:
    """An engine for the door whose every wait is bounded by `[gate] offline_after_ms`.

    PostgreSQL: a lock held by another connection gives up before the gate does (lock_timeout), a statement
    is cancelled by the server soon after (statement_timeout), a transaction left idle is ended, the connect
    is bounded, and TCP keepalive with a user timeout drops a connection the network stopped carrying.
    No pre-ping: a broken connection fails its scan, which the gate answers offline. SQLite: the busy wait.
    """
    wait = max(offline_after_ms, 50)
    if is_sqlite(url):
        engine = make_engine(url)

        def bounded(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA busy_timeout={wait * 3 // 4}")

        event.listen(engine, "connect", bounded)
        return engine
    options = (
        f"-c lock_timeout={wait * 3 // 4} -c statement_timeout={wait * 2}"
        f" -c idle_in_transaction_session_timeout={max(wait * 5, 5000)}"
    )
    return make_engine(
        url,
        postgres=dict(
            pool_size=2,
            max_overflow=8,
            pool_timeout=wait / 1000,
            pool_pre_ping=False,
            connect_args={
                "connect_timeout": max(2, -(-wait // 1000)),
                "keepalives": 1,
                "keepalives_idle": 5,
                "keepalives_interval": 2,
                "keepalives_count": 2,
                "tcp_user_timeout": max(wait * 3, 3000),
                "options": options,
            },
        ),
    )


def _database_error(exc: BaseException) -> DatabaseError:
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    detail = lines[0].rstrip(".") if lines else "unknown error"
    return DatabaseError("The database is not reachable or busy: {detail}.", detail=detail)


def _result(
    verdict: Verdict, row: Any, serial: int, code: str, at: datetime, gate: str, scan_id: str | None
) -> ScanResult:
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
        scan_id=scan_id,
    )


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _rejected(reason: Reason, code: str, at: datetime, gate: str, scan_id: str | None) -> ScanResult:
    return ScanResult(False, reason.value, 0, code, at, gate, scan_id=scan_id)


# ---------------------------------------------------------------------------------------------------
# The door's running count


def ping(engine: Engine) -> None:
    """One round trip: does the database answer? A DatabaseError when not."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError) as exc:
        raise _database_error(exc) from exc


def gate_counts(rt: Runtime, gate: str, now: datetime, *, engine: Engine | None = None) -> tuple[int, int]:
    """Accepted and rejected scans at this gate during the business day of `now`."""
    venue = rt.config.venue
    start, end = business_day_bounds(
        business_day(now, venue.zone, venue.day_start_minutes), venue.zone, venue.day_start_minutes
    )
    with read_snapshot(engine or rt.engine) as connection:
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
