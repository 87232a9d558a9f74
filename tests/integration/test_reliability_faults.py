"""Issue 9, items 1 and 3: mail-server outages and storage faults; the daemon recovers by itself, logs each state
change once, leaves the message untouched on the server while it cannot decide, and answers exactly once."""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import create_engine, select, text

from mailbot.adapters.db import engine as db_engine
from mailbot.adapters.db.models import OutboxMail, ReceivedMessage
from mailbot.adapters.imap import ImapMailbox
from mailbot.app import App
from mailbot.errors import TemporaryError
from mailbot.services import outbox
from mailbot.services.daemon import Watcher
from mailbot.services.inbox import worker as inbox_worker
from tests.integration.test_daemon import later, prepared, send_plan
from tests.integration.test_inbox_cycle import filled, mailing_of
from tests.support.configs import SERVER_DEPENDENCIAS, storage_engine
from tests.support.mailservers import MailServers
from tests.support.replies import reply, workbook_of
from tests.support.settle import all_delivered, daemon_caught_up, exactly, watcher_caught_up

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

PLANEACION = "planeacion@municipio.test"
HAC = SERVER_DEPENDENCIAS["HAC"]
OUTAGE_SECONDS = 8


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout} s")
        time.sleep(0.2)


def events(log: Path) -> list[str]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            found.append(str(json.loads(line).get("event")))
    return found


def inbox_untouched(mail: MailServers) -> None:
    """The reply is still in planeación's INBOX and not \\Seen: nothing was decided about it."""
    with mail.mailbox(PLANEACION) as box:
        messages = list(box.fetch(mark_seen=False, headers_only=True))
        assert len(messages) == 1
        assert "\\Seen" not in messages[0].flags


def answered_once(app: App, mail: MailServers, caught_up: Callable[[], None] = lambda: None) -> None:
    """The answer arrived; whatever still runs caught up (`caught_up`), all is delivered: so exactly one answer."""
    mail.wait_for(HAC, count=2, timeout=60)  # the mailing and the answer
    caught_up()
    all_delivered(app, mail)
    exactly(mail, HAC, 2)  # the reply was answered once: a second answer would be a third message
    with app.sessions() as session:
        rows = list(session.scalars(select(ReceivedMessage)))
        assert [r.outcome for r in rows] == ["accepted"]
        answers = [m for m in session.scalars(select(OutboxMail)) if m.received_message_id is not None]
        assert [(a.status, a.received_message_id) for a in answers] == [("sent", rows[0].id)]


# ------------------------------------------------------------------------------------------------ mail servers


@pytest.mark.slow
@pytest.mark.engine_neutral  # an IMAP reconnect: nothing in it depends on the database engine
def test_dovecot_outage_during_idle_reconnects_logs_once_and_answers_once(tmp_path: Path, mail: MailServers) -> None:
    app, config = prepared(tmp_path, mail, {"imap": {"idle": True, "poll_interval": 600, "timeout": 5}})
    log = tmp_path / "run.log"
    command = [sys.executable, "-m", "mailbot", "--config", str(config), "--log-format", "json"]
    command += ["--log-level", "debug", "run"]
    with log.open("wb") as err, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err) as process:
        try:
            # First pass done, going to IDLE (a 10-minute poll interval: only IDLE or a reconnect answers).
            wait_until(lambda: "watcher_idle" in events(log), 30, "the daemon did not report its first pass")
            hac = mailing_of(mail, "HAC")
            message = reply(hac, sender=HAC, attachments=[("Plan.xlsx", filled(app, workbook_of(hac), "HAC"))])
            mail.stop_dovecot()
            try:
                mail.send(message, HAC, [PLANEACION])  # Postfix queues it: LMTP to Dovecot is down
                time.sleep(OUTAGE_SECONDS)
                assert process.poll() is None, "the daemon exited during the outage"
            finally:
                mail.start_dovecot()  # also flushes Postfix's queue
            answered_once(app, mail, lambda: daemon_caught_up(log))
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
    assert process.returncode == 0, log.read_text()[-3000:]
    seen = events(log)
    assert seen.count("imap_connection_lost") == 1, seen
    assert seen.count("imap_connection_restored") == 1, seen
    with mail.mailbox(PLANEACION) as box:
        assert list(box.uids()) == []


def test_postfix_outage_during_the_flush_is_retried_and_delivered_once(tmp_path: Path, mail: MailServers) -> None:
    app, _ = prepared(tmp_path, mail)
    send_plan(app, mail, "HAC")
    mail.wait_for(PLANEACION, count=1, timeout=30)
    mail.stop_postfix()
    try:
        watcher = Watcher(app, threading.Event())
        with structlog.testing.capture_logs() as logs:
            try:
                assert dict(watcher.once().outcomes) == {"accepted": 1}  # decided; the answer cannot leave
                outbox.flush(app.sessions, app.senders, later(0.5))  # a retry, still down
            finally:
                watcher.close()
        with app.sessions() as session:
            (answer,) = [m for m in session.scalars(select(OutboxMail)) if m.received_message_id is not None]
            assert answer.status == "pending"
            assert answer.attempts == 0  # tried by the pass's own flush and by the retry: an outage is no attempt
            assert "cannot connect to SMTP" in (answer.last_error or "")
    finally:
        mail.start_postfix()
    assert [e["event"] for e in logs].count("smtp_connection_lost") == 1
    outbox.flush(app.sessions, app.senders, later(24))  # past any backoff: the retry
    outbox.flush(app.sessions, app.senders, later(48))  # and once more: nothing left to send
    answered_once(app, mail)


# ------------------------------------------------------------------------------------------------ storage


@contextlib.contextmanager
def watching(app: App) -> Iterator[tuple[list[dict[str, Any]], Watcher]]:
    """The daemon's watcher loop (Watcher.forever) in a thread, its log events captured."""
    stop = threading.Event()
    watcher = Watcher(app, stop)
    watcher.backoff.maximum = 2.0  # retries every second or two: the fault clears within the test
    with structlog.testing.capture_logs() as logs:
        thread = threading.Thread(target=watcher.forever, name="watcher", daemon=True)
        thread.start()
        try:
            yield logs, watcher
            assert thread.is_alive(), "the watcher thread died"
        finally:
            stop.set()
            thread.join(timeout=60)
            watcher.close()


def archive_blocked(app: App) -> contextlib.AbstractContextManager[None]:
    """The archive's `recibidos` folder replaced by a regular file: every write fails, for root too."""

    @contextlib.contextmanager
    def blocked() -> Iterator[None]:
        target = app.config.storage.archive_dir / "recibidos"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"not a folder")
        try:
            yield
        finally:
            target.unlink()

    return blocked()


def database_locked(app: App, monkeypatch: pytest.MonkeyPatch) -> contextlib.AbstractContextManager[None]:
    """Another writer holds BEGIN IMMEDIATE on the SQLite file; mailbot's busy timeout shortened to 300 ms."""
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_TIMEOUT_MS", 300)
    app.engine.dispose()  # new connections take the short timeout

    @contextlib.contextmanager
    def locked() -> Iterator[None]:
        url = str(app.engine.url)
        other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=1)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()

    return locked()


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["archive_unwritable", "database_locked"])
def test_storage_fault_leaves_the_message_on_the_server_logs_once_and_processes_it_later(
    fault: str, tmp_path: Path, mail: MailServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    if fault == "database_locked" and storage_engine() == "postgresql":
        pytest.skip("SQLite's busy timeout: a PostgreSQL writer waits for a row lock instead of failing")
    app, _ = prepared(tmp_path, mail, {"imap": {"idle": True, "poll_interval": 600}})
    send_plan(app, mail, "HAC")
    mail.wait_for(PLANEACION, count=1, timeout=30)
    broken = archive_blocked(app) if fault == "archive_unwritable" else database_locked(app, monkeypatch)
    with watching(app) as (logs, watcher):
        with broken:
            wait_until(lambda: any(e["event"] == "storage_unavailable" for e in logs), 60, "no storage error")
            failed = watcher.backoff.failures
            wait_until(lambda: watcher.backoff.failures >= failed + 3, 60, "no retries")  # retried while it lasts
            inbox_untouched(mail)
            reader = create_engine(app.config.storage.database_url)  # a plain read (SQLite: WAL lets it)
            try:
                with reader.connect() as conn:
                    outcomes = [tuple(r) for r in conn.execute(text("SELECT outcome FROM received_messages"))]
                assert outcomes in ([], [(None,)])
            finally:
                reader.dispose()
        wait_until(lambda: any(e["event"] == "storage_restored" for e in logs), 60, "never recovered")
        answered_once(app, mail, lambda: watcher_caught_up(watcher))
    seen = [e["event"] for e in logs]
    assert seen.count("storage_unavailable") == 1, seen
    assert seen.count("storage_restored") == 1, seen
    with mail.mailbox(PLANEACION) as box:
        assert list(box.uids()) == []


@pytest.mark.slow
def test_dovecot_stopped_while_fetching_loses_nothing_and_answers_each_once(
    tmp_path: Path, mail: MailServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dovecot goes away between two fetch batches of one pass: the pass stops with a temporary error, nothing
    fetched is lost, nothing unfetched is marked, and the next pass after the restart answers the rest once."""
    app, _ = prepared(tmp_path, mail)
    sent = [send_plan(app, mail, code) for code in ("HAC", "EDU", "SAL", "GOB")]
    mail.wait_for(PLANEACION, count=4, timeout=30)
    app.mailboxes = functools.partial(ImapMailbox, app.config.imap, fetch_batch=2)  # the composition root's seam
    watcher = Watcher(app, threading.Event())  # two fetch batches of two: the outage falls between them
    decided: list[object] = []
    original = inbox_worker.work_one

    def decide_then_stop_dovecot(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if "row_id" in kwargs:  # a message just fetched (not the claim of a pending one)
            decided.append(result)
            if len(decided) == 2:
                mail.stop_dovecot()  # the first batch is decided; the second FETCH meets a dead server
        return result

    monkeypatch.setattr(inbox_worker, "work_one", decide_then_stop_dovecot)
    try:
        with pytest.raises(TemporaryError, match="FETCH"):
            watcher.once()
        assert len(decided) == 2
    finally:
        mail.start_dovecot()
        watcher.close()
    watcher = Watcher(app, threading.Event())
    try:
        report = watcher.once()
    finally:
        watcher.close()
    assert report.fetched == 2
    outbox.flush(app.sessions, app.senders, later(1))
    with app.sessions() as session:
        rows = list(session.scalars(select(ReceivedMessage)))
        assert sorted(r.message_id or "" for r in rows) == sorted(sent)
        assert {r.outcome for r in rows} == {"accepted"}
        answers = [m for m in session.scalars(select(OutboxMail)) if m.received_message_id is not None]
        assert sorted(a.received_message_id for a in answers) == sorted(r.id for r in rows)
    all_delivered(app, mail)
    for code in ("HAC", "EDU", "SAL", "GOB"):
        exactly(mail, SERVER_DEPENDENCIAS[code], 2)  # its mailing and one answer
