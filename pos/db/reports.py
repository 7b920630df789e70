"""Sales report: revenue and counts by article group and by payment method; cancelled orders excluded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from pos.db.engine import transaction
from pos.db.models import Order, OrderLine
from pos.domain.clock import iso_local
from pos.runtime import Runtime


def sales_breakdown(
    session: Session, conditions: Sequence[ColumnElement[bool]]
) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """(method, orders, cents) by payment method and (group, units, cents) by article group; shared with the Z report."""
    by_payment = session.exec(
        select(Order.payment_method, func.count(col(Order.id)), func.coalesce(func.sum(Order.total_cents), 0))
        .where(*conditions)
        .group_by(col(Order.payment_method))
        .order_by(col(Order.payment_method))
    ).all()
    by_group = session.exec(
        select(
            OrderLine.article_group,
            func.coalesce(func.sum(OrderLine.quantity), 0),
            func.coalesce(func.sum(OrderLine.total_cents), 0),
        )
        .join(Order, col(Order.id) == col(OrderLine.order_id))
        .where(*conditions)
        .group_by(col(OrderLine.article_group))
        .order_by(col(OrderLine.article_group))
    ).all()
    return (
        [(method, int(n), int(total)) for method, n, total in by_payment],
        [(group, int(n), int(total)) for group, n, total in by_group],
    )


def sales_report(
    rt: Runtime, *, start: datetime | None = None, end: datetime | None = None, shift_id: int | None = None
) -> dict[str, Any]:
    """Paid orders created in [start, end) (either open), optionally of one shift."""
    conditions: list[ColumnElement[bool]] = [col(Order.status) == "paid"]
    if start is not None:
        conditions.append(col(Order.created_at) >= start)
    if end is not None:
        conditions.append(col(Order.created_at) < end)
    if shift_id is not None:
        conditions.append(col(Order.shift_id) == shift_id)
    with transaction(rt.engine) as session:
        by_payment, by_group = sales_breakdown(session, conditions)
    zone = rt.config.venue.zone
    payments = [{"method": m, "orders": int(n), "total_cents": int(total)} for m, n, total in by_payment]
    return {
        "from": iso_local(start, zone),
        "to": iso_local(end, zone),
        "orders": sum(p["orders"] for p in payments),
        "total_cents": sum(p["total_cents"] for p in payments),
        "by_group": [{"group": g, "units": int(n), "total_cents": int(total)} for g, n, total in by_group],
        "by_payment": payments,
    }
