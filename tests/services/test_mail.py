"""Tickets by e-mail against a real SMTP server on 127.0.0.1 (aiosmtpd): nothing lost, nothing sent twice."""

from __future__ import annotations

import email
import email.policy
import multiprocessing
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from pos.db.engine import transaction
from pos.db.models import Article, Customer, Order, OutboxMail, Ticket
from pos.domain.ticket_code import make_code
from pos.errors import NotFound, Refused
from pos.runtime import Runtime
from pos.services.delivery import (
    SENDING_LEASE,
    claim,
    enqueue_order_mails,
    queue_resend,
    retry_delay,
    run_sender,
    send_all_pending,
)
from pos.services.delivery import send_batch as send_pending
from tests.factories import ADMIN


class Inbox:
    """An aiosmtpd handler: keeps every accepted message; refuses the first `refuse` DATA commands."""

    def __init__(self, refuse: int = 0, reply: str = "451 4.3.0 try later") -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.refuse = refuse
        self.reply = reply

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            return self.reply
        content = envelope.content  # type: ignore[attr-defined]
        self.messages.append(email.message_from_bytes(content, policy=email.policy.default))  # type: ignore[arg-type]
        self.envelopes.append(list(envelope.rcpt_tos))  # type: ignore[attr-defined]
        return "250 OK"


def list_outbox(rt: Runtime, *, order_id: int | None = None) -> list[OutboxMail]:
    """The outbox rows as stored (the service lists them as JSON)."""
    with transaction(rt.engine) as session:
        query = select(OutboxMail).order_by(OutboxMail.id)
        if order_id is not None:
            query = query.where(OutboxMail.order_id == order_id)
        return list(session.exec(query).all())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def with_smtp(rt: Runtime, port: int) -> Runtime:
    smtp = rt.config.smtp.model_copy(update={"host": "127.0.0.1", "port": port, "security": "none"})
    config = rt.config.model_copy(update={"smtp": smtp})
    return Runtime(config=config, database_url=rt.database_url, operator=rt.operator, clock=rt.clock)


def make_order(rt: Runtime, *, tickets: int = 2, guest_email: str | None = "anna@example.org") -> int:
    """An order with tickets written straight through the models (the sale itself is tested elsewhere)."""
    secret = rt.config.brand_secret()
    with transaction(rt.engine) as session:
        article = session.exec(select(Article).where(Article.name == "Konzert 15.01.2027")).first()
        if article is None:
            article = Article(name="Konzert 15.01.2027", price_cents=4990, is_ticket=True)
            session.add(article)
            session.flush()
        order = Order(guest_name="Anna Müller", guest_email=guest_email, total_cents=4990 * tickets)
        session.add(order)
        session.flush()
        for _ in range(tickets):
            ticket = Ticket(brand="1000", order_id=order.id, article_id=article.id, holder_name="Anna Müller")
            session.add(ticket)
            session.flush()
            ticket.code = make_code("1000", ticket.id, secret)
        assert order.id is not None
        order_id = order.id
        enqueue_order_mails(session, rt, order_id)
    return order_id


def codes_of(rt: Runtime, order_id: int) -> list[str]:
    with transaction(rt.engine) as session:
        return [
            t.code
            for t in session.exec(select(Ticket).where(Ticket.order_id == order_id).order_by(Ticket.id))
        ]


def statuses(rt: Runtime) -> list[str]:
    return [m.status for m in list_outbox(rt)]


def test_one_mail_per_ticket_with_code_and_subject(rt, smtp_server: SmtpServer) -> None:
    rt = with_smtp(rt, smtp_server.port)
    order_id = make_order(rt)
    outcome = send_pending(rt)
    assert outcome.failed == [] and len(outcome.sent) == 2
    assert statuses(rt) == ["sent", "sent"]
    messages = smtp_server.inbox.messages
    assert len(messages) == 2
    assert smtp_server.inbox.envelopes == [["anna@example.org"], ["anna@example.org"]]
    bodies = [m.get_body(("plain",)).get_content() for m in messages]
    for body, code in zip(bodies, codes_of(rt, order_id), strict=True):
        assert code in body
        assert "Hello Anna Müller" in body
    assert messages[0]["Subject"] == f"Your tickets, order {order_id}"
    assert messages[0]["To"] == "anna@example.org"
    assert send_pending(rt).claimed == 0  # nothing is sent twice
    assert len(smtp_server.inbox.messages) == 2


def test_german_templates_follow_the_venue_language(rt, smtp_server: SmtpServer) -> None:
    rt = with_smtp(rt, smtp_server.port)
    venue = rt.config.venue.model_copy(update={"language": "de"})
    rt = Runtime(rt.config.model_copy(update={"venue": venue}), rt.database_url, clock=rt.clock)
    order_id = make_order(rt, tickets=1)
    send_pending(rt)
    (message,) = smtp_server.inbox.messages
    assert message["Subject"] == f"Ihre Tickets, Bestellung {order_id}"
    assert message.get_body(("plain",)).get_content().startswith("Guten Tag Anna Müller,")


def test_refusing_server_then_accepting_loses_nothing_and_sends_once(
    rt, smtp_server: SmtpServer, clock
) -> None:
    rt = with_smtp(rt, smtp_server.port)
    smtp_server.inbox.refuse = 3  # two mails refused in the first round, one in the second
    make_order(rt)
    first = send_pending(rt)
    assert first.sent == [] and [reason for _, reason in first.failed] == ["451 4.3.0 try later"] * 2
    assert statuses(rt) == ["failed", "failed"]
    assert send_pending(rt).claimed == 0  # back-off: not due yet
    clock.now += retry_delay(1)
    second = send_pending(rt)
    assert len(second.sent) == 1 and len(second.failed) == 1
    clock.now += retry_delay(1)
    assert send_pending(rt).claimed == 0  # the second failure waits twice as long
    clock.now += retry_delay(2)
    third = send_pending(rt)
    assert len(third.sent) == 1 and third.failed == []
    mails = list_outbox(rt)
    assert [m.status for m in mails] == ["sent", "sent"]
    assert sorted(m.attempts for m in mails) == [2, 3]
    assert len(smtp_server.inbox.messages) == 2
    codes = {m.get_body(("plain",)).get_content() for m in smtp_server.inbox.messages}
    assert len(codes) == 2  # two different tickets, each exactly once


def test_unreachable_server_keeps_the_mails(rt, clock) -> None:
    port = free_port()
    rt = with_smtp(rt, port)
    make_order(rt, tickets=1)
    outcome = send_pending(rt)
    assert outcome.sent == [] and "SMTP server unreachable" in outcome.failed[0][1]
    assert statuses(rt) == ["failed"]
    server = SmtpServer(port)
    server.start()
    try:
        clock.now += retry_delay(1)
        assert len(send_pending(rt).sent) == 1
        assert len(server.inbox.messages) == 1
    finally:
        server.stop()


def test_resend_sends_a_second_copy_on_purpose(rt, smtp_server: SmtpServer) -> None:
    rt = with_smtp(rt, smtp_server.port)
    order_id = make_order(rt)
    send_pending(rt)
    with transaction(rt.engine) as session:
        assert enqueue_order_mails(session, rt, order_id) == []  # queuing again without resend adds nothing
    queued = queue_resend(rt, ADMIN, order_id)
    assert len(queued) == 2
    assert len(send_all_pending(rt, order_id=order_id).sent) == 2
    mails = list_outbox(rt, order_id=order_id)
    first, second = sorted({m.ticket_id for m in mails})
    assert sorted((m.ticket_id, m.generation) for m in mails) == [
        (first, 0),
        (first, 1),
        (second, 0),
        (second, 1),
    ]
    assert {m.status for m in mails} == {"sent"}
    assert len(smtp_server.inbox.messages) == 4
    ids = [m["Message-ID"] for m in smtp_server.inbox.messages]
    assert len(set(ids)) == 4


def test_resend_refusals(rt) -> None:
    no_mail = make_order(rt, guest_email=None)
    with pytest.raises(Refused, match=f"Order {no_mail} has no e-mail address"):
        queue_resend(rt, ADMIN, no_mail)
    with pytest.raises(NotFound, match="Order 999 does not exist"):
        queue_resend(rt, ADMIN, 999)
    cancelled = make_order(rt)
    with transaction(rt.engine) as session:
        order = session.get(Order, cancelled)
        order.status = "cancelled"
        session.add(order)
    with pytest.raises(Refused, match="is cancelled"):
        queue_resend(rt, ADMIN, cancelled)


def test_customer_record_email_wins_and_voided_tickets_are_not_sent(rt) -> None:
    with transaction(rt.engine) as session:
        customer = Customer(name="Ben", email="ben@example.org")
        session.add(customer)
        session.flush()
        customer_id = customer.id
    order_id = make_order(rt, guest_email=None)
    with transaction(rt.engine) as session:
        order = session.get(Order, order_id)
        order.customer_id = customer_id
        session.add(order)
        first = session.exec(select(Ticket).where(Ticket.order_id == order_id).order_by(Ticket.id)).first()
        first.voided = True
        session.add(first)
    queue_resend(rt, ADMIN, order_id)
    assert [(m.recipient, m.ticket_id != first.id) for m in list_outbox(rt)] == [("ben@example.org", True)]


def test_unique_ticket_generation_in_the_database(rt) -> None:
    order_id = make_order(rt, tickets=1)
    from sqlalchemy.exc import IntegrityError

    (mail,) = list_outbox(rt)
    with pytest.raises(IntegrityError), transaction(rt.engine) as session:
        session.add(
            OutboxMail(order_id=order_id, ticket_id=mail.ticket_id, generation=0, recipient="x@example.org")
        )


def test_retry_delay_doubles_and_is_capped() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(50) == timedelta(hours=1)


def test_a_dead_senders_lease_expires(rt, clock) -> None:
    make_order(rt, tickets=1)
    (claimed,) = claim(rt)
    assert claim(rt) == []
    clock.now += SENDING_LEASE
    assert claim(rt) == [claimed]


def test_send_pending_needs_a_host(rt) -> None:
    with pytest.raises(Refused, match=r"set \[smtp\] host"):
        send_pending(rt)


def test_sender_loop_delivers_and_stops(rt, smtp_server: SmtpServer) -> None:
    import threading

    rt = with_smtp(rt, smtp_server.port)
    make_order(rt, tickets=1)
    stop = threading.Event()
    thread = threading.Thread(target=run_sender, args=(rt, stop), kwargs={"interval": 0.05})
    thread.start()
    try:
        for _ in range(100):
            if statuses(rt) == ["sent"]:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert statuses(rt) == ["sent"] and len(smtp_server.inbox.messages) == 1


def _claim_all(url: str, at: datetime, ready: Any, go: Any, out: Any) -> None:
    from tests.conftest import test_config

    rt = Runtime(config=test_config(), database_url=url, clock=lambda: at)
    rt.engine.connect().close()  # warm up before the start signal, so the workers really race
    ready.put(True)
    go.wait(30)
    got: list[int] = []
    while batch := claim(rt, limit=1):
        got.extend(batch)
        time.sleep(0.01)  # "sending": lets the other workers claim in between
    out.put(got)
    rt.engine.dispose()


def test_concurrent_senders_never_claim_the_same_mail(rt, clock) -> None:
    for _ in range(6):
        make_order(rt, tickets=5)
    context = multiprocessing.get_context("spawn")
    ready, queue, go = context.Queue(), context.Queue(), context.Event()
    workers = [
        context.Process(target=_claim_all, args=(rt.database_url, clock.now, ready, go, queue))
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=60)
    go.set()
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    claimed = [mail_id for result in results for mail_id in result]
    assert sorted(claimed) == sorted(m.id for m in list_outbox(rt))
    assert len(claimed) == len(set(claimed)) == 30
