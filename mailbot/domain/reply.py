"""A reply's verdict from plain values: what was received, what was read, what mailbot knows; no storage, no clock.

The inbox service calls these in order, doing between them what needs storage:

- `screen` classifies the message and decides what is not a person's reply (a bounce, automatic mail, an
  out-of-office noted as away, a loop) and refuses a forged sender, before any workbook is read;
- `place` picks the one workbook to check among the candidates (`workbooks_to_read`, read by the service),
  matches the reply to a mailing and decides what needs no validation (unplaced, no attachment, several
  files, a question); a reply with one workbook for a matched mailing comes back `Placed`;
- `judge` validates that workbook against the context the service built for the matched mailing (with the
  accepted plan, for a seguimiento): accepted or correction requested;
- `settle` makes it a duplicate when the same file was already submitted for that mailing (the service reads
  the earlier submission under the mailing's lock and passes it in as a value).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from mailbot.domain import authentication
from mailbot.domain import control as control_block
from mailbot.domain.addresses import domain_of
from mailbot.domain.away import is_out_of_office, return_date
from mailbot.domain.classify import classify
from mailbot.domain.context import ValidationContext
from mailbot.domain.decisions import (
    Decision,
    Outcome,
    candidates,
    decide_attachments,
    decide_unplaced,
    decide_validated,
)
from mailbot.domain.findings import Finding, error
from mailbot.domain.inbound import AttachmentPart, ParsedMessage
from mailbot.domain.matching import Directory, Match, WorkbookControl, match
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.questions import is_question
from mailbot.domain.rules import validate
from mailbot.domain.seguimiento import Baseline
from mailbot.domain.summary import PlanSummary, summarize

Read = ParsedWorkbook | Finding  # one attachment as the reader left it: a workbook, or why it could not be read


@dataclass(frozen=True)
class Policy:
    """What mailbot is and whom it answers, from the configuration, as values."""

    own_domains: frozenset[str]  # the municipality's: senders there are insiders
    own_message_id_domain: str
    own_addresses: frozenset[str]  # mailbot's own From: a message from it is a loop
    trusted_authserv_ids: tuple[str, ...]
    allow: str  # sender policy: "registered" or "domain"
    answer_outsiders: bool
    secret: str = field(repr=False)  # verifies the workbook's `_control` signature; never in a log or traceback


@dataclass(frozen=True)
class Away:
    """An out-of-office from a registered address: whose dependencia, and until when if the text says."""

    dependencia: str
    until: dt.date | None


@dataclass(frozen=True)
class Earlier:
    """The first submission of the same file for the same mailing (what a duplicate's answer recalls)."""

    id: int
    created_at: dt.datetime
    radicado: str | None
    decision: str


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    match: Match | None = None
    findings: tuple[Finding, ...] = ()
    chosen: AttachmentPart | None = None
    workbook: ParsedWorkbook | None = None
    bounced: tuple[str, ...] = ()  # a bounce: the Message-IDs of ours it returns
    baseline: Baseline | None = None  # seguimiento: the accepted plan and quarters the workbook was checked against
    summary: PlanSummary | None = None
    annotated: bytes | None = None  # a copy of the workbook with the findings marked (made by the service)
    away: Away | None = None
    tampered: bool = False  # the workbook's _control signature does not verify
    insider: bool = True  # the sender is on one of the municipality's domains
    duplicate_of: Earlier | None = None


@dataclass(frozen=True)
class Placed:
    """A reply matched to a mailing with exactly one workbook to check: what `judge` needs."""

    match: Match
    chosen: AttachmentPart
    read: Read
    expected_token: str | None  # the mailing's token when the workbook's signed block names a known one
    insider: bool

    @property
    def workbook(self) -> ParsedWorkbook | None:
        return self.read if isinstance(self.read, ParsedWorkbook) else None


def screen(parsed: ParsedMessage, directory: Directory, policy: Policy, received: dt.date) -> Verdict | None:
    """What is not a person's reply, decided before any workbook is read: a bounce, automatic mail (an
    out-of-office noted as away), a loop, a forged sender; None for a reply to `place`."""
    classification = classify(
        parsed,
        own_domains=policy.own_domains,
        own_message_id_domain=policy.own_message_id_domain,
        own_addresses=policy.own_addresses,
    )
    if classification.kind == "bounce":
        return Verdict(
            Decision(Outcome.BOUNCE, classification.reason, None), bounced=classification.bounced_message_ids
        )
    if classification.kind != "reply":
        away = away_of(parsed, directory, received) if classification.kind == "automatic" else None
        reason = f"{classification.reason}; out-of-office of {away.dependencia}" if away else classification.reason
        return Verdict(Decision(Outcome.AUTOMATIC, reason, None), away=away)
    forged = authentication.forged_reason(parsed.facts.authentication_results, policy.trusted_authserv_ids)
    if forged is not None:  # never answered: the From is not who wrote it, an answer would go to the victim
        return Verdict(Decision(Outcome.QUARANTINED, forged, None))
    return None


def workbooks_to_read(parsed: ParsedMessage) -> list[AttachmentPart]:
    """The attachments `place` needs read: the candidates, one per content."""
    return candidates(parsed.attachments)


def place(
    parsed: ParsedMessage, workbooks: Mapping[str, Read], directory: Directory, policy: Policy
) -> Verdict | Placed:
    """A screened reply: the workbook to check, the mailing it answers, and whatever needs no validation
    (unplaced, no attachment, several, a question). `workbooks` holds each candidate's read by SHA-256."""
    found = candidates(parsed.attachments)
    chosen, workbook = pick(found, workbooks, policy.secret, directory)
    control = control_of(workbook, policy.secret)
    matched = match(parsed.facts, control, directory, allow=policy.allow)
    insider = is_insider(parsed, policy.own_domains)
    if matched.status != "matched" or matched.mailing is None:
        tampered = control is not None and control.block is not None and not control.verified
        unplaced = decide_unplaced(matched, insider=insider, answer_outsiders=policy.answer_outsiders)
        return Verdict(unplaced, matched, tampered=tampered, insider=insider)
    if chosen is None or workbook is None:
        asks = "sender" in matched.signals and is_question(parsed.text)
        oversized = parsed.size if parsed.oversized else None
        by_files = decide_attachments(found, parsed.cloud_links, asks=asks, oversized=oversized)
        assert by_files is not None
        return Verdict(by_files, matched, insider=insider)
    known_token = control is not None and control.block is not None and control.block.token in directory.by_token
    expected = matched.mailing.token if known_token else None
    return Placed(matched, chosen, workbook, expected, insider)


def judge(placed: Placed, context: ValidationContext) -> Verdict:
    """Validate the placed workbook against the matched mailing's context: accepted or correction requested.

    The duplicate check comes later (`settle`), under the mailing's lock."""
    workbook = placed.workbook
    findings: tuple[Finding, ...]
    if workbook is not None:
        findings = tuple(validate(workbook, context))
    else:
        findings = (placed.read,) if isinstance(placed.read, Finding) else ()
    summary = None
    if workbook is not None:  # the totals as configured; the token and the baseline play no part in them
        summary = summarize(workbook, replace(context, expected_token=None, baseline=None))
    return Verdict(
        decide_validated(findings, duplicate_of=None),
        placed.match,
        findings,
        placed.chosen,
        workbook,
        baseline=context.baseline,
        summary=summary,
        insider=placed.insider,
    )


def settle(verdict: Verdict, earlier: Earlier | None) -> Verdict:
    """The same file already submitted for this mailing makes a duplicate of the first one."""
    if earlier is None or verdict.chosen is None:
        return verdict
    decision = decide_validated(verdict.findings, duplicate_of=earlier.id)
    return replace(verdict, decision=decision, duplicate_of=earlier)


def pick(
    found: list[AttachmentPart], read: Mapping[str, Read], secret: str, directory: Directory
) -> tuple[AttachmentPart | None, Read | None]:
    """The one candidate to validate: the only one, or the only one signed for a known mailing among several."""
    if len(found) == 1:
        return found[0], read[found[0].sha256]
    signed = []
    for part in found:
        control = control_of(read[part.sha256], secret)
        if (
            control is not None
            and control.verified
            and control.block is not None
            and directory.by_control(control.block)
        ):
            signed.append(part)
    if len(signed) == 1:
        return signed[0], read[signed[0].sha256]
    return None, None


def control_of(workbook: Read | None, secret: str) -> WorkbookControl | None:
    if not isinstance(workbook, ParsedWorkbook) or workbook.control is None:
        return None
    return WorkbookControl(control_block.parse(workbook.control), control_block.verify(workbook.control, secret))


def away_of(parsed: ParsedMessage, directory: Directory, received: dt.date) -> Away | None:
    """An out-of-office from a registered address (one dependencia's): whose, and until when if it says."""
    codes = directory.addresses.get(parsed.facts.from_address or "", frozenset())
    if len(codes) != 1 or not is_out_of_office(parsed.facts, parsed.text):
        return None
    return Away(next(iter(codes)), return_date(parsed.text, received))


def is_insider(parsed: ParsedMessage, own_domains: frozenset[str]) -> bool:
    return domain_of(parsed.facts.from_address or "") in own_domains


def too_large(part: AttachmentPart) -> Finding:
    """The read of an attachment the parser dropped for its size."""
    return error(
        "F01",
        None,
        None,
        part.filename,
        "El archivo adjunto supera el tamaño máximo que se recibe; envíe el formato E-DE-F-010 diligenciado "
        "como Libro de Excel (.xlsx), sin imágenes ni hojas adicionales.",
    )
