"""Outgoing mail as bytes, built with the standard library's `email` package (never yagmail's builder).

The bytes are what the outbox stores and sends: rebuilding is never needed, so a retry sends exactly the same
message with the same Message-ID. Header values are stripped of CR/LF before they reach a header: text that
came from a workbook or the configuration can never inject a header.
"""

from __future__ import annotations

import datetime as dt
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from typing import Any

from mailbot.domain.outgoing import OutgoingMail

LOOP_HEADER = "X-Mailbot-Loop"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class QuickFoldPolicy(EmailPolicy):
    """`email.policy.SMTP`, writing a short plain-ASCII header as it is instead of refolding its parse tree.

    The stdlib refolds every header through its parser's token tree even when the line already fits: in a
    backlog's profile that was most of the time spent building each answer. For a header that is ASCII, one line
    within `max_line_length`, single-spaced, without encoded-word markers or parse defects, that refolding gives
    back the same text, so it is written directly; anything else goes the standard way (tests compare the bytes).
    """

    def _fold(self, name: str, value: Any, refold_binary: bool = False) -> str:
        tree = getattr(value, "_parse_tree", None)
        if tree is not None and not value.defects:
            text = str(tree)
            if (
                text
                and text.isascii()
                and len(name) + 2 + len(text) <= (self.max_line_length or 78)
                and text == text.strip()
                and "  " not in text
                and "=?" not in text
                and _CONTROL.search(text) is None
            ):
                return f"{name}: {text}{self.linesep}"
        return str(super()._fold(name, value, refold_binary))  # type: ignore[misc]


QUICK_SMTP = QuickFoldPolicy().clone(linesep="\r\n")


def header_text(value: str) -> str:
    """One line of text fit for a header: control characters (CR, LF, tabs…) become single spaces."""
    return _CONTROL.sub(" ", value).strip()


def new_message_id(domain: str) -> str:
    """A Message-ID on mailbot's domain, without the angle brackets (as the database stores it)."""
    return make_msgid(domain=domain).strip("<>")


def build_message(
    mail: OutgoingMail,
    *,
    message_id: str,
    from_address: str,
    from_name: str,
    loop_value: str,
    now: dt.datetime,
) -> bytes:
    msg = EmailMessage(policy=QUICK_SMTP)
    # Address() encodes a non-ASCII display name as RFC 2047 words; CPython's own default-policy parser then
    # shows a stray space where the words were folded ("acci ón"), a bug of that parser only: email.header and
    # mail clients decode adjacent encoded words as the RFC says.
    msg["From"] = Address(display_name=header_text(from_name), addr_spec=from_address)
    msg["To"] = ", ".join(mail.to)
    if mail.cc:
        msg["Cc"] = ", ".join(mail.cc)
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    msg["Subject"] = header_text(mail.subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{message_id}>"
    if mail.in_reply_to:
        msg["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        msg["References"] = " ".join(f"<{ref}>" for ref in mail.references)
    msg["Auto-Submitted"] = mail.auto_submitted.value
    msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = header_text(loop_value)
    msg["Content-Language"] = "es-CO"

    msg.set_content(mail.text, subtype="plain", charset="utf-8")
    msg.add_alternative(mail.html, subtype="html", charset="utf-8")
    if mail.inline_images:
        html_part = msg.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        for cid, png in mail.inline_images:
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>")
    for attachment in mail.attachments:
        msg.add_attachment(
            attachment.data,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=header_text(attachment.filename),
        )
    return msg.as_bytes()
