"""A mail mailbot wants to send, before it becomes bytes: pure data, built by the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

REFERENCES_CAP = 10  # RT caps References at 10: long threads must not grow headers without bound


class AutoSubmitted(StrEnum):
    GENERATED = "auto-generated"  # campaign mail, reminders, digests (RFC 3834)
    REPLIED = "auto-replied"  # answers to a received message


@dataclass(frozen=True)
class OutgoingAttachment:
    filename: str  # may carry accents: written with RFC 2231
    data: bytes
    maintype: str = "application"
    subtype: str = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class OutgoingMail:
    kind: str  # mailing | acceptance | correction | reminder | digest | notice ...
    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    auto_submitted: AutoSubmitted
    cc: tuple[str, ...] = ()
    reply_to: str | None = None
    in_reply_to: str | None = None  # a Message-ID without <>
    references: tuple[str, ...] = ()
    attachments: tuple[OutgoingAttachment, ...] = field(default=())
    inline_images: tuple[tuple[str, bytes], ...] = ()  # (content-id, PNG bytes) for charts

    @property
    def recipients(self) -> tuple[str, ...]:
        """Envelope recipients: To then Cc, without repeats."""
        return tuple(dict.fromkeys((*self.to, *self.cc)))


def subject_tag(dependencia: str, vigencia: int) -> str:
    """The tag that lets a reply be matched by its subject: `[E-DE-F-010 HAC 2027]`."""
    return f"[E-DE-F-010 {dependencia} {vigencia}]"


def plus_address(address: str, token: str) -> str:
    """planeacion@x.gov.co + token → planeacion+token@x.gov.co."""
    local, _, domain = address.partition("@")
    return f"{local}+{token}@{domain}"


def thread_references(parent: str | None, earlier: tuple[str, ...]) -> tuple[str, ...]:
    """References for a reply: the parent's chain plus the parent, the oldest kept first, capped."""
    chain = tuple(dict.fromkeys((*earlier, *((parent,) if parent else ()))))
    if len(chain) <= REFERENCES_CAP:
        return chain
    return (chain[0], *chain[-(REFERENCES_CAP - 1) :])
