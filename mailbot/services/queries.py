"""Read-only views for the CLI's listing commands (JSON-ready dictionaries; shapes are contracts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from mailbot.adapters.db.models import (
    Attachment,
    Dependencia,
    Mailing,
    OutboxMail,
    ReceivedMessage,
    Round,
    Submission,
)
from mailbot.app import App


def local_iso(app: App, moment: dt.datetime | None) -> str | None:
    """A stored moment (UTC) as ISO 8601 in the municipality's zone, offset included: what every listing shows."""
    return moment.astimezone(app.clock.tz).isoformat() if moment is not None else None


def outbox_rows(app: App, *, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    query = select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMail.status == status)
    with app.sessions() as session:
        return [
            {
                "id": row.id,
                "kind": row.kind,
                "status": row.status,
                "message_id": row.message_id,
                "recipients": list(row.recipients),
                "attempts": row.attempts,
                "next_attempt_at": local_iso(app, row.next_attempt_at),
                "sent_at": local_iso(app, row.sent_at),
                "last_error": row.last_error,
                "recipient_results": row.recipient_results,
            }
            for row in session.scalars(query)
        ]


def received_rows(app: App, *, limit: int = 100, outcome: str | None = None) -> list[dict[str, Any]]:
    """`mailbot messages --json`: every received message with its outcome, newest first."""
    radicados = (
        select(Attachment.received_message_id, Submission.radicado)
        .join(Submission, Submission.attachment_id == Attachment.id)
        .where(Submission.radicado.is_not(None))
    )
    query = (
        select(ReceivedMessage, Dependencia.code)
        .outerjoin(Dependencia, ReceivedMessage.dependencia_id == Dependencia.id)
        .order_by(ReceivedMessage.id.desc())
        .limit(limit)
    )
    if outcome:
        query = query.where(ReceivedMessage.outcome == outcome)
    with app.sessions() as session:
        by_message = {received: number for received, number in session.execute(radicados)}
        return [
            {
                "id": row.id,
                "received_at": local_iso(app, row.received_at),
                "from": row.from_address,
                "subject": row.subject,
                "message_id": row.message_id,
                "uid": row.uid,
                "outcome": row.outcome,
                "dependencia": code,
                "radicado": by_message.get(row.id),
                "reason": row.reason,
                "sha256": row.sha256,
                "folder": row.moved_to,
            }
            for row, code in session.execute(query)
        ]


STATES = ("pending", "correction_requested", "accepted", "late")


def status(app: App, *, today: dt.date) -> dict[str, Any]:
    """`mailbot status --json`: per dependencia, the state of each round, its last activity and radicado."""
    with app.sessions() as session:
        rounds = list(session.scalars(select(Round).order_by(Round.vigencia, Round.id)))
        mailings = {(m.round_id, m.dependencia_id): m for m in session.scalars(select(Mailing))}
        latest: dict[int, Submission] = {}
        accepted: dict[int, Submission] = {}
        for sub in session.scalars(select(Submission).order_by(Submission.version)):
            latest[sub.mailing_id] = sub
            if sub.decision == "accepted":
                accepted[sub.mailing_id] = sub
        activity: dict[int, dt.datetime] = {}
        for mailing_id, at in session.execute(
            select(ReceivedMessage.mailing_id, func.max(ReceivedMessage.received_at))
            .where(ReceivedMessage.mailing_id.is_not(None))
            .group_by(ReceivedMessage.mailing_id)
        ):
            if mailing_id is not None:
                activity[mailing_id] = at
        deps = {d.code: d for d in session.scalars(select(Dependencia))}
        out = []
        for dep in app.config.dependencias:
            row = deps.get(dep.code)
            entries = []
            for round_ in rounds:
                mailing = mailings.get((round_.id, row.id)) if row is not None else None
                if mailing is None:
                    continue
                entries.append(
                    _round_state(
                        app, round_, mailing, latest.get(mailing.id), accepted.get(mailing.id), activity, today
                    )
                )
            out.append({"code": dep.code, "name": dep.name, "rounds": entries})
    return {"today": today.isoformat(), "dependencias": out}


def _round_state(
    app: App,
    round_: Round,
    mailing: Mailing,
    last: Submission | None,
    accepted: Submission | None,
    activity: dict[int, dt.datetime],
    today: dt.date,
) -> dict[str, Any]:
    if accepted is not None:
        state = "accepted"
    elif today > round_.deadline:
        state = "late"
    elif last is not None:
        state = "correction_requested"
    else:
        state = "pending"
    moments = [t for t in (mailing.sent_at, activity.get(mailing.id)) if t is not None]
    open_findings = (
        sum(1 for f in last.findings if f.get("severity") == "E") if last is not None and accepted is None else 0
    )
    return {
        "vigencia": round_.vigencia,
        "ronda": round_.kind,
        "deadline": round_.deadline.isoformat(),
        "state": state,
        "mailed_at": local_iso(app, mailing.sent_at),
        "last_activity": local_iso(app, max(moments)) if moments else None,
        "radicado": accepted.radicado if accepted else None,
        "version": shown.version if (shown := accepted or last) is not None else None,
        "open_findings": open_findings,
    }
