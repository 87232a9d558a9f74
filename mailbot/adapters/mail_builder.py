"""Outgoing mail as bytes, built with the standard library's `email` package (never yagmail's builder).

The bytes are what the outbox stores and sends: rebuilding is never needed, so a retry sends exactly the same
message with the same Message-ID. Header values are stripped of CR/LF before they reach a header: text that
came from a workbook or the configuration can never inject a header.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from email.generator import NLCRE, BytesGenerator  # type: ignore[attr-defined]  # NLCRE: not in typeshed
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import Any

from mailbot.domain.outgoing import OutgoingMail

LOOP_HEADER = "X-Mailbot-Loop"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class _HeaderClasses(HeaderRegistry):
    """The stdlib's registry, making each header's class once instead of with `type()` for every header set."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def map_to_type(self, name: str, cls: type[BaseHeader]) -> None:
        self._made.clear()
        super().map_to_type(name, cls)

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


class QuickFoldPolicy(EmailPolicy):
    """`email.policy.SMTP` with the same bytes, cheaper: a header value seen before is not parsed and folded again.

    The stdlib parses every header value into a token tree when it is set and refolds that tree when the message
    is written, even when the line already fits; a non-ASCII value (the sender's display name, a subject with
    accents) goes through encoded-word folding that re-parses its own output, dozens of times per header. In a
    backlog that was most of the time spent building each answer, while those values repeat from mail to mail.
    So: a header set from a string it has seen is the same (immutable) header object as before (a bounded
    cache), and that object keeps its folded text; a short plain-ASCII header is written as it is, which is what
    refolding gives back. Anything else goes the standard way (tests compare the bytes with `email.policy.SMTP`).
    """

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if type(value) is str:
            return _stored_header(self.header_factory, name, value)
        return super().header_store_parse(name, value)

    def _fold(self, name: str, value: Any, refold_binary: bool = False) -> str:
        tree = getattr(value, "_parse_tree", None)
        if tree is None:
            return str(super()._fold(name, value, refold_binary))  # type: ignore[misc]
        # What folding reads of the policy; the generator writes each MIME part with a clone of the policy.
        key = (type(self), self.max_line_length, self.linesep, self.utf8)
        folds: dict[tuple[object, ...], str] | None = getattr(value, "_mailbot_folds", None)
        if folds is None:
            folds = value._mailbot_folds = {}
        folded = folds.get(key)
        if folded is None:
            folded = folds[key] = self._fold_header(value, tree)
        return folded

    def _fold_header(self, value: Any, tree: Any) -> str:
        """What `BaseHeader.fold` writes (it names the header by the header object's own name)."""
        name = value.name
        if not value.defects:
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
        return str(value.fold(policy=self))


@lru_cache(maxsize=256)
def _stored_header(header_factory: Callable[[str, str], Any], name: str, value: str) -> tuple[str, Any]:
    """What `EmailPolicy.header_store_parse` gives, made once per distinct value (header objects never change)."""
    if len(value.splitlines()) > 1:
        raise ValueError("Header values may not contain linefeed or carriage return characters")
    return (name, header_factory(name, value))


class _Generator(BytesGenerator):
    """`BytesGenerator` writing the same bytes with less work per mail (the stdlib's own code is the reference).

    A body's lines are written with one substitution instead of one write per line (an attachment is thousands
    of base64 lines), and a new multipart boundary is looked for in the text as a plain substring before the
    stdlib's check, which compiles a regular expression for every boundary it makes. A substring found (never
    in practice: the boundary carries a random 63-bit number) hands over to that check.
    """

    def _write_lines(self, lines: str) -> None:
        if lines:
            self.write(NLCRE.sub(self._NL, lines))  # type: ignore[attr-defined]

    @classmethod
    def _make_boundary(cls, text: bytes | None = None) -> str:
        boundary = str(super()._make_boundary())  # type: ignore[misc]
        if text is None or f"--{boundary}".encode("ascii") not in text:
            return boundary
        return str(super()._make_boundary(text))  # type: ignore[misc]


QUICK_SMTP = QuickFoldPolicy(header_factory=_HeaderClasses()).clone(linesep="\r\n")


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
    policy: EmailPolicy = QUICK_SMTP,
) -> bytes:
    """The message's bytes; `policy` is for tests, which compare them with `email.policy.SMTP`'s."""
    msg = EmailMessage(policy=policy)
    # Address() quotes the display name as needed; as a string it makes the same header, and one the policy has
    # seen before. A non-ASCII name is written as RFC 2047 words; CPython's own default-policy parser then shows
    # a stray space where the words were folded ("acci ón"), a bug of that parser only: email.header and mail
    # clients decode adjacent encoded words as the RFC says.
    msg["From"] = str(Address(display_name=header_text(from_name), addr_spec=from_address))
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
    # Last: setting the content clears every Content-* header, and a part added later takes them along.
    msg["Content-Language"] = "es-CO"
    return message_bytes(msg)


def message_bytes(msg: EmailMessage) -> bytes:
    """`msg.as_bytes()`, written by the cheaper generator."""
    out = io.BytesIO()
    _Generator(out, mangle_from_=False, policy=msg.policy).flatten(msg)
    return out.getvalue()
