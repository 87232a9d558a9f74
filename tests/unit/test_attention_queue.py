"""The attention queue in storage: one item per event, what an event closes and what it leaves, time and the outbox."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from mailbot.adapters.db.models import AttentionItem, Dependencia, Mailing, OutboxMail, ReceivedMessage
from mailbot.app import App
from mailbot.config import load_config
from mailbot.domain.attention import Kind, Opening
from mailbot.services import attention, campaign, outbox, setup
from tests.support.configs import write_config

pytestmark = pytest.mark.storage

NOW = dt.datetime(2027, 1, 12, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def app(tmp_path: Path) -> App:
    app = App(load_config(write_config(tmp_path), environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, 2027)
    return app


def ids(app: App, code: str) -> tuple[int, int]:
    with app.sessions() as session:
        dep = session.scalars(select(Dependencia).where(Dependencia.code == code)).one()
        mailing = session.scalars(select(Mailing).where(Mailing.dependencia_id == dep.id)).one()
        return dep.id, mailing.id


def add(
    app: App, kind: Kind, code: str | None, key: str, *, mailing_id: int | None = None, until: dt.date | None = None
) -> bool:
    opening = Opening(kind, code, f"{kind} {code}")
    with app.sessions.begin() as session:
        return attention.open_item(session, opening, key=key, now=NOW, mailing_id=mailing_id, until=until)


def open_keys(app: App) -> set[str]:
    with app.sessions() as session:
        return set(session.scalars(select(AttentionItem.key).where(AttentionItem.resolved_at.is_(None))))


def test_one_item_per_event_listed_oldest_first(app: App) -> None:
    assert add(app, Kind.QUARANTINED, "HAC", "quarantined:7")
    assert not add(app, Kind.QUARANTINED, "HAC", "quarantined:7"), "the same event never opens a second item"
    assert add(app, Kind.UNMATCHED, None, "unmatched:8")
    rows = attention.list_rows(app)
    assert [r["kind"] for r in rows] == ["quarantined", "unmatched"]
    assert list(rows[0]) == ["id", "since", "dependencia", "kind", "summary", "message_id"]
    assert rows[0]["since"] == "2027-01-12T04:00:00-05:00"
    assert (rows[0]["dependencia"], rows[1]["dependencia"]) == ("HAC", None)


def test_an_accepted_plan_closes_its_dependencias_items_about_it_and_nothing_else(app: App) -> None:
    hac, hac_mailing = ids(app, "HAC")
    _, edu_mailing = ids(app, "EDU")
    add(app, Kind.QUARANTINED, "HAC", "q-untied")
    add(app, Kind.ANSWER_FAILED, "HAC", "failed-same", mailing_id=hac_mailing)
    add(app, Kind.WITHHELD, "HAC", "withheld-other-round", mailing_id=edu_mailing)  # another mailing: stays
    add(app, Kind.QUESTION, "HAC", "question")  # a person answers questions
    add(app, Kind.AWAY, "HAC", "away")
    add(app, Kind.QUARANTINED, "EDU", "q-edu")
    with app.sessions.begin() as session:
        assert attention.resolve_on_acceptance(session, hac, hac_mailing, "PA-2027-HAC-0001", NOW) == 2
    assert open_keys(app) == {"withheld-other-round", "question", "away", "q-edu"}


def test_time_closes_an_away_item_and_a_failed_delivery_opens_one_once(app: App) -> None:
    today = dt.date(2027, 1, 12)
    add(app, Kind.AWAY, "HAC", "away-past", until=dt.date(2027, 1, 11))
    add(app, Kind.AWAY, "EDU", "away-today", until=today)
    add(app, Kind.AWAY, "SAL", "away-no-date")
    with app.sessions.begin() as session:
        first = session.scalars(select(OutboxMail).order_by(OutboxMail.id)).first()
        assert first is not None
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == first.id)
            .values(status=outbox.FAILED, last_error="550 5.1.1 user unknown", created_at=NOW)
        )
        failed_id = first.message_id
    for _ in range(2):
        with app.sessions.begin() as session:
            attention.refresh(session, NOW, today)
    assert open_keys(app) == {"away-today", "away-no-date", attention.undelivered_key(failed_id)}


def test_a_person_resolves_an_open_item_once(app: App) -> None:
    add(app, Kind.ERROR, None, "error:1")
    (row,) = attention.list_rows(app)
    assert attention.resolve(app, row["id"], "revisado")
    assert not attention.resolve(app, row["id"])
    assert not attention.resolve(app, 424242)
    assert attention.list_rows(app) == []


def test_what_a_decision_closes_from_one_read_is_what_acceptance_then_reply_closed(app: App) -> None:
    """`resolve_on_decision` (one query) closes the same items, with the same words, as the two steps it replaces."""
    resolved: dict[str, dict[str, str | None]] = {}
    for code, other in (("HAC", "EDU"), ("SAL", "GOB")):
        dep, mailing = ids(app, code)
        with app.sessions.begin() as session:
            messages = [
                ReceivedMessage(
                    account="a",
                    folder="INBOX",
                    uidvalidity=1,
                    uid=uid,
                    sha256="0" * 64,
                    size=1,
                    raw_path="x",
                    received_at=NOW,
                )
                for uid in (ids(app, code)[0] * 10, ids(app, code)[0] * 10 + 1)
            ]
            session.add_all(messages)
            session.flush()
            this, earlier = messages[0].id, messages[1].id
        _, other_mailing = ids(app, other)
        items = [  # (kind, key, mailing, received message)
            (Kind.QUARANTINED, "untied", None, None),
            (Kind.ANSWER_FAILED, "same-plan", mailing, this),
            (Kind.WITHHELD, "other-round", other_mailing, earlier),
            (Kind.QUESTION, "question", None, earlier),
            (Kind.AWAY, "away-earlier", None, earlier),
            (Kind.AWAY, "away-this", None, this),  # opened by the message itself: stays
            (Kind.AWAY, "away-no-message", None, None),
        ]
        with app.sessions.begin() as session:
            for kind, key, mailing_id, received in items:
                opening = Opening(kind, code, f"{kind} {code}")
                attention.open_item(
                    session, opening, key=f"{code}:{key}", now=NOW, mailing_id=mailing_id, received_message_id=received
                )
        with app.sessions.begin() as session:
            if code == "HAC":
                attention.resolve_on_acceptance(session, dep, mailing, "PA-1", NOW)
                attention.resolve_on_reply(session, dep, this, NOW)
            else:
                attention.resolve_on_decision(session, dep, this, NOW, accepted_mailing=mailing, radicado="PA-1")
        with app.sessions() as session:
            rows = session.execute(
                select(AttentionItem.key, AttentionItem.resolved_by).where(AttentionItem.dependencia_id == dep)
            )
            resolved[code] = {
                key.split(":", 1)[1]: by.replace(f"reply #{this}", "reply #N") if by else None for key, by in rows
            }
    assert resolved["SAL"] == resolved["HAC"]
    assert resolved["HAC"]["untied"] == "accepted PA-1"
    assert resolved["HAC"]["away-earlier"] == "reply #N"
    assert resolved["HAC"]["away-this"] is None
