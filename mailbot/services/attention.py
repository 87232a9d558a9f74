"""The attention queue in storage: open an item (once per event), resolve it by a later event or by a person, list it.

What an item says and what closes it is decided in `domain.attention`; this module only reads and writes rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailbot.adapters.db.models import AttentionItem, Dependencia, Mailing, OutboxMail, ReceivedMessage
from mailbot.app import App
from mailbot.domain import attention
from mailbot.domain.attention import Kind, Opening
from mailbot.log import get_logger
from mailbot.services import outbox
from mailbot.services.queries import local_iso

log = get_logger("mailbot.attention")

#: Failed deliveries older than this when the queue is first refreshed are history, not news.
UNDELIVERED_LOOKBACK = dt.timedelta(days=30)


@dataclass(frozen=True)
class OpenItem:
    id: int
    since: dt.datetime
    dependencia: str | None
    kind: str
    summary: str
    message_id: str | None
    until: dt.date | None
    received_id: int | None  # the row `mailbot messages` shows as "id"


def open_item(
    session: Session,
    opening: Opening,
    *,
    key: str,
    now: dt.datetime,
    received_message_id: int | None = None,
    mailing_id: int | None = None,
    until: dt.date | None = None,
) -> bool:
    """Open an item unless one with this key exists (a message decided again opens no second one)."""
    key = key[:200]
    if session.scalars(select(AttentionItem.id).where(AttentionItem.key == key)).first() is not None:
        return False
    dependencia_id = None
    if opening.dependencia:
        dependencia_id = session.scalars(select(Dependencia.id).where(Dependencia.code == opening.dependencia)).first()
    try:
        with session.begin_nested():  # another worker may open the same event's item at once (two bounces of one mail)
            session.add(
                AttentionItem(
                    key=key,
                    kind=opening.kind.value,
                    summary=opening.summary,
                    dependencia_id=dependencia_id,
                    received_message_id=received_message_id,
                    mailing_id=mailing_id,
                    until=until,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False
    log.info("attention_opened", kind=opening.kind.value, dependencia=opening.dependencia, key=key)
    return True


def resolve_on_acceptance(
    session: Session, dependencia_id: int, mailing_id: int, radicado: str | None, now: dt.datetime
) -> int:
    """An accepted plan closes the dependencia's open items about that plan (its mailing's, or tied to none)."""
    rows = _open_of(session, dependencia_id)
    return _close([r for r in rows if _by_acceptance(r, mailing_id)], f"accepted {radicado or ''}", now)


def resolve_on_reply(session: Session, dependencia_id: int, received_id: int, now: dt.datetime) -> int:
    """A message a person of the dependencia wrote closes its away item: the secretario is back."""
    rows = _open_of(session, dependencia_id)
    return _close([r for r in rows if _by_reply(r, received_id)], f"reply #{received_id}", now)


def resolve_on_decision(
    session: Session,
    dependencia_id: int,
    received_id: int,
    now: dt.datetime,
    *,
    accepted_mailing: int | None,
    radicado: str | None,
) -> int:
    """`resolve_on_acceptance` (when `accepted_mailing` is the plan just accepted), then `resolve_on_reply`, from one
    read of the dependencia's open items: what a decided message closes."""
    rows = _open_of(session, dependencia_id)
    accepted = [r for r in rows if accepted_mailing is not None and _by_acceptance(r, accepted_mailing)]
    closed = _close(accepted, f"accepted {radicado or ''}", now)
    rest = [r for r in rows if r.resolved_at is None and _by_reply(r, received_id)]
    return closed + _close(rest, f"reply #{received_id}", now)


def _open_of(session: Session, dependencia_id: int) -> list[AttentionItem]:
    return list(
        session.scalars(
            select(AttentionItem).where(
                AttentionItem.resolved_at.is_(None), AttentionItem.dependencia_id == dependencia_id
            )
        )
    )


def _by_acceptance(row: AttentionItem, mailing_id: int) -> bool:
    return row.mailing_id in (None, mailing_id) and attention.resolves_on_acceptance(row.kind)


def _by_reply(row: AttentionItem, received_id: int) -> bool:
    """Not an item this message opened itself (nor one tied to no message, as SQL's `!=` leaves NULL out)."""
    return row.received_message_id not in (None, received_id) and attention.resolves_on_reply(row.kind)


def _close(rows: list[AttentionItem], by: str, now: dt.datetime) -> int:
    for row in rows:
        row.resolved_at, row.resolved_by = now, by.strip()[:200]
        log.info("attention_resolved", id=row.id, kind=row.kind, by=row.resolved_by)
    return len(rows)


def refresh(session: Session, now: dt.datetime, today: dt.date) -> None:
    """What time and the outbox settle: away items past their return date close; failed deliveries open items."""
    for row in session.scalars(
        select(AttentionItem).where(AttentionItem.resolved_at.is_(None), AttentionItem.kind == Kind.AWAY.value)
    ):
        if attention.away_expired(row.until, today):
            _close([row], "return date passed", now)
    failed = session.execute(
        select(OutboxMail, Mailing.dependencia_id)
        .outerjoin(Mailing, OutboxMail.mailing_id == Mailing.id)
        .where(OutboxMail.status == outbox.FAILED, OutboxMail.created_at > now - UNDELIVERED_LOOKBACK)
    ).all()
    codes = dict(session.execute(select(Dependencia.id, Dependencia.code)).all())
    for mail, dependencia_id in failed:
        opening = attention.undelivered(list(mail.recipients), (mail.last_error or "")[:160], codes.get(dependencia_id))
        open_item(session, opening, key=undelivered_key(mail.message_id), now=now, mailing_id=mail.mailing_id)


def undelivered_key(message_id: str) -> str:
    """One item per mail that did not arrive, whether a bounce or the SMTP server said so."""
    return f"undelivered:{message_id}"


def standing(app: App) -> list[OpenItem]:
    """The open items, oldest first, after `refresh`."""
    now = app.clock.now()
    with app.sessions.begin() as session:
        refresh(session, now, now.astimezone(app.clock.tz).date())
    with app.sessions() as session:
        rows = session.execute(
            select(AttentionItem, Dependencia.code, ReceivedMessage.message_id)
            .outerjoin(Dependencia, AttentionItem.dependencia_id == Dependencia.id)
            .outerjoin(ReceivedMessage, AttentionItem.received_message_id == ReceivedMessage.id)
            .where(AttentionItem.resolved_at.is_(None))
            .order_by(AttentionItem.created_at, AttentionItem.id)
        ).all()
        return [
            OpenItem(
                item.id,
                item.created_at,
                code,
                item.kind,
                item.summary,
                message_id,
                item.until,
                item.received_message_id,
            )
            for item, code, message_id in rows
        ]


def list_rows(app: App) -> list[dict[str, Any]]:
    """`mailbot attention list --json`: `[{"id", "since", "dependencia", "kind", "summary", "message_id"}]`."""
    return [
        {
            "id": item.id,
            "since": local_iso(app, item.since),
            "dependencia": item.dependencia,
            "kind": item.kind,
            "summary": item.summary,
            "message_id": item.message_id,
        }
        for item in standing(app)
    ]


def resolve(app: App, item_id: int, note: str | None = None) -> bool:
    """A person closes an item; False when there is no open item with that id."""
    now = app.clock.now()
    with app.sessions.begin() as session:
        row = session.get(AttentionItem, item_id)
        if row is None or row.resolved_at is not None:
            return False
        _close([row], "person", now)
        row.note = note
    return True
