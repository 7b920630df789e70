"""SMTP: one connection per batch, errors in one sentence, and the ticket mail as an e-mail message."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from pos.config import Smtp

SMTP_TIMEOUT_SECONDS = 20


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


class _Template(dict[str, str]):
    """Unknown placeholders stay as written instead of failing the send."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _render(template: str, values: dict[str, str]) -> str:
    try:
        return template.format_map(_Template(values))
    except (ValueError, IndexError, AttributeError):
        return template


def ticket_message(
    smtp: Smtp,
    *,
    language: str,
    recipient: str,
    values: dict[str, str],
    code: str,
    message_id: str,
    sent_at: float,
    attachment: tuple[bytes, str, str] | None,
) -> EmailMessage:
    """One ticket's mail from the [smtp] templates; the ticket code goes into the text if the body leaves it out."""
    body = _render(getattr(smtp, f"body_{language}"), values)
    if code not in body:
        body = body.rstrip("\n") + f"\n\n{values['codes']}\n"
    message = EmailMessage()
    message["Subject"] = _render(getattr(smtp, f"subject_{language}"), values)
    message["From"] = smtp.sender
    message["To"] = recipient
    message["Date"] = formatdate(sent_at, localtime=False)
    message["Message-ID"] = f"<{message_id}@{_domain(smtp.sender)}>"
    message.set_content(body)
    if attachment is not None:
        data, mime, filename = attachment
        maintype, subtype = mime.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip(" >") or "localhost"
