"""The outcome of a received message and the answer it gets: one pure function over what was found.

Outcomes are a contract (`mailbot messages`): accepted, correction_requested, duplicate, quarantined, unmatched,
automatic, bounce, no_attachment, several_attachments, rejected_sender, error, question (a message without a workbook
that asks something: forwarded to planeación's contact).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from mailbot.domain.findings import Finding, has_errors
from mailbot.domain.inbound import AttachmentPart
from mailbot.domain.matching import Match

#: Kinds (from the bytes) that are a spreadsheet or a document someone may have sent instead of the workbook.
CANDIDATE_KINDS = frozenset({"xlsx", "xlsm", "xlsb", "xls", "encrypted", "ods", "corrupt_zip"})
CANDIDATE_EXTENSIONS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".csv", ".pdf")


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    CORRECTION_REQUESTED = "correction_requested"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    UNMATCHED = "unmatched"
    AUTOMATIC = "automatic"
    BOUNCE = "bounce"
    NO_ATTACHMENT = "no_attachment"
    SEVERAL_ATTACHMENTS = "several_attachments"
    REJECTED_SENDER = "rejected_sender"
    ERROR = "error"
    QUESTION = "question"


class Answer(StrEnum):
    """Which mail goes back (the name of its template pair)."""

    ACCEPTANCE = "aceptacion"
    CORRECTION = "correccion"
    DUPLICATE = "duplicado"
    NO_ATTACHMENT = "sin_adjunto"
    CLOUD_LINK = "enlace_nube"
    TOO_LARGE = "muy_grande"  # a message over `limits.max_message_bytes`: archived, never read
    SEVERAL = "varios_adjuntos"
    REVIEW = "en_revision"  # quarantined, unmatched or rejected insider: a person at planeación will look
    QUESTION = "consulta_recibida"  # a question: forwarded to planeación's contact, who will answer


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    answer: Answer | None


def candidates(attachments: Sequence[AttachmentPart]) -> list[AttachmentPart]:
    """The files that may be the plan, one per distinct content (a file attached twice counts once)."""
    seen: dict[str, AttachmentPart] = {}
    for part in attachments:
        name = (part.filename or "").lower()
        if str(part.kind) in CANDIDATE_KINDS or name.endswith(CANDIDATE_EXTENSIONS):
            seen.setdefault(part.sha256, part)
    return list(seen.values())


def review_answer(insider: bool, answer_outsiders: bool) -> Answer | None:
    """Messages a machine cannot decide get a neutral notice, but never one to an outsider by default."""
    return Answer.REVIEW if insider or answer_outsiders else None


def decide_unplaced(match: Match, *, insider: bool, answer_outsiders: bool) -> Decision:
    """A reply that did not match a mailing (or whose sender may not submit)."""
    outcome = {
        "quarantined": Outcome.QUARANTINED,
        "unmatched": Outcome.UNMATCHED,
        "rejected_sender": Outcome.REJECTED_SENDER,
    }[match.status]
    return Decision(outcome, match.reason, review_answer(insider, answer_outsiders))


def decide_attachments(
    found: Sequence[AttachmentPart], cloud_links: Sequence[str], *, asks: bool = False, oversized: int | None = None
) -> Decision | None:
    """No plan attached, or several: a decision already; exactly one: None (it gets validated).

    `asks`: the text is a probable question from a registered address (`domain.questions`): a person answers it.
    `oversized`: the size of a message over the limit, whose attachments were never read: not "no attachment"
    (it may well carry the plan) but "too large", so that the secretario sends it lighter.
    """
    if oversized is not None:
        return Decision(Outcome.NO_ATTACHMENT, f"message of {oversized} bytes over the size limit", Answer.TOO_LARGE)
    if not found:
        if asks and not cloud_links:
            return Decision(
                Outcome.QUESTION, "a question without a workbook: forwarded to the contact", Answer.QUESTION
            )
        if cloud_links:
            return Decision(Outcome.NO_ATTACHMENT, "a file-sharing link instead of the workbook", Answer.CLOUD_LINK)
        return Decision(Outcome.NO_ATTACHMENT, "no workbook attached", Answer.NO_ATTACHMENT)
    if len(found) > 1:
        return Decision(Outcome.SEVERAL_ATTACHMENTS, f"{len(found)} candidate files attached", Answer.SEVERAL)
    return None


def decide_validated(findings: Sequence[Finding], *, duplicate_of: int | None) -> Decision:
    if duplicate_of is not None:
        return Decision(Outcome.DUPLICATE, f"same file as submission #{duplicate_of}", Answer.DUPLICATE)
    if has_errors(findings):
        errors = sum(f.severity.value == "E" for f in findings)
        return Decision(Outcome.CORRECTION_REQUESTED, f"{errors} error finding(s)", Answer.CORRECTION)
    return Decision(Outcome.ACCEPTED, f"accepted with {len(findings)} warning(s)", Answer.ACCEPTANCE)


def radicado(vigencia: int, dependencia: str, version: int, quarter: int | None = None) -> str:
    """The filing number of an accepted plan: PA-2027-HAC-0003 (the third version received); of an accepted
    seguimiento: SPA-2027-T1-HAC-0002 (its own series, so that numbers never collide across rounds)."""
    if quarter is not None:
        return f"SPA-{vigencia}-T{quarter}-{dependencia}-{version:04d}"
    return f"PA-{vigencia}-{dependencia}-{version:04d}"
