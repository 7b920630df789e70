"""E-mail delivery and cart links through the real console script, against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from pos.db.engine import make_engine
from pos.domain.cart_link import CartLink, LinkLine, make_link
from pos.runtime import Runtime
from tests.conftest import CONFIG_TOML, PosCommand
from tests.conftest import test_config as make_config
from tests.factories import add_article
from tests.services.test_mail import SmtpServer, free_port

LINK_SECRET = b"cart-link-secret-0123456789"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def pos_with_smtp(db_url: str, tmp_path: Path, port: int) -> PosCommand:
    config = tmp_path / "smtp.toml"
    config.write_text(
        CONFIG_TOML
        + f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nsender = "box@example.org"\n',
        encoding="utf-8",
    )
    return PosCommand(db_url, config)


def add_articles(db_url: str) -> None:
    rt = Runtime(config=make_config(), database_url=db_url)
    add_article(rt, name="Konzert 15.01.2027", price_cents=4990, is_ticket=True, stock_limit=5)
    add_article(rt, name="Bier", price_cents=450)
    rt.engine.dispose()


def ticket_codes(order: dict) -> list[str]:
    return [ticket["code"] for ticket in order["tickets"]]


def test_sale_mails_each_ticket_with_code_and_barcode_png(sqlite_url, tmp_path, smtp_server) -> None:
    add_articles(sqlite_url)
    pos = pos_with_smtp(sqlite_url, tmp_path, smtp_server.port)
    order = pos.json(
        "sell", "Konzert 15.01.2027:2", "Bier", "--customer-name", "Anna", "--customer-email", "anna@example.org",
        "--no-print",
    )  # fmt: skip
    messages = smtp_server.inbox.messages
    assert len(messages) == 2
    codes = ticket_codes(order)
    assert len(codes) == 2
    for message, code in zip(messages, codes, strict=True):
        assert message["To"] == "anna@example.org" and message["From"] == "box@example.org"
        assert code in message.get_body(("plain",)).get_content()
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content_type() == "image/png"
        png = attachment.get_content()
        assert png.startswith(b"\x89PNG")
        assert code in decoded_barcodes(png)
    listed = pos.json("mail", "list")
    assert [(m["status"], m["generation"]) for m in listed] == [("sent", 0), ("sent", 0)]


def decoded_barcodes(png: bytes) -> list[str]:
    pyzbar = pytest.importorskip("pyzbar.pyzbar")
    from PIL import Image

    return [symbol.data.decode() for symbol in pyzbar.decode(Image.open(io.BytesIO(png)))]


def test_no_email_no_mail(sqlite_url, tmp_path, smtp_server) -> None:
    add_articles(sqlite_url)
    pos = pos_with_smtp(sqlite_url, tmp_path, smtp_server.port)
    pos.json("sell", "Konzert 15.01.2027", "--no-print")
    assert smtp_server.inbox.messages == [] and pos.json("mail", "list") == []
    refused = pos("order", "resend", "1")
    assert (
        refused.returncode == 2
        and refused.stderr == "Error: Order 1 has no e-mail address (neither a customer's nor a guest's).\n"
    )


def test_outage_then_resend_and_send_pending(db_url, tmp_path) -> None:
    add_articles(db_url)
    port = free_port()
    pos = pos_with_smtp(db_url, tmp_path, port)
    customer = pos.json("customer", "add", "Ben", "--email", "ben@example.org")
    sold = pos("sell", "Konzert 15.01.2027", "--customer", str(customer["id"]), "--no-print", "--json")
    assert sold.returncode == 0, sold.stderr  # the sale stands while the SMTP server is down
    assert "its e-mail is not sent yet (SMTP server unreachable" in sold.stderr
    order = json.loads(sold.stdout)
    assert [m["status"] for m in pos.json("mail", "list")] == ["failed"]

    server = SmtpServer(port)
    server.start()
    try:
        assert pos.json("mail", "send-pending") == {"sent": [], "failed": []}  # still backing off
        _as_if_the_back_off_passed(db_url)
        assert pos.json("mail", "send-pending") == {"sent": [1], "failed": []}
        assert pos.json("mail", "send-pending") == {"sent": [], "failed": []}  # never twice
        resent = pos.json("order", "resend", str(order["id"]))
        assert resent == {"order_id": order["id"], "queued": [2], "sent": [2], "failed": []}
        messages = server.inbox.messages
        assert len(messages) == 2
        assert all(ticket_codes(order)[0] in m.get_body(("plain",)).get_content() for m in messages)
        assert [(m["status"], m["generation"]) for m in pos.json("mail", "list")] == [
            ("sent", 0),
            ("sent", 1),
        ]
    finally:
        server.stop()


def _as_if_the_back_off_passed(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox_mail SET next_attempt_at = :t"), {"t": datetime(2000, 1, 1)})
    engine.dispose()


def test_cart_link_checkout_through_the_cli(db_url, config_file, tmp_path, smtp_server) -> None:
    add_articles(db_url)
    pos = pos_with_smtp(db_url, tmp_path, smtp_server.port)
    link = pos.json(
        "cart-link", "create", "Konzert 15.01.2027:2", "Bier:3", "--customer-name", "Cem",
        "--customer-email", "cem@example.org", "--valid-from", "2027-01-15T18:00", "--valid-until", "2027-01-16T02:00",
    )  # fmt: skip
    url = link["url"]
    assert url.startswith("pos://cart?v=1&c=") and link["lines"][0]["valid_from"] == "2027-01-15T17:00:00Z"
    shown = pos.json("cart-link", "show", url)
    assert shown["id"] == link["id"] and shown["customer"] == {"name": "Cem", "email": "cem@example.org"}

    order = pos.json("sell", "--cart-link", url, "--no-print")
    assert order["total_cents"] == 2 * 4990 + 3 * 450
    assert order["customer"]["email"] == "cem@example.org"
    assert len(smtp_server.inbox.messages) == 2

    again = pos("sell", "--cart-link", url, "--no-print")
    assert again.returncode == 2
    assert again.stderr == f"Error: Cart link {link['id']} was already paid (order {order['id']}).\n"

    tampered = url.replace("&s=", "&s=x")
    result = pos("sell", "--cart-link", tampered, "--no-print")
    assert result.returncode == 2 and "tampered with" in result.stderr and result.stderr.count("\n") == 1

    both = pos("sell", "Bier", "--cart-link", url)
    assert both.returncode == 2 and "not both" in both.stderr


def test_expired_and_foreign_links_are_refused(pos_sqlite, sqlite_url) -> None:
    add_articles(sqlite_url)
    expired = CartLink(
        id="old-1", expires_at=datetime.now(UTC) - timedelta(seconds=1), lines=(LinkLine("Bier", 1),)
    )
    result = pos_sqlite("sell", "--cart-link", make_link(expired, LINK_SECRET), "--no-print")
    assert result.returncode == 2 and result.stderr.startswith("Error: The cart link expired at ")
    foreign = CartLink(
        id="f-1", expires_at=datetime.now(UTC) + timedelta(hours=1), lines=(LinkLine("Bier", 1),)
    )
    result = pos_sqlite("sell", "--cart-link", make_link(foreign, b"someone-else-0123456789"), "--no-print")
    assert result.returncode == 2 and "bad signature" in result.stderr
    unknown = CartLink(
        id="u-1", expires_at=datetime.now(UTC) + timedelta(hours=1), lines=(LinkLine("Nope", 1),)
    )
    result = pos_sqlite("sell", "--cart-link", make_link(unknown, LINK_SECRET), "--no-print")
    assert result.returncode == 2 and result.stderr == "Error: Article 'Nope' does not exist.\n"
    plain = pos_sqlite("cart-link", "create", "Bier:2", "--expires-in", "2h", "--qr")
    assert plain.returncode == 0 and plain.stdout.strip().splitlines()[-1].startswith("pos://cart?v=1&c=")
    assert len(plain.stdout.splitlines()) > 10  # the QR code drawn above the URL
