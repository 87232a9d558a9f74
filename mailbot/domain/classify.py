"""Which received messages may be answered, as one pure function.

Loops with bounces and out-of-office replies are the most reported bug class of every reply-by-email system
(gitlab#2776, zammad#1131, #5113), so a message is answered only when no rule below says it was sent by a machine.
The rules are checked strongest first and the first one that holds gives the kind and the reason:

1. loop: mailbot's own `X-Mailbot-Loop` header, a message from mailbot's own address, or a Message-ID on mailbot's
   Message-ID domain (see `_own_message_id` for when that domain is shared with colleagues);
2. bounce: a delivery status notification (RFC 3464), or a text bounce from mailer-daemon/postmaster that names the
   returned message; the ids go back to the caller, which marks those deliveries as failed;
3. automatic: a read receipt or other report, the Auto-Submitted/Precedence/X-Auto* markers, list headers, the null
   Return-Path, Exchange's inbox-rule loop header, a robot sender address, an out-of-office subject;
4. reply: anything else (matching it to a dependencia is not decided here).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from mailbot.domain.addresses import domain_of
from mailbot.domain.inbound import MessageFacts, ParsedMessage

Kind = Literal["reply", "automatic", "bounce", "loop"]


@dataclass(frozen=True)
class Classification:
    kind: Kind
    reason: str  # short English, for logs and the database
    bounced_message_ids: tuple[str, ...] = ()  # only for "bounce": the Message-IDs the bounce returns


def classify(
    msg: ParsedMessage,
    *,
    own_domains: frozenset[str],
    own_message_id_domain: str,
    own_addresses: frozenset[str],
) -> Classification:
    """The kind of `msg` and why; `own_*` describe mailbot itself (its domains, its Message-ID domain, its From)."""
    loop = _loop_reason(msg.facts, own_domains, own_message_id_domain, own_addresses)
    if loop is not None:
        return Classification("loop", loop)
    bounce = _bounce(msg, own_message_id_domain)
    if bounce is not None:
        return bounce
    automatic = _automatic_reason(msg.facts)
    if automatic is not None:
        return Classification("automatic", automatic)
    if msg.facts.x_auto_response_suppress is not None:
        if not _carries_workbook(msg):
            return Classification("automatic", "X-Auto-Response-Suppress header")
        return Classification("reply", "X-Auto-Response-Suppress, but it carries a workbook: a person's reply")
    return Classification("reply", "no sign of automatic mail")


_WORKBOOK_KINDS = frozenset({"xlsx", "xlsm", "xlsb", "xls", "ods", "encrypted"})


def _carries_workbook(msg: ParsedMessage) -> bool:
    """Exchange also stamps X-Auto-Response-Suppress on people's mail sent through a distribution list (glpi#2170,
    discourse#21367): on its own, that header must not swallow a secretario's plan. No autoresponder attaches one."""
    return any(
        str(part.kind) in _WORKBOOK_KINDS or (part.filename or "").lower().endswith((".xlsx", ".xls", ".xlsm", ".ods"))
        for part in msg.attachments
    )


# ------------------------------------------------------------------------------------------------ loop


def _loop_reason(
    facts: MessageFacts, own_domains: frozenset[str], own_id_domain: str, own_addresses: frozenset[str]
) -> str | None:
    if facts.x_mailbot_loop is not None:
        return "X-Mailbot-Loop header: mailbot's own mail"
    if facts.from_address is not None and facts.from_address in {a.lower() for a in own_addresses}:
        return "sent from mailbot's own address"
    if _own_message_id(facts.message_id, own_domains, own_id_domain):
        return "Message-ID on mailbot's Message-ID domain"
    return None


def _own_message_id(message_id: str | None, own_domains: frozenset[str], own_id_domain: str) -> bool:
    """True when the Message-ID is on mailbot's Message-ID domain — and that domain is mailbot's alone.

    When the configured Message-ID domain is also one of the municipality's mail domains, colleagues' mail servers
    may write ids on it too (Zimbra and many hosted servers use the bare mail domain): a Message-ID alone then proves
    nothing, and mailbot's own mail is still caught by its X-Mailbot-Loop header and From address. Subdomains never
    match, for the same reason (an Exchange server names its ids after its host, e.g. mail.<domain>).
    """
    id_domain = own_id_domain.strip().lower()
    if not message_id or not id_domain or "@" not in message_id:
        return False
    if id_domain in {d.lower() for d in own_domains}:
        return False
    return domain_of(message_id).rstrip(".") == id_domain


# ------------------------------------------------------------------------------------------------ bounces


def _bounce(msg: ParsedMessage, own_id_domain: str) -> Classification | None:
    """A DSN (any action), or a text bounce from a mail daemon that names the message it returns."""
    report = msg.report
    facts = msg.facts
    if (report is not None and report.standard) or (facts.is_report and facts.report_type == "delivery-status"):
        action = report.action if report is not None else "unknown"
        ids = _bounced_ids(msg, own_id_domain) if report is None or report.is_failure else ()
        return Classification("bounce", f"delivery status notification ({action})", ids)
    if report is not None and not report.standard and is_mail_daemon(sender_local_part(facts)):
        ids = _bounced_ids(msg, own_id_domain) if report.is_failure else ()
        if ids:
            return Classification("bounce", f"bounce from {sender_local_part(facts)} ({report.action})", ids)
    return None


def _bounced_ids(msg: ParsedMessage, own_id_domain: str) -> tuple[str, ...]:
    """The returned message's id; failing that, In-Reply-To/References ids on mailbot's Message-ID domain."""
    if msg.report is not None and msg.report.original_message_id:
        return (msg.report.original_message_id,)
    suffix = "@" + own_id_domain.strip().lower()
    refs = (*msg.facts.in_reply_to, *msg.facts.references)
    return tuple(dict.fromkeys(r for r in refs if own_id_domain and r.lower().endswith(suffix)))


# ------------------------------------------------------------------------------------------------ automatic

_PRECEDENCE: Final = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_DAEMON: Final = re.compile(r"(?:^|[-_.+])(?:mailer[-_.]?daemon|mail[-_.]?daemon|postmaster)(?:$|[-_.+])")
_NO_REPLY: Final = re.compile(
    r"(?:^|[-_.+])(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|no[-_.]?responder|no[-_.]?responda)"
    r"(?:$|[-_.+0-9])"
)
#: Subject openings of out-of-office replies (Spanish, English, French, Portuguese, German), accents and case folded.
_OUT_OF_OFFICE: Final = re.compile(
    r"^(?:(?:respuesta automatica|fuera de (?:la )?oficina|ausente|automatic reply|auto[- ]?reply|autoreply|"
    r"out of (?:the )?office|vacation|reponse automatique|resposta automatica|abwesenheitsnotiz)(?![a-z0-9])|auto:)"
)
_SUBJECT_TAG: Final = re.compile(r"^\s*(?:\[[^\]]{0,30}\]\s*)+")  # "[EXTERNO] " added by gateways


def _automatic_reason(facts: MessageFacts) -> str | None:
    for rule in _RULES:
        reason = rule(facts)
        if reason is not None:
            return reason
    return None


def _report(facts: MessageFacts) -> str | None:
    if not facts.is_report:
        return None
    if facts.report_type == "disposition-notification":
        return "read receipt (disposition notification)"
    return f"report ({facts.report_type or 'unknown type'})"


def _auto_submitted(facts: MessageFacts) -> str | None:
    value = facts.auto_submitted
    if value is None or _token(value) == "no":
        return None
    return f"Auto-Submitted: {_short(value)}"


def _precedence(facts: MessageFacts) -> str | None:
    if facts.precedence is not None and _token(facts.precedence) in _PRECEDENCE:
        return f"Precedence: {_short(facts.precedence)}"
    return None


def _auto_reply_headers(facts: MessageFacts) -> str | None:
    # X-Auto-Response-Suppress is weighed apart, in `classify`: see `_carries_workbook`.
    markers = (
        ("X-Autoreply", facts.x_autoreply),
        ("X-Autorespond", facts.x_autorespond),
        ("List-Id", facts.list_id),
        ("List-Unsubscribe", facts.list_unsubscribe),
        ("X-MS-Exchange-Inbox-Rules-Loop", facts.x_ms_exchange_inbox_rules_loop),
    )
    for name, value in markers:
        if value is not None:
            return f"{name} header"
    return None


def _null_sender(facts: MessageFacts) -> str | None:
    return "empty Return-Path (null sender)" if facts.return_path == "<>" else None


def _robot_sender(facts: MessageFacts) -> str | None:
    local = sender_local_part(facts)
    if is_mail_daemon(local):
        return f"sender is {local}"
    if _NO_REPLY.search(local):
        return f"sender is a no-reply address ({local})"
    return None


def _out_of_office(facts: MessageFacts) -> str | None:
    return "subject of an out-of-office reply" if out_of_office_subject(facts.subject) else None


def out_of_office_subject(subject: str) -> bool:
    """The subject of an out-of-office reply ("Respuesta automática: …", "[EXTERNO] Out of Office: …")."""
    return _OUT_OF_OFFICE.match(_SUBJECT_TAG.sub("", fold(subject))) is not None


_RULES: Final[tuple[Callable[[MessageFacts], str | None], ...]] = (
    _report,
    _auto_submitted,
    _precedence,
    _auto_reply_headers,
    _null_sender,
    _robot_sender,
    _out_of_office,
)


# ------------------------------------------------------------------------------------------------ helpers


def fold(text: str) -> str:
    """Lower case without accents and with single spaces: "Respuesta  AUTOMÁTICA" → "respuesta automatica"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def sender_local_part(facts: MessageFacts) -> str:
    """The sender's local part, lower case; from the raw From text when the address did not validate."""
    if facts.from_address:
        return facts.from_address.rsplit("@", 1)[0]
    for pattern in (_BRACKETED_LOCAL, _LOCAL_BEFORE_AT):  # "Mail System <MAILER-DAEMON>", "postmaster@host"
        match = pattern.search(facts.from_header)
        if match:
            return match.group(1).lower()
    words = facts.from_header.strip().split()
    return words[0].strip('<>"').lower() if words else ""


_BRACKETED_LOCAL: Final = re.compile(r"<\s*([^<>@\s]+)\s*(?:@[^<>]*)?>")
_LOCAL_BEFORE_AT: Final = re.compile(r"([^\s<>@\"(),;:]+)@")


def is_mail_daemon(local_part: str) -> bool:
    """mailer-daemon, postmaster and their spellings: the senders of bounces."""
    return bool(local_part) and _DAEMON.search(local_part) is not None


def _token(value: str) -> str:
    """The first word of a header value: "auto-generated (failure)" → "auto-generated"."""
    words = re.split(r"[\s;(]+", value.strip().lower(), maxsplit=1)
    return words[0] if words else ""


def _short(value: str, limit: int = 60) -> str:
    text = " ".join(value.split()) or "(empty)"
    return text if len(text) <= limit else text[: limit - 1] + "…"
