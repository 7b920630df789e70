"""Tickets by e-mail through an outbox: queued in the sale's transaction, sent afterwards, retried with back-off.

One outbox row per ticket and generation (unique), so a ticket's mail is never queued twice unless it is
resent on purpose (a new generation). Sending claims rows atomically (pending/failed and due -> sending),
so two senders never take the same row; a failed send goes back with a later `next_attempt_at`. A sender that
dies mid-send leaves its rows in `sending` with a lease as their `next_attempt_at`; after the lease they are
claimed again (at-least-once then; the Message-ID stays the same so a mail client can drop the duplicate).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pos.config import Smtp
from pos.db import audit
from pos.db.engine import transaction
from pos.db.models import Article, Customer, Order, OutboxMail, Ticket
from pos.errors import NotFound, Refused
from pos.runtime import Runtime

log = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 3600
SENDING_LEASE = timedelta(minutes=10)
SMTP_TIMEOUT_SECONDS = 20
ERROR_CHARS = 500


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


# ---- queueing (inside the caller's transaction) ----


def order_recipient(session: Session, order: Order) -> tuple[str | None, str | None]:
    """(e-mail, name) of the order's customer record, else of its guest."""
    if order.customer_id is not None:
        customer = session.get(Customer, order.customer_id)
        if customer is not None and customer.email:
            return customer.email, customer.name
    if order.guest_email:
        return order.guest_email, order.guest_name
    return None, None


def enqueue_order_mails(session: Session, rt: Runtime, order_id: int, *, resend: bool = False) -> list[int]:
    """Queue one mail per valid ticket of the order; [] when no e-mail address is known.

    Without `resend` a ticket that already has a mail is skipped (calling twice queues nothing new);
    with it every ticket gets a new generation, i.e. a deliberate second copy.
    """
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.")
    email, _name = order_recipient(session, order)
    if resend and order.status == "cancelled":
        raise Refused(f"Order {order_id} is cancelled; its tickets are void and are not sent again.")
    if email is None:
        if resend:
            raise Refused(f"Order {order_id} has no e-mail address (neither a customer's nor a guest's).")
        return []
    tickets = session.exec(
        select(Ticket.id)
        .where(Ticket.order_id == order_id, col(Ticket.voided).is_(False))
        .order_by(col(Ticket.id))
    ).all()
    if not tickets:
        if resend:
            raise Refused(f"Order {order_id} has no valid tickets to send.")
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


def resend_order(rt: Runtime, order_id: int) -> list[int]:
    """A new generation for each ticket: the customer gets the tickets again, on purpose."""
    try:
        with transaction(rt.engine) as session:
            ids = enqueue_order_mails(session, rt, order_id, resend=True)
            audit.record(session, rt, "order.resend", f"order {order_id}", after={"mails": ids})
    except IntegrityError:
        raise Refused(f"Order {order_id} is being resent by another terminal right now; try again.") from None
    return ids


# ---- sending (after commit) ----


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


def send_pending(rt: Runtime, *, limit: int = 50, order_id: int | None = None) -> SendOutcome:
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
        step = send_pending(rt, limit=batch, order_id=order_id)
        outcome.extend(step)
        if step.claimed < batch:
            return outcome


def send_after_sale(rt: Runtime, order_id: int | None, mail_ids: Sequence[int]) -> str | None:
    """Send a just-committed order's mails when SMTP is set up; a failure is a warning, the outbox retries."""
    if not mail_ids or order_id is None or not mail_enabled(rt):
        return None
    from pos.errors import PosError

    try:
        outcome = send_all_pending(rt, order_id=order_id)
    except PosError as exc:
        reason = str(exc)
    else:
        if not outcome.failed:
            return None
        reason = outcome.failed[0][1]
    reason = reason.strip().rstrip(".")
    return f"its e-mail is not sent yet ({reason}); `pos mail send-pending` or `pos mail worker` retries it."


def connect_problem(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"TLS with the SMTP server failed: {exc.reason or exc}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"SMTP login refused: {describe_smtp_error(exc)}"
    if isinstance(exc, smtplib.SMTPException):
        return f"SMTP server refused the session: {describe_smtp_error(exc)}"
    return f"SMTP server unreachable: {describe_smtp_error(exc)}"


def describe_smtp_error(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [f"{code} {_text(message)}" for code, message in exc.recipients.values()]
        return f"recipient refused ({'; '.join(codes)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def connect(smtp: Smtp) -> smtplib.SMTP:
    client: smtplib.SMTP
    if smtp.security == "ssl":
        client = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if smtp.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            client.login(smtp.user, smtp.password)
    except BaseException:
        client.close()
        raise
    return client


# ---- the message ----


class _Template(dict[str, str]):
    """Unknown placeholders stay as written instead of failing the send."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _render(template: str, values: dict[str, str]) -> str:
    try:
        return template.format_map(_Template(values))
    except (ValueError, IndexError, AttributeError):
        return template


def build_mail(rt: Runtime, mail_id: int) -> MailContent:
    with transaction(rt.engine) as session:
        mail = session.get(OutboxMail, mail_id)
        if mail is None or mail.ticket_id is None:
            raise NotFound(f"Outbox mail {mail_id} has no ticket.")
        ticket = session.get(Ticket, mail.ticket_id)
        order = session.get(Order, mail.order_id)
        if ticket is None or order is None or ticket.code is None:
            raise NotFound(f"The ticket of outbox mail {mail_id} is gone.")
        article = session.get(Article, ticket.article_id)
        _email, name = order_recipient(session, order)
        language = mail.language if mail.language in ("de", "en") else rt.config.venue.language
        attachment = ticket_attachment(rt, session, ticket, language)
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
    body = _render(getattr(smtp, f"body_{language}"), values)
    if ticket.code not in body:
        body = body.rstrip("\n") + f"\n\n{values['codes']}\n"
    message = EmailMessage()
    message["Subject"] = _render(getattr(smtp, f"subject_{language}"), values)
    message["From"] = smtp.sender
    message["To"] = mail.recipient
    message["Date"] = formatdate(rt.now().timestamp(), localtime=False)
    message["Message-ID"] = f"<ticket-{ticket.id}.{mail.generation}@{_domain(smtp.sender)}>"
    message.set_content(body)
    if attachment is not None:
        data, mime, filename = attachment
        maintype, subtype = mime.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return MailContent(mail_id=mail_id, recipient=mail.recipient, message=message)


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip(" >") or "localhost"


def ticket_attachment(
    rt: Runtime, session: Session, ticket: Ticket, language: str
) -> tuple[bytes, str, str] | None:
    """(bytes, MIME type, file name): the ticket as a PNG whose barcode a phone screen shows at the door."""
    try:
        from pos.db.printjobs import ticket_attachment as render_ticket
    except ImportError:  # the printing module is optional for mail: the code is in the text anyway
        return None
    if ticket.id is None:
        return None
    data = render_ticket(session, rt.config, ticket.id, fmt="png", language=language)
    return data, "image/png", f"ticket-{ticket.code}.png"


# ---- background sender ----


def run_sender(rt: Runtime, stop_event: threading.Event, *, interval: float = 10.0) -> None:
    """Loop for a background thread or worker: send what is due, then wait; ends when stop_event is set."""
    while not stop_event.is_set():
        busy = False
        if mail_enabled(rt):
            try:
                busy = send_pending(rt).claimed > 0
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
    from pos.domain.clock import iso_local

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


def list_outbox(rt: Runtime, *, order_id: int | None = None, status: str | None = None) -> list[OutboxMail]:
    with transaction(rt.engine) as session:
        query = select(OutboxMail).order_by(col(OutboxMail.id))
        if order_id is not None:
            query = query.where(OutboxMail.order_id == order_id)
        if status is not None:
            query = query.where(OutboxMail.status == status)
        return list(session.exec(query).all())
