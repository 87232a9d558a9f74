"""Which mailing a reply answers, from every signal at once, and whether its sender may submit.

Strongest first: the signed `_control` block inside the attached workbook; In-Reply-To/References naming a
Message-ID mailbot sent; the token of a plus address; the subject tag; the sender's registered address. Signals
that agree make a match; signals that disagree make a quarantine, never a guess; no signal (or only the subject
tag) leaves the message unmatched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from mailbot.domain.addresses import domain_of
from mailbot.domain.control import ControlBlock
from mailbot.domain.inbound import MessageFacts

_TAG = re.compile(r"\[E-DE-F-010\s+([A-Z][A-Z0-9]{1,9})\s+(\d{4})\]", re.IGNORECASE)

Status = Literal["matched", "quarantined", "unmatched", "rejected_sender"]


@dataclass(frozen=True)
class MailingRef:
    mailing_id: int
    dependencia: str
    vigencia: int
    ronda: str
    token: str


@dataclass(frozen=True)
class Directory:
    """What matching knows about mailbot's own mailings and the municipality, loaded by the service."""

    by_token: Mapping[str, MailingRef]
    by_message_id: Mapping[str, MailingRef]  # every Message-ID mailbot sent on behalf of a mailing
    current: Mapping[str, MailingRef]  # dependencia code → its most recent mailing
    addresses: Mapping[str, frozenset[str]]  # registered address → dependencia codes
    own_domains: frozenset[str]
    mailbox_address: str  # planeacion@…: plus addresses are planeacion+TOKEN@…

    def by_control(self, block: ControlBlock) -> MailingRef | None:
        ref = self.by_token.get(block.token)
        if ref is not None:
            return ref
        current = self.current.get(block.dependencia)  # a workbook from `mailbot template`: no mailing of its own
        if current and current.vigencia == block.vigencia and current.ronda == block.ronda:
            return current
        return None


@dataclass(frozen=True)
class WorkbookControl:
    """The `_control` block of the attached workbook as read: parsed, and whether its signature verifies."""

    block: ControlBlock | None
    verified: bool


@dataclass(frozen=True)
class Match:
    status: Status
    reason: str  # English, for the database and logs
    mailing: MailingRef | None = None
    dependencia: str | None = None
    signals: dict[str, str] = field(default_factory=dict)  # signal → the dependencia it names


def match(
    facts: MessageFacts, control: WorkbookControl | None, directory: Directory, *, allow: str = "domain"
) -> Match:
    """Decide the mailing; then apply the sender policy ('registered' or 'domain', see config.SenderPolicy)."""
    if control is not None and control.block is not None and not control.verified:
        return Match("quarantined", "the workbook's _control signature does not verify (edited or forged)")

    strong: dict[str, MailingRef] = {}
    if control is not None and control.block is not None:
        ref = directory.by_control(control.block)
        if ref is None:
            return Match(
                "quarantined",
                f"the workbook is signed for {control.block.dependencia} {control.block.ronda} "
                f"{control.block.vigencia}, which has no mailing",
                dependencia=control.block.dependencia,
            )
        strong["control"] = ref
    thread = [
        directory.by_message_id[i] for i in (*facts.in_reply_to, *facts.references) if i in directory.by_message_id
    ]
    if thread:
        strong["thread"] = thread[-1]  # the most recent message of ours in the chain
    token_ref = _plus_token(facts, directory)
    if token_ref is not None:
        strong["plus_address"] = token_ref

    signals = {name: ref.dependencia for name, ref in strong.items()}
    if len({r.dependencia for r in thread}) > 1:
        return Match("quarantined", "the thread mixes mailings of several dependencias", signals=signals)
    tag = _TAG.search(facts.subject or "")
    if tag:
        signals["subject_tag"] = tag.group(1).upper()
    sender = facts.from_address or ""
    sender_deps = directory.addresses.get(sender, frozenset())
    if len(sender_deps) == 1:
        signals["sender"] = next(iter(sender_deps))

    named = set(signals.values())
    if len(named) > 1:
        described = ", ".join(f"{k}={v}" for k, v in sorted(signals.items()))
        return Match("quarantined", f"signals disagree ({described})", signals=signals)

    if strong:
        ref = _most_specific(strong)
    elif "sender" in signals:
        ref = directory.current.get(signals["sender"])
        if ref is None:
            return Match(
                "unmatched", f"sender is registered for {signals['sender']}, which has no mailing", signals=signals
            )
    else:
        reason = "only the subject tag names a dependencia" if tag else "no signal names a dependencia"
        return Match("unmatched", reason, signals=signals)

    verdict = _sender_policy(sender, ref, sender_deps, control, directory, allow)
    if verdict is not None:
        return Match("rejected_sender", verdict, mailing=ref, dependencia=ref.dependencia, signals=signals)
    return Match("matched", f"matched by {', '.join(sorted(signals))}", ref, ref.dependencia, signals)


def _plus_token(facts: MessageFacts, directory: Directory) -> MailingRef | None:
    local, _, domain = directory.mailbox_address.partition("@")
    for address in (*facts.delivered_to, *facts.x_original_to, *facts.to, *facts.cc):
        box, _, host = address.partition("@")
        if host == domain and box.startswith(f"{local}+"):
            ref = directory.by_token.get(box[len(local) + 1 :])
            if ref is not None:
                return ref
    return None


def _most_specific(strong: Mapping[str, MailingRef]) -> MailingRef:
    """All strong signals name one dependencia; prefer the mailing named by the workbook, then the thread."""
    for name in ("control", "plus_address", "thread"):
        if name in strong:
            return strong[name]
    raise AssertionError("no strong signal")


def _sender_policy(
    sender: str,
    ref: MailingRef,
    sender_deps: frozenset[str],
    control: WorkbookControl | None,
    directory: Directory,
    allow: str,
) -> str | None:
    """None when the sender may submit for `ref`'s dependencia; else why not."""
    if ref.dependencia in sender_deps:
        return None
    if not sender or domain_of(sender) not in directory.own_domains:
        return f"sender {sender or '(none)'} is outside the municipality's domains"
    signed_for_it = (
        control is not None
        and control.verified
        and control.block is not None
        and control.block.dependencia == ref.dependencia
    )
    if allow == "domain" and signed_for_it:
        return None
    if allow == "domain":
        return f"sender {sender} is not registered for {ref.dependencia} and sent no workbook signed for it"
    return f"sender {sender} is not registered for {ref.dependencia}"
