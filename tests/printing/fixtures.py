"""Printing test helpers: orders written straight through the models, and a fake network printer on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from pos.db.engine import transaction
from pos.db.models import Article, Order, OrderLine, Ticket
from pos.domain.ticket_code import make_code
from pos.runtime import Runtime
from tests.factories import add_article

PAPER_QUERY = b"\x10\x04\x04"
PAPER_OK = b"\x12"
PAPER_OUT = b"\x72"


@dataclass
class SoldOrder:
    id: int
    codes: list[str]
    ticket_ids: list[int]


def article(
    rt: Runtime, name: str, price_cents: int, *, ticket: bool = False, vat_bp: int = 1900, **extra
) -> Article:
    return add_article(rt, name=name, price_cents=price_cents, is_ticket=ticket, vat_bp=vat_bp, **extra)


def make_order(
    rt: Runtime,
    items: Sequence[tuple[Article, int]],
    *,
    payment: str = "cash",
    given_cents: int | None = None,
    holder: str | None = "Jürgen Groß",
    discounts: dict[int, int] | None = None,
    created_at: datetime | None = None,
    shift_id: int | None = None,
    status: str = "paid",
) -> SoldOrder:
    """What a sale leaves behind: one line per ticket (with its code), one line per other article."""
    brand, secret = rt.config.brand.id, rt.config.brand_secret()
    discounts = discounts or {}
    with transaction(rt.engine) as session:
        order = Order(
            created_at=created_at or rt.now(),
            terminal=rt.terminal,
            operator=rt.acting_operator,
            guest_name=holder,
            payment_method=payment,
            shift_id=shift_id,
            status=status,
        )
        session.add(order)
        session.flush()
        total, codes, ids = 0, [], []
        for art, quantity in items:
            units = [1] * quantity if art.is_ticket else [quantity]
            for units_in_line in units:
                discount = discounts.get(art.id, 0) if art.is_ticket else 0
                line_total = (art.price_cents - discount) * units_in_line
                line = OrderLine(
                    order_id=order.id,
                    article_id=art.id,
                    article_name=art.name,
                    article_group=art.group,
                    quantity=units_in_line,
                    unit_price_cents=art.price_cents,
                    discount_cents=discount,
                    total_cents=line_total,
                    vat_bp=art.vat_bp,
                )
                session.add(line)
                session.flush()
                total += line_total
                if art.is_ticket:
                    ticket = Ticket(
                        brand=brand,
                        order_id=order.id,
                        order_line_id=line.id,
                        article_id=art.id,
                        holder_name=holder,
                        event_date=art.event_date,
                        valid_from=art.valid_from,
                        valid_until=art.valid_until,
                        repeat=art.repeat,
                        repeat_limit=art.repeat_limit,
                    )
                    session.add(ticket)
                    session.flush()
                    ticket.code = make_code(brand, ticket.id, secret)
                    codes.append(ticket.code)
                    ids.append(ticket.id)
        order.total_cents = total
        order.given_cents = total if given_cents is None or payment != "cash" else given_cents
        order.change_cents = order.given_cents - total
        session.flush()
        return SoldOrder(order.id, codes, ids)


@dataclass
class FakePrinter:
    """A raw TCP 'printer' on 127.0.0.1: keeps what each connection sent and answers paper status queries.

    `drop_after`: close the connection (with a reset) once that many bytes of job data arrived.
    `silent`: never answer status queries. `paper`: the status byte it answers with.
    """

    drop_after: int | None = None
    silent: bool = False
    paper: bytes = PAPER_OK
    connections: list[bytearray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        received = bytearray()
        self.connections.append(received)
        answered = 0
        with conn:
            while chunk := conn.recv(65536):
                received.extend(chunk)
                queries = received.count(PAPER_QUERY)
                if self.drop_after is not None and len(received.replace(PAPER_QUERY, b"")) >= self.drop_after:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return
                if not self.silent:
                    for _ in range(queries - answered):
                        conn.sendall(self.paper)
                    answered = queries

    @property
    def data(self) -> bytes:
        """All job bytes received, status queries taken out."""
        return b"".join(bytes(c) for c in self.connections).replace(PAPER_QUERY, b"")

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def fake_printer() -> Iterator[FakePrinter]:
    printer = FakePrinter()
    yield printer
    printer.close()


def with_printer(rt: Runtime, **printer: object) -> Runtime:
    """The same database and clock with another [printer] section."""
    from tests.conftest import test_config

    language = rt.config.venue.language
    config = test_config(printer=printer, venue={"language": language, "name": rt.config.venue.name})
    return Runtime(config=config, database_url=rt.database_url, operator=rt.operator, clock=rt.clock)


def network_config(port: int, **extra: object) -> dict[str, object]:
    return {"kind": "network", "host": "127.0.0.1", "port": port, "timeout": 2.0, **extra}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
