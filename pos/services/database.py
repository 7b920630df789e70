"""The database itself: create or migrate the schema, check the venue's invariants in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pos.db.engine import DatabaseError, display_url
from pos.db.invariants import check, violations
from pos.db.migrate import current_heads, upgrade
from pos.domain.roles import Role
from pos.errors import PosError
from pos.runtime import Runtime
from pos.services.base import Actor, require


def upgrade_database(rt: Runtime) -> list[str]:
    """Create or migrate the schema to the newest version; returns the heads now applied.

    Runs before any operator exists (a fresh install), so it checks no role: whoever holds the config and
    the database URL may migrate.
    """
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
