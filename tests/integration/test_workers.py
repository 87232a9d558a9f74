"""Issue 11: several cooperating processes on PostgreSQL keep every guarantee of the single process.

Three `mailbot run --role worker` processes and a `--role fetcher` process work through a backlog of replies on
the real Dovecot, Postfix and PostgreSQL; one worker is killed with SIGKILL while it holds a claimed message in
mid-decision, the fetcher is killed with SIGKILL in mid-fetch, and a standby fetcher (started with the others)
takes the mailbox over. Every reply must get exactly one outcome and one answer, delivered once, and every
message must end in its folder. On SQLite the roles are refused with exit status 2.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mailbot.adapters.db.models import OutboxMail, ReceivedMessage, Submission
from mailbot.app import App
from mailbot.cli import EXIT_UNUSABLE, cli
from mailbot.config import load_config
from mailbot.domain.context import AvailableBudget
from mailbot.services import campaign, outbox, setup
from mailbot.services.inbox import InboxProcessor
from tests.integration.test_daemon import later, prepared
from tests.support import workers
from tests.support.configs import SERVER_DEPENDENCIAS, server_config, storage_engine, write_config
from tests.support.mailservers import MailServers
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of

BACKLOG = 40
FETCHER_DIES_AT = 25  # the first fetcher is killed between fetching this message and recording it
WORKER_DIES_AT = 4  # one worker is killed holding the claim on its 4th message, before deciding it


def _dies(point: str, nth: int) -> dict[str, str]:
    """A SIGKILL the nth time the process reaches `point` (mailbot.faults): mid-backlog, at a chosen moment."""
    return {"MAILBOT_FAILPOINT": f"{point}@{nth}"}


@pytest.mark.parametrize("role", ["fetcher", "worker"])
def test_sqlite_refuses_the_roles_with_a_clear_error(role: str, tmp_path: Path) -> None:
    sqlite = {"storage": {"database_url": f"sqlite:///{tmp_path / 'mailbot.db'}"}}
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, sqlite)), "run", "--role", role])
    assert result.exit_code == EXIT_UNUSABLE
    assert f"--role {role} needs PostgreSQL" in result.stderr
    assert "mailbot run` (role all)" in result.stderr


@pytest.mark.slow
@pytest.mark.storage
def test_three_workers_and_a_fetcher_killed_midway_answer_every_reply_exactly_once(
    tmp_path: Path, mail: MailServers
) -> None:
    if storage_engine() != "postgresql":
        pytest.skip("needs PostgreSQL: runs in the PostgreSQL pass of scripts/test.sh")
    app, config = prepared(tmp_path, mail, workers.FAST)
    backlog = workers.replies(app, mail, BACKLOG)
    monitor = workers.Monitor(app.config.storage.database_url)
    first = workers.start(config, "fetcher", tmp_path, "fetcher-1", _dies("after_fetch", FETCHER_DIES_AT))
    first.wait_for_event("fetcher_active")
    standby = workers.start(config, "fetcher", tmp_path, "fetcher-2")
    standby.wait_for_event("fetcher_standby")
    doomed = workers.start(config, "worker", tmp_path, "worker-1", _dies("while_deciding", WORKER_DIES_AT))
    others = [workers.start(config, "worker", tmp_path, f"worker-{i}") for i in (2, 3)]
    sent = workers.append(mail, backlog)  # the backlog arrives with every process up: the kills land mid-way
    try:
        assert first.process.wait(60) == -9, "the first fetcher was to die in mid-fetch"
        assert doomed.process.wait(60) == -9, "the first worker was to die holding a claimed message"
        monitor.wait(lambda p: p.decided == BACKLOG and p.moved == BACKLOG and p.answers_sent == BACKLOG, 60)
    finally:
        stopped = {p.log_path.stem: p.terminate() for p in (first, doomed, standby, *others)}
        monitor.close()
    assert stopped == {"fetcher-1": -9, "worker-1": -9, "fetcher-2": 0, "worker-2": 0, "worker-3": 0}, stopped
    takeover = standby.log()
    assert '"event": "fetcher_active"' in takeover
    assert '"took_over": true' in takeover, "the standby fetcher took the mailbox over"
    outbox.flush(app.sessions, app.senders, later(1))  # a row claimed when its process died: in doubt, re-sent

    with app.sessions() as session:
        rows = list(session.scalars(select(ReceivedMessage)))
        assert Counter(r.message_id for r in rows) == Counter(sent), "one row per reply: none lost, none twice"
        assert {r.outcome for r in rows} == {"accepted"}, Counter(r.outcome for r in rows)
        assert all(r.moved_to == "mailbot/procesados" for r in rows), Counter(r.moved_to for r in rows)
        answers = [m for m in session.scalars(select(OutboxMail)) if m.received_message_id is not None]
        assert sorted(Counter(m.received_message_id for m in answers).values()) == [1] * BACKLOG
        assert {m.status for m in answers} == {"sent"}
        in_doubt = {m.message_id.strip("<>") for m in answers if m.attempts > 1}
        answer_ids = {m.message_id.strip("<>") for m in answers}
        versions: dict[int, list[int]] = {}
        for mailing_id, version in session.execute(select(Submission.mailing_id, Submission.version)):
            versions.setdefault(mailing_id, []).append(version)
    # Workers deciding replies of one mailing at the same moment still number its versions 1, 2, 3 … once each.
    assert {m: sorted(v) for m, v in versions.items()} == {m: list(range(1, len(v) + 1)) for m, v in versions.items()}
    assert sum(len(v) for v in versions.values()) == BACKLOG

    delivered: Counter[str] = Counter()
    for code, address in SERVER_DEPENDENCIAS.items():
        expected = 1 + sum(1 for i in range(BACKLOG) if list(SERVER_DEPENDENCIAS)[i % 4] == code)
        for raw in mail.wait_for(address, count=expected, timeout=60):
            delivered[str(parse(raw)["Message-ID"]).strip("<> \r\n")] += 1
    assert answer_ids <= set(delivered), "every answer reached its dependencia"
    twice = {mid for mid, n in delivered.items() if n > 1}
    assert twice <= in_doubt, "a Message-ID delivered twice outside the documented in-doubt window"
    with mail.mailbox(workers.PLANEACION) as box:
        assert list(box.uids()) == [], "every message was moved out of INBOX"


@pytest.mark.storage
def test_concurrent_workers_number_one_mailings_versions_once_each_and_still_see_a_duplicate(tmp_path: Path) -> None:
    """Four workers decide at once 16 replies of one dependencia (one mailing) and a second copy of one file:
    versions 1-16 once each, one `duplicate`, no error. Without the per-mailing lock two workers read the same
    highest version (a unique-constraint error) or both miss the earlier copy of the file (two acceptances)."""
    if storage_engine() != "postgresql":
        pytest.skip("concurrent workers need PostgreSQL: runs in the PostgreSQL pass of scripts/test.sh")
    servers = SimpleNamespace(host="127.0.0.1", imap_port=1, smtp_port=1, password="unused")  # never contacted
    app = App(load_config(server_config(tmp_path, servers, workers.FAST), environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, 2027, only=["HAC"])
    with app.sessions() as session:
        mailing = parse(session.scalars(select(OutboxMail.raw).where(OutboxMail.kind == "mailing")).one())
    dep = app.config.dependencia("HAC")
    budget = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
    plan = fill_plan(workbook_of(mailing), valid_metas(3, budget, dependencia="HAC"))
    files = [workers.salted(plan, i) for i in range(16)] + [workers.salted(plan, 0)]  # the last: a copy of the first
    recorder = InboxProcessor(app)
    for uid, data in enumerate(files, start=1):
        recorder.record(uid, 1, reply(mailing, sender=SERVER_DEPENDENCIAS["HAC"], attachments=[("Plan.xlsx", data)]))

    threads = [threading.Thread(target=InboxProcessor(app).work_pending) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    with app.sessions() as session:
        outcomes = Counter(session.scalars(select(ReceivedMessage.outcome)))
        versions = sorted(session.scalars(select(Submission.version)))
    assert outcomes == {"accepted": 16, "duplicate": 1}, outcomes
    assert versions == list(range(1, 17))
