"""The attention step: after a decision, the items it opens for a person and those it settles (same transaction).

Which kinds, their Spanish summaries and what closes them are pure functions in `domain/attention.py`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.adapters.db.models import Dependencia, Mailing, OutboxMail, ReceivedMessage
from mailbot.domain import attention as attention_items
from mailbot.domain.decisions import Outcome
from mailbot.domain.inbound import ParsedMessage
from mailbot.domain.matching import Match
from mailbot.domain.reply import Away, Verdict
from mailbot.services import attention
from mailbot.services.inbox.common import Inbox


def attend(
    inbox: Inbox,
    session: Session,
    row: ReceivedMessage,
    parsed: ParsedMessage,
    verdict: Verdict,
    radicado: str | None,
    now: dt.datetime,
) -> None:
    """The attention queue after a decision: the items it opens, and those it closes."""
    outcome, sender = verdict.decision.outcome, parsed.facts.from_address or ""
    key = f"{outcome.value}:{row.id}"
    if outcome in (Outcome.QUARANTINED, Outcome.UNMATCHED, Outcome.REJECTED_SENDER):
        # An outsider rejected had matched a mailing (a thread, a token, a signed workbook): a secretario
        # writing from a personal address, say; a person must look, though the outsider gets no answer.
        found = verdict.match or Match("quarantined", verdict.decision.reason)
        opening = attention_items.unplaced(
            found, sender, inbox.names(), tampered=verdict.tampered, insider=verdict.insider
        )
        attention.open_item(session, opening, key=key, now=now, received_message_id=row.id)
    elif outcome is Outcome.BOUNCE:
        _bounce(session, row, parsed, verdict, now)
    elif verdict.away is not None:
        _away(inbox, session, row, sender, verdict.away, now)
    if outcome not in (Outcome.AUTOMATIC, Outcome.BOUNCE) and row.dependencia_id is not None:  # an acceptance too
        accepted = row.mailing_id if outcome is Outcome.ACCEPTED else None
        attention.resolve_on_decision(
            session, row.dependencia_id, row.id, now, accepted_mailing=accepted, radicado=radicado
        )


def _bounce(session: Session, row: ReceivedMessage, parsed: ParsedMessage, verdict: Verdict, now: dt.datetime) -> None:
    failed = [r for r in parsed.report.recipients if r.failed] if parsed.report is not None else []
    detail = "; ".join(f"{r.status} {r.diagnostic}".strip() for r in failed)[:160]
    for message_id in verdict.bounced:
        sent = session.execute(
            select(OutboxMail.recipients, OutboxMail.mailing_id, Dependencia.code)
            .outerjoin(Mailing, OutboxMail.mailing_id == Mailing.id)
            .outerjoin(Dependencia, Mailing.dependencia_id == Dependencia.id)
            .where(OutboxMail.message_id == message_id)
        ).first()
        if sent is None:
            continue
        recipients, mailing_id, code = sent
        opening = attention_items.undelivered([r.address for r in failed] or list(recipients), detail, code)
        attention.open_item(
            session,
            opening,
            key=attention.undelivered_key(message_id),
            now=now,
            received_message_id=row.id,
            mailing_id=mailing_id,
        )


def _away(inbox: Inbox, session: Session, row: ReceivedMessage, sender: str, away: Away, now: dt.datetime) -> None:
    """The secretario is away: attributed to his dependencia; a newer out-of-office replaces an older one."""
    row.dependencia_id = session.scalars(select(Dependencia.id).where(Dependencia.code == away.dependencia)).one()
    attention.resolve_on_reply(session, row.dependencia_id, row.id, now)
    head = next(d.head.name for d in inbox.config.dependencias if d.code == away.dependencia)
    opening = attention_items.away(away.dependencia, sender, away.until, inbox.names(), head=head)
    attention.open_item(session, opening, key=f"away:{row.id}", now=now, received_message_id=row.id, until=away.until)
