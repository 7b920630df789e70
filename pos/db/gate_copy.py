"""A gate's own file: its copy of the tickets and the queue of scans it decided without the database.

One SQLite file per gate (`[gate] local_path`), mode 600. The copy holds what the door rules need and
nothing more: serial, article name, holder name, validity, repeat options, voided, and the entries so far
(time, gate, scan id); no e-mail addresses, no birthdays. It is refreshed from the database by
pos.db.gate_sync and remembers which database it mirrors, so a copy of another database is never used.

The queue is written with synchronous=FULL in WAL mode: a scan decided offline is on disk before the
steward sees the verdict, and a gate killed right after still uploads it when it comes back.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1"  # of the copy's tables; another version is dropped and made afresh (the queue stays)
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ticket (
    serial INTEGER PRIMARY KEY,
    article TEXT,
    holder TEXT,
    valid_from TEXT,
    valid_until TEXT,
    event_date TEXT,
    repeat TEXT NOT NULL,
    repeat_limit INTEGER,
    voided INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS entry (
    serial INTEGER NOT NULL, at TEXT NOT NULL, gate TEXT NOT NULL, scan_id TEXT, first INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS entry_serial ON entry (serial);
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id TEXT NOT NULL UNIQUE,
    database TEXT NOT NULL,
    code TEXT NOT NULL,
    serial INTEGER,
    at TEXT NOT NULL,
    gate TEXT NOT NULL,
    terminal TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    reason TEXT,
    review INTEGER NOT NULL DEFAULT 0,
    queued_at TEXT NOT NULL,
    uploaded_at TEXT,
    outcome TEXT
);
CREATE INDEX IF NOT EXISTS queue_pending ON queue (database, uploaded_at, seq);
CREATE INDEX IF NOT EXISTS queue_serial ON queue (serial);
"""


@dataclass(frozen=True, slots=True)
class CopiedTicket:
    serial: int
    article: str | None
    holder: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    event_date: date | None
    repeat: str
    repeat_limit: int | None
    voided: bool


@dataclass(frozen=True, slots=True)
class CopiedEntry:
    at: datetime
    gate: str
    scan_id: str | None = None
    first: bool = False  # the first validation (the rules read it first, as the database hands it over)


@dataclass(frozen=True, slots=True)
class QueuedScan:
    """A scan decided at the gate without the database, waiting to be uploaded (or uploaded: `outcome`)."""

    scan_id: str
    code: str
    serial: int | None
    at: datetime
    gate: str
    terminal: str
    accepted: bool
    reason: str | None
    review: bool = False
    seq: int = 0
    outcome: str | None = None


class GateCopy:
    """The file, opened once per gate and shared by its threads (one connection behind a lock)."""

    def __init__(self, path: Path, database: str) -> None:
        self.path = path
        self.database = database
        self._lock = threading.RLock()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # never readable by others, not even briefly
        os.chmod(path, 0o600)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        if self._meta("schema") not in (None, SCHEMA_VERSION):
            self._db.executescript(
                "DROP TABLE IF EXISTS ticket; DROP TABLE IF EXISTS entry; DELETE FROM meta;"
            )
        self._db.executescript(SCHEMA)
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        for suffix in ("-wal", "-shm"):
            side = Path(f"{path}{suffix}")
            if side.exists():
                os.chmod(side, 0o600)
        if self._meta("database") != database:  # a copy of another database (or none yet): start afresh
            with self._write():
                self._db.execute("DELETE FROM ticket")
                self._db.execute("DELETE FROM entry")
                self._db.execute("DELETE FROM meta")
                self._db.execute("INSERT INTO meta VALUES ('database', ?)", (database,))
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- the copy --------------------------------------------------------------------------------------

    def watermark(self) -> datetime | None:
        """Changes after this instant (the database's clock) are not in the copy yet; None: no copy yet."""
        value = self._meta("watermark")
        return _instant(value) if value else None

    def synced_at(self) -> datetime | None:
        value = self._meta("synced_at")
        return _instant(value) if value else None

    def apply(self, tickets: Sequence[CopiedTicket], entries: dict[int, list[CopiedEntry]]) -> None:
        """Replace these tickets and all their entries (one short transaction per batch)."""
        with self._write():
            self._db.executemany(
                "INSERT OR REPLACE INTO ticket VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        t.serial,
                        t.article,
                        t.holder,
                        _text(t.valid_from),
                        _text(t.valid_until),
                        t.event_date.isoformat() if t.event_date else None,
                        t.repeat,
                        t.repeat_limit,
                        int(t.voided),
                    )
                    for t in tickets
                ],
            )
            self._db.executemany("DELETE FROM entry WHERE serial = ?", [(t.serial,) for t in tickets])
            self._db.executemany(
                "INSERT INTO entry VALUES (?, ?, ?, ?, ?)",
                [
                    (serial, _text(e.at), e.gate, e.scan_id, int(e.first))
                    for serial, listed in entries.items()
                    for e in listed
                ],
            )

    def finish_sync(self, watermark: datetime, synced_at: datetime) -> None:
        with self._write():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('watermark', ?)", (_text(watermark),))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('synced_at', ?)", (_text(synced_at),))

    def ticket(self, serial: int) -> CopiedTicket | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM ticket WHERE serial = ?", (serial,)).fetchone()
        if row is None:
            return None
        return CopiedTicket(
            serial=row[0],
            article=row[1],
            holder=row[2],
            valid_from=_instant(row[3]) if row[3] else None,
            valid_until=_instant(row[4]) if row[4] else None,
            event_date=date.fromisoformat(row[5]) if row[5] else None,
            repeat=row[6],
            repeat_limit=row[7],
            voided=bool(row[8]),
        )

    def entries(self, serial: int) -> list[CopiedEntry]:
        """The ticket's entries as last synced, then this gate's own queued admissions (by scan id, once)."""
        with self._lock:
            synced = self._db.execute(
                "SELECT at, gate, scan_id, first FROM entry WHERE serial = ? ORDER BY first DESC, at, rowid",
                (serial,),
            ).fetchall()
            queued = self._db.execute(  # uploaded before the last refresh: in the synced entries (or credited)
                "SELECT at, gate, scan_id, 0 FROM queue WHERE database = ? AND serial = ? AND accepted = 1"
                " AND (uploaded_at IS NULL OR uploaded_at >= COALESCE((SELECT value FROM meta"
                " WHERE key = 'synced_at'), '')) ORDER BY seq",
                (self.database, serial),
            ).fetchall()
        seen: set[str] = set()
        listed: list[CopiedEntry] = []
        for at, gate, scan_id, first in [*synced, *queued]:
            if scan_id is not None:
                if scan_id in seen:
                    continue
                seen.add(scan_id)
            listed.append(CopiedEntry(_instant(at), gate, scan_id, bool(first)))
        return listed

    def counts(self) -> tuple[int, int]:
        """Tickets and entries in the copy."""
        with self._lock:
            tickets = self._db.execute("SELECT count(*) FROM ticket").fetchone()[0]
            entries = self._db.execute("SELECT count(*) FROM entry").fetchone()[0]
        return int(tickets), int(entries)

    # --- the queue -------------------------------------------------------------------------------------

    def enqueue(self, scan: QueuedScan, queued_at: datetime) -> None:
        """Durably (fsync) before the caller shows the verdict."""
        with self._write():
            self._db.execute(
                "INSERT INTO queue (scan_id, database, code, serial, at, gate, terminal, accepted, reason, review,"
                " queued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    scan.scan_id,
                    self.database,
                    scan.code,
                    scan.serial,
                    _text(scan.at),
                    scan.gate,
                    scan.terminal,
                    int(scan.accepted),
                    scan.reason,
                    int(scan.review),
                    _text(queued_at),
                ),
            )

    def pending(self, limit: int = 500) -> list[QueuedScan]:
        """Queued scans not uploaded yet, in scan order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT scan_id, code, serial, at, gate, terminal, accepted, reason, review, seq, outcome FROM queue"
                " WHERE database = ? AND uploaded_at IS NULL ORDER BY seq LIMIT ?",
                (self.database, limit),
            ).fetchall()
        return [_queued(row) for row in rows]

    def pending_count(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM queue WHERE database = ? AND uploaded_at IS NULL", (self.database,)
            ).fetchone()
        return int(row[0])

    def mark_uploaded(self, scan_id: str, outcome: str, at: datetime) -> None:
        with self._write():
            self._db.execute(
                "UPDATE queue SET uploaded_at = ?, outcome = ? WHERE scan_id = ?",
                (_text(at), outcome, scan_id),
            )

    def queued(self, *, since_seq: int = 0) -> list[QueuedScan]:
        """Every queued scan of this database (uploaded or not), for reports and tests."""
        with self._lock:
            rows = self._db.execute(
                "SELECT scan_id, code, serial, at, gate, terminal, accepted, reason, review, seq, outcome FROM queue"
                " WHERE database = ? AND seq > ? ORDER BY seq",
                (self.database, since_seq),
            ).fetchall()
        return [_queued(row) for row in rows]

    # --- internals -------------------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _write(self) -> _Write:
        return _Write(self._db, self._lock)


class _Write:
    """BEGIN IMMEDIATE .. COMMIT under the lock (ROLLBACK on an exception)."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self.db = db
        self.lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.db

    def __exit__(self, kind: Any, *_: Any) -> None:
        try:
            self.db.execute("ROLLBACK" if kind else "COMMIT")
        finally:
            self.lock.release()


def _queued(row: Iterable[Any]) -> QueuedScan:
    scan_id, code, serial, at, gate, terminal, accepted, reason, review, seq, outcome = row
    return QueuedScan(
        scan_id=scan_id,
        code=code,
        serial=serial,
        at=_instant(at),
        gate=gate,
        terminal=terminal,
        accepted=bool(accepted),
        reason=reason,
        review=bool(review),
        seq=seq,
        outcome=outcome,
    )


def _text(at: datetime | None) -> str | None:
    """UTC, microseconds, sortable as text."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") if at is not None else None


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
