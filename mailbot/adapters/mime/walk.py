"""The walk over a message's MIME tree: every part visited once (iteratively, bounded), files and bodies sorted out.

A multipart the stdlib could not split (no boundary declared, or not the one its body uses, as some mailers and
hand-edited messages do) is not a dead end: its parts are recovered from the delimiter lines its body does use, so the
workbook inside is still found. Each such fallback records a defect.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import quopri
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from typing import Final

from mailbot.adapters.mime.bodies import cut
from mailbot.adapters.mime.bounds import (
    BODY_CHARS,
    HTML_CHARS,
    MAX_DEPTH,
    MAX_HEADER_BLOCK,
    MAX_PARTS,
    MAX_RECOVERIES,
    PARSER_POLICY,
    TEXT_BYTES,
    too_costly,
)
from mailbot.adapters.mime.charsets import decode_bytes
from mailbot.adapters.mime.defects import Defects, exception_name
from mailbot.adapters.mime.facts import first_id
from mailbot.adapters.mime.headers import (
    Headers,
    attachment_filename,
    charset,
    clean_filename,
    content_type,
    declared_type,
    disposition,
)
from mailbot.adapters.mime.spool import Run, Spooled
from mailbot.adapters.mime.tnef import TnefError, read_tnef
from mailbot.adapters.workbook.sniff import sniff
from mailbot.domain.inbound import AttachmentPart, Origin

_ATTACHED_MESSAGE_TYPES: Final = frozenset({"message/rfc822", "message/global", "message/news"})
_TNEF_TYPES: Final = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
#: The first delimiter line of a body ("--" and a boundary of RFC 2046's characters), not a closing one.
_FIRST_DELIMITER: Final = re.compile(rb"^--([0-9A-Za-z'()+_,./:=?-]{1,70})[ \t]*\r?$", re.MULTILINE)
_BODY_TYPES: Final = frozenset({"text/plain", "text/html"})


@dataclass
class Walk:
    """Visits every part of the MIME tree (iteratively, bounded) and sorts what it finds."""

    max_attachment_bytes: int
    defects: Defects
    attachments: list[AttachmentPart] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)  # direct text/plain bodies, decoded
    html: list[str] = field(default_factory=list)  # direct text/html bodies, decoded
    report_part: Message | None = None  # the first multipart/report of the message itself
    returned_ids: list[str] = field(default_factory=list)  # Message-IDs of directly attached messages
    parts: int = 0
    recoveries: int = 0  # multiparts whose parts were recovered from their delimiter lines
    spool: Spooled | None = None  # the bodies a message read from a file left there (mime.spool)

    def run(self, root: Message) -> None:
        stack: list[tuple[Message, int, Origin]] = [(root, 0, "direct")]
        while stack:
            part, depth, origin = stack.pop()
            self.parts += 1
            if self.parts > MAX_PARTS:
                self.defects.add(f"more than {MAX_PARTS} parts: the rest not read")
                return
            self.defects.from_part(part)
            found = self._visit(part, origin)
            if found and depth + 1 > MAX_DEPTH:
                self.defects.add(f"parts nested deeper than {MAX_DEPTH} levels: not read")
                continue
            stack.extend((child, depth + 1, child_origin) for child, child_origin in reversed(found))

    def _visit(self, part: Message, origin: Origin) -> list[tuple[Message, Origin]]:
        ctype = content_type(part)
        if ctype in _ATTACHED_MESSAGE_TYPES:
            inner = self._encoded_message(part) or children(part)
            if origin == "direct" and inner:
                self._note_returned(inner[0])
            return [(m, "attached_message" if origin == "direct" else origin) for m in inner]
        if ctype.startswith("multipart/") and not part.is_multipart():
            return [(m, origin) for m in self._recovered(part, ctype)]
        if part.is_multipart():
            if ctype == "multipart/report" and origin == "direct" and self.report_part is None:
                self.report_part = part
            return [(m, origin) for m in children(part)] if ctype.startswith("multipart/") else []
        self._leaf(part, ctype, origin)
        return []

    def _encoded_message(self, part: Message) -> list[Message]:
        """An attached message sent base64 or quoted-printable (Python's own EmailMessage does that): the stdlib
        parsed the encoded text as if it were the message, so decode it and parse again."""
        encoding = (Headers(part, self.defects).first("content-transfer-encoding") or "").lower()
        inner = children(part)
        if encoding not in ("base64", "quoted-printable") or not inner:
            return []
        try:
            encoded = inner[0].as_bytes()  # UnicodeEncodeError: 8-bit header text the generator cannot write back
            decoded = base64.b64decode(encoded) if encoding == "base64" else quopri.decodestring(encoded.lstrip())
        except ValueError as exc:  # binascii.Error (bad base64) and UnicodeEncodeError are ValueErrors
            why = "invalid base64" if isinstance(exc, binascii.Error) else exception_name(exc)
            self.defects.add(f"attached message in {encoding} could not be decoded ({why}): not read")
            return []
        return self._parsed(decoded, "attached message")

    def _recovered(self, part: Message, ctype: str) -> list[Message]:
        """The parts of a multipart the stdlib could not split, found again by the delimiter lines its body uses."""
        body = self._payload(part)
        if not body.strip():
            self.defects.add(f"{ctype} part is empty")
            return []
        delimiter = _FIRST_DELIMITER.search(body)
        if delimiter is None:
            self.defects.add(f"{ctype} part without a usable boundary: its contents not read")
            return []
        if self.recoveries >= MAX_RECOVERIES:
            self.defects.add(f"{ctype} part without a usable boundary: not read, {MAX_RECOVERIES} recovered already")
            return []
        self.recoveries += 1
        boundary = delimiter.group(1)
        head = b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n'
        found = [child for message in self._parsed(head + body, ctype + " part") for child in children(message)]
        if found:
            parts = f"{len(found)} part" + ("s" if len(found) > 1 else "")
            self.defects.add(f"{ctype} part without a usable boundary: {parts} recovered from its delimiters")
        else:
            self.defects.add(f"{ctype} part without a usable boundary: its contents not read")
        return found

    def _parsed(self, data: bytes, what: str) -> list[Message]:
        """`data` parsed as a message, when the stdlib parser can finish it quickly; else [] and a defect."""
        cost = too_costly(data)
        if cost is not None:
            self.defects.add(f"{what} not read: {cost.split(':')[0]}")
            return []
        try:
            return [BytesParser(policy=PARSER_POLICY).parsebytes(data)]
        except RecursionError:
            self.defects.add(f"{what} not read: nested too deep for the parser")
            return []

    def _note_returned(self, inner: Message) -> None:
        message_id = first_id(Headers(inner, self.defects).first("message-id"))
        if message_id:
            self.returned_ids.append(message_id)

    def _leaf(self, part: Message, ctype: str, origin: Origin) -> None:
        headers = Headers(part, self.defects)
        filename = attachment_filename(headers)
        kind = disposition(headers)
        if ctype == "text/rfc822-headers" and origin == "direct":
            self._note_returned_headers(part)
        if ctype in _TNEF_TYPES or (filename or "").lower() == "winmail.dat":
            self._tnef(part, headers, filename, origin)
        elif kind == "attachment" or filename is not None or _is_file_type(ctype):
            run = self.spool.run_of(part) if self.spool is not None else None
            if run is not None:
                self._attach_spooled(filename, declared_type(headers, ctype), run, origin)
            else:
                self._attach(filename, declared_type(headers, ctype), payload(part, self.defects), origin)
        elif origin == "direct" and ctype in _BODY_TYPES:
            self._body(part, headers, ctype)

    def _note_returned_headers(self, part: Message) -> None:
        self._note_returned(_parse_header_text(self._payload(part)))

    def _attach(self, filename: str | None, ctype: str, data: bytes, origin: Origin) -> None:
        if len(self.attachments) >= MAX_PARTS:
            self.defects.add(f"more than {MAX_PARTS} attachments: the rest not read")
            return
        oversized = len(data) > self.max_attachment_bytes
        if oversized:
            self.defects.add(f"attachment larger than the limit ({self.max_attachment_bytes} bytes)")
        self.attachments.append(
            AttachmentPart(
                filename=filename,
                content_type=ctype,
                data=b"" if oversized else data,
                kind=sniff(data),  # never raises: a damaged file is a kind
                origin=origin,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                oversized=oversized,
            )
        )

    def _attach_spooled(self, filename: str | None, ctype: str, run: Run, origin: Origin) -> None:
        """`_attach` of a body left in the file: decoded a piece at a time, its bytes kept only within the limit."""
        assert self.spool is not None
        if len(self.attachments) >= MAX_PARTS:
            self.defects.add(f"more than {MAX_PARTS} attachments: the rest not read")
            return
        body = self.spool.decode(run, self.max_attachment_bytes)
        if body.damaged:
            self.defects.add("invalid base64 in an attachment: cut where it broke")
        if body.data is None:
            self.defects.add(f"attachment larger than the limit ({self.max_attachment_bytes} bytes)")
        data = body.data if body.data is not None else b""
        self.attachments.append(
            AttachmentPart(
                filename=filename,
                content_type=ctype,
                data=data,
                kind=sniff(data or body.head),
                origin=origin,
                size=body.size,
                sha256=body.sha256,
                oversized=body.data is None,
            )
        )

    def _payload(self, part: Message) -> bytes:
        """`payload`, from the file for a body left there: at most the attachment limit of it (or the most a text
        body is read), so that no part costs more memory than an attachment may."""
        run = self.spool.run_of(part) if self.spool is not None else None
        if run is None or self.spool is None:
            return payload(part, self.defects)
        cap = max(self.max_attachment_bytes, TEXT_BYTES, 4 * HTML_CHARS)
        body = self.spool.decode(run, cap, prefix=True)
        if body.damaged:
            self.defects.add("invalid base64 in a part: cut where it broke")
        data = body.data or b""
        if len(data) >= cap:
            self.defects.add(f"part longer than {cap} bytes: the rest not read")
        return data

    def _tnef(self, part: Message, headers: Headers, filename: str | None, origin: Origin) -> None:
        data = self._payload(part)
        notes: list[str] = []
        try:
            files = read_tnef(data, notes=notes)
        except TnefError as exc:
            self.defects.add(f"winmail.dat (TNEF) could not be opened: {exc}")
            self._attach(filename or "winmail.dat", declared_type(headers, "application/ms-tnef"), data, origin)
            return
        for note in notes:
            self.defects.add(f"winmail.dat (TNEF) {note}")
        if not files:
            self.defects.add("winmail.dat (TNEF) holds no attachments")
        for name, blob in files:
            self._attach(clean_filename(name) if name else None, "application/octet-stream", blob, "tnef")

    def _body(self, part: Message, headers: Headers, ctype: str) -> None:
        """Keep a body part's text; past BODY_CHARS of one kind, further parts are not decoded."""
        bodies = self.plain if ctype == "text/plain" else self.html
        if sum(len(body) for body in bodies) >= BODY_CHARS:
            return
        limit = TEXT_BYTES if ctype == "text/plain" else 4 * HTML_CHARS
        bodies.append(_decode_text(cut(self._payload(part), limit), charset(headers)))


def children(part: Message) -> list[Message]:
    """The parts of a multipart or attached message; [] for a leaf (whose payload is text)."""
    if not part.is_multipart():  # checked first: get_payload() on 8-bit text can fail on an RFC 2231 charset
        return []
    return [child for child in part.get_payload() if isinstance(child, Message)]


def payload(part: Message, defects: Defects) -> bytes:
    """The decoded bytes of a leaf part (base64, quoted-printable, uuencode); b"" when there are none.

    Nothing to catch: on a part the parser built from bytes, the stdlib's decoders record bad input as the part's
    defects (read here) rather than raising.
    """
    data = part.get_payload(decode=True)
    defects.from_part(part)
    return data if isinstance(data, bytes) else b""


def _decode_text(data: bytes, charset: str | None) -> str:
    return decode_bytes(data, charset).replace("\r\n", "\n")


def _is_file_type(ctype: str) -> bool:
    """Parts that are files even without a name or a disposition (application/octet-stream and friends)."""
    return ctype.startswith("application/")


def _parse_header_text(data: bytes) -> Message:
    return BytesParser(policy=PARSER_POLICY).parsebytes(data[:MAX_HEADER_BLOCK], headersonly=True)
