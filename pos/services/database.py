"""The database itself: create or migrate the schema, check the venue's invariants in SQL, keep SQLite's log short
while an app runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pos.db.engine import DatabaseError, checkpoint_wal, display_url
from pos.db.invariants import check, violations
from pos.domain.roles import Role
from pos.errors import PosError
from pos.runtime import Runtime
from pos.services.base import Actor, require


def upgrade_database(rt: Runtime) -> list[str]:
    """Create or migrate the schema to the newest version; returns the heads now applied.

    Runs before any operator exists (a fresh install), so it checks no role: whoever holds the config and
    the database URL may migrate.
    """
    from pos.db.migrate import upgrade  # alembic: loaded by the commands that migrate, not by a running app

    try:
        upgrade(
            rt.database_url
        )  # creates a missing SQLite file (mode 600) and its directory, nothing else does
    except DatabaseError:
        raise
    except Exception as exc:  # alembic wraps driver errors in many types; their text may carry values
        raise PosError(
            "Could not migrate the database {url} ({error}).", url=shown_url(rt), error=type(exc).__name__
        ) from None
    from pos.db.migrate import current_heads

    return current_heads(rt.database_url)


def shown_url(rt: Runtime) -> str:
    """The database URL as messages show it: the password masked."""
    return display_url(rt.database_url)


@dataclass(frozen=True)
class CheckResult:
    results: dict[str, list[dict[str, Any]]]

    @property
    def violations(self) -> dict[str, list[dict[str, Any]]]:
        return violations(self.results)

    @property
    def ok(self) -> bool:
        return not self.violations


def check_database(rt: Runtime, actor: Actor) -> CheckResult:
    """Nothing oversold, over-admitted or half-written (`pos db check`)."""
    require(actor, Role.ADMIN, "check the database")
    return CheckResult(check(rt.engine))


def keep_database_tidy(rt: Runtime, *, interval: float = 1.0) -> Callable[[], None]:
    """While an app runs (till, door, gate): SQLite's log is checkpointed every `interval` seconds in the
    background, so no sale or scan pays for it. Returns the function that stops it; a no-op on PostgreSQL."""
    stop = threading.Event()
    if rt.engine.dialect.name != "sqlite":
        return stop.set

    def run() -> None:
        while not stop.wait(interval):
            try:
                checkpoint_wal(rt.engine)
            except Exception:  # noqa: BLE001 - SQLite checkpoints by itself when this one fails
                if stop.is_set():
                    return  # the app is ending and closed the database under this checkpoint
                logging.getLogger("pos.db").exception("checkpoint failed; SQLite's own one takes over")

    threading.Thread(target=run, name="pos-checkpoint", daemon=True).start()
    return stop.set
