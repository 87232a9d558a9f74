"""What the IMAP and SMTP adapters share about their connections: a verifying TLS context, and one wording of a
connection failure (in logs, in the outbox's last error, and in the errors an operator reads)."""

from __future__ import annotations

import functools
import smtplib
import ssl
import time
from pathlib import Path

from mailbot.errors import PermanentError

#: A context is reused for this long: loading the system's CA store costs ~50 ms, once per connection otherwise (the
#: outbox opens one per flush); renewed within the hour, a CA store updated on the machine is picked up unrestarted.
CONTEXT_LIFETIME_SECONDS = 3600.0


def tls_context(ca_file: Path | None, setting: str) -> ssl.SSLContext:
    """Certificates are verified; a private CA is added with `ca_file`, never a switch to turn checking off.

    A CA file that cannot be read is a PermanentError naming `setting` (`imap.ca_file`, `smtp.ca_file`): retrying
    cannot help, the configuration must change. The context is shared (never changed after it is made, so threads
    may use it at once) until the hour is up or `ca_file` is rewritten.
    """
    try:
        stamp = ca_file.stat().st_mtime_ns if ca_file else None
    except OSError:
        stamp = None  # _context says why it cannot be used; a failure is never cached
    period = int(time.monotonic() // CONTEXT_LIFETIME_SECONDS)
    return _context(str(ca_file) if ca_file else None, stamp, period, setting)


@functools.lru_cache(maxsize=4)
def _context(ca_file: str | None, stamp: int | None, period: int, setting: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_file)
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
