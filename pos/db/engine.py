"""Engine set-up: SQLite made durable and serialising writers; PostgreSQL through psycopg 3."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, create_engine

from pos.errors import PosError

SQLITE_BUSY_TIMEOUT_MS = 10_000


class DatabaseError(PosError):
    """The database cannot be reached or used; the message says which and why."""


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` for psycopg 3 as well as the full driver URL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return normalise_url(url).startswith("sqlite")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event so that BEGIN IMMEDIATE is issued:
    # the write lock is taken at the start, so read-check-write inside one transaction is atomic.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A read snapshot (see read_snapshot) must not hold the write lock: a long export would stall the tills.
    mode = "DEFERRED" if connection.get_execution_options().get("pos_read_only") else "IMMEDIATE"
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"Database URL {url!r} is not a valid SQLAlchemy URL.") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            url,
            echo=echo,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 2},
        )
    raise DatabaseError(f"Database URL {url!r} is neither SQLite nor PostgreSQL.")


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise DatabaseError(f"The database is not reachable or busy: {_first_line(exc)}.") from exc
        except BaseException:
            session.rollback()
            raise


@contextlib.contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A consistent read-only view for long reads (exports, reports) that never blocks writers.

    SQLite: a deferred transaction (WAL gives it a snapshot). PostgreSQL: REPEATABLE READ, read only.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(pos_read_only=True)
        else:
            connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        try:
            with connection.begin():
                yield connection
        except OperationalError as exc:
            raise DatabaseError(f"The database is not reachable or busy: {_first_line(exc)}.") from exc


def _first_line(exc: OperationalError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0].rstrip(".") if text.strip() else "unknown error"
