"""The outbox's retry schedule and its give-up, against a real failing SMTP server and a controlled clock.

A temporary failure of the mail (a 4xx for every recipient from the test Postfix) puts the row back to `pending`
1 minute later, then 2, 4 … doubling to a 6-hour cap; the 12th failed attempt gives up: status `failed`, the last
error kept. A server that cannot be reached is no failure of the mail: however long the outage, the row waits and
leaves once the server is back. The clock is ours: each flush runs exactly when the row is next due.
"""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.adapters.db.models import AuditEvent, OutboxMail
from mailbot.app import App
from mailbot.config import load_config
from mailbot.services import outbox, setup
from tests.support.configs import server_config
from tests.support.mailservers import DEFERRED_ADDRESS, MailServers
from tests.support.settle import all_delivered, exactly

pytestmark = pytest.mark.storage

START = dt.datetime(2027, 1, 12, 13, 0, tzinfo=dt.UTC)
#: Minutes from each failed attempt to the next, attempts 1 to 11 (written out: 1 doubling, capped at 6 h).
SCHEDULE_MINUTES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360]


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def at(moment: dt.datetime) -> outbox.Clock:
    """A clock stopped at `moment`."""
    return lambda: moment


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC


def _queued(app: App, recipient: str) -> int:
    with app.sessions.begin() as session:
        row = outbox.enqueue(
            session,
            dedup_key="retry-test",
            kind="test",
            raw=b"Subject: reintento\r\nFrom: planeacion@municipio.test\r\n\r\nHola.\r\n",
            message_id="<retry-test@municipio.test>",
            envelope_from="planeacion@municipio.test",
            recipients=[recipient],
            now=START,
        )
        return row.id


def test_a_failing_mail_is_retried_on_the_doubling_schedule_and_given_up_after_12_attempts(
    tmp_path: Path, mail: MailServers
) -> None:
    app = App(load_config(server_config(tmp_path, mail), environ={}))
    setup.upgrade_storage(app)
    row_id = _queued(app, DEFERRED_ADDRESS)

    def state() -> tuple[str, int, dt.datetime, str | None]:
        with app.sessions() as session:
            r = session.get_one(OutboxMail, row_id)
            return r.status, r.attempts, _utc(r.next_attempt_at), r.last_error

    now, waits = START, []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        early = outbox.flush(app.sessions, app.senders, at(now - dt.timedelta(seconds=1)))
        assert (early.sent, early.retrying, early.failed) == ([], [], []), f"attempt {attempt} ran before it was due"
        report = outbox.flush(app.sessions, app.senders, at(now))
        status, attempts, due, error = state()
        assert attempts == attempt
        assert error, "the failure's reason is kept"
        if attempt < outbox.MAX_ATTEMPTS:
            assert (status, report.retrying, report.failed) == ("pending", [row_id], [])
            waits.append(round((due - now) / dt.timedelta(minutes=1)))
            now = due
        else:
            assert (status, report.retrying, report.failed) == ("failed", [], [row_id])
    assert waits == SCHEDULE_MINUTES

    status, attempts, _, last_error = state()
    assert last_error is not None
    assert last_error.startswith("450"), last_error  # the server's own answer
    assert "try again later" in last_error
    later = outbox.flush(app.sessions, app.senders, at(now + dt.timedelta(days=30)))
    assert (later.sent, later.retrying, later.failed) == ([], [], []), "a given-up mail is never tried again"
    assert (status, attempts) == ("failed", outbox.MAX_ATTEMPTS)
    with app.sessions() as session:
        kinds = [e.kind for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert kinds == ["mail_retry"] * (outbox.MAX_ATTEMPTS - 1) + ["mail_failed"]
    app.close()


def test_a_server_unreachable_for_a_long_weekend_costs_the_mail_no_attempt_and_it_leaves_once_back(
    tmp_path: Path, mail: MailServers
) -> None:
    """Four days of flushes every half hour with nothing listening (a festivo weekend, a mail server down): the mail
    is never given up, keeps the connection's error, is due again a minute after each try, and goes out once the
    server answers."""
    address = "hacienda@municipio.test"
    down = App(load_config(server_config(tmp_path, mail, {"smtp": {"port": _unused_port()}}), environ={}))
    setup.upgrade_storage(down)
    row_id = _queued(down, address)
    now = START
    for _ in range(4 * 48):
        report = outbox.flush(down.sessions, down.senders, at(now))
        assert (report.sent, report.retrying, report.failed, report.waiting_for_server) == ([], [], [], True)
        with down.sessions() as session:
            row = session.get_one(OutboxMail, row_id)
            assert (row.status, row.attempts) == ("pending", 0), "an outage is not one of the mail's attempts"
            assert _utc(row.next_attempt_at) == now + dt.timedelta(minutes=1)
            assert "cannot connect to SMTP" in (row.last_error or "")
        now += dt.timedelta(minutes=30)
    with down.sessions() as session:
        assert list(session.scalars(select(AuditEvent))) == [], "no mail_retry, no mail_failed: nothing happened to it"
    down.close()

    up = App(load_config(server_config(tmp_path, mail), environ={}))  # the same database, the server back
    assert outbox.flush(up.sessions, up.senders, at(now)).sent == [row_id]
    assert outbox.flush(up.sessions, up.senders, at(now + dt.timedelta(days=1))).sent == []
    all_delivered(up, mail)
    (delivered,) = exactly(mail, address, 1)
    assert b"Subject: reintento" in delivered
    with up.sessions() as session:
        assert session.get_one(OutboxMail, row_id).status == "sent"
    up.close()
