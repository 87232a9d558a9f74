"""The TLS context and the wording of connection failures, shared by the IMAP and SMTP adapters."""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path

import pytest

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
