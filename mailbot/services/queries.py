"""Read-only views for the CLI's listing commands (JSON-ready dictionaries; shapes are contracts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from mailbot.adapters.db.models import OutboxMail
from mailbot.app import App


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
                "next_attempt_at": row.next_attempt_at.isoformat(),
                "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                "last_error": row.last_error,
                "recipient_results": row.recipient_results,
            }
            for row in session.scalars(query)
        ]
