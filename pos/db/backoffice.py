"""Reads the door and back-office screens need besides the services they call (redeem, cancel, reprint, ...).

Nothing here changes data except through those audited services: `door_scan` is `redeem` plus a read of
what the steward should see beyond the verdict (the validity that refused the ticket, the holder's birthday),
`find_orders` is the orders screen's search, `reprint` queues and prints like `pos order reprint`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from pos.db.engine import read_snapshot, transaction
from pos.db.models import Customer, Entry, Order, ScanLog, Ticket
from pos.db.redemption import ScanResult, redeem
from pos.domain.clock import business_day, business_day_bounds
from pos.runtime import Runtime

ORDER_HITS = 50


@dataclass(frozen=True)
class DoorScan:
    """A verdict with what the door screen shows besides it."""

    result: ScanResult
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    event_date: date | None = None
    customer: str | None = None
    birthday: bool = False  # the order's customer has a birthday on the business day of the scan


def door_scan(rt: Runtime, scanned: str, *, gate: str | None = None) -> DoorScan:
    """Redeem the scan (recorded atomically), then read the ticket's context for the screen."""
    result = redeem(rt, scanned, gate=gate)
    if result.ticket_id is None:
        return DoorScan(result)
    with read_snapshot(rt.engine) as connection:
        row = connection.execute(
            select(
                col(Ticket.valid_from),
                col(Ticket.valid_until),
                col(Ticket.event_date),
                col(Customer.name),
                col(Customer.birthday),
            )
            .select_from(Ticket)
            .join(Order, col(Order.id) == col(Ticket.order_id))
            .outerjoin(Customer, col(Customer.id) == col(Order.customer_id))
            .where(col(Ticket.id) == result.ticket_id)
        ).first()
    if row is None:
        return DoorScan(result)
    venue = rt.config.venue
    day = business_day(result.at, venue.zone, venue.day_start_minutes)
    return DoorScan(
        result,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        event_date=row.event_date,
        customer=row.name,
        birthday=is_birthday(row.birthday, day),
    )


def is_birthday(birthday: date | None, day: date) -> bool:
    """Born on 29 February: greeted on 28 February in years without a 29th."""
    if birthday is None:
        return False
    if (birthday.month, birthday.day) == (day.month, day.day):
        return True
    leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
    return (birthday.month, birthday.day) == (2, 29) and not leap and (day.month, day.day) == (2, 28)


@dataclass(frozen=True)
class GateCounts:
    entries: int
    rejections: int


def gate_counts(rt: Runtime, gate: str) -> GateCounts:
    """Accepted and rejected scans at this gate during the current business day (the door's running count)."""
    venue = rt.config.venue
    now = rt.now()
    start, end = business_day_bounds(
        business_day(now, venue.zone, venue.day_start_minutes), venue.zone, venue.day_start_minutes
    )
    with read_snapshot(rt.engine) as connection:
        entries = connection.execute(
            select(func.count())
            .select_from(Entry)
            .where(col(Entry.gate) == gate, col(Entry.at) >= start, col(Entry.at) < end)
        ).scalar_one()
        rejections = connection.execute(
            select(func.count())
            .select_from(ScanLog)
            .where(col(ScanLog.gate) == gate, col(ScanLog.at) >= start, col(ScanLog.at) < end)
        ).scalar_one()
    return GateCounts(int(entries), int(rejections))


@dataclass(frozen=True)
class TicketDetail:
    ticket: dict[str, Any]  # `pos ticket show`
    order: dict[str, Any]  # `pos order show` of the ticket's order
    birthday: date | None = None  # of the order's customer record


def ticket_detail(rt: Runtime, code: str) -> TicketDetail:
    from pos.db.orders import load_order, order_json
    from pos.db.redemption import show_ticket

    ticket = show_ticket(rt, code)
    with transaction(rt.engine) as session:
        order = order_json(session, load_order(session, ticket["order_id"]), rt.config.venue.zone)
    customer_id = (order.get("customer") or {}).get("id")
    birthday = None
    if customer_id is not None:
        with transaction(rt.engine) as session:
            customer = session.get(Customer, customer_id)
            birthday = customer.birthday if customer else None
    return TicketDetail(ticket, order, birthday)
