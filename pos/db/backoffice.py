"""Reads the door and back-office screens need besides the services they call (redeem, cancel, reprint, ...).

Nothing here changes data except through those audited services: `door_scan` is `redeem` plus a read of
what the steward should see beyond the verdict (the validity that refused the ticket, the holder's birthday),
`find_orders` is the orders screen's search, `reprint` queues and prints like `pos order reprint`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import col

from pos.db.engine import read_snapshot, transaction
from pos.db.models import Customer, Entry, Order, ScanLog, Ticket
from pos.db.redemption import ScanResult, redeem, ticket_serial
from pos.domain.clock import business_day, business_day_bounds
from pos.domain.ticket_code import looks_like_ticket_code
from pos.errors import NotFound, Refused
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
class OrderHit:
    id: int
    created_at: datetime
    status: str
    customer: str | None
    email: str | None
    total_cents: int
    tickets: int


def find_orders(rt: Runtime, text: str, *, limit: int = ORDER_HITS) -> list[OrderHit]:
    """By order number, by ticket code (typed or scanned), else by customer or guest name or e-mail."""
    query = text.strip().removeprefix("#")
    if not query:
        return []
    with transaction(rt.engine) as session:
        if looks_like_ticket_code(query):
            ticket = session.get(Ticket, ticket_serial(rt, query))
            if ticket is None:
                raise NotFound(f"No ticket has the code {query}.")
            condition: Any = col(Order.id) == ticket.order_id
        elif query.isdigit():
            condition = col(Order.id) == int(query)
        else:
            pattern = f"%{query.lower()}%"
            condition = or_(
                func.lower(col(Order.guest_name)).like(pattern),
                func.lower(col(Order.guest_email)).like(pattern),
                func.lower(col(Customer.name)).like(pattern),
                func.lower(col(Customer.email)).like(pattern),
            )
        tickets = (
            select(func.count()).select_from(Ticket).where(col(Ticket.order_id) == col(Order.id))
        ).scalar_subquery()
        rows = session.execute(
            select(Order, col(Customer.name), col(Customer.email), tickets)
            .outerjoin(Customer, col(Customer.id) == col(Order.customer_id))
            .where(condition)
            .order_by(col(Order.created_at).desc(), col(Order.id).desc())
            .limit(limit)
        ).all()
    return [
        OrderHit(
            id=order.id,
            created_at=order.created_at,
            status=order.status,
            customer=name or order.guest_name,
            email=email or order.guest_email,
            total_cents=order.total_cents,
            tickets=int(count),
        )
        for order, name, email, count in rows
    ]


@dataclass(frozen=True)
class TicketDetail:
    ticket: dict[str, Any]  # `pos ticket show`
    order: dict[str, Any]  # `pos order show` of the ticket's order
    birthday: date | None = None  # of the order's customer record


def ticket_detail(rt: Runtime, code: str) -> TicketDetail:
    from pos.db.redemption import show_ticket
    from pos.db.sales import get_order

    ticket = show_ticket(rt, code)
    order = get_order(rt, ticket["order_id"])
    customer_id = (order.get("customer") or {}).get("id")
    birthday = None
    if customer_id is not None:
        with transaction(rt.engine) as session:
            customer = session.get(Customer, customer_id)
            birthday = customer.birthday if customer else None
    return TicketDetail(ticket, order, birthday)


def reprint(rt: Runtime, order_id: int, ticket_codes: Sequence[str] = ()) -> Any:
    """What `pos order reprint` does: queue the documents marked REPRINT, then print them; a PrintOutcome."""
    from pos.db.printjobs import enqueue_order, find_ticket_in_order, run_jobs

    with transaction(rt.engine) as session:
        ticket_ids = [find_ticket_in_order(session, order_id, code) for code in ticket_codes] or None
        job_ids = enqueue_order(session, order_id, reprint=True, ticket_ids=ticket_ids, at=rt.now())
    return run_jobs(rt, job_ids=job_ids)


def resend(rt: Runtime, order_id: int) -> tuple[list[int], Any]:
    """What `pos order resend` does: queue a fresh copy of each ticket mail, send now when SMTP is set up."""
    from pos.db.mail import mail_enabled, resend_order, send_all_pending

    queued = resend_order(rt, order_id)
    return queued, send_all_pending(rt, order_id=order_id) if mail_enabled(rt) else None


def export_to_file(rt: Runtime, path: str | Path, *, progress: Any = None, **options: Any) -> int:
    """`pos export attendance -o PATH` for the admin screen: complete or not at all, mode 600 (names, e-mails)."""
    import os
    import tempfile

    from pos.db.export import export_attendance

    target = Path(path).expanduser()
    directory = target.parent
    if not directory.is_dir():
        raise Refused(f"Directory {directory} does not exist.")
    try:
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise Refused(f"Cannot write to {directory}: {exc.strerror}.") from None
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            written = export_attendance(rt, handle, progress=progress, **options)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written
