"""The top-level headers of a message read into `MessageFacts`: addresses, Message-IDs, subject, date, markers."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import unicodedata
from email.message import Message
from typing import Final

from mailbot.adapters.mime.bounds import MAX_ADDRESSES, MAX_IDS, MAX_SUBJECT_CHARS
from mailbot.adapters.mime.charsets import decode_rfc2047
from mailbot.adapters.mime.defects import Defects
from mailbot.adapters.mime.headers import Headers, charset, content_type
from mailbot.domain.addresses import normalize_address
from mailbot.domain.inbound import MessageFacts


def read_facts(message: Message, defects: Defects) -> MessageFacts:
    """The top-level headers, decoded and normalised; every access guarded by `Headers`."""
    headers = Headers(message, defects)
    headers.charset_hint = charset(headers)
    from_name, from_address = _sender(headers, defects)
    references = _message_ids(headers.all("references"))
    if len(references) > MAX_IDS:
        defects.add(f"more than {MAX_IDS} ids in References: the middle ones dropped")
        references = references[:1] + references[-(MAX_IDS - 1) :]
    return MessageFacts(
        message_id=first_id(headers.first("message-id")),
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
        content_type=content_type(message),
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


def _sender(headers: Headers, defects: Defects) -> tuple[str, str | None]:
    """(display name, normalised address) of the first From address; the address is None when it is not valid."""
    values = headers.all("from")[:1]
    pairs = _address_pairs(values, "From", defects)
    if not pairs:
        return "", None
    name, address = pairs[0]
    normalized = _normalized(address, "From", Defects())
    if normalized is None:  # e.g. an unquoted "@" in the display name: try the address in angle brackets
        bracketed = re.search(r"<([^<>\s@]{1,64}@[^<>\s@]{1,255})>", values[0])
        normalized = _normalized(bracketed.group(1) if bracketed else address, "From", defects)
    return _display(decode_rfc2047(name), 200), normalized


def _address_pairs(values: list[str], header: str, defects: Defects) -> list[tuple[str, str]]:
    """Name and address pairs; Python 3.11's getaddresses reads any text (a garbled list gives empty pairs) but
    recurses once per nested group or route, so thousands of them exhaust the stack."""
    try:
        pairs = email.utils.getaddresses(values)
    except RecursionError:
        defects.add(f"{header} addresses nested too deep to read: ignored")
        return []
    return [(name, address) for name, address in pairs if address]


def _addresses(values: list[str], header: str, defects: Defects) -> tuple[str, ...]:
    pairs = _address_pairs(values, header, defects)
    if len(pairs) > MAX_ADDRESSES:
        defects.add(f"more than {MAX_ADDRESSES} addresses in {header}: the rest ignored")
    found = (_normalized(address, header, defects) for _, address in pairs[:MAX_ADDRESSES])
    return tuple(dict.fromkeys(a for a in found if a is not None))


def _normalized(address: str, header: str, defects: Defects) -> str | None:
    try:
        return normalize_address(address)
    except ValueError:
        defects.add(f"invalid address in {header}")
        return None


_ANGLE_ID: Final = re.compile(r"<([^<>]*)>")


def clean_id(text: str) -> str | None:
    """A Message-ID without whitespace (folding may split long ones) and without its angle brackets."""
    cleaned = "".join(text.split()).strip("<>")
    return cleaned[:998] or None


def first_id(value: str | None) -> str | None:
    if not value:
        return None
    match = _ANGLE_ID.search(value)
    return clean_id(match.group(1) if match else value)


def _message_ids(values: list[str]) -> tuple[str, ...]:
    """Ids from In-Reply-To or References; bare ids without brackets are split on blanks and commas."""
    found: list[str] = []
    for value in values:
        tokens = _ANGLE_ID.findall(value) or re.split(r"[\s,]+", value)
        found.extend(cleaned for token in tokens if (cleaned := clean_id(token)))
    return tuple(dict.fromkeys(found))


def _subject(value: str | None, defects: Defects) -> str:
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


def _date(value: str | None, defects: Defects) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (ValueError, OverflowError):  # not a date; a day, zone or year out of range; a year past C's long
        defects.add("Date header not readable")
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    return "<>" if re.fullmatch(r"<\s*>", value) else value
