"""The TLS context and the wording of connection failures, shared by the IMAP and SMTP adapters."""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from pathlib import Path

import certifi
import pytest

from mailbot.adapters import connections
from mailbot.adapters.connections import describe, tls_context
from mailbot.errors import PermanentError


def test_the_context_verifies_certificates_and_host_names() -> None:
    context = tls_context(None, "imap.ca_file")
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


@pytest.mark.parametrize("setting", ["imap.ca_file", "smtp.ca_file"])
def test_an_unusable_ca_file_is_permanent_and_names_the_setting(tmp_path: Path, setting: str) -> None:
    not_a_bundle = tmp_path / "ca.pem"
    not_a_bundle.write_text("not a certificate\n")
    for ca_file in (tmp_path / "missing.pem", not_a_bundle):
        with pytest.raises(PermanentError, match=f"^{setting} '{ca_file}' cannot be used as a CA bundle"):
            tls_context(ca_file, setting)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TimeoutError("The read operation timed out"), "timed out"),
        (TimeoutError(), "timed out"),
        (smtplib.SMTPResponseException(421, b"4.3.2 Service shutting down"), "421 4.3.2 Service shutting down"),
        (ConnectionRefusedError(111, "Connection refused"), "ConnectionRefusedError: [Errno 111] Connection refused"),
        (EOFError(), "EOFError"),
    ],
)
def test_connection_failures_in_a_few_words(error: BaseException, expected: str) -> None:
    assert describe(error) == expected


def test_the_context_is_shared_until_the_ca_file_changes_or_the_hour_is_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tls_context(None, "smtp.ca_file")
    assert tls_context(None, "imap.ca_file") is not first  # each setting names itself in its own errors
    assert tls_context(None, "smtp.ca_file") is first
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(_a_ca_certificate())
    with_ca = tls_context(ca_file, "smtp.ca_file")
    assert with_ca is not first
    assert tls_context(ca_file, "smtp.ca_file") is with_ca
    stat = ca_file.stat()
    os.utime(ca_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # the CA file rewritten
    assert tls_context(ca_file, "smtp.ca_file") is not with_ca
    later = time.monotonic() + connections.CONTEXT_LIFETIME_SECONDS
    monkeypatch.setattr(connections.time, "monotonic", lambda: later)
    assert tls_context(None, "smtp.ca_file") is not first


def test_an_unusable_ca_file_fails_every_time_and_a_mended_one_then_works(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("not a certificate\n")
    for _ in range(2):
        with pytest.raises(PermanentError):
            tls_context(ca_file, "smtp.ca_file")
    ca_file.write_text(_a_ca_certificate())
    os.utime(ca_file, ns=(0, ca_file.stat().st_mtime_ns + 1_000_000_000))
    assert tls_context(ca_file, "smtp.ca_file").cert_store_stats()["x509_ca"] >= 1


def _a_ca_certificate() -> str:
    """Some real CA certificates (certifi's bundle, installed with requests)."""
    return Path(certifi.where()).read_text(encoding="ascii")
