"""`parse_message`: raw bytes in, a `ParsedMessage` out, never an exception.

Every expected failure is handled where it happens and recorded as a defect. What is left is the parser's own bugs:
`parse_message` holds the one safety net of the package for them, so that a bug on one message never stops the
others. The net logs the bug with its traceback, records it as a defect, and falls back to the headers alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from email.parser import BytesParser
from typing import BinaryIO

from mailbot.adapters.mime.bodies import bodies
from mailbot.adapters.mime.bounds import MAX_HEADER_BLOCK, PARSER_POLICY, TEXT_CAP, too_costly
from mailbot.adapters.mime.defects import Defects, exception_name
from mailbot.adapters.mime.dsn import report, report_type
from mailbot.adapters.mime.facts import read_facts
from mailbot.adapters.mime.spool import Spooled, skeleton
from mailbot.adapters.mime.walk import Walk
from mailbot.domain.inbound import MessageFacts, ParsedMessage, find_cloud_links
from mailbot.log import get_logger

log = get_logger("mailbot.mime")

#: Bytes of an oversized message read for its headers (the header block's cap, and room for an mbox line).
HEAD_BYTES = MAX_HEADER_BLOCK + 4096


def parse_message(raw: bytes, *, max_message_bytes: int, max_attachment_bytes: int) -> ParsedMessage:
    """Parse one received message; never raises. See `mailbot.adapters.mime.bounds` for the bounds."""
    data = raw if isinstance(raw, bytes) else _as_bytes(raw)
    return _parse(data, len(data), max_message_bytes, max_attachment_bytes, None)


def parse_message_file(
    source: BinaryIO, size: int, *, max_message_bytes: int, max_attachment_bytes: int
) -> ParsedMessage:
    """`parse_message` of a message in a file (`size` bytes), in memory bounded by its structure and the
    attachment limit rather than by its size: long base64 bodies stay in the file (`mime.spool`). Never raises but
    OSError (the file could not be read: the caller's storage fault)."""
    if size > max_message_bytes:
        source.seek(0)
        return _parse_head(source.read(HEAD_BYTES), size, max_message_bytes=max_message_bytes)
    data, spool = skeleton(source)
    return _parse(data, size, max_message_bytes, max_attachment_bytes, spool)


def _parse(
    data: bytes, size: int, max_message_bytes: int, max_attachment_bytes: int, spool: Spooled | None
) -> ParsedMessage:
    def whole(defects: Defects) -> ParsedMessage:
        if size > max_message_bytes:
            defects.add(f"message larger than the limit ({size} > {max_message_bytes} bytes): only headers read")
            return _headers_only(data[:HEAD_BYTES], size, oversized=True, defects=defects)
        return _parse_whole(data, size, max_attachment_bytes, defects, spool)

    attempts: list[tuple[str, Callable[[Defects], ParsedMessage]]] = [
        ("message could not be parsed", whole),
        ("headers could not be read either", lambda d: _headers_only(data, size, oversized=False, defects=d)),
    ]
    failures: list[str] = []
    for failure, attempt in attempts:
        try:
            parsed = attempt(Defects(failures))
        except Exception as exc:  # the one safety net, for the parser's own bugs (module docstring)
            if isinstance(exc, OSError) and spool is not None:
                raise  # the file, not the message: a storage fault for the caller
            log.warning("mime.parse_failed", error=exception_name(exc), size=size, exc_info=True)
            failures.append(f"{failure} ({exception_name(exc)})")
            continue
        _log_defects(parsed)
        return parsed
    return ParsedMessage(facts=MessageFacts(), defects=tuple(failures), size=size)


def _parse_head(head: bytes, size: int, *, max_message_bytes: int) -> ParsedMessage:
    """A message over `max_message_bytes`, from its first HEAD_BYTES only (the rest stays in the archive file):
    the headers, marked oversized. Never raises."""
    try:
        defects = Defects([])
        defects.add(f"message larger than the limit ({size} > {max_message_bytes} bytes): only headers read")
        parsed = _headers_only(head, size, oversized=True, defects=defects)
    except Exception as exc:  # the safety net, as parse_message's
        log.warning("mime.parse_failed", error=exception_name(exc), size=size, exc_info=True)
        return ParsedMessage(
            facts=MessageFacts(),
            defects=(f"headers could not be read ({exception_name(exc)})",),
            oversized=True,
            size=size,
        )
    _log_defects(parsed)
    return parsed


def _log_defects(parsed: ParsedMessage) -> None:
    """One line per message with defects: what was odd, capped or lost, for whoever wonders where a file went."""
    if parsed.defects:
        log.info("mime.defects", defects=list(parsed.defects), message_id=parsed.facts.message_id)


def _as_bytes(raw: object) -> bytes:
    """bytearray and memoryview are accepted too; anything else reads as an empty message."""
    return bytes(raw) if isinstance(raw, bytearray | memoryview) else b""


def _parse_whole(
    raw: bytes, size: int, max_attachment_bytes: int, defects: Defects, spool: Spooled | None
) -> ParsedMessage:
    data = _without_preamble(raw)
    cost = too_costly(data)
    if cost is not None:
        defects.add(cost)
        return _headers_only(data, size, oversized=False, defects=defects)
    try:
        root = BytesParser(policy=PARSER_POLICY).parsebytes(data)
    except RecursionError:
        defects.add("MIME structure nested too deep for the parser: only headers read")
        return _headers_only(data, size, oversized=False, defects=defects)
    facts = read_facts(root, defects)
    walk = Walk(max_attachment_bytes, defects, spool=spool)
    walk.run(root)
    kind = report_type(walk.report_part, defects) if walk.report_part is not None else None
    facts = replace(facts, is_report=walk.report_part is not None, report_type=kind)
    plain, html_text, link_text = bodies(walk.plain, walk.html)
    bounce = report(walk, facts, "\n\n".join(walk.plain), defects)  # before defects.items(): it may add some
    return ParsedMessage(
        facts=facts,
        attachments=tuple(walk.attachments),
        cloud_links=find_cloud_links(link_text),
        text=(plain or html_text)[:TEXT_CAP],
        defects=defects.items(),
        report=bounce,
        size=size,
    )


def _headers_only(data: bytes, size: int, *, oversized: bool, defects: Defects) -> ParsedMessage:
    """Facts from the header block alone: for oversized messages and as the fallback of a failed parse."""
    block = _header_block(data, defects)
    head = BytesParser(policy=PARSER_POLICY).parsebytes(block, headersonly=True)
    facts = read_facts(head, defects)
    is_report = facts.content_type == "multipart/report"
    facts = replace(facts, is_report=is_report, report_type=report_type(head, defects) if is_report else None)
    return ParsedMessage(facts=facts, defects=defects.items(), oversized=oversized, size=size)


def _without_preamble(data: bytes) -> bytes:
    """Without a UTF-8 byte-order mark or an mbox "From " line: saved messages have them, and the parser would read
    the whole message as a body."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    if data.startswith(b"From "):
        end = data.find(b"\n")
        return data[end + 1 :] if end >= 0 else b""
    return data


def _header_block(data: bytes, defects: Defects) -> bytes:
    head = _without_preamble(data[:HEAD_BYTES])[:MAX_HEADER_BLOCK]
    end = re.search(rb"\r?\n\r?\n", head)
    if end is None:
        if len(data) > MAX_HEADER_BLOCK:
            defects.add(f"header block longer than {MAX_HEADER_BLOCK} bytes: cut")
        return head
    return head[: end.end()]
