"""The personal namespace from a NAMESPACE answer (RFC 2342): cPanel's `INBOX.`, plain Dovecot's "", a flat server."""

from __future__ import annotations

import pytest

from mailbot.adapters.imap_wire import personal_namespace


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b'(("INBOX." ".")) NIL NIL', ("INBOX.", ".")),
        (b'(("" "/")) NIL (("#shared/" "/"))', ("", "/")),
        (b'(("" NIL)) NIL NIL', ("", "")),
        (b"NIL NIL NIL", None),
    ],
)
def test_personal_namespace(answer: bytes, expected: tuple[str, str] | None) -> None:
    assert personal_namespace([answer]) == expected
