"""A gate's local copy, refreshed from a real database (SQLite and PostgreSQL): every kind of change to a ticket
reaches it (sale, cancel, repeat options, entries at other gates, corrections), and only what changed is read."""

from __future__ import annotations

import sqlite3
import stat
from datetime import timedelta

from sqlalchemy import text

from pos.db import gate_sync
from pos.db.engine import transaction
from pos.db.models import Ticket
from pos.db.redemption import redeem
from pos.domain.roles import Role
from pos.services import door, tickets
from pos.services.base import Actor
from tests.factories import cancel_order, issue_tickets, ticket_article

STEWARD = Actor("steward", Role.CASHIER)
ADMIN = Actor("tester", Role.ADMIN)


def copied(rt, code: str):
    """The offline verdict the gate would give now (from its copy), without recording anything."""
    return door.offline_verdict(rt, STEWARD, code)


def test_every_change_reaches_the_copy_and_only_changes_are_read(rt, clock, monkeypatch) -> None:
    # Re-reading the last seconds is the safety margin against transactions still open during a refresh;
    # with none open here, no margin shows exactly what a refresh reads.
    monkeypatch.setattr(gate_sync, "SQLITE_MARGIN", timedelta(0))
    monkeypatch.setattr(gate_sync, "POSTGRES_MARGIN", timedelta(0))
    card_article = ticket_article(rt, "3 visits", repeat="anytime", repeat_limit=2)
    card, spare = issue_tickets(rt, card_article, 2, holder_email="erika@example.org")
    single = issue_tickets(rt, ticket_article(rt, "Concert"), 10)
    first = door.sync(rt, STEWARD)
    assert (first.full, first.tickets, first.copy_tickets) == (True, 12, 12)
    assert copied(rt, card.code).entry == 1 and not copied(rt, card.code).review

    clock.now += timedelta(minutes=1)
    redeem(rt, card.code, gate="south")  # another gate, online
    redeem(rt, card.code, gate="south")
    cancel_order(rt, single[0].order_id)  # voids all ten single tickets of that order
    tickets.set_repeat(rt, ADMIN, tickets.Selection(codes=[spare.code]), "daily", None)
    later = issue_tickets(rt, ticket_article(rt, "Late sale"))[0]  # sold after the first refresh
    assert copied(rt, later.code).review  # not in the copy yet: it would pass on its MAC, for review

    refreshed = door.sync(rt, STEWARD)
    assert not refreshed.full and refreshed.tickets == 13 and refreshed.copy_tickets == 13
    assert (copied(rt, card.code).entry, copied(rt, card.code).previous_gate) == (3, "south")
    assert copied(rt, single[3].code).reason == "voided"
    again = door.scan(rt, STEWARD, spare.code)
    assert again.accepted
    assert copied(rt, spare.code).reason == "already_today"  # daily now, and the entry is known (this gate)
    assert not copied(rt, later.code).review

    entry_id = tickets.show_ticket(rt, STEWARD, card.code)["protocol"][0]["id"]
    tickets.protocol_delete(rt, ADMIN, card.code, entry_id)  # a credit: the card has an entry left again
    nothing_else = door.sync(rt, STEWARD)
    assert nothing_else.tickets <= 2  # the card (and spare, entered meanwhile), not everything again
    assert copied(rt, card.code).accepted and copied(rt, card.code).entry == 2  # one of two is gone


def test_the_change_marker_moves_with_every_update(rt, clock) -> None:
    ticket = issue_tickets(rt, ticket_article(rt, "Concert"))[0]

    def marker():
        with transaction(rt.engine) as session:
            return session.get(Ticket, ticket.id).changed_at

    born = marker()
    assert born is not None
    with rt.engine.begin() as connection:  # even a writer that knows nothing about gates
        connection.execute(text("UPDATE ticket SET printed = NOT printed WHERE id = :t"), {"t": ticket.id})
    moved = marker()
    assert moved >= born
    redeem(rt, ticket.code)
    assert marker() >= moved


def test_the_copy_is_private_and_holds_no_e_mail_or_birthday(rt, private_data_dir) -> None:
    issue_tickets(rt, ticket_article(rt, "Concert"), holder_email="secret.mail@example.org")
    door.sync(rt, STEWARD)
    path = rt.config.gate.copy_path(rt.terminal)
    assert path.parent == private_data_dir / "pos" and path.name == "gate-test-terminal.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as db:
        columns = {
            row[1] for table in ("ticket", "entry") for row in db.execute(f"PRAGMA table_info({table})")
        }
    assert not {name for name in columns if "mail" in name or "birth" in name}
    raw = b"".join(p.read_bytes() for p in path.parent.glob("gate-test-terminal.db*"))
    assert b"secret.mail" not in raw
