"""Secretarios replying, as their mail programs would: threaded replies with the workbook attached."""

from __future__ import annotations

import datetime as dt
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def workbook_of(message: EmailMessage) -> bytes:
    for part in message.iter_attachments():
        if str(part.get_filename() or "").endswith(".xlsx"):
            data = part.get_content()
            assert isinstance(data, bytes)
            return data
    raise AssertionError("no .xlsx attached")


def reply(
    original: EmailMessage | None,
    *,
    sender: str,
    to: str = "planeacion@municipio.test",
    attachments: list[tuple[str, bytes]] | None = None,
    body: str = "Buenos días, adjunto el plan de acción diligenciado.\n\nCordialmente,",
    subject: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A reply to `original` (or a new message when None), addressed as a mail client would: to its Reply-To."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = str(original["Reply-To"] or to) if original is not None else to
    if original is not None:
        message["Subject"] = subject or f"RE: {original['Subject']}"
        message["In-Reply-To"] = str(original["Message-ID"])
        message["References"] = str(original["Message-ID"])
    else:
        message["Subject"] = subject or "Plan de acción"
    message["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, data in attachments or []:
        message.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=filename)
    return message.as_bytes()
