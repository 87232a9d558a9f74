"""Any received message, from raw bytes to a `ParsedMessage`, without ever raising.

Whatever arrives in planeación's mailbox is parsed here: replies with workbooks, bounces, read receipts, spam,
malformed MIME and hostile messages. One bad message must never stop the others, so `parse_message` catches
everything, records what went wrong in `defects`, and returns what it could read.

Policy choice: the stdlib parser runs with `email.policy.compat32`. The modern `email.policy.default` builds header
objects on access, and its header parser has raised on malformed addresses and parameters; it also turns raw 8-bit
header bytes into U+FFFD before we can see them (FIELD-NOTES: Latin-1 file names came back as "�"). compat32 keeps
every header as the raw text the parser read (8-bit bytes survive as surrogate escapes), so this module decodes
headers itself: RFC 2047 words, RFC 2231 parameters, and raw bytes tried as UTF-8, then Windows-1252.

Bounds, so that time and memory stay proportional to the message size (itself capped by the caller's limit):
a message over `max_message_bytes` is not parsed beyond its headers; at most MAX_PARTS parts and MAX_DEPTH levels are
walked; header values are read up to MAX_HEADER_CHARS; text bodies are decoded up to a cap. The stdlib parser itself
is not linear everywhere, so it only sees messages it can finish quickly: at most MAX_LINES lines, and at most
MAX_NESTING_COST lines × enclosing multiparts (`nesting_cost`); past these, and past ~1,000 levels where it recurses
too deep, only the headers are read. HTML is stripped with linear scans, not html.parser (quadratic on unclosed
markup), and the regexes avoid overlapping classes that backtrack.

TNEF (winmail.dat) is read by the small reader at the end of this module rather than by tnefparse 1.4: that library
loops on counts read from the file without checking them against its length (a 4-byte MAPI count of 0xFFFFFFFF in
an 11-byte object never returns), the same bug class as ytnef's CVE-2017-9473. This reader only extracts attachments,
and every loop in it consumes bytes or stops.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime as dt
import email.utils
import hashlib
import html
import quopri
import re
import struct
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import policy
from email.message import Message
from email.parser import BytesParser, Parser
from typing import Final

from mailbot.adapters.workbook.sniff import FileKind, sniff
from mailbot.domain.addresses import normalize_address
from mailbot.domain.classify import is_mail_daemon, sender_local_part
from mailbot.domain.inbound import (
    AttachmentPart,
    DeliveryReport,
    MessageFacts,
    Origin,
    ParsedMessage,
    RecipientStatus,
    find_cloud_links,
)
from mailbot.log import get_logger

log = get_logger("mailbot.mime")

MAX_PARTS: Final = 500  # MIME parts and TNEF files, together
MAX_DEPTH: Final = 30  # nesting of multiparts and attached messages
TEXT_CAP: Final = 20_000  # characters of ParsedMessage.text
MAX_HEADER_CHARS: Final = 64 * 1024  # of one header value, before decoding
MAX_HEADER_VALUES: Final = 20  # values of one repeated header read (To, Cc, References…)
MAX_HEADER_BLOCK: Final = 1 << 20  # bytes of the header block read from an oversized message
MAX_SUBJECT_CHARS: Final = 1_000
MAX_ADDRESSES: Final = 200  # per header field
MAX_IDS: Final = 100  # Message-IDs kept from References
MAX_DEFECTS: Final = 50
MAX_FILENAME_CHARS: Final = 255
#: Lines × open multiparts the stdlib parser may check (~1.5 s); a real 25 MB message at depth 10 needs ~4 million.
MAX_NESTING_COST: Final = 12_000_000
#: Lines the stdlib parser may read (~0.2 µs each); a 25 MB message of base64 has about 350,000.
MAX_LINES: Final = 3_000_000
#: Semicolons × length over all Content-Type fields (~0.2 s); 500 ordinary parts need about 500,000.
MAX_PARAMETER_COST: Final = 400_000_000
_TEXT_BYTES: Final = 512 * 1024  # of one text/plain part decoded (the text is capped anyway; links are early)
_HTML_CHARS: Final = 1_000_000  # of one text/html part read
_BODY_CHARS: Final = 1_000_000  # of plain text, and of HTML, kept from all body parts together
_BOUNCE_TEXT_CHARS: Final = 256 * 1024  # of body text searched for a quoted Message-ID
_MAX_PARAMETERS: Final = 64  # of one header read for its parameters (filename*0* … continuations included)
_MAX_PARAMETER_CHARS: Final = 8 * 1024

_PARSER_POLICY: Final = policy.compat32


def parse_message(raw: bytes, *, max_message_bytes: int, max_attachment_bytes: int) -> ParsedMessage:
    """Parse one received message; never raises. See the module docstring for the bounds."""
    data = raw if isinstance(raw, bytes) else _as_bytes(raw)
    try:
        if len(data) > max_message_bytes:
            defect = f"message larger than the limit ({len(data)} > {max_message_bytes} bytes): only headers read"
            return _headers_only(data, len(data), oversized=True, defects=_Defects([defect]))
        return _parse_whole(data, max_attachment_bytes)
    except Exception as exc:  # the contract: one bad message never stops the others
        log.warning("mime.parse_failed", error=_name(exc), size=len(data), exc_info=True)  # a bug here: say so
        defects = _Defects([f"message could not be parsed ({_name(exc)})"])
        return _headers_only(data, len(data), oversized=False, defects=defects)


def _as_bytes(raw: object) -> bytes:
    """bytearray and memoryview are accepted too; anything else reads as an empty message."""
    return bytes(raw) if isinstance(raw, bytearray | memoryview) else b""


def _parse_whole(raw: bytes, max_attachment_bytes: int) -> ParsedMessage:
    defects = _Defects()
    data = _without_preamble(raw)
    too_costly = _too_costly(data)
    if too_costly is not None:
        defects.add(too_costly)
        return _headers_only(data, len(raw), oversized=False, defects=defects)
    try:
        root = BytesParser(policy=_PARSER_POLICY).parsebytes(data)
    except RecursionError:
        defects.add("MIME structure nested too deep for the parser: only headers read")
        return _headers_only(data, len(raw), oversized=False, defects=defects)
    facts = read_facts(root, defects)
    walk = _Walk(max_attachment_bytes, defects)
    walk.run(root)
    report_type = _report_type(walk.report_part) if walk.report_part is not None else None
    facts = replace(facts, is_report=walk.report_part is not None, report_type=report_type)
    plain, html_text, link_text = _bodies(walk)
    report = _report(walk, facts, "\n\n".join(walk.plain), defects)
    return ParsedMessage(
        facts=facts,
        attachments=tuple(walk.attachments),
        cloud_links=find_cloud_links(link_text),
        text=(plain or html_text)[:TEXT_CAP],
        defects=defects.items(),
        report=report,
        size=len(raw),
    )


def _too_costly(data: bytes) -> str | None:
    """Why the stdlib parser must not see `data` (its time would grow past seconds), or None."""
    if data.count(b"\n") > MAX_LINES:
        return f"more than {MAX_LINES} lines: only headers read"
    if nesting_cost(data) > MAX_NESTING_COST:
        return "MIME structure nested too deep for its size: only headers read"
    if parameter_cost(data) > MAX_PARAMETER_COST:
        return "Content-Type headers too long: only headers read"
    return None


_CONTENT_TYPE_FIELD: Final = re.compile(rb"^content-type:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*", re.IGNORECASE | re.MULTILINE)


def parameter_cost(data: bytes) -> int:
    """Semicolons × length, summed over Content-Type fields: the work of the stdlib's parameter parser, which the
    parser runs on each multipart's Content-Type to find its boundary (80,000 semicolons in one field took 3 s)."""
    return sum(field.count(b";") * len(field) for field in _CONTENT_TYPE_FIELD.findall(data))


def _headers_only(data: bytes, size: int, *, oversized: bool, defects: _Defects) -> ParsedMessage:
    """Facts from the header block alone: for oversized messages and as the fallback of a failed parse."""
    facts = MessageFacts()
    try:
        block = _header_block(data, defects)
        head = BytesParser(policy=_PARSER_POLICY).parsebytes(block, headersonly=True)
        facts = read_facts(head, defects)
        is_report = facts.content_type == "multipart/report"
        facts = replace(facts, is_report=is_report, report_type=_report_type(head) if is_report else None)
    except Exception as exc:
        defects.add(f"headers could not be read ({_name(exc)})")
    return ParsedMessage(facts=facts, defects=defects.items(), oversized=oversized, size=size)


def _without_preamble(data: bytes) -> bytes:
    """Without a UTF-8 byte-order mark or an mbox "From " line: saved messages have them, and the parser would read
    the whole message as a body."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    if data.startswith(b"From "):
        end = data.find(b"\n")
        return data[end + 1 :] if end >= 0 else b""
    return data


_BOUNDARY_PARAMETER: Final = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
_CLOSING_DELIMITER: Final = re.compile(rb"^--([^\r\n]{1,200}?)--[ \t]*\r?$", re.MULTILINE)


def nesting_cost(data: bytes) -> int:
    """About how many boundary checks the stdlib parser will make: each line against every open multipart.

    The stdlib's feedparser tests every line against the boundaries of all enclosing multiparts, so 400 nested
    multiparts around 100,000 short lines took 5 s. This linear scan follows boundary declarations (opened) and closing
    delimiters (closed, with any boundary nested inside) and adds up lines × multiparts open.
    """
    events = [(m.start(), 0, m.group(1) or m.group(2)) for m in _BOUNDARY_PARAMETER.finditer(data)]
    events += [(m.start(), 1, m.group(1)) for m in _CLOSING_DELIMITER.finditer(data)]
    events.sort(key=lambda event: (event[0], event[1]))
    open_boundaries: list[bytes] = []
    cost, previous = 0, 0
    for position, closing, boundary in events:
        cost += data.count(b"\n", previous, position) * len(open_boundaries)
        previous = position
        if not closing:
            open_boundaries.append(boundary)
        elif boundary in open_boundaries:
            del open_boundaries[open_boundaries.index(boundary) :]
    return cost + data.count(b"\n", previous) * len(open_boundaries)


def _header_block(data: bytes, defects: _Defects) -> bytes:
    head = _without_preamble(data[: MAX_HEADER_BLOCK + 4096])[:MAX_HEADER_BLOCK]
    end = re.search(rb"\r?\n\r?\n", head)
    if end is None:
        if len(data) > MAX_HEADER_BLOCK:
            defects.add(f"header block longer than {MAX_HEADER_BLOCK} bytes: cut")
        return head
    return head[: end.end()]


# ------------------------------------------------------------------------------------------------ defects


class _Defects:
    """Short English phrases, each once, at most MAX_DEFECTS."""

    def __init__(self, initial: list[str] | None = None) -> None:
        self._items: dict[str, None] = dict.fromkeys(initial or [])

    def add(self, text: str) -> None:
        if len(self._items) < MAX_DEFECTS:
            self._items.setdefault(text, None)

    def from_part(self, part: Message) -> None:
        """The stdlib parser's defects, e.g. StartBoundaryNotFoundDefect → "start boundary not found"."""
        for defect in getattr(part, "defects", ()):
            words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", type(defect).__name__).lower()
            self.add(words.removesuffix(" defect"))

    def items(self) -> tuple[str, ...]:
        return tuple(self._items)


def _name(exc: BaseException) -> str:
    return type(exc).__name__


# ------------------------------------------------------------------------------------------------ headers


class _Headers:
    """A part's headers as raw text (8-bit bytes kept as surrogate escapes), looked up by lower-case name."""

    def __init__(self, part: Message, defects: _Defects) -> None:
        self._values: dict[str, list[str]] = {}
        self._defects = defects
        self.charset_hint: str | None = None  # raw 8-bit header bytes are most often in the body's charset
        try:
            for name, value in part.raw_items():
                self._values.setdefault(str(name).strip().lower(), []).append(str(value))
        except Exception as exc:
            defects.add(f"headers could not be listed ({_name(exc)})")

    def names(self) -> list[str]:
        return list(self._values)

    def all(self, name: str) -> list[str]:
        """The first MAX_HEADER_VALUES values of the header, unfolded, raw bytes decoded (not RFC 2047)."""
        values = self._values.get(name, [])
        if len(values) > MAX_HEADER_VALUES:
            self._defects.add(f"{name} header repeated more than {MAX_HEADER_VALUES} times: the rest ignored")
        return [self._text(name, value) for value in values[:MAX_HEADER_VALUES]]

    def first(self, name: str) -> str | None:
        values = self._values.get(name)
        return self._text(name, values[0]) if values else None

    def raw_first(self, name: str) -> str | None:
        """The first value unfolded, 8-bit bytes still escaped (for parameter parsing)."""
        values = self._values.get(name)
        return _unfold(values[0][:MAX_HEADER_CHARS]) if values else None

    def _text(self, name: str, value: str) -> str:
        if len(value) > MAX_HEADER_CHARS:
            self._defects.add(f"{name} header longer than {MAX_HEADER_CHARS} characters: cut")
            value = value[:MAX_HEADER_CHARS]
        return _unescape_bytes(_unfold(value), self.charset_hint).strip()


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", "")


def _unescape_bytes(text: str, charset_hint: str | None) -> str:
    """Raw 8-bit header bytes (surrogate escapes) decoded as UTF-8, else in the body's charset, else Windows-1252."""
    if not _has_surrogates(text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(raw, charset_hint)


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


# ------------------------------------------------------------------------------------------------ charsets

#: Codecs that are text encodings in Python but must never decode mail (they interpret escapes or fail by design).
_REFUSED_CODECS: Final = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"})
#: Labels that mail software writes for a superset (WHATWG's mapping): decode with the superset.
_SUPERSETS: Final = {"iso8859-1": "cp1252", "ascii": "utf-8", "gb2312": "gb18030"}


def codec_for(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when it is unknown, unsafe or not a text encoding."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED_CODECS:
        return None
    return _SUPERSETS.get(info.name, info.name)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes: the declared charset if it fits, else UTF-8, else Windows-1252, else Latin-1.

    UTF-8 goes first when nothing or a Western single-byte charset is declared: bytes that are valid UTF-8 with
    accents are almost never Latin-1 text, and mailers often label UTF-8 as iso-8859-1. Never U+FFFD when a
    fallback decodes the bytes cleanly; a declared charset that does not fit is used with replacement last.
    """
    codec = codec_for(charset)
    order = ("utf-8", codec, "cp1252") if _single_byte_western(codec) else (codec, "utf-8", "cp1252")
    for candidate in order:
        if candidate is None:
            continue
        try:
            return data.decode(candidate)
        except (ValueError, LookupError):  # UnicodeDecodeError is a ValueError
            continue
    if codec is not None:
        try:
            return data.decode(codec, errors="replace")
        except LookupError:
            pass
    return data.decode("latin-1")


def _single_byte_western(codec: str | None) -> bool:
    return codec is None or codec in ("utf-8", "latin-1") or codec.startswith(("cp125", "iso8859-", "mac-"))


_ENCODED_WORD: Final = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")


def decode_rfc2047(text: str) -> str:
    """Decode RFC 2047 encoded words; adjacent words in one charset are joined before decoding (mailers split
    multi-byte characters across words), and the blanks between encoded words are dropped as the RFC says."""
    if "=?" not in text:
        return text
    out: list[str] = []
    buffer = bytearray()
    buffer_charset: str | None = None
    last_end = 0
    previous_was_word = False

    def flush() -> None:
        nonlocal buffer_charset
        if buffer_charset is not None:
            out.append(decode_bytes(bytes(buffer), buffer_charset))
            buffer.clear()
            buffer_charset = None

    for match in _ENCODED_WORD.finditer(text):
        gap = text[last_end : match.start()]
        if not (previous_was_word and gap.strip() == ""):
            flush()
            out.append(gap)
        word = _word_bytes(match.group(2), match.group(3))
        charset = match.group(1).lower()
        if word is None:
            flush()
            out.append(match.group(0))
            previous_was_word = False
        else:
            if buffer_charset is not None and charset != buffer_charset:
                flush()
            buffer.extend(word)
            buffer_charset = charset
            previous_was_word = True
        last_end = match.end()
    flush()
    out.append(text[last_end:])
    return "".join(out)


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    raw = payload.encode("utf-8", "surrogateescape")
    try:
        if encoding in "bB":
            return base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
        return binascii.a2b_qp(raw, header=True)
    except (binascii.Error, ValueError):
        return None


# ------------------------------------------------------------------------------------------------ facts


def read_facts(message: Message, defects: _Defects) -> MessageFacts:
    """The top-level headers, decoded and normalised; every access guarded by `_Headers`."""
    headers = _Headers(message, defects)
    headers.charset_hint = _charset(headers)
    from_name, from_address = _sender(headers, defects)
    references = _message_ids(headers.all("references"))
    if len(references) > MAX_IDS:
        defects.add(f"more than {MAX_IDS} ids in References: the middle ones dropped")
        references = references[:1] + references[-(MAX_IDS - 1) :]
    return MessageFacts(
        message_id=_first_id(headers.first("message-id")),
        in_reply_to=_message_ids(headers.all("in-reply-to"))[:MAX_IDS],
        references=references,
        from_address=from_address,
        from_name=from_name,
        from_header=_display(decode_rfc2047(headers.first("from") or ""), 500),
        reply_to=_addresses(headers.all("reply-to"), "Reply-To", defects),
        subject=_subject(headers.first("subject"), defects),
        to=_addresses(headers.all("to"), "To", defects),
        cc=_addresses(headers.all("cc"), "Cc", defects),
        delivered_to=_addresses(headers.all("delivered-to"), "Delivered-To", defects),
        x_original_to=_addresses(headers.all("x-original-to"), "X-Original-To", defects),
        date=_date(headers.first("date"), defects),
        return_path=_return_path(headers.first("return-path")),
        authentication_results=tuple(headers.all("authentication-results")[:20]),
        content_type=_content_type(message),
        auto_submitted=headers.first("auto-submitted"),
        precedence=headers.first("precedence"),
        x_autoreply=headers.first("x-autoreply"),
        x_autorespond=headers.first("x-autorespond"),
        x_auto_response_suppress=headers.first("x-auto-response-suppress"),
        list_id=headers.first("list-id"),
        list_unsubscribe=headers.first("list-unsubscribe"),
        x_ms_exchange_inbox_rules_loop=headers.first("x-ms-exchange-inbox-rules-loop"),
        x_mailbot_loop=headers.first("x-mailbot-loop"),
    )


def _sender(headers: _Headers, defects: _Defects) -> tuple[str, str | None]:
    """(display name, normalised address) of the first From address; the address is None when it is not valid."""
    values = headers.all("from")[:1]
    pairs = _address_pairs(values)
    if not pairs:
        return "", None
    name, address = pairs[0]
    normalized = _normalized(address, "From", _Defects())
    if normalized is None:  # e.g. an unquoted "@" in the display name: try the address in angle brackets
        bracketed = re.search(r"<([^<>\s@]{1,64}@[^<>\s@]{1,255})>", values[0])
        normalized = _normalized(bracketed.group(1) if bracketed else address, "From", defects)
    return _display(decode_rfc2047(name), 200), normalized


def _address_pairs(values: list[str]) -> list[tuple[str, str]]:
    try:
        pairs = email.utils.getaddresses(values)
    except Exception:
        return []
    return [(name, address) for name, address in pairs if address]


def _addresses(values: list[str], header: str, defects: _Defects) -> tuple[str, ...]:
    pairs = _address_pairs(values)
    if len(pairs) > MAX_ADDRESSES:
        defects.add(f"more than {MAX_ADDRESSES} addresses in {header}: the rest ignored")
    found = (_normalized(address, header, defects) for _, address in pairs[:MAX_ADDRESSES])
    return tuple(dict.fromkeys(a for a in found if a is not None))


def _normalized(address: str, header: str, defects: _Defects) -> str | None:
    try:
        return normalize_address(address)
    except ValueError:
        defects.add(f"invalid address in {header}")
        return None


_ANGLE_ID: Final = re.compile(r"<([^<>]*)>")


def _clean_id(text: str) -> str | None:
    """A Message-ID without whitespace (folding may split long ones) and without its angle brackets."""
    cleaned = "".join(text.split()).strip("<>")
    return cleaned[:998] or None


def _first_id(value: str | None) -> str | None:
    if not value:
        return None
    match = _ANGLE_ID.search(value)
    return _clean_id(match.group(1) if match else value)


def _message_ids(values: list[str]) -> tuple[str, ...]:
    """Ids from In-Reply-To or References; bare ids without brackets are split on blanks and commas."""
    found: list[str] = []
    for value in values:
        tokens = _ANGLE_ID.findall(value) or re.split(r"[\s,]+", value)
        found.extend(cleaned for token in tokens if (cleaned := _clean_id(token)))
    return tuple(dict.fromkeys(found))


def _subject(value: str | None, defects: _Defects) -> str:
    subject = _display(decode_rfc2047(value or ""), None)
    if len(subject) > MAX_SUBJECT_CHARS:
        defects.add(f"subject longer than {MAX_SUBJECT_CHARS} characters: cut")
        subject = subject[:MAX_SUBJECT_CHARS]
    return subject


def _display(text: str, limit: int | None) -> str:
    """One line of display text: control characters removed, blanks collapsed."""
    clean = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    clean = " ".join(clean.split())
    return clean if limit is None else clean[:limit]


def _date(value: str | None, defects: _Defects) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except Exception:  # TypeError, ValueError, OverflowError… whatever a garbage date makes the stdlib raise
        defects.add("Date header not readable")
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    return "<>" if re.fullmatch(r"<\s*>", value) else value


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


# ------------------------------------------------------------------------------------------------ the walk

_ATTACHED_MESSAGE_TYPES: Final = frozenset({"message/rfc822", "message/global", "message/news"})
_TNEF_TYPES: Final = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_BODY_TYPES: Final = frozenset({"text/plain", "text/html"})


@dataclass
class _Walk:
    """Visits every part of the MIME tree (iteratively, bounded) and sorts what it finds."""

    max_attachment_bytes: int
    defects: _Defects
    attachments: list[AttachmentPart] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)  # direct text/plain bodies, decoded
    html: list[str] = field(default_factory=list)  # direct text/html bodies, decoded
    report_part: Message | None = None  # the first multipart/report of the message itself
    returned_ids: list[str] = field(default_factory=list)  # Message-IDs of directly attached messages
    parts: int = 0

    def run(self, root: Message) -> None:
        stack: list[tuple[Message, int, Origin]] = [(root, 0, "direct")]
        while stack:
            part, depth, origin = stack.pop()
            self.parts += 1
            if self.parts > MAX_PARTS:
                self.defects.add(f"more than {MAX_PARTS} parts: the rest not read")
                return
            self.defects.from_part(part)
            children = self._visit(part, origin)
            if children and depth + 1 > MAX_DEPTH:
                self.defects.add(f"parts nested deeper than {MAX_DEPTH} levels: not read")
                continue
            stack.extend((child, depth + 1, child_origin) for child, child_origin in reversed(children))

    def _visit(self, part: Message, origin: Origin) -> list[tuple[Message, Origin]]:
        ctype = _content_type(part)
        if ctype in _ATTACHED_MESSAGE_TYPES:
            inner = self._encoded_message(part) or _children(part)
            if origin == "direct" and inner:
                self._note_returned(inner[0])
            return [(m, "attached_message" if origin == "direct" else origin) for m in inner]
        if part.is_multipart():
            if ctype == "multipart/report" and origin == "direct" and self.report_part is None:
                self.report_part = part
            return [(m, origin) for m in _children(part)] if ctype.startswith("multipart/") else []
        self._leaf(part, ctype, origin)
        return []

    def _encoded_message(self, part: Message) -> list[Message]:
        """An attached message sent base64 or quoted-printable (Python's own EmailMessage does that): the stdlib
        parsed the encoded text as if it were the message, so decode it and parse again."""
        encoding = (_Headers(part, self.defects).first("content-transfer-encoding") or "").lower()
        children = _children(part)
        if encoding not in ("base64", "quoted-printable") or not children:
            return []
        try:
            encoded = children[0].as_bytes()
            decoded = base64.b64decode(encoded) if encoding == "base64" else quopri.decodestring(encoded.lstrip())
            too_costly = _too_costly(decoded)
            if too_costly is not None:
                self.defects.add(f"attached message not read: {too_costly.split(':')[0]}")
                return []
            return [BytesParser(policy=_PARSER_POLICY).parsebytes(decoded)]
        except Exception as exc:  # RecursionError included
            self.defects.add(f"encoded attached message could not be read ({_name(exc)})")
            return []

    def _note_returned(self, inner: Message) -> None:
        message_id = _first_id(_Headers(inner, self.defects).first("message-id"))
        if message_id:
            self.returned_ids.append(message_id)

    def _leaf(self, part: Message, ctype: str, origin: Origin) -> None:
        headers = _Headers(part, self.defects)
        filename = attachment_filename(headers)
        disposition = _disposition(headers)
        if ctype == "text/rfc822-headers" and origin == "direct":
            self._note_returned_headers(part)
        if ctype in _TNEF_TYPES or (filename or "").lower() == "winmail.dat":
            self._tnef(part, headers, filename, origin)
        elif disposition == "attachment" or filename is not None or _is_file_type(ctype):
            self._attach(filename, _declared_type(headers, ctype), _payload(part, self.defects), origin)
        elif origin == "direct" and ctype in _BODY_TYPES:
            self._body(part, headers, ctype)

    def _note_returned_headers(self, part: Message) -> None:
        head = _parse_header_text(_payload(part, self.defects))
        if head is not None:
            self._note_returned(head)

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
                kind=_sniff(data, self.defects),
                origin=origin,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                oversized=oversized,
            )
        )

    def _tnef(self, part: Message, headers: _Headers, filename: str | None, origin: Origin) -> None:
        data = _payload(part, self.defects)
        try:
            files = read_tnef(data)
        except TnefError as exc:
            self.defects.add(f"winmail.dat (TNEF) could not be opened: {exc}")
            self._attach(filename or "winmail.dat", _declared_type(headers, "application/ms-tnef"), data, origin)
            return
        if not files:
            self.defects.add("winmail.dat (TNEF) holds no attachments")
        for name, blob in files:
            self._attach(_clean_filename(name) if name else None, "application/octet-stream", blob, "tnef")

    def _body(self, part: Message, headers: _Headers, ctype: str) -> None:
        """Keep a body part's text; past _BODY_CHARS of one kind, further parts are not decoded."""
        bodies = self.plain if ctype == "text/plain" else self.html
        if sum(len(body) for body in bodies) >= _BODY_CHARS:
            return
        limit = _TEXT_BYTES if ctype == "text/plain" else 4 * _HTML_CHARS
        bodies.append(_decode_text(_cut(_payload(part, self.defects), limit), _charset(headers)))


def _children(part: Message) -> list[Message]:
    try:
        payload = part.get_payload()
    except Exception:
        return []
    if isinstance(payload, list):
        return [child for child in payload if isinstance(child, Message)]
    return []


def _payload(part: Message, defects: _Defects) -> bytes:
    """The decoded bytes of a leaf part (base64, quoted-printable, uuencode); b"" when there are none."""
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:
        defects.add(f"part body could not be decoded ({_name(exc)})")
        return b""
    defects.from_part(part)
    return payload if isinstance(payload, bytes) else b""


def _charset(headers: _Headers) -> str | None:
    """The charset parameter, read by `_parameter` (Message.get_content_charset would parse an unbounded header)."""
    return _parameter(headers.raw_first("content-type") or "", "charset")


def _decode_text(data: bytes, charset: str | None) -> str:
    return decode_bytes(data, charset).replace("\r\n", "\n")


def _sniff(data: bytes, defects: _Defects) -> str:
    try:
        return sniff(data)
    except Exception as exc:
        defects.add(f"attachment type could not be sniffed ({_name(exc)})")
        return FileKind.UNKNOWN


def _is_file_type(ctype: str) -> bool:
    """Parts that are files even without a name or a disposition (application/octet-stream and friends)."""
    return ctype.startswith("application/")


def _disposition(headers: _Headers) -> str | None:
    value = headers.raw_first("content-disposition")
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def _declared_type(headers: _Headers, fallback: str) -> str:
    """The Content-Type as declared when it is a well-formed type/subtype, else `fallback`."""
    value = headers.raw_first("content-type") or ""
    declared = value.split(";", 1)[0].strip().lower()
    return declared if re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", declared) else fallback


def _parse_header_text(data: bytes) -> Message | None:
    try:
        return BytesParser(policy=_PARSER_POLICY).parsebytes(data[:MAX_HEADER_BLOCK], headersonly=True)
    except Exception:
        return None


# ------------------------------------------------------------------------------------------------ file names


def attachment_filename(headers: _Headers) -> str | None:
    """The file name from Content-Disposition `filename` or Content-Type `name` (else Content-Location, when a
    disposition says the part is a file), decoded, as display text."""
    for header, parameter in (("content-disposition", "filename"), ("content-type", "name")):
        value = headers.raw_first(header)
        if value is None:
            continue
        text = _parameter(value, parameter)
        cleaned = _clean_filename(text) if text else None
        if cleaned:
            return cleaned
    location = headers.first("content-location")
    if location and headers.first("content-disposition") is not None:  # Apple Mail names inline files this way
        return _clean_filename(decode_rfc2047(location).split("?", 1)[0])
    return None


def _parameter(raw_value: str, name: str) -> str | None:
    """One parameter of a header, decoded: RFC 2231 (with its charset), RFC 2047 words, raw UTF-8 or Latin-1.

    The raw header's bytes are handed to the stdlib as Latin-1 characters (a lossless 1:1 mapping), so that its
    parameter parser cannot replace them with U+FFFD; they are decoded here instead.
    """
    holder = Message(policy=_PARSER_POLICY)
    try:
        holder["X-Param"] = _few_parameters(raw_value).encode("utf-8", "surrogateescape").decode("latin-1")
        value = holder.get_param(name, None, header="x-param")
    except Exception:
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        charset, _language, text = value
        return decode_bytes(_latin1_bytes(str(text)), str(charset) if charset else None)
    return decode_rfc2047(decode_bytes(_latin1_bytes(str(value)), None))


def _few_parameters(value: str) -> str:
    """At most _MAX_PARAMETERS parameters and _MAX_PARAMETER_CHARS characters: the stdlib's parameter parser costs
    parameters × length (it recounts quotes from the start for every ";")."""
    cut = value[:_MAX_PARAMETER_CHARS]
    position = -1
    for _ in range(_MAX_PARAMETERS):
        position = cut.find(";", position + 1)
        if position < 0:
            return cut
    return cut[:position]


def _latin1_bytes(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def _clean_filename(name: str) -> str | None:
    """Display text only: NFC, no control or format characters, no directories, at most MAX_FILENAME_CHARS."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(" " if ch in "\t\r\n" else ch for ch in text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    text = " ".join(text.replace("\\", "/").rsplit("/", 1)[-1].split())
    if text in ("", ".", ".."):
        return None
    if len(text) > MAX_FILENAME_CHARS:
        stem, dot, extension = text.rpartition(".")
        keep = MAX_FILENAME_CHARS - len(extension) - 1
        text = f"{stem[:keep]}.{extension}" if dot and 0 < len(extension) <= 10 else text[:MAX_FILENAME_CHARS]
    return text


# ------------------------------------------------------------------------------------------------ bodies


def _bodies(walk: _Walk) -> tuple[str, str, str]:
    """(plain text, text from the HTML, text to search for links: plain text and HTML with entities resolved).

    Only the first _BODY_CHARS of each are worked on: the text is capped far below, and links come early.
    """
    plain = _tidy("\n\n".join(walk.plain)[:_BODY_CHARS])
    html_text = "" if plain else _tidy("\n\n".join(html_to_text(markup) for markup in walk.html)[:_BODY_CHARS])
    link_text = "\n".join([*walk.plain, *(html.unescape(markup) for markup in walk.html)])
    return plain, html_text, link_text[: 2 * _BODY_CHARS]


def _cut(data: bytes, limit: int) -> bytes:
    """At most `limit` bytes, without splitting a UTF-8 sequence at the end (that would fail the UTF-8 decoding)."""
    if len(data) <= limit:
        return data
    cut = data[:limit]
    start = len(cut) - 1
    while start > len(cut) - 4 and start > 0 and cut[start] & 0xC0 == 0x80:
        start -= 1
    lead = cut[start]
    needed = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    return cut[:start] if len(cut) - start < needed else cut


def _tidy(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


_INVISIBLE_ELEMENTS: Final = ("script", "style", "title")  # not "head": an unclosed one would hide the body
_BLOCK_TAG: Final = re.compile(r"</?(?:br|p|div|tr|li|table|blockquote|hr|h[1-6])\b[^<>]*>", re.IGNORECASE)
_ANY_TAG: Final = re.compile(r"<[^<>]*>")  # [^<>] keeps every attempt inside one "<…" stretch: linear time


def html_to_text(markup: str) -> str:
    """Visible text of an HTML body: scripts, styles and comments dropped, block elements on their own lines.

    Written with str.find and simple regexes rather than html.parser: HTMLParser is quadratic on unclosed markup
    (one megabyte of `<a href='` ran for minutes on Python 3.11, the CVE-2025-6069 class); every step here is linear.
    """
    text = _drop_between(markup[:_HTML_CHARS], "<!--", "-->")
    for element in _INVISIBLE_ELEMENTS:
        text = _drop_between(text, f"<{element}", f"</{element}")
    text = _BLOCK_TAG.sub("\n", text)
    return html.unescape(_ANY_TAG.sub("", text))


def _drop_between(text: str, opening: str, closing: str) -> str:
    """`text` without each stretch from `opening` to the end of `closing` (case-insensitive; unclosed: to the end)."""
    lowered = text.lower()
    kept: list[str] = []
    position = 0
    while (start := lowered.find(opening, position)) >= 0:
        kept.append(text[position:start])
        end = lowered.find(closing, start + len(opening))
        if end < 0:
            return "".join(kept)
        after = lowered.find(">", end)
        position = len(text) if after < 0 else after + 1
    kept.append(text[position:])
    return "".join(kept)


# ------------------------------------------------------------------------------------------------ reports

_KNOWN_REPORT_TYPES: Final = frozenset({"delivery-status", "disposition-notification", "feedback-report"})
_REPORT_PART_TYPES: Final = {
    "message/delivery-status": "delivery-status",
    "message/global-delivery-status": "delivery-status",
    "message/disposition-notification": "disposition-notification",
    "message/global-disposition-notification": "disposition-notification",
    "message/feedback-report": "feedback-report",
}


def _report_type(report: Message) -> str | None:
    """The report-type parameter; when it is missing or unknown, inferred from the report's machine-readable part."""
    declared = _parameter(_Headers(report, _Defects()).raw_first("content-type") or "", "report-type")
    declared = declared.strip().lower() if declared else None
    if declared in _KNOWN_REPORT_TYPES:
        return declared
    for child in _children(report):
        inferred = _REPORT_PART_TYPES.get(_content_type(child))
        if inferred:
            return inferred
    return declared


def _report(walk: _Walk, facts: MessageFacts, raw_text: str, defects: _Defects) -> DeliveryReport | None:
    if walk.report_part is not None and facts.report_type == "delivery-status":
        try:
            return _delivery_status(walk.report_part, walk.returned_ids, defects)
        except Exception as exc:
            defects.add(f"delivery status not readable ({_name(exc)})")
            return DeliveryReport(walk.returned_ids[0] if walk.returned_ids else None, (), "unknown")
    if walk.report_part is None and _from_mail_daemon(facts):
        return _text_bounce(facts, walk.returned_ids, raw_text)
    return None


def _from_mail_daemon(facts: MessageFacts) -> bool:
    return is_mail_daemon(sender_local_part(facts))


def _delivery_status(report: Message, returned_ids: list[str], defects: _Defects) -> DeliveryReport:
    """RFC 3464: per-recipient fields, and the original Message-ID from the returned message or headers."""
    blocks: list[dict[str, str]] = []
    for child in _children(report):
        if _content_type(child) in ("message/delivery-status", "message/global-delivery-status"):
            blocks.extend(_status_blocks(child, defects))
    recipients = tuple(_recipient(b) for b in blocks if b.keys() & _RECIPIENT_FIELDS)[:100]
    original = returned_ids[0] if returned_ids else _envelope_id(blocks)
    return DeliveryReport(original, recipients, _overall_action(recipients))


_RECIPIENT_FIELDS: Final = frozenset({"final-recipient", "original-recipient", "action", "status"})


def _status_blocks(part: Message, defects: _Defects) -> list[dict[str, str]]:
    """The field blocks of a delivery-status part. The stdlib splits them into header-only messages; a block's
    leftover body (a second block it could not split, or a block some gateways base64-encode) is read too."""
    blocks: list[dict[str, str]] = []
    base64_seen = False
    for block in _children(part)[:100]:
        headers = _Headers(block, defects)
        fields = {name: value for name in headers.names() if (value := headers.first(name)) is not None}
        if fields:
            blocks.append(fields)
        base64_seen = base64_seen or fields.get("content-transfer-encoding", "").lower() == "base64"
        body = block.get_payload()
        if isinstance(body, str) and body.strip():
            blocks.extend(_field_blocks(_base64_text(body) if base64_seen else body))
    return blocks


def _base64_text(body: str) -> str:
    try:
        return base64.b64decode("".join(body.split()) + "==", validate=False).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return body


def _field_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n[ \t]*\n", text[:65_536].replace("\r\n", "\n"))[:100]:
        head = Parser(policy=_PARSER_POLICY).parsestr(chunk.strip("\n") + "\n", headersonly=True)
        fields = {str(k).lower(): " ".join(str(v).split()) for k, v in head.items()}
        if fields:
            blocks.append(fields)
    return blocks


_STATUS_CODE: Final = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


def _recipient(block: dict[str, str]) -> RecipientStatus:
    address = (block.get("final-recipient") or block.get("original-recipient") or "").rsplit(";", 1)[-1]
    diagnostic = block.get("diagnostic-code", "")
    diagnostic = diagnostic.split(";", 1)[-1] if ";" in diagnostic else diagnostic
    status = _STATUS_CODE.search(block.get("status", "")) or _STATUS_CODE.search(diagnostic)
    return RecipientStatus(
        address=address.strip().strip("<>").strip().lower(),
        action=block.get("action", "").strip().lower().split(" ", 1)[0],
        status=status.group(1) if status else "",
        diagnostic=" ".join(diagnostic.split())[:300],
    )


def _overall_action(recipients: tuple[RecipientStatus, ...]) -> str:
    if any(r.failed for r in recipients):
        return "failed"
    actions = [r.action for r in recipients if r.action in _DSN_ACTIONS]
    if "delayed" in actions:
        return "delayed"
    return actions[0] if actions else "unknown"


_DSN_ACTIONS: Final = frozenset({"failed", "delayed", "delivered", "relayed", "expanded"})


def _envelope_id(blocks: list[dict[str, str]]) -> str | None:
    """Original-Envelope-Id (xtext) when it carries a Message-ID (mailbot may send its Message-ID as ENVID)."""
    for block in blocks:
        value = block.get("original-envelope-id")
        if value:
            decoded = re.sub(r"\+([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), value)
            cleaned = _first_id(decoded)
            if cleaned and "@" in cleaned:
                return cleaned
    return None


_QUOTED_ID: Final = re.compile(r"^[ \t>]*Message-ID:[ \t]*<([^<>\r\n]+)>", re.IGNORECASE | re.MULTILINE)
# No "@" on either side of the one "@": a greedy class that could also match "@" backtracks quadratically on long lines.
_QMAIL_RECIPIENT: Final = re.compile(r"^<([^<>\s@]{1,64}@[^<>\s@]{1,255})>:[ \t]*\n((?:[^\n]+\n?){1,3})", re.MULTILINE)
_EXIM_RECIPIENT: Final = re.compile(r"^  ([^\s@]{1,64}@[^\s@]{1,255})[ \t]*\n[ \t]{3,}(\S[^\n]*)", re.MULTILINE)
_FAILURE_WORDS: Final = re.compile(
    r"\b(failed|failure|permanent|fatal|undeliverable|could not be delivered|unknown user|does not exist)\b",
    re.IGNORECASE,
)
_DELAY_WORDS: Final = re.compile(r"\b(delayed|delay|retrying|will (?:keep )?(?:re)?try|warning)\b", re.IGNORECASE)


def _text_bounce(facts: MessageFacts, returned_ids: list[str], plain: str) -> DeliveryReport | None:
    """A bounce without RFC 3464 fields (qmail, old Exim): best effort from the text and attached original."""
    text = plain[:_BOUNCE_TEXT_CHARS]
    quoted = _QUOTED_ID.search(text)
    original = returned_ids[0] if returned_ids else (_clean_id(quoted.group(1)) if quoted else None)
    found = [(m.group(1), m.group(2)) for m in _QMAIL_RECIPIENT.finditer(text)]
    found += [(m.group(1), m.group(2)) for m in _EXIM_RECIPIENT.finditer(text)]
    if original is None and not found:
        return None
    action = _text_bounce_action(facts.subject, text[:2_000])
    recipients = tuple(_text_recipient(address, diagnostic, action) for address, diagnostic in found[:100])
    return DeliveryReport(original, recipients, action, standard=False)


def _text_bounce_action(subject: str, opening: str) -> str:
    """ "delayed" for a delay warning, else "failed": the subject decides when it says either, then the text."""
    for text in (subject, opening):
        if _FAILURE_WORDS.search(text):
            return "failed"
        if _DELAY_WORDS.search(text):
            return "delayed"
    return "failed"


def _text_recipient(address: str, diagnostic: str, action: str) -> RecipientStatus:
    status = _STATUS_CODE.search(diagnostic)
    return RecipientStatus(
        address=address.strip("<>:").lower(),
        action=action,
        status=status.group(1) if status else "",
        diagnostic=" ".join(diagnostic.split())[:300],
    )


# ------------------------------------------------------------------------------------------------ TNEF


class TnefError(ValueError):
    """The bytes are not a TNEF stream, or one too damaged to find its attachments."""


_TNEF_SIGNATURE: Final = 0x223E9F78
_LEVEL_ATTACHMENT: Final = 2
_ATT_ATTACH_REND_DATA: Final = 0x9002  # starts each attachment
_ATT_ATTACH_TITLE: Final = 0x8010  # its 8.3 name
_ATT_ATTACH_DATA: Final = 0x800F  # its bytes
_ATT_ATTACHMENT: Final = 0x9005  # its MAPI properties (long name, data object)
_ATT_OEM_CODEPAGE: Final = 0x9007
_PR_DISPLAY_NAME: Final = 0x3001
_PR_ATTACH_DATA_OBJ: Final = 0x3701
_PR_ATTACH_FILENAME: Final = 0x3704
_PR_ATTACH_LONG_FILENAME: Final = 0x3707
_WANTED_PROPERTIES: Final = frozenset(
    {_PR_DISPLAY_NAME, _PR_ATTACH_DATA_OBJ, _PR_ATTACH_FILENAME, _PR_ATTACH_LONG_FILENAME}
)
_IMESSAGE_IID: Final = bytes.fromhex("0703020000000000c000000000000046")  # an embedded message in PR_ATTACH_DATA_OBJ
_MAPI_FIXED_SIZES: Final = {0x0002: 2, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8,
                            0x000A: 4, 0x000B: 2, 0x0014: 8, 0x0040: 8, 0x0048: 16}  # fmt: skip
_MAPI_STRING8: Final = 0x001E
_MAPI_UNICODE: Final = 0x001F
_MAPI_VARIABLE: Final = frozenset({0x0000, 0x000D, _MAPI_STRING8, _MAPI_UNICODE, 0x0102})
_MAPI_MULTI_VALUE: Final = 0x1000
_TNEF_MAX_DEPTH: Final = 3  # embedded messages inside embedded messages


@dataclass
class _TnefAttachment:
    title: str | None = None
    names: dict[int, str] = field(default_factory=dict)  # MAPI name properties by id
    data: bytes | None = None
    embedded: bytes | None = None  # a TNEF stream of an attached Outlook message

    def name(self) -> str | None:
        for prop in (_PR_ATTACH_LONG_FILENAME, _PR_ATTACH_FILENAME):
            if self.names.get(prop):
                return self.names[prop]
        return self.title or self.names.get(_PR_DISPLAY_NAME) or None


def read_tnef(data: bytes, depth: int = 0) -> list[tuple[str | None, bytes]]:
    """The (name, bytes) of the attachments in a TNEF stream, those of embedded messages included.

    Each object costs at least 11 bytes and each MAPI value at least 2, and counts are checked against the bytes
    left, so the work is linear in the size. Raises TnefError when the stream cannot be read at all.
    """
    if len(data) < 6 or struct.unpack_from("<I", data)[0] != _TNEF_SIGNATURE:
        raise TnefError("not a TNEF stream")
    attachments: list[_TnefAttachment] = []
    codepage = "cp1252"
    for level, attribute, value in _tnef_objects(memoryview(data)):
        if level == _LEVEL_ATTACHMENT and attribute == _ATT_ATTACH_REND_DATA:
            if len(attachments) == MAX_PARTS:
                break  # the caller keeps no more files than parts anyway
            attachments.append(_TnefAttachment())
        elif level == _LEVEL_ATTACHMENT and attachments:
            _tnef_attribute(attachments[-1], attribute, value, codepage)
        elif attribute == _ATT_OEM_CODEPAGE and len(value) >= 4:
            codepage = codec_for(f"cp{struct.unpack_from('<I', value)[0]}") or "cp1252"
    files: list[tuple[str | None, bytes]] = []
    for attachment in attachments:
        if attachment.embedded is not None and depth < _TNEF_MAX_DEPTH:
            try:
                files.extend(read_tnef(attachment.embedded, depth + 1))
            except TnefError:
                files.append((attachment.name(), attachment.embedded))
        elif attachment.data is not None:
            files.append((attachment.name(), attachment.data))
    return files


def _tnef_objects(view: memoryview) -> Iterator[tuple[int, int, memoryview]]:
    """(level, attribute id, value) of each object: level u8, id u16, type u16, length u32, value, checksum u16."""
    offset = 6
    while offset + 11 <= len(view):
        level, attribute, _type, length = struct.unpack_from("<BHHI", view, offset)
        start = offset + 9
        if start + length + 2 > len(view):
            return  # a truncated last object (or garbage at the end): what came before stands
        yield level, attribute, view[start : start + length]
        offset = start + length + 2


def _tnef_attribute(attachment: _TnefAttachment, attribute: int, value: memoryview, codepage: str) -> None:
    if attribute == _ATT_ATTACH_TITLE:
        attachment.title = decode_bytes(bytes(value), codepage).rstrip("\x00") or None
    elif attribute == _ATT_ATTACH_DATA:
        attachment.data = bytes(value)
    elif attribute == _ATT_ATTACHMENT:
        for prop, kind, item in _mapi_properties(value):
            _mapi_attachment_property(attachment, prop, kind, item, codepage)


def _mapi_attachment_property(attachment: _TnefAttachment, prop: int, kind: int, item: memoryview, cp: str) -> None:
    if prop == _PR_ATTACH_DATA_OBJ:
        blob = bytes(item)
        if kind == 0x000D and blob[:16] == _IMESSAGE_IID:
            attachment.embedded = blob[16:]
        elif attachment.data is None:
            attachment.data = blob[16:] if kind == 0x000D else blob
    elif kind == _MAPI_UNICODE:
        attachment.names[prop] = bytes(item).decode("utf-16-le", "replace").rstrip("\x00")
    elif kind == _MAPI_STRING8:
        attachment.names[prop] = decode_bytes(bytes(item), cp).rstrip("\x00")


def _mapi_properties(block: memoryview) -> Iterator[tuple[int, int, memoryview]]:
    """(property id, type, first value) of the wanted properties of a MAPI property list; stops at the first
    inconsistency (an unknown type, a count larger than the bytes left), keeping what came before."""
    try:
        (count,) = struct.unpack_from("<I", block, 0)
        offset = 4
        for _ in range(min(count, len(block) // 4)):
            kind, prop = struct.unpack_from("<HH", block, offset)
            offset = _skip_property_name(block, offset + 4, prop)
            first, offset = _mapi_value(block, offset, kind)
            if prop in _WANTED_PROPERTIES and first is not None:
                yield prop, kind & ~_MAPI_MULTI_VALUE, first
    except (struct.error, _MapiEnd):
        return


class _MapiEnd(Exception):
    """A MAPI list that cannot be followed further."""


def _skip_property_name(block: memoryview, offset: int, prop: int) -> int:
    if prop < 0x8000:
        return offset
    (kind,) = struct.unpack_from("<I", block, offset + 16)  # after the property set GUID
    offset += 20
    if kind == 0:
        return offset + 4
    (length,) = struct.unpack_from("<I", block, offset)
    return offset + 4 + _pad4(length)


def _mapi_value(block: memoryview, offset: int, kind: int) -> tuple[memoryview | None, int]:
    """The first value of a property and the offset after all its values."""
    base = kind & ~_MAPI_MULTI_VALUE
    multi = bool(kind & _MAPI_MULTI_VALUE)
    if base in _MAPI_FIXED_SIZES:
        count = struct.unpack_from("<I", block, offset)[0] if multi else 1
        offset += 4 if multi else 0
        size = _MAPI_FIXED_SIZES[base] * count
        if size > len(block) - offset:
            raise _MapiEnd
        return block[offset : offset + size], offset + _pad4(size)
    if base not in _MAPI_VARIABLE:
        raise _MapiEnd
    (count,) = struct.unpack_from("<I", block, offset)
    offset += 4
    if count * 4 > len(block) - offset:
        raise _MapiEnd
    first: memoryview | None = None
    for _ in range(count):
        (length,) = struct.unpack_from("<I", block, offset)
        offset += 4
        if length > len(block) - offset:
            raise _MapiEnd
        first = block[offset : offset + length] if first is None else first
        offset += _pad4(length)
    return first, offset


def _pad4(length: int) -> int:
    return length + (-length % 4)
