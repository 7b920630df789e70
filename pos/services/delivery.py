"""Delivery after the sale: the print queue and the mail outbox, both written in the sale's transaction.

Print jobs go pending -> printing -> done, or -> failed with a one-sentence reason and can be retried. Claiming
is one conditional UPDATE checked by its row count, so two terminals (or a retry racing a sale) never print the
same job twice. A process killed while printing leaves the job in 'printing': it is reported as stuck and only
retried when asked to (it may have printed). Jobs of a cancelled order or a void ticket are cancelled instead of
printed. Nothing here holds a transaction open while the printer works.

Mails: one outbox row per ticket and generation (unique), so a ticket's mail is never queued twice unless it is
resent on purpose. Sending claims rows atomically (pending/failed and due -> sending); a failed send goes back
with a later `next_attempt_at` (30 s, doubling, at most an hour). A sender that dies mid-send leaves its rows in
`sending` with a lease; after the lease they are claimed again (the Message-ID stays the same).
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pos.db import audit
from pos.db.engine import transaction
from pos.db.models import Article, Order, OutboxMail, PrintJob, Ticket
from pos.db.orders import customer_of, load_order
from pos.devices.printers import PrinterFault, PrinterLink
from pos.domain.clock import iso_local
from pos.domain.roles import Role
from pos.errors import NotFound, PosError, Refused
from pos.mail.smtp import connect, connect_problem, describe_smtp_error, ticket_message
from pos.printing.documents import Document
from pos.printing.render import PrintSettings, printer_bytes
from pos.runtime import Runtime
from pos.services.base import Actor, require
from pos.services.documents import load_job_doc, slip_lines, ticket_attachment

log = logging.getLogger(__name__)

RETRYABLE = ("pending", "failed")
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 3600
SENDING_LEASE = timedelta(minutes=10)
ERROR_CHARS = 500


@dataclass(frozen=True)
class JobProblem:
    """A job that did not print: what it was (kind, ticket code) and why, as an error every face can word."""

    job_id: int
    kind: str
    ticket_code: str | None
    reason: PosError


@dataclass
class PrintOutcome:
    printed: list[int] = field(default_factory=list)
    failed: list[JobProblem] = field(default_factory=list)
    stuck: list[int] = field(default_factory=list)  # left in 'printing' by a process that died
    cancelled: list[int] = field(default_factory=list)  # jobs of a cancelled order or a void ticket

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def retry_job_ids(self) -> tuple[int, ...]:
        """What a retry key prints again: the failed jobs (a stuck job may have printed, so only on request)."""
        return tuple(problem.job_id for problem in self.failed)

    def to_json(self) -> dict[str, Any]:
        return {
            "printed": self.printed,
            "failed": [{"id": p.job_id, "reason": str(p.reason)} for p in self.failed],
            "stuck": self.stuck,
            "cancelled": self.cancelled,
        }


# --- queueing (inside the caller's transaction) -------------------------------------------------


def enqueue_order_print(
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
    order = load_order(session, order_id)
    if reprint and order.status == "cancelled":
        raise Refused("Order {id} is cancelled; its tickets are void and are not reprinted.", id=order_id)
    query = select(Ticket).where(Ticket.order_id == order_id)
    if (
        order.status != "training"
    ):  # a training sale's tickets are void from the start, and print marked as such
        query = query.where(col(Ticket.voided).is_(False))
    if ticket_ids is not None:
        query = query.where(col(Ticket.id).in_(list(ticket_ids)))
    tickets = list(session.exec(query.order_by(col(Ticket.id))))
    jobs = [
        PrintJob(order_id=order_id, ticket_id=ticket.id, kind="ticket", reprint=reprint) for ticket in tickets
    ]
    if ticket_ids is None:
        if slip_lines(session, order_id):
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


def enqueue_payload_print(
    session: Session, kind: str, payload: dict[str, Any], *, order_id: int | None = None
) -> int:
    """A document kept as a snapshot (a shift report, a return slip, a cash slip), printed by run_jobs like any job."""
    job = PrintJob(kind=kind, payload=json.dumps(payload), order_id=order_id)
    session.add(job)
    session.flush()
    assert job.id is not None
    return job.id


def attach_fiscal(session: Session, job_ids: Sequence[int], fiscal: dict[str, Any] | None) -> None:
    """Put a journal line's signature into the snapshot documents printed for it (a return or cash slip)."""
    if fiscal is None:
        return
    for job in session.exec(select(PrintJob).where(col(PrintJob.id).in_(list(job_ids)))):
        if job.payload:
            data = json.loads(job.payload)
            data["fiscal"] = fiscal
            job.payload = json.dumps(data)
            session.add(job)


# --- printing (after the sale committed) --------------------------------------------------------------


@dataclass
class _Claimed:
    job_id: int
    kind: str
    ticket_id: int | None
    ticket_code: str | None
    doc: Document | None
    error: PosError | None


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
    statuses = (*RETRYABLE, "printing") if retry_stuck else RETRYABLE
    outcome = PrintOutcome()
    candidates = _candidates(rt, order_id, job_ids, all_terminals, outcome, retry_stuck)
    settings = PrintSettings.from_config(rt.config)
    link = PrinterLink(rt.config.printer)
    fault: PosError | None = None
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
                    reason = fault = exc
                except Exception as exc:  # noqa: BLE001 - a bad document fails its job, not the batch
                    reason = PosError("Print job {id} could not be laid out: {error}.", id=job_id, error=exc)
            _finish(rt, claimed, None if reason is None else str(reason))
            if reason is None:
                outcome.printed.append(job_id)
            else:
                outcome.failed.append(JobProblem(job_id, claimed.kind, claimed.ticket_code, reason))
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
        ticket = session.get(Ticket, job.ticket_id) if job.ticket_id is not None else None
        code = ticket.code if ticket is not None else None
        try:
            return _Claimed(
                job_id, job.kind, job.ticket_id, code, load_job_doc(session, rt.config, job), None
            )
        except PosError as exc:
            return _Claimed(job_id, job.kind, job.ticket_id, code, None, exc)


def _void(session: Session, job: PrintJob) -> bool:
    """A job of a cancelled order or a void ticket is not printed (a training sale prints, marked as such)."""
    order = session.get(Order, job.order_id) if job.order_id is not None else None
    if order is not None and order.status == "training":
        return False
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


# --- use cases --------------------------------------------------------------------------------------


def print_order(rt: Runtime, actor: Actor, order_id: int) -> PrintOutcome:
    """Print the order's waiting jobs (tickets, order slip, receipt; a cash receipt opens the drawer)."""
    require(actor, Role.CASHIER, "print")
    return run_jobs(rt, order_id=order_id)


def retry_print(rt: Runtime, actor: Actor, job_ids: Sequence[int]) -> PrintOutcome:
    require(actor, Role.CASHIER, "print")
    return run_jobs(rt, job_ids=list(job_ids))


def print_pending(
    rt: Runtime, actor: Actor, *, retry_stuck: bool = False, all_terminals: bool = False
) -> PrintOutcome:
    """Jobs that failed or never ran (printer offline, paper out), each printed once."""
    require(actor, Role.CASHIER, "print")
    return run_jobs(rt, retry_stuck=retry_stuck, all_terminals=all_terminals)


def send_pending(rt: Runtime, actor: Actor, *, order_id: int | None = None) -> SendOutcome:
    """Send what is due now (all of it, or one order's mails)."""
    require(actor, Role.CASHIER, "send e-mail")
    return send_all_pending(rt, order_id=order_id)


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
        raise NotFound("Ticket {code} is not in order {id}.", code=code.strip(), id=order_id)
    if ticket.voided:
        raise Refused("Ticket {code} is void and is not reprinted.", code=code.strip())
    return ticket.id


# --- mail ---------------------------------------------------------------------------------------------


@dataclass
class SendOutcome:
    sent: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)  # (outbox id, one-sentence reason)

    @property
    def claimed(self) -> int:
        return len(self.sent) + len(self.failed)

    def extend(self, other: SendOutcome) -> None:
        self.sent.extend(other.sent)
        self.failed.extend(other.failed)


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    exponent = max(attempts - 1, 0)
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** min(exponent, 20), RETRY_CAP_SECONDS))


def mail_enabled(rt: Runtime) -> bool:
    return bool(rt.config.smtp.host.strip())


def enqueue_order_mails(session: Session, rt: Runtime, order_id: int, *, resend: bool = False) -> list[int]:
    """Queue one mail per valid ticket of the order; [] when no e-mail address is known.

    Without `resend` a ticket that already has a mail is skipped (calling twice queues nothing new);
    with it every ticket gets a new generation, i.e. a deliberate second copy.
    """
    order = load_order(session, order_id)
    _name, email = customer_of(session, order)
    if resend and order.status == "cancelled":
        raise Refused("Order {id} is cancelled; its tickets are void and are not sent again.", id=order_id)
    if email is None:
        if resend:
            raise Refused(
                "Order {id} has no e-mail address (neither a customer's nor a guest's).", id=order_id
            )
        return []
    tickets = session.exec(
        select(Ticket.id)
        .where(Ticket.order_id == order_id, col(Ticket.voided).is_(False))
        .order_by(col(Ticket.id))
    ).all()
    if not tickets:
        if resend:
            raise Refused("Order {id} has no valid tickets to send.", id=order_id)
        return []
    latest = dict(
        session.exec(
            select(OutboxMail.ticket_id, func.max(OutboxMail.generation))
            .where(OutboxMail.order_id == order_id)
            .group_by(col(OutboxMail.ticket_id))
        ).all()
    )
    now = rt.now()
    rows = []
    for ticket_id in tickets:
        if ticket_id in latest and not resend:
            continue
        generation = latest[ticket_id] + 1 if ticket_id in latest else 0
        rows.append(
            OutboxMail(
                order_id=order_id,
                ticket_id=ticket_id,
                generation=generation,
                recipient=email,
                language=rt.config.venue.language,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows if row.id is not None]


def queue_resend(rt: Runtime, actor: Actor, order_id: int) -> list[int]:
    """A new generation for each ticket: the customer gets the tickets again, on purpose."""
    try:
        with transaction(rt.engine) as session:
            ids = enqueue_order_mails(session, rt, order_id, resend=True)
            audit.record(
                session, rt, "order.resend", f"order {order_id}", after={"mails": ids}, by=actor.name
            )
    except IntegrityError:
        raise Refused(
            "Order {id} is being resent by another terminal right now; try again.", id=order_id
        ) from None
    return ids


def _due(now: datetime) -> Any:
    return and_(
        or_(
            col(OutboxMail.status).in_(("pending", "failed")),
            col(OutboxMail.status) == "sending",  # an expired lease: its sender died
        ),
        col(OutboxMail.next_attempt_at) <= now,
    )


def claim(rt: Runtime, *, limit: int = 50, order_id: int | None = None) -> list[int]:
    """Atomically move due rows to `sending`; the conditional UPDATE decides who gets a row."""
    with transaction(rt.engine) as session:
        now = rt.now()
        query = (
            select(OutboxMail.id)
            .where(_due(now))
            .order_by(col(OutboxMail.id))
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL: pass over rows another sender is claiming
        )
        if order_id is not None:
            query = query.where(OutboxMail.order_id == order_id)
        candidates = list(session.exec(query).all())
        if not candidates:
            return []
        claimed = session.exec(
            update(OutboxMail)
            .where(col(OutboxMail.id).in_(candidates), _due(now))
            .values(status="sending", attempts=OutboxMail.attempts + 1, next_attempt_at=now + SENDING_LEASE)
            .returning(col(OutboxMail.id))
        ).all()
        return sorted(row[0] for row in claimed)


def _mark_sent(rt: Runtime, mail_id: int) -> None:
    with transaction(rt.engine) as session:
        session.exec(
            update(OutboxMail)
            .where(col(OutboxMail.id) == mail_id, col(OutboxMail.status) == "sending")
            .values(status="sent", sent_at=rt.now(), error=None)
        )


def _mark_failed(rt: Runtime, mail_id: int, reason: str) -> None:
    with transaction(rt.engine) as session:
        mail = session.get(OutboxMail, mail_id)
        if mail is None or mail.status != "sending":
            return
        mail.status = "failed"
        mail.error = reason[:ERROR_CHARS]
        mail.next_attempt_at = rt.now() + retry_delay(mail.attempts)
        session.add(mail)


@dataclass(frozen=True)
class MailContent:
    mail_id: int
    recipient: str
    message: EmailMessage


def send_batch(rt: Runtime, *, limit: int = 50, order_id: int | None = None) -> SendOutcome:
    """Send one batch of due mails over one SMTP connection. An outage marks them failed; nothing is lost."""
    if not mail_enabled(rt):
        raise Refused("E-mail delivery is off; set [smtp] host in the config.")
    outcome = SendOutcome()
    ids = claim(rt, limit=limit, order_id=order_id)
    if not ids:
        return outcome
    contents: list[MailContent] = []
    for mail_id in ids:
        try:
            contents.append(build_mail(rt, mail_id))
        except Exception as exc:  # noqa: BLE001 - one bad mail must not block the rest of the batch
            _fail(rt, outcome, mail_id, f"the mail could not be built: {exc}")
    if not contents:
        return outcome
    try:
        client = connect(rt.config.smtp)
    except (OSError, smtplib.SMTPException) as exc:
        for content in contents:
            _fail(rt, outcome, content.mail_id, connect_problem(exc))
        return outcome
    try:
        _deliver(rt, client, contents, outcome)
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return outcome


def _deliver(
    rt: Runtime, client: smtplib.SMTP, contents: Sequence[MailContent], outcome: SendOutcome
) -> None:
    for index, content in enumerate(contents):
        try:
            client.send_message(content.message, to_addrs=[content.recipient])
        except smtplib.SMTPServerDisconnected as exc:
            for rest in contents[index:]:
                _fail(rt, outcome, rest.mail_id, f"SMTP server disconnected: {describe_smtp_error(exc)}")
            return
        except (OSError, smtplib.SMTPException) as exc:
            _fail(rt, outcome, content.mail_id, describe_smtp_error(exc))
            continue
        _mark_sent(rt, content.mail_id)
        outcome.sent.append(content.mail_id)


def _fail(rt: Runtime, outcome: SendOutcome, mail_id: int, reason: str) -> None:
    log.info("mail %s not sent: %s", mail_id, reason)
    _mark_failed(rt, mail_id, reason)
    outcome.failed.append((mail_id, reason))


def send_all_pending(rt: Runtime, *, order_id: int | None = None, batch: int = 50) -> SendOutcome:
    """Batches until nothing is due; a failed mail is due only after its back-off, so this ends."""
    outcome = SendOutcome()
    while True:
        step = send_batch(rt, limit=batch, order_id=order_id)
        outcome.extend(step)
        if step.claimed < batch:
            return outcome


def send_order_mails(rt: Runtime, order_id: int) -> str | None:
    """Send a just-committed order's mails; the reason when one did not go out (the outbox retries it)."""
    try:
        outcome = send_all_pending(rt, order_id=order_id)
    except PosError as exc:
        reason = str(exc)
    else:
        if not outcome.failed:
            return None
        reason = outcome.failed[0][1]
    return reason.strip().rstrip(".")


def build_mail(rt: Runtime, mail_id: int) -> MailContent:
    with transaction(rt.engine) as session:
        mail = session.get(OutboxMail, mail_id)
        if mail is None or mail.ticket_id is None:
            raise NotFound("Outbox mail {id} has no ticket.", id=mail_id)
        ticket = session.get(Ticket, mail.ticket_id)
        order = session.get(Order, mail.order_id)
        if ticket is None or order is None or ticket.code is None:
            raise NotFound("The ticket of outbox mail {id} is gone.", id=mail_id)
        article = session.get(Article, ticket.article_id)
        name, _email = customer_of(session, order)
        language = mail.language if mail.language in ("de", "en") else rt.config.venue.language
        attachment = _attachment(rt, session, ticket, language)
    smtp = rt.config.smtp
    article_name = article.name if article else ""
    values = {
        "order_id": str(order.id),
        "name": ticket.holder_name or name or mail.recipient,
        "codes": f"{article_name}: {ticket.code}" if article_name else ticket.code,
        "code": ticket.code,
        "article": article_name,
        "venue": rt.config.venue.name,
    }
    message = ticket_message(
        smtp,
        language=language,
        recipient=mail.recipient,
        values=values,
        code=ticket.code,
        message_id=f"ticket-{ticket.id}.{mail.generation}",
        sent_at=rt.now().timestamp(),
        attachment=attachment,
    )
    return MailContent(mail_id=mail_id, recipient=mail.recipient, message=message)


def _attachment(
    rt: Runtime, session: Session, ticket: Ticket, language: str
) -> tuple[bytes, str, str] | None:
    """(bytes, MIME type, file name): the ticket as a PNG whose barcode a phone screen shows at the door."""
    if ticket.id is None:
        return None
    data = ticket_attachment(session, rt.config, ticket.id, fmt="png", language=language)
    return data, "image/png", f"ticket-{ticket.code}.png"


# ---- background sender ----


def run_sender(rt: Runtime, stop_event: threading.Event, *, interval: float = 10.0) -> None:
    """Loop for a background thread or worker: send what is due, then wait; ends when stop_event is set."""
    while not stop_event.is_set():
        busy = False
        if mail_enabled(rt):
            try:
                busy = send_batch(rt).claimed > 0
            except Exception:  # noqa: BLE001 - a sender thread must survive a database hiccup
                log.exception("mail sender: sending failed; trying again in %s s", interval)
        if not busy:
            stop_event.wait(interval)


def start_sender(rt: Runtime, *, interval: float = 10.0) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_sender, args=(rt, stop), kwargs={"interval": interval}, name="pos-mail-sender", daemon=True
    )
    thread.start()
    return thread, stop


def outbox_json(mail: OutboxMail, rt: Runtime) -> dict[str, Any]:
    zone = rt.config.venue.zone
    return {
        "id": mail.id,
        "order_id": mail.order_id,
        "ticket_id": mail.ticket_id,
        "generation": mail.generation,
        "recipient": mail.recipient,
        "status": mail.status,
        "attempts": mail.attempts,
        "next_attempt_at": iso_local(mail.next_attempt_at, zone),
        "sent_at": iso_local(mail.sent_at, zone),
        "error": mail.error,
    }


def list_outbox(
    rt: Runtime, actor: Actor, *, order_id: int | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """The outbox as `pos mail list` shows it: sent, waiting for a retry and why."""
    require(actor, Role.CASHIER, "read the mail outbox")
    with transaction(rt.engine) as session:
        query = select(OutboxMail).order_by(col(OutboxMail.id))
        if order_id is not None:
            query = query.where(OutboxMail.order_id == order_id)
        if status is not None:
            query = query.where(OutboxMail.status == status)
        return [outbox_json(mail, rt) for mail in session.exec(query).all()]
