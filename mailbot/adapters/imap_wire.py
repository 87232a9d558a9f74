"""The IMAP wire below imap-tools and imaplib: FETCH literals, IDLE by hand, folder names, server text.

imaplib has no IDLE and imap-tools' IDLE hides the EXISTS it reads, so `adapters.imap` drives IDLE with these
helpers on imaplib's own buffer (see that module's docstring for the measured gaps).
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, cast

from imap_tools.imap_utf7 import utf7_encode

_UID_IN_FETCH = re.compile(rb"\bUID (\d+)")
# The first personal namespace of a NAMESPACE answer (RFC 2342): (("INBOX." ".")) NIL NIL
_PERSONAL_NAMESPACE = re.compile(r'^\s*\(\("((?:\\.|[^"\\])*)"\s+(?:"((?:\\.|[^"\\])*)"|NIL)')


def personal_namespace(data: Sequence[Any]) -> tuple[str, str] | None:
    """(prefix, delimiter) of the first personal namespace; None when the server has none (or answered oddly)."""
    match = _PERSONAL_NAMESPACE.match(text(data[:1]))
    if match is None:
        return None
    return match.group(1), match.group(2) or ""


def parse_fetch(data: Iterable[Any]) -> dict[int, bytes]:
    """Map UID → body from imaplib's FETCH data; entries without a literal (e.g. `BODY[] NIL`, gone) are skipped.

    imaplib gives `(b'1 (UID 7 BODY[] {523}', body)` followed by `b')'` (or `b' UID 7)'` when a server puts the
    UID after the body), and plain bytes for FETCH responses without a literal.
    """
    items = list(data)
    found: dict[int, bytes] = {}
    for index, item in enumerate(items):
        if not isinstance(item, tuple):
            continue
        head, body = item[0], item[1]
        match = _UID_IN_FETCH.search(head)
        if match is None and index + 1 < len(items) and isinstance(items[index + 1], bytes):
            match = _UID_IN_FETCH.search(items[index + 1])
        if match is not None:
            found[int(match.group(1))] = body
    return found


_SIZE_IN_FETCH = re.compile(rb"\bRFC822\.SIZE (\d+)")


def parse_sizes(data: Iterable[Any]) -> dict[int, int]:
    """Map UID → RFC822.SIZE from the plain FETCH lines of `UID FETCH … (UID RFC822.SIZE)`."""
    found: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        uid, size = _UID_IN_FETCH.search(line), _SIZE_IN_FETCH.search(line)
        if uid is not None and size is not None:
            found[int(uid.group(1))] = int(size.group(1))
    return found


def idle_start(client: imaplib.IMAP4) -> bytes:
    """Send IDLE and read until "+ idling"; untagged lines before it (EXISTS) are kept in untagged_responses."""
    raw = cast(Any, client)
    tag: bytes = raw._command("IDLE")
    while raw._get_response() is not None:  # None means the continuation line
        check_bye(client)
        outcome = client.tagged_commands.get(tag)
        if outcome:
            raise imaplib.IMAP4.error(f"IDLE refused: {outcome!r}")
    return tag


def read_during_idle(client: imaplib.IMAP4, tag: bytes) -> None:
    """Read one response during IDLE (blocking up to the socket timeout for the rest of the line)."""
    cast(Any, client)._get_response()
    check_bye(client)
    if client.tagged_commands.get(tag):
        raise imaplib.IMAP4.abort("the server ended IDLE on its own")


def idle_done(client: imaplib.IMAP4, tag: bytes) -> None:
    """Send DONE and read up to IDLE's tagged answer (untagged lines on the way land in untagged_responses)."""
    client.send(b"DONE\r\n")
    while not client.tagged_commands.get(tag):
        cast(Any, client)._get_response()
        check_bye(client)
    outcome: Any = client.tagged_commands.pop(tag)  # imaplib stores (status, [text]), whatever typeshed says
    if outcome[0] != "OK":
        raise imaplib.IMAP4.error(f"IDLE ended with {outcome[0]}: {text(outcome[1])}")


def check_bye(client: imaplib.IMAP4) -> None:
    bye = client.untagged_responses.get("BYE")
    if bye:
        raise imaplib.IMAP4.abort(f"server said BYE: {text(bye[-1:])}")


def input_pending(client: imaplib.IMAP4) -> bool:
    """True when a response already sits in imaplib's read buffer (or the TLS layer), where select() can't see it.

    "+ idling" and a following "* 3 EXISTS" often arrive in one packet: after reading the first line the second
    waits in the buffer while the socket looks idle.
    """
    sock = client.sock
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    reader = cast(Any, client).file
    previous = sock.gettimeout()
    sock.settimeout(0)
    try:
        return bool(reader.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(previous)


def sleep(timeout: float, stop: threading.Event | None) -> bool:
    """The wait without IDLE: nothing to learn, so always False; returns early when `stop` is set."""
    if stop is None:
        time.sleep(max(timeout, 0))
    else:
        stop.wait(max(timeout, 0))
    return False


def shutdown(client: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError):
        client.shutdown()


def folder_arg(name: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded = utf7_encode(name).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def uid_set(uids: Sequence[int]) -> str:
    """An IMAP sequence set of ascending UIDs, runs collapsed: [3, 4, 5, 9] → "3:5,9" (RFC 3501 9, sequence-set)."""
    runs: list[str] = []
    first = last = uids[0]
    for uid in uids[1:]:
        if uid != last + 1:
            runs.append(f"{first}:{last}" if last > first else str(first))
            first = uid
        last = uid
    runs.append(f"{first}:{last}" if last > first else str(first))
    return ",".join(runs)


def text(data: Iterable[Any]) -> str:
    parts = [p.decode("utf-8", "replace") if isinstance(p, bytes) else str(p) for p in data if p is not None]
    return " ".join(parts)


def ints(data: Iterable[Any]) -> list[int]:
    return [int(token) for token in text(data).split() if token.isdigit()]


def first_int(values: Sequence[Any] | None) -> int | None:
    numbers = ints(values[-1:]) if values else []
    return numbers[0] if numbers else None
