"""The personal namespace from a NAMESPACE answer (RFC 2342): cPanel's `INBOX.`, plain Dovecot's "", a flat server."""

from __future__ import annotations

import pytest

from mailbot.adapters.imap_wire import personal_namespace, uid_set


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


@pytest.mark.parametrize(
    ("uids", "expected"),
    [([7], "7"), ([3, 4, 5, 9], "3:5,9"), ([1, 3, 5], "1,3,5"), ([2, 3, 10, 11, 12, 20], "2:3,10:12,20")],
)
def test_uid_set_collapses_runs(uids: list[int], expected: str) -> None:
    assert uid_set(uids) == expected
