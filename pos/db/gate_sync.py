"""Refreshing a gate's copy from the database: only the tickets that changed since the last refresh.

Every change to a ticket or to its entries sets `ticket.changed_at` (database triggers, by the database's
clock). A refresh reads, in one consistent snapshot, the tickets changed after the copy's watermark with all
their entries, streamed in batches; the next watermark is taken *before* the snapshot and moved back past
every transaction still running then (their changes carry their start time and may commit later), so a change
is never skipped; one read twice is just written twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from pos.db.engine import read_snapshot
from pos.db.gate_copy import CopiedEntry, CopiedTicket
from pos.db.models import Article, Entry, Ticket

BATCH = 5000
# A change is stamped with its transaction's start; a refresh re-reads this much before the oldest open one.
POSTGRES_MARGIN = timedelta(seconds=5)
SQLITE_MARGIN = timedelta(seconds=30)  # writers are serialised; longer than any door or sale transaction

Apply = Callable[[list[CopiedTicket], dict[int, list[CopiedEntry]]], None]


@dataclass(frozen=True)
class Changes:
    watermark: datetime  # the next refresh reads changes after this instant
    tickets: int
    entries: int


def read_changes(engine: Engine, since: datetime | None, apply: Apply, *, batch: int = BATCH) -> Changes:
    """Hand every ticket changed after `since` (all of them when None), with its entries, to `apply`."""
    watermark = next_watermark(engine)
    ticket_columns = (
        Ticket.id,
        Article.name,
        Ticket.holder_name,
        Ticket.valid_from,
        Ticket.valid_until,
        Ticket.event_date,
        Ticket.repeat,
        Ticket.repeat_limit,
        Ticket.voided,
    )
    tickets_query: Any = select(*ticket_columns).join(Article, Article.id == Ticket.article_id)
    entries_query: Any = select(Entry.ticket_id, Entry.at, Entry.gate, Entry.scan_id, Entry.first).join(
        Ticket, Ticket.id == Entry.ticket_id
    )
    if since is not None:
        tickets_query = tickets_query.where(Ticket.changed_at > since)  # type: ignore[operator]
        entries_query = entries_query.where(Ticket.changed_at > since)  # type: ignore[operator]
    tickets_query = tickets_query.order_by(Ticket.id)
    entries_query = entries_query.order_by(Entry.ticket_id, Entry.first.desc(), Entry.at, Entry.id)  # type: ignore[attr-defined]
    stream = {"yield_per": batch}
    ticket_count = entry_count = 0
    with read_snapshot(engine) as connection:
        ticket_rows = connection.execute(tickets_query, execution_options=stream)
        entry_rows = iter(connection.execute(entries_query, execution_options=stream))
        pending_entry = next(entry_rows, None)
        tickets: list[CopiedTicket] = []
        entries: dict[int, list[CopiedEntry]] = {}
        for serial, article, holder, start, end, day, repeat, limit, voided in ticket_rows:
            tickets.append(
                CopiedTicket(serial, article, holder, start, end, day, repeat, limit, bool(voided))
            )
            while pending_entry is not None and pending_entry[0] <= serial:
                if pending_entry[0] == serial:
                    entries.setdefault(serial, []).append(
                        CopiedEntry(
                            pending_entry[1], pending_entry[2], pending_entry[3], bool(pending_entry[4])
                        )
                    )
                    entry_count += 1
                pending_entry = next(entry_rows, None)
            if len(tickets) >= batch:
                apply(tickets, entries)
                ticket_count += len(tickets)
                tickets, entries = [], {}
        if tickets:
            apply(tickets, entries)
            ticket_count += len(tickets)
    return Changes(watermark, ticket_count, entry_count)


def next_watermark(engine: Engine) -> datetime:
    """The database's now, moved back past the start of every transaction still open (and a margin)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return datetime.now(UTC) - SQLITE_MARGIN
        now, oldest = connection.execute(
            text(
                "SELECT clock_timestamp() AT TIME ZONE 'UTC', (SELECT min(xact_start) FROM pg_stat_activity"
                " WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND datname = current_database())"
                " AT TIME ZONE 'UTC'"
            )
        ).one()
    start = min(now, oldest) if oldest is not None else now
    return start.replace(tzinfo=UTC) - POSTGRES_MARGIN
