"""Large base64 bodies left in the message's file: the parser sees a skeleton, the walk decodes each from the file.

The stdlib parser keeps every part's text in memory, several times over while it parses (a 21 MB message peaked at
167 MB, measured). For a message read from a file, `skeleton` copies its lines except the long runs of base64
lines of parts that declare `Content-Transfer-Encoding: base64`: each run becomes one marker line, and its place
in the file is remembered. The parser then sees only the structure and the small parts; `Spooled.decode` reads a
marked body back from the file a piece at a time, hashing it as it goes, and keeps the bytes only up to the
attachment limit. So the memory a message needs is bounded by its structure and by `max_attachment_bytes`, never
by its size.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from dataclasses import dataclass
from email.message import Message
from typing import BinaryIO, Final

MARKER: Final = "mailbot-spooled-body-"
MIN_RUN: Final = 256 * 1024  # bytes of base64 lines worth leaving in the file (smaller bodies are parsed as usual)
LINE_CAP: Final = 64 * 1024  # a longer line is read in pieces (never a base64 line: those are at most 998 bytes)
PIECE: Final = 1 << 20  # bytes read and decoded at a time
SNIFF_BYTES: Final = 64 * 1024  # of a dropped (oversized) body kept to tell its kind
_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_NOT_BASE64: Final = bytes(sorted(set(range(256)) - set(_ALPHABET)))
_BASE64_HEADER: Final = re.compile(rb"content-transfer-encoding:[ \t]*base64[ \t]*\r?\n", re.IGNORECASE)
#: An attached message sent in base64 is decoded and parsed again by the walk: never left in the file.
_MESSAGE_TYPE: Final = re.compile(rb"content-type:[ \t]*message/", re.IGNORECASE)


@dataclass(frozen=True)
class Run:
    offset: int
    length: int


@dataclass(frozen=True)
class Decoded:
    """A spooled body: its bytes when within the limit (else None), its size, SHA-256 and first bytes."""

    data: bytes | None
    size: int
    sha256: str
    head: bytes
    damaged: bool


class Spooled:
    """The runs left in `source` by `skeleton`, found again from the marker a part's payload became."""

    def __init__(self, source: BinaryIO, runs: list[Run]) -> None:
        self.source = source
        self.runs = runs

    def run_of(self, part: Message) -> Run | None:
        if part.is_multipart():
            return None
        text = part.get_payload()
        if not isinstance(text, str) or not text.startswith(MARKER):
            return None
        index = text[len(MARKER) :].strip()
        return self.runs[int(index)] if index.isdigit() and int(index) < len(self.runs) else None

    def decode(self, run: Run, keep: int, *, prefix: bool = False) -> Decoded:
        """The body decoded a piece at a time; its bytes kept only while they stay within `keep`, or with `prefix`
        its first `keep` bytes (the rest not read: `size` and `sha256` then cover only what was)."""
        digest = hashlib.sha256()
        kept: list[bytes] | None = []
        head = b""
        size = 0
        damaged = False
        carry = b""
        self.source.seek(run.offset)
        left = run.length
        while left > 0:
            raw = self.source.read(min(PIECE, left))
            if not raw:
                break
            left -= len(raw)
            text = carry + raw.translate(None, _NOT_BASE64)  # line ends and stray characters, as the stdlib
            usable = len(text) - len(text) % 4 if left > 0 else len(text)
            text, carry = text[:usable], text[usable:]
            try:
                piece = binascii.a2b_base64(text)
            except binascii.Error:
                damaged = True
                break
            digest.update(piece)
            size += len(piece)
            if len(head) < SNIFF_BYTES:
                head += piece[: SNIFF_BYTES - len(head)]
            if kept is not None:
                kept.append(piece)
                if size > keep and prefix:
                    kept[-1] = piece[: len(piece) - (size - keep)]
                    break
                if size > keep:
                    kept = None  # over the limit: only its size, hash and kind are kept
        return Decoded(b"".join(kept) if kept is not None else None, size, digest.hexdigest(), head, damaged)


def skeleton(source: BinaryIO) -> tuple[bytes, Spooled]:
    """The message's bytes with each long base64 body replaced by a marker line, and where those bodies are.

    A body is everything from the blank line that ends its part's headers to the next boundary line (or the end):
    all of it is left in the file or none of it, so a stray line inside never splits it.
    """
    out = bytearray()
    runs: list[Run] = []
    base64_part = attached_message = in_body = False
    offset = 0
    start: int | None = None
    pending = bytearray()  # the current body, until it proves long enough to leave in the file
    length = 0

    def end_body() -> None:
        nonlocal start, length
        if start is not None:
            if length >= MIN_RUN:
                out.extend(f"{MARKER}{len(runs)}\r\n".encode("ascii"))
                runs.append(Run(start, length))
            else:
                out.extend(pending)
        pending.clear()
        start, length = None, 0

    source.seek(0)
    while line := source.readline(LINE_CAP):
        if line.startswith(b"--"):  # a boundary (never a base64 line): the next part declares its own encoding
            end_body()
            base64_part = attached_message = in_body = False
            out.extend(line)
        elif in_body:
            if start is None:
                start = offset
            if length < MIN_RUN:
                pending.extend(line)
                if length + len(line) >= MIN_RUN:
                    pending.clear()
            length += len(line)
        else:
            if line in (b"\r\n", b"\n"):
                in_body = base64_part and not attached_message
            elif _BASE64_HEADER.fullmatch(line):
                base64_part = True
            elif _MESSAGE_TYPE.match(line):
                attached_message = True
            out.extend(line)
        offset += len(line)
    end_body()
    return bytes(out), Spooled(source, runs)
