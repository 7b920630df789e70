"""Reads the back-office screens need besides the services they call (cancel, reprint, ...).

Nothing here changes data except through those audited services: `find_orders` is the orders screen's search,
`reprint` queues and prints like `pos order reprint`. (The door's reads are in pos.db.redemption.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import col

from pos.db.engine import transaction
from pos.db.models import Customer, Order, Ticket
from pos.db.redemption import ticket_serial
from pos.domain.ticket_code import looks_like_ticket_code
from pos.errors import NotFound, Refused
from pos.runtime import Runtime

ORDER_HITS = 50


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
