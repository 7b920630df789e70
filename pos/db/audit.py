"""The audit log: every correction records who, where, when, and the state before and after."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from pos.db.models import AuditLog
from pos.runtime import Runtime


def record(
    session: Session,
    rt: Runtime,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    *,
    by: str | None = None,
) -> AuditLog:
    """`by` is the acting operator's name (a service passes its Actor's)."""
    entry = AuditLog(
        at=rt.now(),
        operator=by if by is not None else rt.acting_operator,
        terminal=rt.terminal,
        action=action,
        target=target,
        before=None if before is None else json.dumps(before, default=str, sort_keys=True),
        after=None if after is None else json.dumps(after, default=str, sort_keys=True),
    )
    session.add(entry)
    return entry
