"""One running cashier app per terminal name and database, held for as long as the app runs.

SQLite (one machine): an exclusive, non-blocking file lock beside the database file. PostgreSQL (several
machines): a session advisory lock on a connection kept open for the app's life. Both vanish with the process,
so a till that crashed or was killed can be started again at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url


class TerminalBusy(Exception):
    """Another process holds this terminal's lock."""


class TerminalLock:
    def __init__(self, release: Any) -> None:
        self._release = release

    def release(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            with contextlib.suppress(Exception):
                release()


def _key(terminal: str) -> int:
    return int.from_bytes(hashlib.sha256(f"terminal:{terminal}".encode()).digest()[:8], "big", signed=True)


def acquire(engine: Engine, url: str, terminal: str) -> TerminalLock:
    if engine.dialect.name == "postgresql":
        connection = engine.connect()
        try:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": _key(terminal)}
            ).scalar()
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not taken:
            connection.close()
            raise TerminalBusy(terminal)

        def release() -> None:
            try:
                # Unlocked now: a closed socket frees the lock only once the server has ended that session.
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _key(terminal)})
                connection.commit()
            finally:
                connection.invalidate()  # really closed, not back to the pool: nothing of the session stays
                connection.close()

        return TerminalLock(release)
    database = make_url(url).database
    if not database or database == ":memory:":
        return TerminalLock(None)
    digest = hashlib.sha256(terminal.encode()).hexdigest()[:16]
    path = Path(f"{Path(database).expanduser()}.terminal-{digest}.lock")
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise TerminalBusy(terminal) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()} {terminal}\n".encode())
    return TerminalLock(lambda: os.close(descriptor))
