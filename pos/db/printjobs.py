"""The print queue: jobs are written with the sale, printed after it commits, and a printer fault loses nothing.

A job goes pending -> printing -> done, or -> failed with a one-sentence reason and can be retried. Claiming
is one conditional UPDATE checked by its row count, so two terminals (or a retry racing a sale) never print
the same job twice. A process killed while printing leaves the job in 'printing': it is reported as stuck
and only retried when asked to (it may have printed). Jobs of a cancelled order or a void ticket are
cancelled instead of printed. Nothing here holds a transaction open while the printer works.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import Session, col, select

from pos.config import Config
from pos.db.engine import transaction
from pos.db.models import Article, Customer, Order, OrderLine, PrintJob, Ticket
from pos.domain.order import PricedLine, vat_groups
from pos.errors import NotFound, PosError, Refused
from pos.printing.documents import (
    Document,
    GroupTotal,
    Letterhead,
    PaymentTotal,
    ReceiptDoc,
    ReceiptLine,
    SlipDoc,
    SlipLine,
    TicketDoc,
    ZReportDoc,
)
from pos.runtime import Runtime

RETRYABLE = ("pending", "failed")
PAYMENT_ORDER = ("cash", "card", "free")


@dataclass
class PrintOutcome:
    printed: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)  # job id, one-sentence reason
    stuck: list[int] = field(default_factory=list)  # left in 'printing' by a process that died
    cancelled: list[int] = field(default_factory=list)  # jobs of a cancelled order or a void ticket

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str | None:
        """One sentence for the cashier when something did not print."""
        if self.failed:
            count = len(self.failed)
            jobs = "1 print job" if count == 1 else f"{count} print jobs"
            reason = self.failed[0][1].rstrip(".")
            return f"{jobs} failed ({reason}); retry with `pos order print-pending`."
        if self.stuck:
            ids = ", ".join(str(job) for job in self.stuck)
            return f"Print jobs {ids} were interrupted while printing; check the printer, then retry with --retry-stuck."
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "printed": self.printed,
            "failed": [{"id": job, "reason": reason} for job, reason in self.failed],
            "stuck": self.stuck,
            "cancelled": self.cancelled,
        }


# --- queueing (inside the caller's transaction) -------------------------------------------------


def enqueue_order(
    session: Session,
    order_id: int,
    *,
    reprint: bool = False,
    ticket_ids: Sequence[int] | None = None,
    at: datetime | None = None,
) -> list[int]:
    """One job per ticket, one order slip for the non-ticket lines if any, one receipt; `ticket_ids` only those tickets.

    A reprint replaces the same documents' jobs that are still waiting, so nothing prints twice.
    """
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.")
    if reprint and order.status == "cancelled":
        raise Refused(f"Order {order_id} is cancelled; its tickets are void and are not reprinted.")
    query = select(Ticket).where(Ticket.order_id == order_id, col(Ticket.voided).is_(False))
    if ticket_ids is not None:
        query = query.where(col(Ticket.id).in_(list(ticket_ids)))
    tickets = list(session.exec(query.order_by(col(Ticket.id))))
    jobs = [
        PrintJob(order_id=order_id, ticket_id=ticket.id, kind="ticket", reprint=reprint) for ticket in tickets
    ]
    if ticket_ids is None:
        if _slip_lines(session, order_id):
            jobs.append(PrintJob(order_id=order_id, kind="slip", reprint=reprint))
        jobs.append(PrintJob(order_id=order_id, kind="receipt", reprint=reprint))
    if reprint:
        _replace_waiting(session, order_id, [t.id for t in tickets if t.id], whole_order=ticket_ids is None)
    for job in jobs:
        if at is not None:
            job.created_at = at
        session.add(job)
    session.flush()
    return [job.id for job in jobs if job.id is not None]


def _replace_waiting(session: Session, order_id: int, ticket_ids: list[int], *, whole_order: bool) -> None:
    same: ColumnElement[bool] = col(PrintJob.ticket_id).in_(ticket_ids)
    if whole_order:
        same = or_(same, col(PrintJob.kind).in_(["slip", "receipt"]))
    session.execute(
        update(PrintJob)
        .where(col(PrintJob.order_id) == order_id, col(PrintJob.status).in_(RETRYABLE), same)
        .values(status="cancelled", error="Replaced by a reprint.")
    )


def enqueue_zreport(session: Session, config: Config, shift_id: int, *, reprint: bool = False) -> int:
    """The Z report as a snapshot of the shift's numbers now, printed by run_jobs like any job."""
    doc = load_zreport_doc(session, config, shift_id, reprint=reprint)
    job = PrintJob(kind="zreport", payload=json.dumps(doc.to_json()), reprint=reprint)
    session.add(job)
    session.flush()
    assert job.id is not None
    return job.id


# --- documents from the tables ---------------------------------------------------------------------


def letterhead(config: Config) -> Letterhead:
    return Letterhead(venue_name=config.venue.name, brand_header=config.brand.header)


def load_ticket_doc(session: Session, config: Config, ticket_id: int, *, reprint: bool = False) -> TicketDoc:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} does not exist.")
    if not ticket.code:
        raise Refused(f"Ticket {ticket_id} has no code yet.")
    order = session.get(Order, ticket.order_id)
    article = session.get(Article, ticket.article_id)
    assert order is not None and article is not None
    line = session.get(OrderLine, ticket.order_line_id) if ticket.order_line_id else None
    own_validity = ticket.event_date or ticket.valid_from or ticket.valid_until
    source: Ticket | Article = ticket if own_validity else article
    return TicketDoc(
        letterhead=letterhead(config),
        code=ticket.code,
        ticket_id=ticket_id,
        order_id=ticket.order_id,
        article_name=line.article_name if line else article.name,
        price_cents=line.total_cents // max(line.quantity, 1) if line else article.price_cents,
        issued_at=order.created_at,
        event_date=source.event_date,
        valid_from=source.valid_from,
        valid_until=source.valid_until,
        repeat=ticket.repeat,
        repeat_limit=ticket.repeat_limit,
        holder_name=ticket.holder_name or _customer_name(session, order),
        reprint=reprint,
    )


def _customer_name(session: Session, order: Order) -> str | None:
    if order.customer_id is not None:
        customer = session.get(Customer, order.customer_id)
        if customer is not None:
            return customer.name
    return order.guest_name


def _order(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.")
    return order


def _slip_lines(session: Session, order_id: int) -> list[OrderLine]:
    query = (
        select(OrderLine)
        .join(Article, col(Article.id) == OrderLine.article_id)
        .where(OrderLine.order_id == order_id, col(Article.is_ticket).is_(False))
        .order_by(col(OrderLine.id))
    )
    return list(session.exec(query))


def load_slip_doc(
    session: Session, config: Config, order_id: int, *, reprint: bool = False
) -> SlipDoc | None:
    """The order slip for the non-ticket lines; None when the order has only tickets."""
    order = _order(session, order_id)
    lines = _slip_lines(session, order_id)
    if not lines:
        return None
    return SlipDoc(
        letterhead=letterhead(config),
        order_id=order_id,
        created_at=order.created_at,
        terminal=order.terminal,
        operator=order.operator,
        lines=tuple(SlipLine(quantity=line.quantity, name=line.article_name) for line in lines),
        reprint=reprint,
    )


def load_receipt_doc(session: Session, config: Config, order_id: int, *, reprint: bool = False) -> ReceiptDoc:
    order = _order(session, order_id)
    lines = list(
        session.exec(select(OrderLine).where(OrderLine.order_id == order_id).order_by(col(OrderLine.id)))
    )
    from pos.db.sales import priced_order_lines

    priced = priced_order_lines(session, lines)
    return ReceiptDoc(
        letterhead=letterhead(config),
        order_id=order_id,
        created_at=order.created_at,
        terminal=order.terminal,
        operator=order.operator,
        lines=_merge_receipt_lines(priced),
        vat=vat_groups(priced),
        total_cents=order.total_cents,
        payment_method=order.payment_method,
        given_cents=order.given_cents,
        change_cents=order.change_cents,
        reprint=reprint,
    )


def _merge_receipt_lines(lines: Sequence[PricedLine]) -> tuple[ReceiptLine, ...]:
    """Ten equal tickets are one receipt line '10 x ...', in the order they were sold."""
    merged: dict[tuple[str, int, int, int, str | None], ReceiptLine] = {}
    for line in lines:
        key = (line.name, line.unit_price_cents, line.discount_cents, line.vat_bp, line.promo_code)
        seen = merged.get(key)
        quantity = line.quantity + (seen.quantity if seen else 0)
        merged[key] = ReceiptLine(
            name=line.name,
            quantity=quantity,
            unit_price_cents=line.unit_price_cents,
            discount_cents=line.discount_cents,
            total_cents=line.final_price_cents * quantity,
            vat_bp=line.vat_bp,
            promo_code=line.promo_code,
        )
    return tuple(merged.values())


def load_zreport_doc(session: Session, config: Config, shift_id: int, *, reprint: bool = False) -> ZReportDoc:
    """Sales of a shift by payment method and article group, and the cash the drawer should hold."""
    from pos.db.shifts import shift_report

    report = shift_report(session, shift_id)
    payments = sorted(report.by_payment, key=lambda row: _payment_rank(row.name))
    return ZReportDoc(
        letterhead=letterhead(config),
        shift_id=shift_id,
        terminal=report.terminal,
        operator=report.operator,
        opened_at=report.opened_at,
        closed_at=report.closed_at,
        float_cents=report.float_cents,
        by_payment=tuple(
            PaymentTotal(method=row.name, orders=row.count, cents=row.total_cents) for row in payments
        ),
        by_group=tuple(GroupTotal(group=row.name, cents=row.total_cents) for row in report.by_group),
        cash_sales_cents=report.cash_taken_cents - report.change_cents,
        counted_cents=report.counted_cents,
        cancelled_orders=report.cancelled.count,
        cancelled_cents=report.cancelled.total_cents,
        reprint=reprint,
    )


def _payment_rank(method: str) -> tuple[int, str]:
    """Cash, card, free first, anything else after them by name."""
    return (PAYMENT_ORDER.index(method) if method in PAYMENT_ORDER else len(PAYMENT_ORDER), method)


def load_job_doc(session: Session, config: Config, job: PrintJob) -> Document:
    if job.kind == "ticket" and job.ticket_id is not None:
        return load_ticket_doc(session, config, job.ticket_id, reprint=job.reprint)
    if job.kind == "slip" and job.order_id is not None:
        slip = load_slip_doc(session, config, job.order_id, reprint=job.reprint)
        if slip is None:
            raise Refused(f"Order {job.order_id} has no lines for an order slip.")
        return slip
    if job.kind == "receipt" and job.order_id is not None:
        return load_receipt_doc(session, config, job.order_id, reprint=job.reprint)
    if job.kind == "zreport" and job.payload:
        return ZReportDoc.from_json(json.loads(job.payload))
    raise Refused(f"Print job {job.id} of kind {job.kind!r} has nothing to print.")


def order_docs(session: Session, config: Config, order_id: int) -> list[Document]:
    """Everything an order prints, in print order."""
    tickets = session.exec(
        select(Ticket.id)
        .where(Ticket.order_id == order_id, col(Ticket.voided).is_(False))
        .order_by(col(Ticket.id))
    )
    docs: list[Document] = [load_ticket_doc(session, config, ticket_id) for ticket_id in tickets if ticket_id]
    slip = load_slip_doc(session, config, order_id)
    if slip is not None:
        docs.append(slip)
    docs.append(load_receipt_doc(session, config, order_id))
    return docs


def order_preview(rt: Runtime, order_id: int, *, language: str | None = None) -> str:
    """The text preview of every document of an order, as the TUI shows it before printing."""
    from pos.printing.render import PrintSettings, preview

    settings = PrintSettings.from_config(rt.config, language=language)
    with transaction(rt.engine) as session:
        docs = order_docs(session, rt.config, order_id)
    return "\n\n".join(preview(doc, settings) for doc in docs)


def ticket_attachment(
    session: Session, config: Config, ticket_id: int, *, fmt: str = "png", language: str | None = None
) -> bytes:
    """The ticket as PNG or PDF for e-mail; its barcode and QR code decode to the ticket code."""
    from pos.i18n import venue_language
    from pos.printing.render import ticket_pdf, ticket_png

    doc = load_ticket_doc(session, config, ticket_id)
    lang = venue_language(config.venue, language)
    return ticket_pdf(doc, lang) if fmt == "pdf" else ticket_png(doc, lang)


# --- printing (after the sale committed) --------------------------------------------------------------


@dataclass
class _Claimed:
    job_id: int
    ticket_id: int | None
    doc: Document | None
    error: str | None


def run_jobs(
    rt: Runtime,
    *,
    order_id: int | None = None,
    job_ids: Sequence[int] | None = None,
    retry_stuck: bool = False,
    all_terminals: bool = False,
) -> PrintOutcome:
    """Print waiting jobs (of one order, the given jobs, or all of this terminal) on the configured printer.

    After a printer fault the remaining jobs fail with the same reason instead of each waiting for an
    offline printer; they can all be retried later.
    """
    from pos.printing.printers import PrinterFault, PrinterLink
    from pos.printing.render import PrintSettings, printer_bytes

    statuses = (*RETRYABLE, "printing") if retry_stuck else RETRYABLE
    outcome = PrintOutcome()
    candidates = _candidates(rt, order_id, job_ids, all_terminals, outcome, retry_stuck)
    settings = PrintSettings.from_config(rt.config)
    link = PrinterLink(rt.config.printer)
    fault: str | None = None
    try:
        for job_id in candidates:
            claimed = _claim(rt, job_id, statuses, outcome)
            if claimed is None:
                continue
            reason = fault or claimed.error
            if reason is None and claimed.doc is not None:
                try:
                    data = printer_bytes(claimed.doc, settings)
                    link.send(data)
                except PrinterFault as exc:
                    reason = fault = str(exc)
                except Exception as exc:  # noqa: BLE001 - a bad document fails its job, not the batch
                    reason = f"Print job {job_id} could not be laid out: {exc}."
            _finish(rt, claimed, reason)
            if reason is None:
                outcome.printed.append(job_id)
            else:
                outcome.failed.append((job_id, reason))
    finally:
        link.close()
    return outcome


def _candidates(
    rt: Runtime,
    order_id: int | None,
    job_ids: Sequence[int] | None,
    all_terminals: bool,
    outcome: PrintOutcome,
    retry_stuck: bool,
) -> list[int]:
    query = select(PrintJob.id, PrintJob.status).where(col(PrintJob.status).in_([*RETRYABLE, "printing"]))
    if order_id is not None:
        query = query.where(PrintJob.order_id == order_id)
    if job_ids is not None:
        query = query.where(col(PrintJob.id).in_(list(job_ids)))
    if order_id is None and job_ids is None and not all_terminals:
        query = query.outerjoin(Order, col(Order.id) == PrintJob.order_id).where(
            or_(col(PrintJob.order_id).is_(None), col(Order.terminal) == rt.terminal)
        )
    with transaction(rt.engine) as session:
        rows = list(session.exec(query.order_by(col(PrintJob.id))))
    outcome.stuck = [
        job for job, status in rows if job is not None and status == "printing" and not retry_stuck
    ]
    return [job for job, status in rows if job is not None and (status != "printing" or retry_stuck)]


def _claim(rt: Runtime, job_id: int, statuses: Sequence[str], outcome: PrintOutcome) -> _Claimed | None:
    """pending|failed -> printing for exactly one caller; loads what to print in the same transaction."""
    with transaction(rt.engine) as session:
        job = session.get(PrintJob, job_id)
        if job is None:
            return None
        waiting = (col(PrintJob.id) == job_id, col(PrintJob.status).in_(list(statuses)))
        if _void(session, job):
            result = session.execute(
                update(PrintJob).where(*waiting).values(status="cancelled", error="The order was cancelled.")
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                outcome.cancelled.append(job_id)
            return None
        claim = (
            update(PrintJob).where(*waiting).values(status="printing", attempts=col(PrintJob.attempts) + 1)
        )
        if session.execute(claim).rowcount != 1:  # type: ignore[attr-defined]
            return None  # another terminal claimed it first
        try:
            return _Claimed(job_id, job.ticket_id, load_job_doc(session, rt.config, job), None)
        except PosError as exc:
            return _Claimed(job_id, job.ticket_id, None, str(exc))


def _void(session: Session, job: PrintJob) -> bool:
    if job.order_id is not None:
        order = session.get(Order, job.order_id)
        if order is not None and order.status == "cancelled":
            return True
    if job.ticket_id is not None:
        ticket = session.get(Ticket, job.ticket_id)
        return ticket is not None and ticket.voided
    return False


def _finish(rt: Runtime, claimed: _Claimed, reason: str | None) -> None:
    printing = (col(PrintJob.id) == claimed.job_id, col(PrintJob.status) == "printing")
    with transaction(rt.engine) as session:
        if reason is not None:
            session.execute(update(PrintJob).where(*printing).values(status="failed", error=reason))
            return
        session.execute(
            update(PrintJob).where(*printing).values(status="done", error=None, printed_at=rt.now())
        )
        if claimed.ticket_id is not None:
            session.execute(update(Ticket).where(col(Ticket.id) == claimed.ticket_id).values(printed=True))


# --- reading the queue ------------------------------------------------------------------------------------


def job_json(job: PrintJob, code: str | None = None) -> dict[str, Any]:
    return {
        "id": job.id,
        "order_id": job.order_id,
        "kind": job.kind,
        "ticket_code": code,
        "reprint": job.reprint,
        "status": job.status,
        "attempts": job.attempts,
        "error": job.error,
    }


def list_jobs(
    rt: Runtime, *, order_id: int | None = None, job_ids: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    query = select(PrintJob, Ticket.code).outerjoin(Ticket, col(Ticket.id) == PrintJob.ticket_id)
    if order_id is not None:
        query = query.where(PrintJob.order_id == order_id)
    if job_ids is not None:
        query = query.where(col(PrintJob.id).in_(list(job_ids)))
    with transaction(rt.engine) as session:
        return [job_json(job, code) for job, code in session.exec(query.order_by(col(PrintJob.id)))]


def find_ticket_in_order(session: Session, order_id: int, code: str) -> int:
    ticket = session.exec(select(Ticket).where(Ticket.code == code.strip())).first()
    if ticket is None or ticket.order_id != order_id or ticket.id is None:
        raise NotFound(f"Ticket {code.strip()} is not in order {order_id}.")
    if ticket.voided:
        raise Refused(f"Ticket {code.strip()} is void and is not reprinted.")
    return ticket.id
