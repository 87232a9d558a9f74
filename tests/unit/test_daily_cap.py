"""The per-address daily cap counts, with its SQL pre-filter, exactly the answers a full scan counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mailbot.adapters.db import migrate
from mailbot.adapters.db.engine import make_engine, make_session_factory
from mailbot.adapters.db.models import OutboxMail
from mailbot.services.inbox.answering import ANSWER_KINDS, answers_since
from tests.support.configs import database_url

pytestmark = pytest.mark.storage

START = dt.datetime(2026, 12, 3, 5, 0, tzinfo=dt.UTC)  # midnight in Bogotá
ADDRESSES = (
    "ana@municipio.test",
    "juliana@municipio.test",  # ends like ana's
    "ANA@municipio.test",  # another address to an exact comparison (SQLite's LIKE ignores case)
    "a_b@municipio.test",
    "axb@municipio.test",  # what a_b matches as a LIKE pattern
    "50%@municipio.test",
    "josé@municipio.test",  # not pre-filtered: the JSON text may escape it
    '"quoted name"@municipio.test',
    "nadie@municipio.test",
)


def test_the_cap_counts_what_a_full_scan_counts(tmp_path: Path) -> None:
    engine = make_engine(database_url(tmp_path / "db"))
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    rows = [
        # (kind, recipients, created_at)
        ("aceptacion", ["ana@municipio.test", "juliana@municipio.test"], START),
        ("correccion", ["juliana@municipio.test"], START + dt.timedelta(hours=1)),
        ("correccion", ["ANA@municipio.test", "a_b@municipio.test"], START + dt.timedelta(hours=2)),
        ("aceptacion", ["axb@municipio.test", "50%@municipio.test"], START + dt.timedelta(hours=3)),
        ("aceptacion", ["josé@municipio.test", '"quoted name"@municipio.test'], START + dt.timedelta(hours=4)),
        ("mailing", ["ana@municipio.test"], START + dt.timedelta(hours=5)),  # not an answer
        ("aceptacion", ["ana@municipio.test"], START - dt.timedelta(minutes=1)),  # yesterday
        ("aceptacion", ["otra@municipio.test", "ana@municipio.test"], START + dt.timedelta(hours=6)),  # in Cc
    ]
    with sessions.begin() as session:
        for i, (kind, recipients, created) in enumerate(rows):
            session.add(
                OutboxMail(
                    dedup_key=f"k{i}",
                    kind=kind,
                    message_id=f"m{i}@municipio.test",
                    envelope_from="planeacion@municipio.test",
                    recipients=recipients,
                    raw=b"x" * 20_000,
                    status="sent",
                    attempts=1,
                    next_attempt_at=created,
                    created_at=created,
                )
            )
    with sessions() as session:
        counts = {address: answers_since(session, address, START) for address in ADDRESSES}
    expected = {
        address: sum(
            1
            for kind, recipients, created in rows
            if kind in ANSWER_KINDS and created >= START and address in recipients
        )
        for address in ADDRESSES
    }
    assert counts == expected
    assert counts["ana@municipio.test"] == 2
    assert counts["a_b@municipio.test"] == 1
    assert counts["josé@municipio.test"] == 1
