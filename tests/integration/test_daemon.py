"""The daemon as ops run it: `mailbot run` answers through IDLE, stops cleanly, survives kill -9 anywhere."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.adapters.db.models import Attachment, OutboxMail, ReceivedMessage, Submission
from mailbot.app import App
from mailbot.config import load_config
from mailbot.domain.context import AvailableBudget
from mailbot.services import campaign, outbox, setup
from tests.support.configs import SERVER_DEPENDENCIAS, server_config
from tests.support.corpus import CORPUS, needs_corpus
from tests.support.mailservers import MailServers
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of
from tests.support.settle import all_delivered, exactly, log_events, wait_until

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

VIGENCIA = 2027
PLANEACION = "planeacion@municipio.test"


def prepared(folder: Path, servers: MailServers, changes: dict[str, object] | None = None) -> tuple[App, Path]:
    path = server_config(folder, servers, changes)
    app = App(load_config(path, environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, VIGENCIA)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    return app, path


def mailbot(
    config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailbot", "--config", str(config), "--log-format", "json", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def send_plan(app: App, servers: MailServers, code: str, *, spoil: bool = False, attach: bool = True) -> str:
    (raw,) = servers.wait_for(SERVER_DEPENDENCIAS[code], count=1, timeout=30)
    mailing = parse(raw)
    dep = app.config.dependencia(code)
    metas = valid_metas(
        3, AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing), dependencia=code
    )
    if spoil:
        metas[0]["unit"] = "Galones"
    files = [("Plan.xlsx", fill_plan(workbook_of(mailing), metas))] if attach else []
    message = reply(mailing, sender=SERVER_DEPENDENCIAS[code], attachments=files)
    servers.send(message, SERVER_DEPENDENCIAS[code], [PLANEACION])
    return str(parse(message)["Message-ID"]).strip("<>")


def later(hours: float) -> outbox.Clock:
    return lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


@pytest.mark.slow
def test_run_answers_within_seconds_through_idle_and_stops_on_sigterm(tmp_path: Path, mail: MailServers) -> None:
    app, config = prepared(tmp_path, mail, {"imap": {"idle": True, "poll_interval": 600}})
    log = tmp_path / "run.log"
    command = [sys.executable, "-m", "mailbot", "--config", str(config), "--log-format", "json"]
    command += ["--log-level", "debug", "run"]
    with log.open("wb") as err, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err) as process:
        try:
            # Started, first pass done, about to wait in IDLE (the poll interval is 10 minutes): it says so.
            wait_until(
                lambda: process.poll() is not None or "watcher_idle" in [e.get("event") for e in log_events(log)],
                "the daemon never reported its first pass done",
            )
            assert process.poll() is None, "the daemon exited early"
            busy = mailbot(config, "poll", "--once")
            assert busy.returncode != 0
            assert "another mailbot process" in busy.stderr
            send_plan(app, mail, "HAC")
            # 30 s is far below the 10-minute poll interval: only IDLE's notice can bring the answer within it.
            answers = mail.wait_for(SERVER_DEPENDENCIAS["HAC"], count=2, timeout=30)
            assert "PA-2027-HAC-0001" in parse(answers[1]).get_body(("plain",)).get_content()
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise
    logs = log.read_text(errors="replace")
    assert process.returncode == 0, logs[-3000:]
    assert "daemon_stopped" in logs


def test_poll_once_exits_75_while_the_answers_cannot_leave(tmp_path: Path, mail: MailServers) -> None:
    """The reply is decided and its answer kept; a script learns from 75 that the job is not finished."""
    app, config = prepared(tmp_path, mail)
    send_plan(app, mail, "HAC")
    mail.wait_for(PLANEACION, count=1, timeout=30)
    with socket.socket() as probe:  # a port on loopback where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    (tmp_path / "down").mkdir()
    storage = app.config.storage
    smtp_down = server_config(
        tmp_path / "down",
        mail,
        {
            "smtp": {"port": closed_port},
            "storage": {"database_url": storage.database_url, "archive_dir": str(storage.archive_dir)},
        },
    )

    done = mailbot(smtp_down, "poll", "--once")

    assert done.returncode == 75, done.stderr[-2000:]
    assert "inbox: 1 fetched: 1 accepted" in done.stdout
    assert "1 mail(s) waiting to be sent; next attempt at" in done.stderr
    assert "Connection refused" in done.stderr
    with app.sessions() as session:
        (answer,) = session.scalars(select(OutboxMail).where(OutboxMail.received_message_id.is_not(None)))
        assert answer.status == outbox.PENDING
    # SMTP back, the retry not yet due: still 75, and why; once the answer has left (once), the job is done: 0.
    waiting = mailbot(config, "poll", "--once")
    assert waiting.returncode == 75, waiting.stderr[-2000:]
    assert "1 mail(s) waiting to be sent" in waiting.stderr
    outbox.flush(app.sessions, app.senders, later(1))
    answers = mail.wait_for(SERVER_DEPENDENCIAS["HAC"], count=2, timeout=30)
    assert "PA-2027-HAC-0001" in parse(answers[1]).get_body(("plain",)).get_content()
    finished = mailbot(config, "poll", "--once")
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "inbox: 0 fetched: nothing new" in finished.stdout


FAILPOINTS = ["after_fetch", "after_archive", "after_commit", "after_queue", "before_send"]


@pytest.mark.slow
@pytest.mark.parametrize("point", FAILPOINTS)
def test_kill_9_anywhere_loses_nothing_and_answers_once(point: str, tmp_path: Path, mail: MailServers) -> None:
    app, config = prepared(tmp_path, mail)
    replies = {
        "HAC": send_plan(app, mail, "HAC"),
        "EDU": send_plan(app, mail, "EDU", spoil=True),
        "SAL": send_plan(app, mail, "SAL", attach=False),
    }
    mail.wait_for(PLANEACION, count=3, timeout=30)
    crashed = mailbot(config, "poll", "--once", env={"MAILBOT_FAILPOINT": point})
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    for _ in range(2):  # restart (twice: a second run must change nothing)
        again = mailbot(config, "poll", "--once")
        if point == "before_send":  # the mail claimed when the process died is in doubt: it waits, and 75 says so
            assert again.returncode == 75, again.stderr[-2000:]
            assert "1 mail(s) waiting to be sent" in again.stderr
        else:
            assert again.returncode == 0, again.stderr[-2000:]
    outbox.flush(app.sessions, app.senders, later(1))  # a row claimed when the process died: in doubt, re-sent

    with app.sessions() as session:
        rows = list(session.scalars(select(ReceivedMessage)))
        assert Counter(r.message_id for r in rows) == Counter(replies.values())
        assert {r.message_id: r.outcome for r in rows} == {
            replies["HAC"]: "accepted",
            replies["EDU"]: "correction_requested",
            replies["SAL"]: "no_attachment",
        }
        answered = Counter(r.received_message_id for r in session.scalars(select(OutboxMail)) if r.received_message_id)
        assert sorted(answered.values()) == [1, 1, 1]
        assert {r.status for r in session.scalars(select(OutboxMail))} == {"sent"}
    seen_ids: list[str] = []
    all_delivered(app, mail)  # every process has exited, the outbox is empty, Postfix has delivered everything
    for code in ("HAC", "EDU", "SAL"):
        inbox = [parse(raw) for raw in exactly(mail, SERVER_DEPENDENCIAS[code], 2)]  # a duplicate would be a third
        seen_ids += [str(m["Message-ID"]) for m in inbox]
    assert len(seen_ids) == len(set(seen_ids))
    with mail.mailbox(PLANEACION) as box:
        assert list(box.uids()) == []


FILING_POINTS = ["after_commit", "before_filing", "after_filing"]


@pytest.mark.slow
@pytest.mark.parametrize("point", FILING_POINTS)
def test_kill_9_around_filing_leaves_planes_as_the_database_says(point: str, tmp_path: Path, mail: MailServers) -> None:
    """The plan is filed under planes/ after the commit, from the committed row: a kill between the two leaves a
    version the database has and planes/ not yet (or filed but not yet marked); the next pass files it under the
    same name. Never a file without its submission, never one version under two names."""
    app, config = prepared(tmp_path, mail)
    send_plan(app, mail, "HAC")
    send_plan(app, mail, "EDU", spoil=True)
    mail.wait_for(PLANEACION, count=2, timeout=30)
    archive = app.config.storage.archive_dir

    def filed() -> list[Path]:
        return sorted(p.relative_to(archive) for p in (archive / "planes").rglob("*.xlsx"))

    crashed = mailbot(config, "poll", "--once", env={"MAILBOT_FAILPOINT": point})
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    with app.sessions() as session:
        (first,) = session.scalars(select(Submission))  # committed before the kill
        assert first.filed_as is None
    assert len(filed()) == (1 if point == "after_filing" else 0)

    for _ in range(2):  # restart (twice: a second run must change nothing)
        again = mailbot(config, "poll", "--once")
        assert again.returncode == 0, again.stderr[-2000:]
    with app.sessions() as session:
        rows = session.execute(
            select(Submission, Attachment).join(Attachment, Submission.attachment_id == Attachment.id)
        )
        submissions = {submission.decision: (submission, attachment) for submission, attachment in rows}
    assert sorted(submissions) == ["accepted", "correction_requested"]
    assert filed() == sorted(Path(str(s.filed_as)) for s, _ in submissions.values())
    for decision, (submission, attachment) in submissions.items():
        assert submission.version == 1
        assert Path(str(submission.filed_as)).name == f"v01-{decision}-{attachment.sha256[:12]}.xlsx"
        assert (archive / str(submission.filed_as)).read_bytes() == (archive / attachment.archive_path).read_bytes()


@needs_corpus
def test_every_corpus_message_gets_an_outcome_and_no_answer(tmp_path: Path, mail: MailServers) -> None:
    app, config = prepared(tmp_path, mail)
    # A zero-byte file cannot reach a mailbox (Dovecot refuses to store it), so it is not a case here.
    files = sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix != ".tnef" and p.name != "README.md" and p.stat().st_size > 0
    )
    with mail.mailbox(PLANEACION) as box:
        for path in files:
            box.append(path.read_bytes(), "INBOX")
    done = mailbot(config, "poll", "--once", timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with app.sessions() as session:
        rows = list(session.scalars(select(ReceivedMessage)))
        assert len(rows) == len(files)
        assert all(r.outcome is not None for r in rows)
        assert [r.reason for r in rows if r.outcome == "error"] == []
        answers = [r for r in session.scalars(select(OutboxMail)) if r.received_message_id is not None]
        assert answers == [], "no corpus sender is an insider: nothing may be answered"
    with mail.mailbox(PLANEACION) as box:
        assert list(box.uids()) == []
