"""Door conflicts: offline admissions that broke a rule in the database, and how an admin resolves them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from pos.db.models import DoorConflict, Entry, Ticket
from pos.errors import NotFound, Refused


def list_conflicts(session: Session, *, only_open: bool = False) -> list[DoorConflict]:
    query = select(DoorConflict).order_by(col(DoorConflict.id))
    if only_open:
        query = query.where(col(DoorConflict.status) == "open")
    return list(session.scalars(query))


def conflict(session: Session, conflict_id: int) -> DoorConflict:
    found = session.get(DoorConflict, conflict_id)
    if found is None:
        raise NotFound("Door conflict {id} does not exist.", id=conflict_id)
    return found


def ticket_code(session: Session, ticket_id: int | None) -> str | None:
    if ticket_id is None:
        return None
    ticket = session.get(Ticket, ticket_id)
    return ticket.code if ticket else None


def resolve(session: Session, found: DoorConflict, status: str, by: str, at: datetime) -> None:
    """`accepted` keeps the entry; `credited` deletes it, so the ticket has that entry back."""
    if found.status != "open":
        raise Refused("Door conflict {id} was already resolved ({status}).", id=found.id, status=found.status)
    if status not in ("accepted", "credited"):
        raise Refused("A door conflict is resolved with accept or credit, not {action!r}.", action=status)
    if status == "credited" and found.entry_id is not None:
        take_back_entry(session, found.entry_id)
    found.status = status
    found.resolved_at = at
    found.resolved_by = by
    session.add(found)
    session.flush()


def take_back_entry(session: Session, entry_id: int) -> None:
    """Delete an entry; when it was the first validation, the earliest remaining entry becomes the first."""
    entry = session.get(Entry, entry_id)
    if entry is None:
        return
    ticket = session.get(Ticket, entry.ticket_id)
    session.delete(entry)
    session.flush()
    if ticket is None or not entry.first:
        return
    earliest = session.scalars(
        select(Entry).where(col(Entry.ticket_id) == ticket.id).order_by(col(Entry.at), col(Entry.id)).limit(1)
    ).first()
    if earliest is None:
        ticket.first_redeemed_at, ticket.first_gate = None, None
    else:
        earliest.first = True
        ticket.first_redeemed_at, ticket.first_gate = earliest.at, earliest.gate
        session.add(earliest)
    session.add(ticket)
    session.flush()


def per_gate(
    connection: Connection, start: datetime | None, end: datetime | None
) -> dict[str, dict[str, int]]:
    """Offline entries and conflicts (open, all) per gate in [start, end), for the door report."""
    offline = (
        select(col(Entry.gate), func.count()).where(col(Entry.offline).is_(True)).group_by(col(Entry.gate))
    )
    conflicts = select(
        col(DoorConflict.gate),
        func.count(),
        func.sum(case((col(DoorConflict.status) == "open", 1), else_=0)),
    ).group_by(col(DoorConflict.gate))
    if start is not None:
        offline = offline.where(col(Entry.at) >= start)
        conflicts = conflicts.where(col(DoorConflict.at) >= start)
    if end is not None:
        offline = offline.where(col(Entry.at) < end)
        conflicts = conflicts.where(col(DoorConflict.at) < end)
    counts: dict[str, Counter[str]] = {}
    for gate, number in connection.execute(offline):
        counts.setdefault(gate, Counter())["offline_entries"] += int(number)
    for gate, number, still_open in connection.execute(conflicts):
        counts.setdefault(gate, Counter()).update(conflicts=int(number), open_conflicts=int(still_open or 0))
    keys = ("offline_entries", "conflicts", "open_conflicts")
    return {gate: {key: found.get(key, 0) for key in keys} for gate, found in counts.items()}
