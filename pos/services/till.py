"""Cash shifts: opened with a float after login, closed with the counted cash, summed up in the Z report.

One shift is open per terminal at a time (the terminal has one cash drawer). Orders carry their shift id, so
the Z report sums exactly the orders taken in the shift: sales by payment method and by article group, and the
cash the drawer should hold (float + cash taken - change given) against what was counted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session, col, func, select, update

from pos.db import audit
from pos.db.engine import transaction
from pos.db.models import Operator, Order, Shift
from pos.db.reports import sales_breakdown
from pos.domain.clock import iso_local
from pos.domain.roles import Role
from pos.errors import NotFound, Refused
from pos.runtime import Runtime
from pos.services.base import Actor, require

if TYPE_CHECKING:  # printing loads when a Z report is printed, not with the login (the till starts faster)
    from pos.services.delivery import PrintOutcome


@dataclass(frozen=True)
class Sum:
    """One row of a Z report section: a payment method or an article group."""

    name: str
    count: int
    total_cents: int


@dataclass(frozen=True)
class ZReport:
    shift_id: int
    terminal: str
    operator: str
    opened_at: datetime
    closed_at: datetime | None
    float_cents: int
    counted_cents: int | None
    orders: int
    sales_cents: int
    by_payment: tuple[Sum, ...]
    by_group: tuple[Sum, ...]  # count = units sold
    cash_taken_cents: int  # cash handed over in cash payments
    change_cents: int
    cancelled: Sum = field(default_factory=lambda: Sum("cancelled", 0, 0))

    @property
    def expected_cash_cents(self) -> int:
        return self.float_cents + self.cash_taken_cents - self.change_cents

    @property
    def difference_cents(self) -> int | None:
        """Counted minus expected: negative when cash is missing."""
        if self.counted_cents is None:
            return None
        return self.counted_cents - self.expected_cash_cents


@dataclass(frozen=True)
class ShiftView:
    id: int
    terminal: str
    operator_id: int
    opened_at: datetime
    float_cents: int
    closed_at: datetime | None
    counted_cents: int | None


def _view(shift: Shift) -> ShiftView:
    assert shift.id is not None
    return ShiftView(
        shift.id,
        shift.terminal,
        shift.operator_id,
        shift.opened_at,
        shift.float_cents,
        shift.closed_at,
        shift.counted_cents,
    )


@dataclass(frozen=True)
class LoginShift:
    """What a login finds on this terminal: its own open shift, none, or another operator's open shift."""

    state: str  # own | none | other
    shift: ShiftView | None = None
    operator: str = ""


def _lock_terminal(session: Session, terminal: str) -> None:
    """Serialise shift changes of one terminal (SQLite: BEGIN IMMEDIATE does it already)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"shift:{terminal}".encode()).digest()[:8], "big", signed=True)
        session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=key))  # type: ignore[call-overload]


def _open_on_terminal(session: Session, terminal: str) -> Shift | None:
    query = select(Shift).where(Shift.terminal == terminal, col(Shift.closed_at).is_(None))
    return session.exec(query.order_by(col(Shift.id).desc())).first()


def shift_for_login(rt: Runtime, actor: Actor) -> LoginShift:
    require(actor, Role.CASHIER, "work at the till")
    with transaction(rt.engine) as session:
        shift = _open_on_terminal(session, rt.terminal)
        if shift is None:
            return LoginShift("none")
        if shift.operator_id == actor.operator_id:
            return LoginShift("own", _view(shift), actor.name)
        owner = session.get(Operator, shift.operator_id)
        return LoginShift("other", _view(shift), owner.name if owner else "?")


def open_shift(rt: Runtime, actor: Actor, float_cents: int) -> ShiftView:
    require(actor, Role.CASHIER, "open a shift")
    if float_cents < 0:
        raise Refused("The cash float cannot be negative.")
    if actor.operator_id is None:
        raise Refused("Only an operator who logged in with a PIN can open a shift.")
    with transaction(rt.engine) as session:
        _lock_terminal(session, rt.terminal)
        if (current := _open_on_terminal(session, rt.terminal)) is not None:
            raise Refused(
                "Shift #{id} is still open on {terminal}; close it first.",
                id=current.id,
                terminal=rt.terminal,
            )
        shift = Shift(
            operator_id=actor.operator_id, terminal=rt.terminal, opened_at=rt.now(), float_cents=float_cents
        )
        session.add(shift)
        session.flush()
        audit.record(
            session, rt, "shift.open", f"shift #{shift.id}", after={"float_cents": float_cents}, by=actor.name
        )
        return _view(shift)


def close_shift(rt: Runtime, actor: Actor, shift_id: int, counted_cents: int) -> ZReport:
    """Closes once: a second close (another terminal, a double key press) is refused."""
    require(actor, Role.CASHIER, "close a shift")
    if counted_cents < 0:
        raise Refused("The counted cash cannot be negative.")
    with transaction(rt.engine) as session:
        closed = session.exec(
            update(Shift)
            .where(col(Shift.id) == shift_id, col(Shift.closed_at).is_(None))
            .values(closed_at=rt.now(), counted_cents=counted_cents)
        )
        if closed.rowcount != 1:
            if session.get(Shift, shift_id) is None:
                raise NotFound("Shift #{id} does not exist.", id=shift_id)
            raise Refused("Shift #{id} is closed already.", id=shift_id)
        report = shift_report(session, shift_id)
        audit.record(
            session,
            rt,
            "shift.close",
            f"shift #{shift_id}",
            after={"counted_cents": counted_cents, "expected_cents": report.expected_cash_cents},
            by=actor.name,
        )
        return report


def z_report(rt: Runtime, actor: Actor, shift_id: int) -> ZReport:
    """The figures so far (an X report while the shift is open)."""
    require(actor, Role.CASHIER, "read shift reports")
    with transaction(rt.engine) as session:
        return shift_report(session, shift_id)


def shift_report(session: Session, shift_id: int) -> ZReport:
    """The figures of a shift inside the caller's transaction (the printed Z report uses the same)."""
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NotFound("Shift #{id} does not exist.", id=shift_id)
    session.flush()  # pending changes of the caller first, then what the database holds
    session.refresh(shift)
    operator = session.get(Operator, shift.operator_id)
    in_shift = col(Order.shift_id) == shift_id
    paid = (in_shift, col(Order.status) == "paid")
    by_payment, by_group = sales_breakdown(session, paid)
    cash_taken, change = session.exec(
        select(func.coalesce(func.sum(Order.given_cents), 0), func.coalesce(func.sum(Order.change_cents), 0))
        .where(*paid)
        .where(col(Order.payment_method) == "cash")
    ).one()
    cancelled_count, cancelled_total = session.exec(
        select(func.count(), func.coalesce(func.sum(Order.total_cents), 0))
        .where(in_shift)
        .where(col(Order.status) == "cancelled")
    ).one()
    payments = tuple(Sum(method, int(count), int(total)) for method, count, total in by_payment)
    return ZReport(
        shift_id=shift_id,
        terminal=shift.terminal,
        operator=operator.name if operator else "?",
        opened_at=shift.opened_at,
        closed_at=shift.closed_at,
        float_cents=shift.float_cents,
        counted_cents=shift.counted_cents,
        orders=sum(p.count for p in payments),
        sales_cents=sum(p.total_cents for p in payments),
        by_payment=payments,
        by_group=tuple(Sum(group, int(units), int(total)) for group, units, total in by_group),
        cash_taken_cents=int(cash_taken),
        change_cents=int(change),
        cancelled=Sum("cancelled", int(cancelled_count), int(cancelled_total)),
    )


def z_report_json(report: ZReport, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "shift_id": report.shift_id,
        "terminal": report.terminal,
        "operator": report.operator,
        "opened_at": iso_local(report.opened_at, zone),
        "closed_at": iso_local(report.closed_at, zone),
        "orders": report.orders,
        "sales_cents": report.sales_cents,
        "by_payment": [
            {"method": s.name, "orders": s.count, "total_cents": s.total_cents} for s in report.by_payment
        ],
        "by_group": [
            {"group": s.name, "units": s.count, "total_cents": s.total_cents} for s in report.by_group
        ],
        "cancelled": {"orders": report.cancelled.count, "total_cents": report.cancelled.total_cents},
        "float_cents": report.float_cents,
        "cash_taken_cents": report.cash_taken_cents,
        "change_cents": report.change_cents,
        "expected_cash_cents": report.expected_cash_cents,
        "counted_cents": report.counted_cents,
        "difference_cents": report.difference_cents,
    }


def print_z_report(rt: Runtime, actor: Actor, shift_id: int) -> PrintOutcome:
    """Print the shift's report as it stands now (a snapshot; a reprint shows the same numbers)."""
    from pos.services.delivery import enqueue_report_print, run_jobs
    from pos.services.documents import zreport_doc

    require(actor, Role.CASHIER, "print shift reports")
    with transaction(rt.engine) as session:
        job_id = enqueue_report_print(session, zreport_doc(rt.config, shift_report(session, shift_id)))
    return run_jobs(rt, job_ids=[job_id])


@dataclass(frozen=True)
class Login:
    """Who logged in, and what the login found on this terminal."""

    actor: Actor
    shift: LoginShift


def log_in(rt: Runtime, name: str, pin: str) -> Login:
    """Check the PIN, then look for this terminal's open shift: what the login screen needs, in one call."""
    from pos.services.operators import log_in as check_pin

    actor = check_pin(rt, name, pin)
    return Login(actor, shift_for_login(rt, actor))
