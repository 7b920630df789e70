"""The sales report: the journal's sales and returns over a period, summed like a shift report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import col

from pos.db.engine import transaction
from pos.db.journal import entries
from pos.db.models import JournalLine
from pos.domain.clock import iso_local
from pos.domain.money import rate_number
from pos.domain.till import sum_journal
from pos.runtime import Runtime


def sales_report(
    rt: Runtime, *, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """Sales and returns booked in [start, end) (either open), by article group, tender and VAT rate."""
    conditions: list[ColumnElement[bool]] = [
        col(JournalLine.kind).in_(("sale", "return")),
        col(JournalLine.training).is_(False),
    ]
    if start is not None:
        conditions.append(col(JournalLine.at) >= start)
    if end is not None:
        conditions.append(col(JournalLine.at) < end)
    with transaction(rt.engine) as session:
        sums = sum_journal(entries(session, *conditions))
    zone = rt.config.venue.zone
    return {
        "from": iso_local(start, zone),
        "to": iso_local(end, zone),
        "orders": sums.sales,
        "returns": sums.returns,
        "sales_cents": sums.sales_cents,
        "returns_cents": sums.returns_cents,
        "total_cents": sums.net_sales_cents,
        "by_group": [
            {"group": g.group, "units": g.units, "total_cents": g.total_cents} for g in sums.by_group
        ],
        "by_payment": [
            {"method": t.tender, "orders": t.count, "total_cents": t.total_cents} for t in sums.by_tender
        ],
        "by_vat": [
            {
                "rate": rate_number(v.rate_bp),
                "net_cents": v.net_cents,
                "vat_cents": v.vat_cents,
                "gross_cents": v.gross_cents,
            }
            for v in sums.by_vat
        ],
    }
