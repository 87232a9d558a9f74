"""The per-address daily cap counts the To and Cc of the automatic answers queued since midnight in Bogotá: from
the rows written with each answer, and, after the upgrade that added them, from the rows the migration backfilled."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import func, inspect, select

from mailbot.adapters.db import migrate
from mailbot.adapters.db.engine import make_engine, make_session_factory
from mailbot.adapters.db.models import AnswerRecipient, OutboxMail
from mailbot.services import outbox
from mailbot.services.inbox.answering import ANSWER_KINDS, answers_since, count_for_cap, day_start
from tests.support.configs import database_url

pytestmark = pytest.mark.storage

BOGOTA = ZoneInfo("America/Bogota")
MIDNIGHT = dt.datetime(2026, 12, 3, 5, 0, tzinfo=dt.UTC)  # 00:00 in Bogotá (UTC-5)
NOW = MIDNIGHT + dt.timedelta(hours=23, minutes=59)  # 23:59 in Bogotá, 04:59 UTC of the next day
ADDRESSES = (
    "ana@municipio.test",
    "juliana@municipio.test",  # ends like ana's
    "ANA@municipio.test",  # another address to an exact comparison
    "a_b@municipio.test",
    "axb@municipio.test",
    "50%@municipio.test",
    "josé@municipio.test",
    '"quoted name"@municipio.test',
    "nadie@municipio.test",
)
BEFORE = [  # (kind, recipients, created_at): in the outbox before the upgrade
    ("aceptacion", ["ana@municipio.test", "juliana@municipio.test"], MIDNIGHT),  # the first instant of the day
    ("correccion", ["juliana@municipio.test"], MIDNIGHT + dt.timedelta(hours=1)),
    ("correccion", ["ANA@municipio.test", "a_b@municipio.test"], MIDNIGHT + dt.timedelta(hours=2)),
    ("mailing", ["ana@municipio.test"], MIDNIGHT + dt.timedelta(hours=5)),  # not an answer
    ("aceptacion", ["ana@municipio.test"], MIDNIGHT - dt.timedelta(seconds=1)),  # 23:59:59 yesterday in Bogotá
]
AFTER = [  # queued after the upgrade, as `queue_answer` does
    ("aceptacion", ["axb@municipio.test", "50%@municipio.test"], MIDNIGHT + dt.timedelta(hours=3)),
    ("acuse_recibo", ["josé@municipio.test", '"quoted name"@municipio.test'], MIDNIGHT + dt.timedelta(hours=4)),
    ("aceptacion", ["otra@municipio.test", "ana@municipio.test"], MIDNIGHT + dt.timedelta(hours=6)),  # in Cc
    ("correccion", ["ana@municipio.test"], MIDNIGHT + dt.timedelta(hours=24)),  # tomorrow in Bogotá
    ("digest", ["ana@municipio.test"], MIDNIGHT + dt.timedelta(hours=7)),  # not an answer
]


def _add(session: object, i: int, kind: str, recipients: list[str], created: dt.datetime) -> OutboxMail:
    return outbox.enqueue(
        session,  # type: ignore[arg-type]
        dedup_key=f"k{i}",
        kind=kind,
        raw=b"x" * 20_000,
        message_id=f"m{i}@municipio.test",
        envelope_from="planeacion@municipio.test",
        recipients=recipients,
        now=created,
    )


def test_the_cap_counts_to_and_cc_of_the_bogota_day_across_the_upgrade(tmp_path: Path) -> None:
    engine = make_engine(database_url(tmp_path / "db"))
    migrate.upgrade(engine, "0006")
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        for i, (kind, recipients, created) in enumerate(BEFORE):
            _add(session, i, kind, recipients, created)
    migrate.upgrade(engine)  # the backfill
    with sessions.begin() as session:
        for i, (kind, recipients, created) in enumerate(AFTER, start=len(BEFORE)):
            row = _add(session, i, kind, recipients, created)
            if kind in ANSWER_KINDS:
                count_for_cap(session, row.id, recipients, created)

    start = day_start(NOW, BOGOTA)
    assert start == MIDNIGHT
    expected = {  # the rule as a full scan of the outbox stated it
        address: sum(
            1
            for kind, recipients, created in BEFORE + AFTER
            if kind in ANSWER_KINDS and created >= start and address in recipients
        )
        for address in ADDRESSES
    }
    with sessions() as session:
        counts = {address: answers_since(session, address, start) for address in ADDRESSES}
        tomorrow = answers_since(session, "ana@municipio.test", day_start(NOW + dt.timedelta(minutes=1), BOGOTA))
    assert counts == expected
    assert counts["ana@municipio.test"] == 3  # To at midnight, Cc at 06:00, tomorrow's; not 23:59:59 of yesterday
    assert counts["juliana@municipio.test"] == 2
    assert counts["ANA@municipio.test"] == 1
    assert tomorrow == 1  # at 00:00 of the next day only the next day's answer counts

    command.downgrade(migrate.alembic_config(engine), "0006")  # the migration goes down and up again
    assert "answer_recipients" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    with sessions() as session:
        assert {address: answers_since(session, address, start) for address in ADDRESSES} == expected
        written = session.scalar(select(func.count(AnswerRecipient.id)))
    assert written == sum(len(r) for kind, r, _ in BEFORE + AFTER if kind in ANSWER_KINDS)  # each address once
    engine.dispose()
