"""The flush settles a sent mail and claims the next in one transaction: each mail is still claimed and committed
before its SMTP, and a process that dies after the server's 250 leaves that mail in doubt, sent again later with the
same bytes, and the next one untouched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from mailbot.adapters.db import migrate
from mailbot.adapters.db.engine import make_engine, make_session_factory
from mailbot.adapters.db.models import AuditEvent, OutboxMail
from mailbot.adapters.smtp import SendResult
from mailbot.services import outbox
from tests.support.configs import database_url

pytestmark = pytest.mark.storage

NOW = dt.datetime(2026, 12, 3, 14, 0, tzinfo=dt.UTC)


class Died(BaseException):
    """The process killed right after the server took a mail (nothing below `flush` catches it)."""


class WatchingSender:
    """Records each mail handed over and, at that moment, every row's status as another connection sees it."""

    def __init__(self, sessions: outbox.UnitOfWork, die_after: int | None = None) -> None:
        self.sessions, self.die_after = sessions, die_after
        self.sent: list[bytes] = []
        self.seen: list[dict[bytes, str]] = []

    def open(self) -> None:
        pass

    def send(self, envelope_from: str, recipients: Sequence[str], raw: bytes) -> SendResult:
        with self.sessions() as session:
            rows = session.execute(select(OutboxMail.raw, OutboxMail.status))
            self.seen.append({mail: status for mail, status in rows})
        self.sent.append(raw)
        if self.die_after is not None and len(self.sent) > self.die_after:
            raise Died
        return SendResult()

    def close(self) -> None:
        pass


def _outbox_of(folder: Path, mails: list[bytes]) -> tuple[Engine, outbox.UnitOfWork]:
    """A new database whose outbox holds `mails`, due in this order."""
    engine = make_engine(database_url(folder / "db"))
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        for i, raw in enumerate(mails):
            outbox.enqueue(
                session,
                dedup_key=f"k{i}",
                kind="aceptacion",
                raw=raw,
                message_id=f"<m{i}@municipio.test>",
                envelope_from="planeacion@municipio.test",
                recipients=["ana@municipio.test"],
                now=NOW - dt.timedelta(minutes=len(mails) - i),
            )
    return engine, sessions


def test_each_mail_is_committed_as_sending_before_smtp_and_a_death_after_the_250_leaves_it_in_doubt(
    tmp_path: Path,
) -> None:
    mails = [f"mail {i}".encode() for i in range(4)]
    engine, sessions = _outbox_of(tmp_path, mails)

    dying = WatchingSender(sessions, die_after=2)
    with pytest.raises(Died):
        outbox.flush(sessions, lambda: dying, lambda: NOW)
    assert dying.sent == mails[:3]
    for i, seen in enumerate(dying.seen):  # at each handover: this one committed as sending, the earlier ones sent
        assert seen == {
            raw: outbox.SENT if j < i else outbox.SENDING if j == i else outbox.PENDING for j, raw in enumerate(mails)
        }

    later = NOW + outbox.STALE_CLAIM + dt.timedelta(seconds=1)
    healthy = WatchingSender(sessions)
    report = outbox.flush(sessions, lambda: healthy, lambda: later)
    assert len(report.reclaimed) == 1  # the third: its outcome was never committed
    assert sorted(healthy.sent) == mails[2:]  # the third again with the same bytes, the fourth; the first two never
    with sessions() as session:
        rows = [tuple(r) for r in session.execute(select(OutboxMail.raw, OutboxMail.status, OutboxMail.attempts))]
        sent_events = session.scalars(select(AuditEvent.detail).where(AuditEvent.kind == "mail_sent")).all()
    assert sorted(rows) == sorted((raw, outbox.SENT, 2 if i == 2 else 1) for i, raw in enumerate(mails))
    assert sorted(e["message_id"] for e in sent_events) == [f"<m{i}@municipio.test>" for i in range(4)]
    assert {e["attempts"] for e in sent_events if e["message_id"] == "<m2@municipio.test>"} == {2}
    engine.dispose()


def test_a_next_row_that_cannot_be_claimed_never_undoes_the_sent_mark_of_the_mail_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Else that mail would go back to `sending`, and out again after the stale-claim wait: once per flush."""
    mails = [b"first", b"second"]
    engine, sessions = _outbox_of(tmp_path, mails)
    real_claim, claims = outbox._claim, []

    def claim(session: object, now: dt.datetime) -> object:
        claims.append(now)
        if len(claims) == 2:  # the second row's claim, in the first mail's settling transaction
            raise ValueError("a row that cannot be read")
        return real_claim(session, now)  # type: ignore[arg-type]

    monkeypatch.setattr(outbox, "_claim", claim)
    sender = WatchingSender(sessions)
    with pytest.raises(ValueError, match="cannot be read"):
        outbox.flush(sessions, lambda: sender, lambda: NOW)
    assert sender.sent == [b"first"]
    with sessions() as session:
        statuses = {raw: status for raw, status in session.execute(select(OutboxMail.raw, OutboxMail.status))}
    assert statuses == {b"first": outbox.SENT, b"second": outbox.PENDING}
    engine.dispose()
