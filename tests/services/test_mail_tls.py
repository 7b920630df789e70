"""SMTP over STARTTLS with login, and over implicit TLS, against aiosmtpd with a throwaway certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from pos.runtime import Runtime
from pos.services.delivery import send_batch as send_pending
from tests.services.test_mail import Inbox, free_port, list_outbox, make_order

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1 that the client trusts through SSL_CERT_FILE, as an admin would."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def check_password(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"box", b"s3cret")
    return AuthResult(success=ok, handled=False)


def smtp_rt(rt: Runtime, port: int, security: str, password: str = "s3cret") -> Runtime:
    smtp = rt.config.smtp.model_copy(
        update={"host": "127.0.0.1", "port": port, "security": security, "user": "box", "password": password}
    )
    return Runtime(rt.config.model_copy(update={"smtp": smtp}), rt.database_url, clock=rt.clock)


@pytest.fixture
def starttls_server(certificate: ssl.SSLContext) -> Iterator[tuple[int, Inbox]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=certificate, require_starttls=True,
        authenticator=check_password, auth_required=True,
    )  # fmt: skip
    controller.start()
    yield port, inbox
    controller.stop()


def test_starttls_with_login(sqlite_rt: Runtime, starttls_server: tuple[int, Inbox]) -> None:
    port, inbox = starttls_server
    rt = smtp_rt(sqlite_rt, port, "starttls")
    make_order(rt, tickets=1)
    assert len(send_pending(rt).sent) == 1
    assert len(inbox.messages) == 1


def test_wrong_password_keeps_the_mail(sqlite_rt: Runtime, starttls_server: tuple[int, Inbox]) -> None:
    port, inbox = starttls_server
    rt = smtp_rt(sqlite_rt, port, "starttls", password="wrong")
    make_order(rt, tickets=1)
    outcome = send_pending(rt)
    assert outcome.sent == [] and outcome.failed[0][1].startswith("SMTP login refused: 535")
    assert [m.status for m in list_outbox(rt)] == ["failed"] and inbox.messages == []


def test_plain_server_when_starttls_is_required(sqlite_rt: Runtime) -> None:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        rt = smtp_rt(sqlite_rt, port, "starttls")
        make_order(rt, tickets=1)
        outcome = send_pending(rt)
    finally:
        controller.stop()
    assert outcome.failed[0][1].startswith(
        "SMTP server refused the session: STARTTLS extension not supported"
    )


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls(sqlite_rt: Runtime, certificate: ssl.SSLContext) -> None:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, ssl_context=certificate, authenticator=check_password,
        auth_required=True, auth_require_tls=False,  # the whole session is TLS; aiosmtpd only tracks STARTTLS
    )  # fmt: skip
    controller.start()
    try:
        rt = smtp_rt(sqlite_rt, port, "ssl")
        make_order(rt, tickets=2)
        assert len(send_pending(rt).sent) == 2
    finally:
        controller.stop()
    assert len(inbox.messages) == 2


def test_untrusted_certificate_is_a_tls_failure(
    sqlite_rt: Runtime, certificate: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "no-cas.pem"
    empty.write_text("", encoding="utf-8")
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=certificate)
    controller.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    try:
        rt = smtp_rt(sqlite_rt, port, "ssl")
        make_order(rt, tickets=1)
        outcome = send_pending(rt)
    finally:
        controller.stop()
    assert outcome.failed[0][1].startswith("TLS with the SMTP server failed: CERTIFICATE_VERIFY_FAILED")
