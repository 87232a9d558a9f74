"""Issue 9, item 7: an autoresponder without proper headers against the running daemon; mailbot stops at its
daily limit for that address and tells planeación."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.adapters.db.models import AuditEvent, OutboxMail, ReceivedMessage
from mailbot.services import digest
from mailbot.services.daemon import BackgroundDaemon
from tests.integration.test_daemon import prepared
from tests.support.mailservers import MailServers
from tests.support.replies import parse, reply
from tests.support.settle import all_delivered, exactly, wait_until, watcher_caught_up

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

PLANEACION = "planeacion@municipio.test"
ROBOT = "asistente@municipio.test"  # an insider: mailbot answers insiders, so a loop is possible
LIMIT = 3
ROUNDS = 8


class Autoresponder(threading.Thread):
    """Answers every mail in its INBOX with a new plain reply: no Auto-Submitted, no Precedence, nothing."""

    def __init__(self, mail: MailServers) -> None:
        super().__init__(name="autoresponder", daemon=True)
        self.mail = mail
        self.sent = 0
        self.done = threading.Event()

    def run(self) -> None:
        self._send(reply(None, sender=ROBOT, subject="Consulta", body="¿Dónde envío el plan?"))
        answered = 0
        while True:
            finishing = self.done.is_set()  # once told, one last look: everything received gets its answer
            with self.mail.mailbox(ROBOT) as box:
                received = [m.obj.as_bytes() for m in box.fetch(mark_seen=False)]
            for raw in received[answered:]:
                self._send(reply(parse(raw), sender=ROBOT, body="Recibido, gracias. Este buzón responde solo."))
            answered = len(received)
            if finishing or self.sent >= ROUNDS:
                return
            self.done.wait(0.3)

    def _send(self, raw: bytes) -> None:
        if self.sent < ROUNDS:
            self.mail.send(raw, ROBOT, [PLANEACION])
            self.sent += 1


def inbox_empty(mail: MailServers) -> bool:
    with mail.mailbox(PLANEACION) as box:
        return list(box.uids()) == []


@pytest.mark.slow
def test_an_autoresponder_gets_at_most_the_daily_limit_and_planeacion_is_told(
    tmp_path: Path, mail: MailServers
) -> None:
    app, _ = prepared(
        tmp_path,
        mail,
        {"imap": {"idle": True, "poll_interval": 5}, "limits": {"auto_mails_per_address_per_day": LIMIT}},
    )
    daemon = BackgroundDaemon(app)
    robot = Autoresponder(mail)
    daemon.start()
    try:
        robot.start()

        def limited() -> bool:
            with app.sessions() as session:
                return session.scalars(select(AuditEvent).where(AuditEvent.kind == "rate_limited")).first() is not None

        wait_until(limited, "mailbot never hit its daily limit", timeout=90)
        # Positive evidence that the exchange is over, instead of a pause: mailbot caught up and all it sent is
        # delivered; the robot answered all it got, and stopped; mailbot decided and moved all of that, caught up
        # again, and delivered anything it sent for it.
        watcher_caught_up(daemon.watcher)
        all_delivered(app, mail)
        robot.done.set()
        robot.join(timeout=60)
        mail.wait_until_delivered()
        wait_until(lambda: inbox_empty(mail), "a message left undecided in planeación's INBOX")
        watcher_caught_up(daemon.watcher)
        all_delivered(app, mail)
    finally:
        robot.done.set()
        robot.join(timeout=60)
        daemon.stop()

    exactly(mail, ROBOT, LIMIT)  # more would be answers past the daily limit
    with app.sessions() as session:
        answers = [m for m in session.scalars(select(OutboxMail)) if m.received_message_id is not None]
        assert len(answers) == LIMIT
        assert all(m.recipients == [ROBOT] or ROBOT in m.recipients for m in answers)
        rows = list(session.scalars(select(ReceivedMessage).order_by(ReceivedMessage.id)))
        assert len(rows) == robot.sent == LIMIT + 1, "the robot stops when mailbot does"
        assert "daily limit" in (rows[-1].reason or "")
    result = digest.send(app, dry_run=tmp_path / "digest", force=True)
    html = result.written[1].read_text(encoding="utf-8")
    assert f"Se dejó de responder a {ROBOT}" in html, "the digest's attention section names the address"
