"""The answer step: what the answer may show, its mail from the templates (or a plain acknowledgement), the
per-address daily cap, and a question forwarded to planeación's contact. All of it queued in the outbox in the
claim's transaction; nothing here inserts a submission or touches the archive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from mailbot.adapters.db.models import ADDRESS_LENGTH, AnswerRecipient, AuditEvent, Mailing, ReceivedMessage, Round
from mailbot.adapters.workbook.refusals import megabytes
from mailbot.domain import attention as attention_items
from mailbot.domain.decisions import Answer, Outcome, candidates
from mailbot.domain.inbound import ParsedMessage
from mailbot.domain.outgoing import OutgoingMail
from mailbot.domain.questions import new_text
from mailbot.domain.reply import Verdict
from mailbot.domain.workbook_format import FORMAT_CODE
from mailbot.log import get_logger
from mailbot.services import attention, outbox
from mailbot.services.answers import (
    ACKNOWLEDGEMENT,
    AnswerFacts,
    acknowledgement,
    compose_answer,
    contact_context,
    forward_question,
)
from mailbot.services.inbox.common import Files, Inbox, text
from mailbot.services.inbox.persist import Persisted

log = get_logger("mailbot.inbox")

ANSWER_KINDS = (*(a.value for a in Answer), ACKNOWLEDGEMENT)  # what queue_answer queues: what the daily cap counts


def answer_facts(
    inbox: Inbox, session: Session, verdict: Verdict, files: Files, persisted: Persisted | None
) -> AnswerFacts:
    """What the answer may show: the mailing's, the findings, and the submission's as persisted (read only)."""
    ref = verdict.match.mailing if verdict.match else None
    deadline = None
    if ref is not None:
        deadline = session.scalars(_DEADLINE, {"mailing_id": ref.mailing_id}).first()
    facts = AnswerFacts(
        dependencia=ref.dependencia if ref else None,
        vigencia=ref.vigencia if ref else None,
        ronda=ref.ronda if ref else None,
        deadline=deadline,
        token=ref.token if ref else None,
        findings=verdict.findings,
        attachment_names=tuple(p.filename or "(sin nombre)" for p in candidates([p for p, _ in files])),
    )
    outcome = verdict.decision.outcome
    if outcome is Outcome.DUPLICATE and verdict.duplicate_of is not None:
        first = verdict.duplicate_of
        facts = replace(
            facts, first_date=first.created_at, first_radicado=first.radicado, first_state=_state_es(first.decision)
        )
    elif persisted is not None and ref is not None:
        submission, accepted = persisted.submission, outcome is Outcome.ACCEPTED
        facts = replace(
            facts,
            version=submission.version,
            radicado=submission.radicado,
            sha256=verdict.chosen.sha256 if verdict.chosen else None,
            summary=verdict.summary,
            annotated=None if accepted else verdict.annotated,
            annotated_name=f"Correcciones {FORMAT_CODE} {ref.dependencia} {ref.vigencia} v{submission.version}.xlsx",
            extra=dict(persisted.evaluation),
        )
    if verdict.decision.answer is Answer.REVIEW and verdict.match is not None:
        told = attention_items.told_to_sender(verdict.match, inbox.names())
        facts = replace(facts, extra={**facts.extra, "motivo": told}) if told else facts
    if outcome is Outcome.QUESTION:
        facts = replace(facts, extra={**facts.extra, "contacto": contact_context(inbox.config)})
    if verdict.decision.answer is Answer.TOO_LARGE:
        facts = replace(facts, extra={**facts.extra, "limite": megabytes(inbox.config.limits.max_message_bytes)})
    return facts


def queue_answer(
    inbox: Inbox,
    session: Session,
    row: ReceivedMessage,
    answer: Answer,
    parsed: ParsedMessage,
    facts: AnswerFacts,
    now: dt.datetime,
) -> None:
    """The answer in the outbox, unless the sender already got the day's cap of automatic mails."""
    sender = parsed.facts.from_address or ""
    if over_daily_limit(inbox, session, sender, now):
        _withhold(inbox, session, row, sender, facts, now)
        return
    mail = compose(inbox, session, row, answer, parsed, facts, now)
    queued, created = outbox.queue(
        session,
        inbox.config,
        mail,
        dedup_key=f"answer:{row.id}",
        now=now,
        mailing_id=row.mailing_id,
        received_message_id=row.id,
    )
    if created:
        count_for_cap(session, queued.id, mail.recipients, now)


def _withhold(
    inbox: Inbox, session: Session, row: ReceivedMessage, sender: str, facts: AnswerFacts, now: dt.datetime
) -> None:
    row.reason = f"{row.reason}; answer withheld: daily limit of automatic mails to {sender} reached"
    opening = attention_items.withheld(sender, inbox.config.limits.auto_mails_per_address_per_day, facts.dependencia)
    attention.open_item(
        session,
        opening,
        key=f"withheld:{sender}:{now.astimezone(inbox.app.clock.tz).date()}",
        now=now,
        received_message_id=row.id,
        mailing_id=row.mailing_id,
    )
    session.add(
        AuditEvent(
            at=now,
            kind="rate_limited",
            subject_type="received_message",
            subject_id=row.id,
            detail={"address": sender},
        )
    )
    log.warning("answer_rate_limited", address=sender, received_id=row.id)


def compose(
    inbox: Inbox,
    session: Session,
    row: ReceivedMessage,
    answer: Answer,
    parsed: ParsedMessage,
    facts: AnswerFacts,
    now: dt.datetime,
) -> OutgoingMail:
    """The answer from its templates; if that fails at run time (an operator's broken override), a plain
    acknowledgement built without them, and the case in the attention queue: the outcome stands, nothing is lost."""
    sender = parsed.facts.from_address or ""
    try:
        return compose_answer(inbox.config, answer, parsed.facts, facts, sender)
    except Exception as exc:
        log.exception("answer_failed", received_id=row.id, answer=answer.value, error=exc.__class__.__name__)
        row.reason = text(f"{row.reason}; answer {answer.value} failed ({exc.__class__.__name__}): acknowledged", 2000)
        opening = attention_items.answer_failed(sender, facts.dependencia)
        attention.open_item(
            session,
            opening,
            key=f"answer_failed:{row.id}",
            now=now,
            received_message_id=row.id,
            mailing_id=row.mailing_id,
        )
        return acknowledgement(inbox.config, parsed.facts, sender, now.astimezone(inbox.app.clock.tz).date())


def over_daily_limit(inbox: Inbox, session: Session, address: str, now: dt.datetime) -> bool:
    return answers_since(session, address, day_start(now, inbox.app.clock.tz)) >= (
        inbox.config.limits.auto_mails_per_address_per_day
    )


def day_start(now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Midnight of `now`'s day in the municipality's time zone: where the daily cap's day begins."""
    return now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)


def count_for_cap(session: Session, outbox_id: int, recipients: Iterable[str], now: dt.datetime) -> None:
    """One row per recipient (To and Cc) of an automatic answer just queued, with the answer's time."""
    rows = [
        {"outbox_id": outbox_id, "address": address, "created_at": now}
        for address in dict.fromkeys(a[:ADDRESS_LENGTH] for a in recipients)
    ]
    if rows:  # one statement, no identity to fetch back
        session.execute(insert(AnswerRecipient), rows)


def answers_since(session: Session, address: str, start: dt.datetime) -> int:
    """Automatic answers queued to `address` (To or Cc) since `start`: one count on the address's index."""
    return int(session.scalar(_ANSWERS_SINCE, {"address": address[:ADDRESS_LENGTH], "start": start}) or 0)


# Built once: building a statement and its cache key costs more than SQLite's running it.
_ANSWERS_SINCE = select(func.count(AnswerRecipient.id)).where(
    AnswerRecipient.address == bindparam("address"), AnswerRecipient.created_at >= bindparam("start")
)
_DEADLINE = select(Round.deadline).join(Mailing).where(Mailing.id == bindparam("mailing_id"))


def forward(
    inbox: Inbox,
    session: Session,
    row: ReceivedMessage,
    parsed: ParsedMessage,
    files: Files,
    dependencia: str | None,
    now: dt.datetime,
) -> None:
    """A question goes to planeación's contact (a person answers it) and into the attention queue."""
    config = inbox.config
    question = new_text(parsed.text) or parsed.text
    contact = config.effective_contact
    forwarded_to = None
    if str(contact.email).lower() != config.smtp.from_address.lower():  # else: it is in that mailbox already
        attached = tuple((p.filename or "adjunto", p.content_type, p.data) for p, _ in files if p.data)
        mail = forward_question(config, parsed.facts, parsed.text, attached, dependencia)
        outbox.queue(session, config, mail, dedup_key=f"forward:{row.id}", now=now, received_message_id=row.id)
        forwarded_to = contact.name
    sender = parsed.facts.from_address or ""
    opening = attention_items.question(dependencia, sender, question, forwarded_to, inbox.names())
    attention.open_item(
        session,
        opening,
        key=f"question:{row.id}",
        now=now,
        received_message_id=row.id,
        mailing_id=row.mailing_id,
    )


def _state_es(decision: str) -> str:
    return {"accepted": "aceptado", "correction_requested": "con correcciones pendientes"}.get(decision, decision)
