"""The till journal in the database: gap-free numbers per terminal, the shift check of a booking, the sums' input.

Everything here runs inside the caller's transaction (a sale, a return, a cash movement, a close), so a line is
written exactly when what it records is. The numbers come from the terminal's row, bumped with an UPDATE that
the database serialises: a rolled-back booking leaves no gap, two bookings never share a number.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, update
from sqlmodel import Session, col, select

from pos.db.models import JournalGroup, JournalLine, JournalTender, JournalVat, Shift, Terminal
from pos.domain.till import GroupAmount, JournalEntry, Tender, VatAmount
from pos.errors import Refused


def _counter(session: Session, terminal: str, column: Any) -> int:
    """Bump and return one of the terminal's counters (its row is created on first use)."""
    statement = (
        update(Terminal).where(col(Terminal.name) == terminal).values({column: column + 1}).returning(column)
    )
    value = session.execute(statement).scalar()
    if value is not None:
        return int(value)
    if session.get_bind().dialect.name == "postgresql":  # imported here: a SQLite till never loads it
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(Terminal).values(name=terminal, journal_seq=0, z_seq=0).on_conflict_do_nothing())
    return int(session.execute(statement).scalar_one())


def next_number(session: Session, terminal: str) -> int:
    return _counter(session, terminal, col(Terminal.journal_seq))


def next_z_number(session: Session, terminal: str) -> int:
    return _counter(session, terminal, col(Terminal.z_seq))


def hold_open_shift(session: Session, shift_id: int) -> Shift:
    """The shift, checked open and held so that a close on another screen waits for this booking (PostgreSQL:
    a share lock on its row; SQLite: BEGIN IMMEDIATE holds the whole database already)."""
    query = select(Shift).where(col(Shift.id) == shift_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    shift = session.exec(query).first()
    if shift is None:
        raise Refused("Shift #{id} does not exist.", id=shift_id)
    if shift.closed_at is not None:
        raise Refused(
            "Shift #{id} was closed meanwhile; nothing was booked. Log in again to open a new one.",
            id=shift_id,
        )
    return shift


def open_shift_of(session: Session, terminal: str, *, hold: bool = False) -> Shift | None:
    """The terminal's open shift (at most one); held like hold_open_shift when asked."""
    query = select(Shift).where(col(Shift.terminal) == terminal, col(Shift.closed_at).is_(None))
    if hold and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    return session.exec(query.order_by(col(Shift.id).desc())).first()


@dataclass(frozen=True)
class Booked:
    """A journal line just written: what the TSE signs for it comes from here, without reading it back."""

    id: int
    number: int
    kind: str = ""
    at: datetime | None = None
    training: bool = False
    tse_tx_id: str | None = None
    entry: JournalEntry | None = None


def book(
    session: Session,
    *,
    terminal: str,
    kind: str,
    at: datetime,
    operator: str,
    total_cents: int,
    shift_id: int | None = None,
    order_id: int | None = None,
    tenders: Sequence[Tender] = (),
    vat: Sequence[VatAmount] = (),
    groups: Sequence[GroupAmount] = (),
    reason: str | None = None,
    training: bool = False,
    tse_tx_id: str | None = None,
) -> Booked:
    """Append one journal line with its tenders, VAT and groups; its number is the terminal's next."""
    number = next_number(session, terminal)
    if tse_tx_id is None:  # chosen before the TSE is asked, so a retry signs the same transaction
        tse_tx_id = str(uuid.uuid4())
    # Core inserts, not ORM objects: a sale writes four of these tables, and this is its hot path.
    line_id = session.execute(
        insert(JournalLine)
        .values(
            terminal=terminal,
            number=number,
            kind=kind,
            at=at,
            operator=operator,
            shift_id=shift_id,
            order_id=order_id,
            total_cents=total_cents,
            reason=reason,
            training=training,
            tse_tx_id=tse_tx_id,
            tse_outage=False,
        )
        .returning(col(JournalLine.id))
    ).scalar_one()
    if tenders:
        session.execute(
            insert(JournalTender),
            [
                {
                    "journal_id": line_id,
                    "tender": t.tender,
                    "amount_cents": t.amount_cents,
                    "given_cents": t.given_cents,
                    "change_cents": t.change_cents,
                }
                for t in tenders
            ],
        )
    if vat:
        session.execute(
            insert(JournalVat),
            [
                {
                    "journal_id": line_id,
                    "rate_bp": v.rate_bp,
                    "net_cents": v.net_cents,
                    "vat_cents": v.vat_cents,
                    "gross_cents": v.gross_cents,
                }
                for v in vat
            ],
        )
    if groups:
        session.execute(
            insert(JournalGroup),
            [
                {"journal_id": line_id, "group": g.group, "units": g.units, "total_cents": g.total_cents}
                for g in groups
            ],
        )
    return Booked(
        line_id,
        number,
        kind=kind,
        at=at,
        training=training,
        tse_tx_id=tse_tx_id,
        entry=JournalEntry(kind, total_cents, tuple(tenders), tuple(vat), tuple(groups)),
    )


def store_fiscal(session: Session, line_id: int, data: dict[str, Any] | None, *, outage: bool) -> None:
    session.execute(
        update(JournalLine)
        .where(col(JournalLine.id) == line_id)
        .values(fiscal=json.dumps(data) if data else None, tse_outage=outage)
    )


def entries(session: Session, *conditions: ColumnElement[bool]) -> list[JournalEntry]:
    """The journal lines matching `conditions`, with their tenders, VAT and groups, as the sums read them."""
    lines = session.exec(select(JournalLine).where(*conditions).order_by(col(JournalLine.id))).all()
    if not lines:
        return []
    ids = [line.id for line in lines]
    tenders: dict[int, list[Tender]] = {}
    for row in session.exec(
        select(JournalTender).where(col(JournalTender.journal_id).in_(ids)).order_by(col(JournalTender.id))
    ):
        tenders.setdefault(row.journal_id, []).append(
            Tender(row.tender, row.amount_cents, row.given_cents, row.change_cents)
        )
    vats: dict[int, list[VatAmount]] = {}
    for row in session.exec(
        select(JournalVat).where(col(JournalVat.journal_id).in_(ids)).order_by(col(JournalVat.id))
    ):
        vats.setdefault(row.journal_id, []).append(
            VatAmount(row.rate_bp, row.net_cents, row.vat_cents, row.gross_cents)
        )
    groups: dict[int, list[GroupAmount]] = {}
    for row in session.exec(
        select(JournalGroup).where(col(JournalGroup.journal_id).in_(ids)).order_by(col(JournalGroup.id))
    ):
        groups.setdefault(row.journal_id, []).append(GroupAmount(row.group, row.units, row.total_cents))
    return [
        JournalEntry(
            kind=line.kind,
            total_cents=line.total_cents,
            tenders=tuple(tenders.get(line.id or 0, ())),
            vat=tuple(vats.get(line.id or 0, ())),
            groups=tuple(groups.get(line.id or 0, ())),
        )
        for line in lines
    ]


def paid_tenders(session: Session, order_id: int) -> dict[str, tuple[int, int]]:
    """Per tender: (paid by the order's sale, refunded by its returns so far)."""
    rows = session.execute(
        select(JournalLine.kind, JournalTender.tender, JournalTender.amount_cents)
        .join(JournalTender, col(JournalTender.journal_id) == col(JournalLine.id))
        .where(col(JournalLine.order_id) == order_id)
    ).all()
    result: dict[str, tuple[int, int]] = {}
    for kind, tender, amount in rows:
        paid, refunded = result.get(tender, (0, 0))
        if kind == "sale":
            paid += amount
        else:
            refunded -= amount
        result[tender] = (paid, refunded)
    return result
