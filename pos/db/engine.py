"""Engine set-up: SQLite made durable and serialising writers; PostgreSQL through psycopg 3."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.sql import sqltypes
from sqlmodel import Session, create_engine

from pos.errors import PosError, Refused

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_HEADER = b"SQLite format 3\x00"
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


class DatabaseError(PosError):
    """The database cannot be reached or used; the message says which and why."""


def display_url(url: str) -> str:
    """A database URL as messages show it: the password masked, whatever else is wrong with the URL."""
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        return re.sub(r"(://[^/@]*?:)[^/@]*@", r"\1***@", url)


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


def checkpoint_wal(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the database file now (PASSIVE: waits for no reader or writer).

    SQLite otherwise does it inside the commit that grows the log past 1,000 pages, and that one sale or scan
    then takes tens of milliseconds longer; a long-running app calls this between commits instead."""
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        cursor.close()
    finally:
        connection.close()


def make_engine(
    url: str, *, echo: bool = False, create: bool = False, postgres: dict[str, Any] | None = None
) -> Engine:
    """An engine for an existing pos database; `create` (only `pos db upgrade`) may make a new SQLite file;
    `postgres` overrides the pool and connect options on PostgreSQL (the door bounds every wait).

    Parameters never appear in SQLAlchemy's error messages (`hide_parameters`), values no column can hold
    are refused in one sentence before the database sees them, and a database that cannot be reached or used
    is one DatabaseError.
    """
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            "Database URL {url} is not a valid SQLAlchemy URL.", url=display_url(url)
        ) from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            if "\x00" in database:
                raise DatabaseError("Database URL {url} names no valid file.", url=display_url(url))
            _check_sqlite_file(Path(database).expanduser(), create=create)
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    elif parsed.get_backend_name() == "postgresql":
        options: dict[str, Any] = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 2}}
        options |= postgres or {}
        engine = create_engine(url, echo=echo, hide_parameters=True, **options)
    else:
        raise DatabaseError("Database URL {url} is neither SQLite nor PostgreSQL.", url=display_url(url))
    event.listen(engine, "before_cursor_execute", _refuse_unstorable)
    event.listen(engine, "handle_error", _one_sentence)
    return engine


def _check_sqlite_file(path: Path, *, create: bool) -> None:
    """An SQLite URL must name an existing pos database; only `pos db upgrade` makes a new one.

    Nothing is created on the way: a mistyped path is one sentence, not a new directory with an empty file.
    """
    if not path.exists():
        if not create:
            raise DatabaseError(
                "Database file {path} does not exist; `pos db upgrade` creates it.", path=str(path)
            )
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # an empty file is a database
        os.close(descriptor)
        return
    if not path.is_file():
        raise DatabaseError("Database file {path} is not a regular file.", path=str(path))
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseError(
            "Database file {path} cannot be read: {reason}.", path=str(path), reason=exc.strerror or "error"
        ) from None
    if header == b"" and not create:
        raise DatabaseError("Database file {path} is empty; `pos db upgrade` sets it up.", path=str(path))
    if header != SQLITE_HEADER and header != b"":
        raise DatabaseError("Database file {path} is not an SQLite database.", path=str(path))


def secure_sqlite_file(url: str) -> None:
    """The database holds customer data: readable by its owner only (the file and its WAL companions)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    path = Path(parsed.database).expanduser()
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.is_file():
            with contextlib.suppress(OSError):
                os.chmod(candidate, 0o600)


def _column_name(key: str) -> str:
    """`stock_limit`, or `id` for a WHERE clause's `id_1`: the name a message can show."""
    return re.sub(r"_[0-9]+$", "", key)


def _unstorable(value: Any, key: str, bind_type: Any, writing: bool) -> PosError | None:
    """Why the database could not store `value` (a NUL in text, a number too large for its column), if so."""
    if isinstance(value, str):
        if "\x00" in value:
            return Refused(
                "The text for {column} contains a NUL character, which cannot be stored.",
                column=_column_name(key),
            )
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return Refused(
                    "The text for {column} is not valid Unicode (a lone surrogate), which cannot be stored.",
                    column=_column_name(key),
                )
    elif isinstance(value, int) and not isinstance(value, bool):
        narrow = (
            writing
            and isinstance(bind_type, sqltypes.Integer)
            and not isinstance(bind_type, sqltypes.BigInteger)
        )
        limit = INT32_MAX if narrow else INT64_MAX
        if not -limit - 1 <= value <= limit:
            return Refused(
                "The number for {column} is too large to store (at most {limit}).",
                column=_column_name(key),
                limit=limit,
            )
    elif isinstance(value, (list, tuple)):
        for item in value:
            problem = _unstorable(item, key, bind_type, writing)
            if problem is not None:
                return problem
    return None


def _refuse_unstorable(
    conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, executemany: bool
) -> None:
    """Every backend refuses the same values the same way: with one sentence, before the driver sees them.

    PostgreSQL rejects a NUL in text and overflows 32-bit columns; SQLite stores the NUL and fails on numbers
    beyond 64 bits. A value that slipped past the boundary's parsers is refused here on both.
    """
    compiled = getattr(context, "compiled", None)
    if compiled is None or not getattr(context, "compiled_parameters", None):
        rows = parameters if executemany else [parameters]
        for row in rows or ():
            items = row.items() if isinstance(row, dict) else enumerate(row or ())
            for key, value in items:
                problem = _unstorable(value, str(key), None, False)
                if problem is not None:
                    raise problem
        return
    writing = bool(context.isinsert or context.isupdate)
    binds = compiled.binds
    for row in context.compiled_parameters:
        for key, value in row.items():
            bind = binds.get(key)
            problem = _unstorable(value, key, bind.type if bind is not None else None, writing)
            if problem is not None:
                raise problem


def _first_line_of(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(".") if text else "unknown error"


def _one_sentence(context: ExceptionContext) -> None:
    """Driver errors that mean "this database cannot be used" become one DatabaseError sentence.

    Constraint violations (IntegrityError) stay as they are: the services turn them into their own refusals.
    """
    error = context.sqlalchemy_exception
    original = context.original_exception
    if error is None or context.is_pre_ping or isinstance(error, sa_exc.IntegrityError):
        return  # a failed pre-ping must stay quiet: the pool reconnects
    detail = _first_line_of(original)
    if "no such table" in detail or type(original).__name__ == "UndefinedTable":
        raise DatabaseError(
            "The database has no pos tables ({detail}); run `pos db upgrade` first.", detail=detail
        )
    if isinstance(error, sa_exc.OperationalError) and re.search(r'database "[^"]*" does not exist', detail):
        raise DatabaseError("The database does not exist on the server ({detail}).", detail=detail)
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        raise DatabaseError("The database is not reachable or busy: {detail}.", detail=detail)
    if "file is not a database" in detail:
        raise DatabaseError("The database file is not an SQLite database.")
    if isinstance(error, sa_exc.DataError):
        raise Refused("The database refused a value as out of range or not storable; nothing was saved.")


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise DatabaseError(
                "The database is not reachable or busy: {detail}.", detail=_first_line(exc)
            ) from exc
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
            raise DatabaseError(
                "The database is not reachable or busy: {detail}.", detail=_first_line(exc)
            ) from exc


def _first_line(exc: OperationalError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0].rstrip(".") if text.strip() else "unknown error"
