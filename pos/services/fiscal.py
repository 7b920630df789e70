"""Fiscal signing (German tills, KassenSichV): every journal line a signed TSE transaction, its status, the
DSFinV-K export.

A line is booked first (its TSE transaction id chosen and stored with it), then signed right after its
transaction committed, so the database never waits for the TSE and a retry never signs twice. A TSE that does not
answer within `[fiscal] timeout_ms` leaves the line marked as an outage: the sale stands, the receipt says
"TSE ausgefallen", the Z report and `pos fiscal status` list it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from pos.db.engine import transaction
from pos.db.journal import Booked, entries, store_fiscal
from pos.db.models import JournalLine, OrderLine, Shift
from pos.domain.clock import period_bounds
from pos.domain.fiscal import (
    CashPointClosing,
    ClosingVat,
    ExportLine,
    ExportMasterData,
    ExportReceipt,
    FiscalReceipt,
    FiscalResult,
    Outage,
    TenderAmount,
    TseStatus,
    fiscal_from_dict,
    split_address,
)
from pos.domain.roles import Role
from pos.domain.till import JournalEntry, sum_journal
from pos.errors import Refused
from pos.runtime import Runtime
from pos.services.base import Actor, require

CASH_MOVEMENTS = ("float", "cash_in", "cash_out", "difference")


def signer_of(rt: Runtime) -> Any:
    """The runtime's signer, made once ([fiscal] signer = none: None)."""
    signer = getattr(rt, "_signer", False)
    if signer is False:
        from pos.tse import make_signer

        signer = make_signer(rt.config, clock=rt.clock)
        rt._signer = signer  # type: ignore[attr-defined]
    return signer


def receipt_of(entry: JournalEntry, kind: str, training: bool) -> FiscalReceipt:
    """What the TSE signs for a journal line: amounts per VAT rate and per tender (cash movements untaxed)."""
    if kind in CASH_MOVEMENTS:
        return FiscalReceipt.cash_movement(entry.total_cents, training=training)
    return FiscalReceipt.of(
        [(v.rate_bp, v.gross_cents) for v in entry.vat],
        [(t.tender, t.amount_cents) for t in entry.tenders],
        training=training,
    )


def sign_booked(session: Any, rt: Runtime, booked: Booked) -> FiscalResult | None:
    """Inside the booking's transaction, a local signer (the Test-TSE) signs at once: the line and its signature
    are written together. A remote one (fiskaly) is asked after the commit (`sign_line`), so the database never
    waits for the network. None when nothing was signed here."""
    from pos.tse import sign

    signer = signer_of(rt)
    if signer is None or signer.remote or booked.entry is None or booked.at is None:
        return None
    tx_id = uuid.UUID(booked.tse_tx_id) if booked.tse_tx_id else uuid.uuid4()
    receipt = receipt_of(booked.entry, booked.kind, booked.training)
    result = sign(
        signer, tx_id, receipt, at=booked.at, timeout_ms=rt.config.fiscal.timeout_ms, clock=rt.clock
    )
    store_fiscal(session, booked.id, result.to_dict(), outage=isinstance(result, Outage))
    return result


def finish_signing(rt: Runtime, booked: Booked, signed: FiscalResult | None) -> FiscalResult | None:
    """After the commit: the signature made in the transaction, or now the remote signer's (within its budget)."""
    if signed is not None or signer_of(rt) is None:
        return signed
    return sign_line(rt, booked.id)


def sign_line(rt: Runtime, line_id: int) -> FiscalResult | None:
    """Sign one committed journal line (idempotent: a signed line keeps its signature); None without a signer."""
    from pos.tse import sign

    signer = signer_of(rt)
    if signer is None:
        return None
    with transaction(rt.engine) as session:
        line = session.get(JournalLine, line_id)
        if line is None:
            raise Refused("Journal line {id} does not exist.", id=line_id)
        if line.fiscal and not line.tse_outage:
            return fiscal_from_dict(json.loads(line.fiscal))
        (entry,) = entries(session, col(JournalLine.id) == line_id)
        tx_id = uuid.UUID(line.tse_tx_id) if line.tse_tx_id else uuid.uuid4()
        at, kind, training = line.at, line.kind, line.training
    receipt = receipt_of(entry, kind, training)
    result = sign(signer, tx_id, receipt, at=at, timeout_ms=rt.config.fiscal.timeout_ms, clock=rt.clock)
    with transaction(rt.engine) as session:
        store_fiscal(session, line_id, result.to_dict(), outage=isinstance(result, Outage))
    return result


def fiscal_json(result: FiscalResult | None) -> dict[str, Any] | None:
    return None if result is None else result.to_json()


# --- status --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FiscalStatus:
    tse: TseStatus | None  # None: no signer configured
    outages: int  # journal lines the TSE did not sign
    last_outage: datetime | None

    def json(self) -> dict[str, Any]:
        tse = self.tse
        return {
            "signer": tse.signer if tse else "none",
            "reachable": tse.reachable if tse else None,
            "state": tse.state if tse else None,
            "serial": tse.serial if tse else None,
            "client_serial": tse.client_serial if tse else None,
            "algorithm": tse.algorithm if tse else None,
            "signature_counter": tse.signature_counter if tse else None,
            "tx_number": tse.tx_number if tse else None,
            "test": tse.test if tse else False,
            "message": tse.message if tse else None,
            "outages": self.outages,
            "last_outage": self.last_outage.isoformat() if self.last_outage else None,
        }


def fiscal_status(rt: Runtime, actor: Actor) -> FiscalStatus:
    """The TSE's state and the journal lines it did not sign (outages)."""
    require(actor, Role.CASHIER, "read the fiscal status")
    signer = signer_of(rt)
    tse = signer.status() if signer is not None else None
    with transaction(rt.engine) as session:
        count, last = session.exec(
            select(func.count(), func.max(JournalLine.at)).where(col(JournalLine.tse_outage).is_(True))
        ).one()
    return FiscalStatus(tse, int(count), last)


def retry_outages(rt: Runtime, actor: Actor) -> int:
    """Sign the lines an outage left unsigned, now that the TSE answers; returns how many got a signature."""
    require(actor, Role.CASHIER, "sign journal lines")
    with transaction(rt.engine) as session:
        ids = list(session.exec(select(JournalLine.id).where(col(JournalLine.tse_outage).is_(True))))
    signed = 0
    for line_id in ids:
        if line_id is not None and not isinstance(sign_line(rt, line_id), Outage):
            signed += 1
    return signed


# --- DSFinV-K -----------------------------------------------------------------------------------------


def export_dsfinvk(
    rt: Runtime,
    actor: Actor,
    path: str | Path,
    *,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """The DSFinV-K export of the Z reports closed in the period: one cash point closing each, with its
    receipts, lines, tenders, VAT and TSE data (a zip, mode 600)."""
    from pos.tse import client_serial
    from pos.tse.dsfinvk import write_dsfinvk

    require(actor, Role.ADMIN, "export the DSFinV-K data")
    venue = rt.config.venue
    start, end = period_bounds(date_from, date_to, venue.zone, venue.day_start_minutes)
    closings = []
    with transaction(rt.engine) as session:
        query = (
            select(Shift)
            .where(col(Shift.closed_at).is_not(None))
            .order_by(col(Shift.terminal), col(Shift.z_number))
        )
        if start is not None:
            query = query.where(col(Shift.closed_at) >= start)
        if end is not None:
            query = query.where(col(Shift.closed_at) < end)
        shifts = list(session.exec(query))
        if not shifts:
            raise Refused("No Z report was closed in that period; nothing to export.")
        for shift in shifts:
            closings.append(_closing(session, rt, shift, client_serial(rt.config)))
    street, postcode, city = split_address(venue.address)
    master = ExportMasterData(
        company=venue.name,
        street=street,
        postcode=postcode,
        city=city,
        tax_number=venue.tax_number,
        vat_id=venue.vat_id,
    )
    return write_dsfinvk(Path(path), master, closings, zone=venue.zone, progress=progress)


def _closing(session: Any, rt: Runtime, shift: Shift, register: str) -> CashPointClosing:
    lines = list(
        session.exec(
            select(JournalLine).where(col(JournalLine.shift_id) == shift.id).order_by(col(JournalLine.number))
        )
    )
    entry_by_id = dict(
        zip([line.id for line in lines], entries(session, col(JournalLine.shift_id) == shift.id), strict=True)
    )
    order_ids = [line.order_id for line in lines if line.order_id is not None]
    order_lines: dict[int, list[OrderLine]] = {}
    if order_ids:
        for row in session.exec(
            select(OrderLine).where(col(OrderLine.order_id).in_(order_ids)).order_by(col(OrderLine.id))
        ):
            order_lines.setdefault(row.order_id, []).append(row)
    sale_ids = {line.order_id: str(line.id) for line in lines if line.kind == "sale"}
    receipts = []
    for line in lines:
        entry = entry_by_id[line.id]
        if line.kind == "sale" and line.order_id is not None:
            items = tuple(
                ExportLine(
                    index,
                    row.article_name,
                    row.quantity,
                    row.unit_price_cents,
                    row.discount_cents // row.quantity,
                    row.total_cents,
                    row.vat_bp,
                    row.article_group,
                    str(row.article_id),
                )
                for index, row in enumerate(order_lines.get(line.order_id, []), start=1)
            )
        elif line.kind == "return":
            items = tuple(
                ExportLine(index, f"Rückgabe {line.order_id}", 1, v.gross_cents, 0, v.gross_cents, v.rate_bp)
                for index, v in enumerate(entry.vat, start=1)
            )
        else:
            items = ()
        receipts.append(
            ExportReceipt(
                bon_id=str(line.id),
                bon_nr=line.number,
                kind=line.kind,
                start=line.at,
                end=line.at,
                terminal=line.terminal,
                operator_id=line.operator,
                operator_name=line.operator,
                lines=items,
                tenders=tuple(TenderAmount(t.tender, t.amount_cents) for t in entry.tenders),
                fiscal=fiscal_from_dict(json.loads(line.fiscal)) if line.fiscal else None,
                training=line.training,
                reason=line.reason or "",
                refers_to=sale_ids.get(line.order_id) if line.kind == "return" else None,
            )
        )
    sums = sum_journal(
        entries(session, col(JournalLine.shift_id) == shift.id, col(JournalLine.training).is_(False))
    )
    money: dict[str, int] = {}
    for line in lines:
        if line.training:
            continue
        for tender in entry_by_id[line.id].tenders:
            money[tender.tender] = money.get(tender.tender, 0) + tender.amount_cents
    return CashPointClosing(
        z_number=shift.z_number or 0,
        cash_register=register,
        created_at=shift.closed_at or rt.now(),
        receipts=tuple(receipts),
        payments_by_tender=tuple(TenderAmount(name, cents) for name, cents in sorted(money.items())),
        sales_by_vat=tuple(
            ClosingVat(v.rate_bp, v.net_cents, v.vat_cents, v.gross_cents) for v in sums.by_vat
        ),
    )
