"""A reply whose MIME structure is broken keeps its workbook when it can, and its outcome says what the parser found.

Issue 20: a multipart the stdlib could not split used to make the workbook vanish, and the reply was recorded as
`no_attachment` with no trace. On the real servers: the recovered workbook is accepted, an unrecoverable one is
`no_attachment` with the defect in the reason that `mailbot messages` shows.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest

from mailbot.app import App
from mailbot.config import load_config
from mailbot.domain.context import AvailableBudget
from mailbot.services import campaign, outbox, queries, setup
from mailbot.services.daemon import Watcher
from tests.support.configs import SERVER_DEPENDENCIAS, server_config
from tests.support.mailservers import MailServers
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of

pytestmark = [pytest.mark.storage, pytest.mark.mailserver]

VIGENCIA = 2027
PLANEACION = "planeacion@municipio.test"


@pytest.fixture
def app(tmp_path: Path, mail: MailServers) -> App:
    app = App(load_config(server_config(tmp_path, mail), environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, VIGENCIA)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    return app


def filled_reply(app: App, mail: MailServers, code: str) -> bytes:
    (raw,) = mail.wait_for(SERVER_DEPENDENCIAS[code], count=1, timeout=30)
    mailing = parse(raw)
    dep = app.config.dependencia(code)
    budget = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
    plan = fill_plan(workbook_of(mailing), valid_metas(4, budget, dependencia=code))
    return reply(mailing, sender=SERVER_DEPENDENCIAS[code], attachments=[("Plan.xlsx", plan)])


def with_wrong_boundary(raw: bytes) -> bytes:
    """The declared boundary changed in the header only, as a broken mailer or a hand edit leaves it."""
    return raw.replace(b'boundary="', b'boundary="not-used', 1)


def without_delimiters(raw: bytes) -> bytes:
    """No delimiter line left: nothing in the body says where the parts are."""
    head, body = raw.split(b"\r\n\r\n", 1)
    return head + b"\r\n\r\n" + re.sub(rb"(?m)^--[^\r\n]*\r?\n", b"", body)


def rows_by_message_id(app: App) -> dict[str, dict[str, Any]]:
    return {row["message_id"]: row for row in queries.received_rows(app, limit=100)}


def test_a_broken_multipart_keeps_its_workbook_or_says_why_it_was_lost(app: App, mail: MailServers) -> None:
    recovered = with_wrong_boundary(filled_reply(app, mail, "HAC"))
    lost = without_delimiters(filled_reply(app, mail, "EDU"))
    mail.send(recovered, SERVER_DEPENDENCIAS["HAC"], [PLANEACION])
    mail.send(lost, SERVER_DEPENDENCIAS["EDU"], [PLANEACION])
    mail.wait_for(PLANEACION, count=2, timeout=30)

    watcher = Watcher(app, threading.Event())
    try:
        outcomes = dict(watcher.once().outcomes)
    finally:
        watcher.close()

    assert outcomes == {"accepted": 1, "no_attachment": 1}
    rows = rows_by_message_id(app)
    accepted = rows[parse(recovered)["Message-ID"].strip("<>")]
    assert accepted["outcome"] == "accepted"
    assert "MIME defects: " in accepted["reason"]
    assert "multipart/mixed part without a usable boundary: 2 parts recovered from its delimiters" in accepted["reason"]
    no_workbook = rows[parse(lost)["Message-ID"].strip("<>")]
    assert no_workbook["outcome"] == "no_attachment"
    assert no_workbook["reason"].startswith("no workbook attached; MIME defects: ")
    assert "multipart/mixed part without a usable boundary: its contents not read" in no_workbook["reason"]
