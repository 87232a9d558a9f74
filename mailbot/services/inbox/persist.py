"""The persist step: what a decision writes in the claim's transaction (the outcome, the submission, the audit).

What a decision reads of other messages (the same message decided before a resynchronisation, an earlier
submission of the same file, the next version number) is read after `lock_shared` has taken the transaction-scoped
advisory locks on the mailing, the sender and the Message-ID (`adapters.db.locks`), so two workers never give one
file two versions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from mailbot.adapters.archive import Stored
from mailbot.adapters.db.locks import serialize
from mailbot.adapters.db.models import Attachment, AuditEvent, Dependencia, OutboxMail, ReceivedMessage, Submission
from mailbot.domain import attention as attention_items
from mailbot.domain.decisions import Outcome, radicado
from mailbot.domain.inbound import ParsedMessage
from mailbot.domain.matching import MailingRef
from mailbot.domain.reply import Earlier, Verdict
from mailbot.domain.workbook_format import Ronda
from mailbot.services import attention, outbox, seguimiento
from mailbot.services.inbox.common import Files, Inbox, text
from mailbot.services.inbox.filing import ToFile


@dataclass(frozen=True)
class Persisted:
    """A submission just inserted (not yet filed under planes/: that comes after the commit)."""

    submission: Submission
    to_file: ToFile  # what filing it after the commit needs
    evaluation: dict[str, Any] = field(default_factory=dict)  # an accepted seguimiento's, as the mail shows it


def lock_shared(session: Session, row: ReceivedMessage, parsed: ParsedMessage, ref: MailingRef | None) -> None:
    shared = [f"sender:{parsed.facts.from_address or ''}", f"message:{row.message_id or row.sha256}"]
    serialize(session, [*shared, f"mailing:{ref.mailing_id}"] if ref else shared)


def same_message_decided(session: Session, row: ReceivedMessage) -> ReceivedMessage | None:
    """The same message (Message-ID and bytes) already decided: a resynchronised mailbox shows it again."""
    if not row.message_id:
        return None
    return session.scalars(_SAME_MESSAGE, {"id": row.id, "message_id": row.message_id, "sha256": row.sha256}).first()


# The statements of every decision, built once: building a statement and its cache key costs more than SQLite's
# running it.
_SAME_MESSAGE = select(ReceivedMessage).where(
    ReceivedMessage.id != bindparam("id"),
    ReceivedMessage.message_id == bindparam("message_id"),
    ReceivedMessage.sha256 == bindparam("sha256"),
    ReceivedMessage.outcome.is_not(None),
)
_FIRST_OF_FILE = (
    select(Submission.id, Submission.created_at, Submission.radicado, Submission.decision)
    .join(Attachment, Submission.attachment_id == Attachment.id)
    .where(Submission.mailing_id == bindparam("mailing_id"), Attachment.sha256 == bindparam("sha256"))
    .order_by(Submission.version)
    .limit(1)
)
_DEPENDENCIA_ID = select(Dependencia.id).where(Dependencia.code == bindparam("code"))
_ATTACHMENT = select(Attachment.id, Attachment.archive_path, Attachment.size).where(
    Attachment.received_message_id == bindparam("received_id"), Attachment.sha256 == bindparam("sha256")
)
_LAST_VERSION = select(func.max(Submission.version)).where(Submission.mailing_id == bindparam("mailing_id"))


def adopt(row: ReceivedMessage, earlier: ReceivedMessage, now: dt.datetime) -> str:
    """Never twice: the copy takes the earlier decision's outcome and gets no answer."""
    row.outcome, row.reason = earlier.outcome, f"already processed as message #{earlier.id}"
    row.dependencia_id, row.mailing_id, row.decided_at = earlier.dependencia_id, earlier.mailing_id, now
    return str(row.outcome)


def earlier_submission(session: Session, verdict: Verdict) -> Earlier | None:
    """The first submission of the chosen file for the matched mailing (read under the mailing's lock)."""
    ref = verdict.match.mailing if verdict.match else None
    if verdict.chosen is None or ref is None:
        return None
    first = session.execute(_FIRST_OF_FILE, {"mailing_id": ref.mailing_id, "sha256": verdict.chosen.sha256}).first()
    return None if first is None else Earlier(*first)


def record_outcome(
    session: Session, row: ReceivedMessage, parsed: ParsedMessage, verdict: Verdict, now: dt.datetime
) -> None:
    decision, ref = verdict.decision, verdict.match.mailing if verdict.match else None
    if ref is not None:  # read before the row changes: its query would flush a first UPDATE
        row.dependencia_id = session.scalars(_DEPENDENCIA_ID, {"code": ref.dependencia}).one()
        row.mailing_id = ref.mailing_id
    row.outcome, row.decided_at = decision.outcome.value, now
    row.reason = parsed.reason_with_defects(decision.reason)[:2000]  # a workbook lost in parsing says why


def mark_bounced(session: Session, message_ids: Iterable[str], parsed: ParsedMessage) -> None:
    """The mails a bounce returns are failed in the outbox, with what the report says."""
    detail = ""
    if parsed.report is not None:
        detail = "; ".join(
            f"{r.address} {r.status} {r.diagnostic}".strip() for r in parsed.report.recipients if r.failed
        )
    for message_id in message_ids:
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.message_id == message_id)
            .values(status=outbox.FAILED, last_error=f"bounced: {detail}"[:2000] or "bounced")
        )


def insert_submission(
    inbox: Inbox, session: Session, row: ReceivedMessage, verdict: Verdict, files: Files, now: dt.datetime
) -> Persisted | None:
    """A validated workbook (accepted or to correct) becomes the mailing's next version; filed after the commit."""
    outcome = verdict.decision.outcome
    ref = verdict.match.mailing if verdict.match else None
    if outcome not in (Outcome.ACCEPTED, Outcome.CORRECTION_REQUESTED) or verdict.chosen is None or ref is None:
        return None
    sha256 = next(f.sha256 for p, f in files if p.sha256 == verdict.chosen.sha256)
    attachment = session.execute(_ATTACHMENT, {"received_id": row.id, "sha256": sha256}).first()
    assert attachment is not None
    attachment_id, archive_path, size = attachment
    version = 1 + (session.scalar(_LAST_VERSION, {"mailing_id": ref.mailing_id}) or 0)
    accepted = outcome is Outcome.ACCEPTED
    number = radicado(ref.vigencia, ref.dependencia, version, Ronda(ref.ronda).quarter) if accepted else None
    plan: dict[str, Any] | None = {"summary": verdict.summary.to_json()} if verdict.summary is not None else None
    shown: dict[str, Any] = {}
    if accepted and verdict.workbook is not None and verdict.baseline is not None:
        config = inbox.config
        evaluation = seguimiento.evaluate(config, ref.dependencia, verdict.workbook, verdict.baseline)
        plan = {**(plan or {}), **seguimiento.record(verdict.workbook, verdict.baseline, evaluation)}
        shown = {"evaluacion": seguimiento.for_mail(evaluation, config.evaluation.lag_below_percent)}
    submission = Submission(
        mailing_id=ref.mailing_id,
        attachment_id=attachment_id,
        version=version,
        findings=[f.to_json() for f in verdict.findings],
        decision=outcome.value,
        radicado=number,
        plan=plan if accepted else None,
        created_at=now,
    )
    session.add(submission)
    session.flush()
    stored = Stored(Path(archive_path), sha256, size)
    to_file = ToFile(submission.id, version, outcome.value, stored, ref.vigencia, ref.ronda, ref.dependencia)
    return Persisted(submission, to_file, shown)


def audit_decided(session: Session, row: ReceivedMessage, verdict: Verdict, now: dt.datetime) -> None:
    ref = verdict.match.mailing if verdict.match else None
    session.add(
        AuditEvent(
            at=now,
            kind="message_decided",
            subject_type="received_message",
            subject_id=row.id,
            detail={
                "outcome": row.outcome,
                "reason": row.reason,
                "dependencia": ref.dependencia if ref else None,
                "signals": verdict.match.signals if verdict.match else {},
                "findings": len(verdict.findings),
            },
        )
    )


def fail(session: Session, row: ReceivedMessage, exc: Exception, now: dt.datetime) -> str:
    """The outcome `error`, in the claiming transaction (the failed attempt's writes were rolled back)."""
    row.outcome, row.decided_at = Outcome.ERROR.value, now
    row.reason = text(f"{exc.__class__.__name__}: {exc}", 2000)
    session.add(
        AuditEvent(
            at=now,
            kind="message_error",
            subject_type="received_message",
            subject_id=row.id,
            detail={"error": row.reason},
        )
    )
    opening = attention_items.error(row.from_address or "", row.subject or "", None)
    attention.open_item(session, opening, key=f"error:{row.id}", now=now, received_message_id=row.id)
    return Outcome.ERROR.value
