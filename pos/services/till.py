"""The till: shifts (open with a float, close with the counted cash), cash in and out, X and Z reports.

Everything that moves money is one journal line (pos/db/journal.py), written in the transaction that also checks
the shift is still open; the reports are sums over the journal (pos/domain/till.py) and nothing else, so the
screen, the printout and `pos shift report` show the same figures to the cent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, text
from sqlmodel import Session, col, select, update

from pos.db import audit
from pos.db.engine import transaction
from pos.db.journal import book, entries, hold_open_shift, next_z_number, open_shift_of
from pos.db.models import JournalLine, Operator, Shift
from pos.db.terminal_lock import TerminalBusy, acquire
from pos.domain.clock import iso_local
from pos.domain.money import rate_number
from pos.domain.roles import Role
from pos.domain.till import ShiftFigures, Tender, check_cash_movement, check_counted, sum_journal
from pos.errors import NotFound, Refused
from pos.runtime import Runtime
from pos.services.base import Actor, require
from pos.services.operators import log_in as check_pin
from pos.services.views import Login, LoginShift, ShiftView

# Printing, delivery and fiscal signing are imported inside the use cases that print or sign: the login (which
# loads this module) stays lean, so the cashier app reaches its sale screen sooner.
if TYPE_CHECKING:
    from pos.services.delivery import PrintOutcome


def _view(shift: Shift) -> ShiftView:
    assert shift.id is not None
    return ShiftView(
        shift.id,
        shift.terminal,
        shift.operator,
        shift.operator_id,
        shift.opened_at,
        shift.float_cents,
        shift.closed_at,
        shift.counted_cents,
        shift.z_number,
    )


def _lock_terminal(session: Session, terminal: str) -> None:
    """Serialise shift changes of one terminal (SQLite: BEGIN IMMEDIATE does it already)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"shift:{terminal}".encode()).digest()[:8], "big", signed=True)
        session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=key))  # type: ignore[call-overload]


def shift_for_login(rt: Runtime, actor: Actor) -> LoginShift:
    require(actor, Role.CASHIER, "work at the till")
    with transaction(rt.engine) as session:
        shift = open_shift_of(session, rt.terminal)
        if shift is None:
            return LoginShift("none")
        if shift.operator == actor.name:
            return LoginShift("own", _view(shift), actor.name)
        return LoginShift("other", _view(shift), shift.operator or "?")


def open_shift(rt: Runtime, actor: Actor, float_cents: int) -> ShiftView:
    """The terminal's shift, opened by `actor` with the cash float (journalled as the shift's first line)."""
    from pos.services.fiscal import finish_signing, sign_booked

    require(actor, Role.CASHIER, "open a shift")
    if float_cents < 0:
        raise Refused("The cash float cannot be negative.")
    with transaction(rt.engine) as session:
        _lock_terminal(session, rt.terminal)
        if (current := open_shift_of(session, rt.terminal)) is not None:
            raise Refused(
                "Shift #{id} is still open on {terminal}; close it first.",
                id=current.id,
                terminal=rt.terminal,
            )
        now = rt.now()
        shift = Shift(
            operator_id=actor.operator_id,
            operator=actor.name,
            terminal=rt.terminal,
            opened_at=now,
            float_cents=float_cents,
        )
        session.add(shift)
        session.flush()
        assert shift.id is not None
        booked = book(
            session,
            terminal=rt.terminal,
            kind="float",
            at=now,
            operator=actor.name,
            total_cents=float_cents,
            shift_id=shift.id,
            tenders=[Tender("cash", float_cents, float_cents)],
        )
        audit.record(
            session, rt, "shift.open", f"shift #{shift.id}", after={"float_cents": float_cents}, by=actor.name
        )
        signed = sign_booked(session, rt, booked)
        view = _view(shift)
    finish_signing(rt, booked, signed)
    return view


def close_shift(rt: Runtime, actor: Actor, shift_id: int, counted_cents: int | None) -> ShiftFigures:
    """Close once with the cash counted: the difference is journalled, the shift gets its Z number.

    The close takes the shift's row exclusively, so a sale on another screen is either in the shift before the
    close (it held the row first) or refused after it; a second close is refused.
    """
    from pos.services.fiscal import finish_signing, sign_booked

    require(actor, Role.CASHIER, "close a shift")
    counted = check_counted(counted_cents)
    with transaction(rt.engine) as session:
        shift = session.get(Shift, shift_id)
        if shift is None:
            raise NotFound("Shift #{id} does not exist.", id=shift_id)
        if shift.operator != actor.name:
            require(actor, Role.ADMIN, "close another operator's shift")
        now = rt.now()
        closed = session.exec(
            update(Shift)
            .where(col(Shift.id) == shift_id, col(Shift.closed_at).is_(None))
            .values(closed_at=now, counted_cents=counted)
        )
        if closed.rowcount != 1:
            raise Refused("Shift #{id} is closed already.", id=shift_id)
        sums = sum_journal(entries(session, col(JournalLine.shift_id) == shift_id))
        difference = counted - sums.expected_cash_cents
        z_number = next_z_number(session, shift.terminal)
        booked = book(
            session,
            terminal=shift.terminal,
            kind="difference",
            at=now,
            operator=actor.name,
            total_cents=difference,
            shift_id=shift_id,
            tenders=[Tender("cash", difference)],
        )
        session.exec(update(Shift).where(col(Shift.id) == shift_id).values(z_number=z_number))
        audit.record(
            session,
            rt,
            "shift.close",
            f"shift #{shift_id}",
            after={
                "counted_cents": counted,
                "expected_cents": sums.expected_cash_cents,
                "z_number": z_number,
            },
            by=actor.name,
        )
        signed = sign_booked(session, rt, booked)
        figures = _figures(session, shift_id)
    finish_signing(rt, booked, signed)
    return figures


def shift_report(rt: Runtime, actor: Actor, shift_id: int | None = None) -> ShiftFigures:
    """The X report of the open shift (default: this terminal's), or the Z report of a closed one."""
    require(actor, Role.CASHIER, "read shift reports")
    with transaction(rt.engine) as session:
        if shift_id is None:
            shift = open_shift_of(session, rt.terminal)
            if shift is None or shift.id is None:
                raise Refused(
                    "No shift is open on {terminal}; name a shift to see its Z report.", terminal=rt.terminal
                )
            shift_id = shift.id
        return _figures(session, shift_id)


def figures_of(session: Session, shift_id: int) -> ShiftFigures:
    """A shift's figures inside the caller's transaction (the printed report uses the same)."""
    return _figures(session, shift_id)


def _figures(session: Session, shift_id: int) -> ShiftFigures:
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NotFound("Shift #{id} does not exist.", id=shift_id)
    session.flush()
    session.refresh(shift)
    lines = entries(session, col(JournalLine.shift_id) == shift_id, col(JournalLine.training).is_(False))
    assert shift.id is not None
    return ShiftFigures(
        shift_id=shift.id,
        terminal=shift.terminal,
        operator=shift.operator or _operator_name(session, shift.operator_id),
        opened_at=shift.opened_at,
        closed_at=shift.closed_at,
        z_number=shift.z_number,
        counted_cents=shift.counted_cents,
        sums=sum_journal(lines),
        tse_outages=tse_outages(session, shift.id),
    )


def _operator_name(session: Session, operator_id: int | None) -> str:
    operator = session.get(Operator, operator_id) if operator_id is not None else None
    return operator.name if operator is not None else "?"


def tse_outages(session: Session, shift_id: int) -> int:
    return int(
        session.exec(
            select(func.count()).where(
                col(JournalLine.shift_id) == shift_id, col(JournalLine.tse_outage).is_(True)
            )
        ).one()
    )


def print_report(rt: Runtime, actor: Actor, shift_id: int) -> PrintOutcome:
    """Print the shift's report as it stands now: the X report while open, the Z report once closed."""
    from pos.services.delivery import enqueue_payload_print, run_jobs
    from pos.services.documents import zreport_doc

    require(actor, Role.CASHIER, "print shift reports")
    with transaction(rt.engine) as session:
        figures = _figures(session, shift_id)
        doc = zreport_doc(rt.config, figures, tse_outages=figures.tse_outages)
        job_id = enqueue_payload_print(session, "zreport", doc.to_json())
    return run_jobs(rt, job_ids=[job_id])


# --- cash in and out -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CashMovement:
    kind: str  # cash_in | cash_out
    amount_cents: int
    reason: str
    shift_id: int
    journal_number: int
    at: datetime
    print_job_ids: tuple[int, ...]

    def json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "amount_cents": self.amount_cents,
            "reason": self.reason,
            "shift_id": self.shift_id,
            "journal_number": self.journal_number,
            "at": iso_local(self.at, zone),
        }


def cash_movement(
    rt: Runtime, actor: Actor, kind: str, amount_cents: int, reason: str, *, shift_id: int | None = None
) -> CashMovement:
    """Cash put into or taken out of the drawer, with its reason, booked into the open shift; opens the drawer."""
    from pos.printing.documents import CashDoc
    from pos.services.delivery import attach_fiscal, enqueue_payload_print
    from pos.services.documents import letterhead
    from pos.services.fiscal import finish_signing, sign_booked

    require(actor, Role.CASHIER, "move cash")
    if kind == "cash_out" and not rt.config.terminal.cash_out_by_cashier:
        require(actor, Role.ADMIN, "take cash out of the drawer")
    check_cash_movement(kind, amount_cents, reason)
    reason = reason.strip()
    with transaction(rt.engine) as session:
        if shift_id is not None:
            shift = hold_open_shift(session, shift_id)
        else:
            found = open_shift_of(session, rt.terminal, hold=True)
            if found is None:
                raise Refused(
                    "No shift is open on {terminal}; cash moves only within a shift.", terminal=rt.terminal
                )
            shift = found
        assert shift.id is not None
        now = rt.now()
        signed = amount_cents if kind == "cash_in" else -amount_cents
        booked = book(
            session,
            terminal=rt.terminal,
            kind=kind,
            at=now,
            operator=actor.name,
            total_cents=signed,
            shift_id=shift.id,
            tenders=[Tender("cash", signed)],
            reason=reason,
        )
        signed = sign_booked(session, rt, booked)
        doc = CashDoc(
            letterhead=letterhead(rt.config),
            kind=kind,
            amount_cents=amount_cents,
            reason=reason,
            at=now,
            terminal=rt.terminal,
            operator=actor.name,
            journal_number=booked.number,
            fiscal=signed,
        )
        job_id = enqueue_payload_print(session, "cash", doc.to_json())
        audit.record(
            session,
            rt,
            f"till.{kind}",
            f"shift #{shift.id}",
            after={"cents": amount_cents, "reason": reason},
            by=actor.name,
        )
        movement = CashMovement(kind, amount_cents, reason, shift.id, booked.number, now, (job_id,))
    result = finish_signing(rt, booked, signed)
    if signed is None and result is not None:  # signed after the commit: the slip gets it now
        with transaction(rt.engine) as session:
            attach_fiscal(session, [job_id], result.to_dict())
    return movement


def print_cash_slip(rt: Runtime, actor: Actor, movement: CashMovement) -> PrintOutcome:
    from pos.services.delivery import run_jobs

    require(actor, Role.CASHIER, "print")
    return run_jobs(rt, job_ids=list(movement.print_job_ids))


# --- JSON ------------------------------------------------------------------------------------------------


def report_json(figures: ShiftFigures, zone: ZoneInfo) -> dict[str, Any]:
    """`pos shift report --json` (DESIGN section 3)."""
    sums = figures.sums
    return {
        "id": figures.shift_id,
        "terminal": figures.terminal,
        "operator": figures.operator,
        "z_number": figures.z_number,
        "opened_at": iso_local(figures.opened_at, zone),
        "closed_at": iso_local(figures.closed_at, zone),
        "float_cents": sums.float_cents,
        "sales_cents": sums.sales_cents,
        "returns_cents": sums.returns_cents,
        "cash_in_cents": sums.cash_in_cents,
        "cash_out_cents": sums.cash_out_cents,
        "cash_taken_cents": sums.cash_taken_cents,
        "change_cents": sums.change_cents,
        "cash_refunded_cents": sums.cash_refunded_cents,
        "expected_cash_cents": figures.expected_cash_cents,
        "counted_cents": figures.counted_cents,
        "difference_cents": figures.difference_cents,
        "tse_outages": figures.tse_outages,
        "by_tender": [
            {"tender": t.tender, "count": t.count, "total_cents": t.total_cents} for t in sums.by_tender
        ],
        "by_group": [
            {"group": g.group, "units": g.units, "total_cents": g.total_cents} for g in sums.by_group
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


# --- login and the terminal ------------------------------------------------------------------------------


def log_in(rt: Runtime, name: str, pin: str) -> Login:
    """Check the PIN, then look for this terminal's open shift: what the login screen needs, in one call."""
    actor = check_pin(rt, name, pin)
    return Login(actor, shift_for_login(rt, actor))


def claim_terminal(rt: Runtime) -> Any:
    """Hold this terminal's name while the cashier app runs: a second app with the same name is refused.

    The lock dies with the process (a file lock on SQLite, a session advisory lock on PostgreSQL), so a crashed
    till never blocks its own restart. Returns the lock; call its release() when the app ends.
    """
    try:
        return acquire(rt.engine, rt.database_url, rt.terminal)
    except TerminalBusy:
        raise Refused(
            "Terminal {terminal} is already running on this database (another cashier app); give this till its "
            "own [terminal] name.",
            terminal=rt.terminal,
        ) from None
