"""The database itself: create or migrate the schema, check the venue's invariants in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pos.db.engine import DatabaseError
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
    from pos.setup import secure_sqlite_file

    try:
        upgrade(rt.database_url)
    except DatabaseError:
        raise
    except Exception as exc:  # alembic wraps driver errors in many types
        raise PosError("Could not migrate the database: {error}", error=str(exc).splitlines()[0]) from None
    secure_sqlite_file(rt.database_url)
    return current_heads(rt.database_url)


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
