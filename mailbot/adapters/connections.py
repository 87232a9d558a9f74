"""What the IMAP and SMTP adapters share about their connections: a verifying TLS context, and one wording of a
connection failure (in logs, in the outbox's last error, and in the errors an operator reads)."""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path

from mailbot.errors import PermanentError


def tls_context(ca_file: Path | None, setting: str) -> ssl.SSLContext:
    """Certificates are verified; a private CA is added with `ca_file`, never a switch to turn checking off.

    A CA file that cannot be read is a PermanentError naming `setting` (`imap.ca_file`, `smtp.ca_file`): retrying
    cannot help, the configuration must change.
    """
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise PermanentError(f"{setting} '{ca_file}' cannot be used as a CA bundle: {exc}") from None


def describe(exc: BaseException) -> str:
    """A connection failure in a few words: "timed out", an SMTP server's answer, else the error and its text."""
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return "timed out"
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        return f"{exc.smtp_code} {text}"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
