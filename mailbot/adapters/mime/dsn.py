"""Bounces: RFC 3464 delivery status notifications, and text bounces (qmail, old Exim) read best effort."""

from __future__ import annotations

import base64
import re
from email.message import Message
from email.parser import Parser
from typing import Final

from mailbot.adapters.mime.bounds import BOUNCE_TEXT_CHARS, PARSER_POLICY
from mailbot.adapters.mime.defects import Defects
from mailbot.adapters.mime.facts import clean_id, first_id
from mailbot.adapters.mime.headers import Headers, content_type
from mailbot.adapters.mime.walk import Walk, children
from mailbot.domain.classify import is_mail_daemon, sender_local_part
from mailbot.domain.inbound import DeliveryReport, MessageFacts, RecipientStatus

_KNOWN_REPORT_TYPES: Final = frozenset({"delivery-status", "disposition-notification", "feedback-report"})
_REPORT_PART_TYPES: Final = {
    "message/delivery-status": "delivery-status",
    "message/global-delivery-status": "delivery-status",
    "message/disposition-notification": "disposition-notification",
    "message/global-disposition-notification": "disposition-notification",
    "message/feedback-report": "feedback-report",
}


def report_type(report: Message, defects: Defects) -> str | None:
    """The report-type parameter; when it is missing or unknown, inferred from the report's machine-readable part."""
    declared = Headers(report, defects).parameter("content-type", "report-type")
    declared = declared.strip().lower() if declared else None
    if declared in _KNOWN_REPORT_TYPES:
        return declared
    for child in children(report):
        inferred = _REPORT_PART_TYPES.get(content_type(child))
        if inferred:
            return inferred
    return declared


def report(walk: Walk, facts: MessageFacts, raw_text: str, defects: Defects) -> DeliveryReport | None:
    if walk.report_part is not None and facts.report_type == "delivery-status":
        return _delivery_status(walk.report_part, walk.returned_ids, defects)
    if walk.report_part is None and _from_mail_daemon(facts):
        return _text_bounce(facts, walk.returned_ids, raw_text)
    return None


def _from_mail_daemon(facts: MessageFacts) -> bool:
    return is_mail_daemon(sender_local_part(facts))


def _delivery_status(report: Message, returned_ids: list[str], defects: Defects) -> DeliveryReport:
    """RFC 3464: per-recipient fields, and the original Message-ID from the returned message or headers."""
    blocks: list[dict[str, str]] = []
    for child in children(report):
        if content_type(child) in ("message/delivery-status", "message/global-delivery-status"):
            blocks.extend(_status_blocks(child, defects))
    recipients = tuple(_recipient(b) for b in blocks if b.keys() & _RECIPIENT_FIELDS)[:100]
    original = returned_ids[0] if returned_ids else _envelope_id(blocks)
    return DeliveryReport(original, recipients, _overall_action(recipients))


_RECIPIENT_FIELDS: Final = frozenset({"final-recipient", "original-recipient", "action", "status"})


def _status_blocks(part: Message, defects: Defects) -> list[dict[str, str]]:
    """The field blocks of a delivery-status part. The stdlib splits them into header-only messages; a block's
    leftover body (a second block it could not split, or a block some gateways base64-encode) is read too."""
    blocks: list[dict[str, str]] = []
    base64_seen = False
    for block in children(part)[:100]:
        headers = Headers(block, defects)
        fields = {name: value for name in headers.names() if (value := headers.first(name)) is not None}
        if fields:
            blocks.append(fields)
        base64_seen = base64_seen or fields.get("content-transfer-encoding", "").lower() == "base64"
        body = _block_body(block, defects)
        if body.strip():
            blocks.extend(_field_blocks(_base64_text(body, defects) if base64_seen else body))
    return blocks


def _block_body(block: Message, defects: Defects) -> str:
    """The text left in a field block after its fields; "" when the stdlib cannot give it."""
    try:
        body = block.get_payload()
    except TypeError:  # 8-bit text and an RFC 2231 charset parameter: the stdlib decodes with a tuple as codec
        defects.add("delivery-status block with 8-bit text and an RFC 2231 charset: its text not read")
        return ""
    return body if isinstance(body, str) else ""


def _base64_text(body: str, defects: Defects) -> str:
    try:
        return base64.b64decode("".join(body.split()) + "==", validate=False).decode("utf-8", "replace")
    except ValueError:  # binascii.Error (a length no padding fixes), or non-ASCII characters
        defects.add("delivery-status block declared base64 but is not: read as text")
        return body


def _field_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n[ \t]*\n", text[:65_536].replace("\r\n", "\n"))[:100]:
        head = Parser(policy=PARSER_POLICY).parsestr(chunk.strip("\n") + "\n", headersonly=True)
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
            cleaned = first_id(decoded)
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
    text = plain[:BOUNCE_TEXT_CHARS]
    quoted = _QUOTED_ID.search(text)
    original = returned_ids[0] if returned_ids else (clean_id(quoted.group(1)) if quoted else None)
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
