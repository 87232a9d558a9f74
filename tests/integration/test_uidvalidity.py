"""A folder whose UIDVALIDITY changes (deleted and created again, a restore, a server migration) on the real Dovecot.

The checkpoint of (folder, UIDVALIDITY, last UID) starts again at 0 under the new UIDVALIDITY, and says so in the
log; every message is read again, and one already decided (the same Message-ID and bytes) takes its earlier
outcome with no second answer (the resync path), while a new one is answered as usual.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from mailbot.adapters.db.models import ImapCheckpoint, OutboxMail, ReceivedMessage
from mailbot.app import App
from tests.integration.test_daemon import prepared
from tests.integration.test_inbox_cycle import filled, mailing_of, poll
from tests.support.configs import SERVER_DEPENDENCIAS
from tests.support.mailservers import MailServers
from tests.support.replies import parse, reply, workbook_of
from tests.support.settle import all_delivered, exactly

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

PLANEACION = "planeacion@municipio.test"
FOLDER = "Respuestas"  # a folder of its own: IMAP cannot delete an INBOX


def plan_reply(app: App, mail: MailServers, code: str) -> bytes:
    mailing = mailing_of(mail, code)
    workbook = filled(app, workbook_of(mailing), code)
    return reply(mailing, sender=SERVER_DEPENDENCIAS[code], attachments=[("Plan.xlsx", workbook)])


def message_id(raw: bytes) -> str:
    return str(parse(raw)["Message-ID"]).strip("<>")


def test_a_new_uidvalidity_rereads_the_folder_and_answers_only_what_is_new(tmp_path: Path, mail: MailServers) -> None:
    app, _ = prepared(tmp_path, mail, {"imap": {"folder": FOLDER}})
    hac, edu, sal = (plan_reply(app, mail, code) for code in ("HAC", "EDU", "SAL"))
    with mail.mailbox(PLANEACION) as box:
        box.folder.create(FOLDER)
        box.append(hac, FOLDER)
        box.append(edu, FOLDER)
        old_validity = box.folder.status(FOLDER)["UIDVALIDITY"]
    assert poll(app) == {"accepted": 2}
    with app.sessions() as session:
        (checkpoint,) = session.scalars(select(ImapCheckpoint))
        assert (checkpoint.uidvalidity, checkpoint.last_uid) == (old_validity, 2)

    # The folder is rebuilt: a new UIDVALIDITY and UIDs from 1 again. It brings back Hacienda's reply, already
    # decided, and a new reply from Salud arrives; both UIDs are at or below the old checkpoint's last UID, so
    # only a checkpoint reset reads them.
    with mail.mailbox(PLANEACION) as box:
        box.folder.delete(FOLDER)
        box.folder.create(FOLDER)
        box.append(hac, FOLDER)
        box.append(sal, FOLDER)
        new_validity = box.folder.status(FOLDER)["UIDVALIDITY"]
        box.folder.set(FOLDER)
        new_uids = [int(uid) for uid in box.uids()]
    assert new_validity != old_validity
    assert max(new_uids) <= 2

    with capture_logs() as logs:
        outcomes = poll(app)
    assert outcomes == {"accepted": 2}  # Hacienda's takes its earlier outcome; Salud's is decided
    changed = [e for e in logs if e["event"] == "imap_uidvalidity_changed"]
    assert [(e["folder"], e["old"], e["new"]) for e in changed] == [(FOLDER, old_validity, new_validity)]

    with app.sessions() as session:
        rows = {(r.message_id, r.uidvalidity): r for r in session.scalars(select(ReceivedMessage))}
        first, again = rows[(message_id(hac), old_validity)], rows[(message_id(hac), new_validity)]
        assert again.reason == f"already processed as message #{first.id}"
        assert rows[(message_id(sal), new_validity)].outcome == "accepted"
        answered = sorted(m.received_message_id for m in session.scalars(select(OutboxMail)) if m.received_message_id)
        expected = sorted(r.id for r in rows.values() if r is not again)
        assert answered == expected, "every reply answered once, the re-read one not again"
        (checkpoint,) = session.scalars(select(ImapCheckpoint))
        assert (checkpoint.uidvalidity, checkpoint.last_uid) == (new_validity, max(new_uids))

    all_delivered(app, mail)  # the passes returned: whatever they sent is delivered, so the counts are final
    for code in ("HAC", "EDU", "SAL"):
        exactly(mail, SERVER_DEPENDENCIAS[code], 2)  # the mailing and one answer
    with mail.mailbox(PLANEACION) as box:
        box.folder.set(FOLDER)
        assert list(box.uids()) == [], "every message moved to its outcome's folder"
