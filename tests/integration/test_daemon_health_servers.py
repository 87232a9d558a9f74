"""Issue 18, items 3 and 4 on the real servers: refused credentials back off and resume, health says so,
and the commands that send exit 75 while mail waits, saying when and why."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from structlog.testing import capture_logs

from mailbot.adapters.db.models import OutboxMail
from mailbot.app import App
from mailbot.cli import EXIT_TEMPORARY, cli
from mailbot.config import load_config
from mailbot.services import health, outbox
from mailbot.services.daemon import Watcher
from tests.integration.test_daemon import PLANEACION, prepared, send_plan
from tests.support.configs import server_config
from tests.support.mailservers import MailServers
from tests.support.settle import log_events, wait_until

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

CHANGED_ON_THE_SERVER = "Cambiada-en-el-servidor-4410"


@pytest.mark.slow  # about 10 s: three refusals 1 s and 2 s apart, then a whole reply cycle
def test_refused_credentials_back_off_as_configured_then_the_daemon_resumes_by_itself(
    tmp_path: Path, mail: MailServers
) -> None:
    """The account's password changes on the server: every login the daemon tries is one Dovecot refuses and
    counts, each after the configured wait (1 s, then doubling to 2 s here; tens of minutes by default); the
    state change is logged once and shown by health; when the password works again the daemon resumes alone."""
    app, _ = prepared(tmp_path, mail, {"daemon": {"auth_retry": 1, "auth_retry_max": 2}})
    mark = mail.dovecot_log_mark()
    stop = threading.Event()
    reporter = health.Reporter(app, "all", name="all@test-auth")
    reporter.started()
    watcher = Watcher(app, stop, reporter=reporter)
    thread = threading.Thread(target=watcher.forever, name="watcher", daemon=True)
    mail.set_password(PLANEACION, CHANGED_ON_THE_SERVER)
    try:
        with capture_logs() as logs:
            thread.start()
            wait_until(lambda: watcher.imap_auth.refusals >= 3, "three refused logins")
            refused = health.check(app, process=reporter.name)
            mail.set_password(PLANEACION, mail.password)  # fixed: nothing is restarted
            send_plan(app, mail, "HAC")
            wait_until(lambda: not watcher.imap_auth.refused, "the daemon never logged in again")
            mail.wait_for("hacienda@municipio.test", count=2, timeout=60)  # the mailing, then the acceptance
            resumed = health.check(app, process=reporter.name)
    finally:
        mail.set_password(PLANEACION, mail.password)
        stop.set()
        thread.join(timeout=60)
        watcher.close()
    assert not thread.is_alive()

    events = [e for e in logs if str(e["event"]).startswith("authentication_")]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "authentication_refused"
    assert kinds.count("authentication_refused") == 1, kinds  # the state change, once
    assert kinds.count("authentication_restored") == 1, kinds
    retries = [e for e in events if e["event"] == "authentication_retry_failed"]
    assert retries, kinds
    assert all("login refused" in str(e["error"]) for e in events[:-1])  # each retry's line carries the error
    # The waits the daemon chose are the configured ones (10% jitter shaved off), never the 1 s-60 s of an outage.
    assert [e["retry_in_seconds"] for e in events[:3]] == [1, 2, 2]
    # Dovecot saw exactly one refused login per refusal the daemon logged: no login slipped past the wait.
    refusals = len(events) - 1
    wait_until(lambda: mail.failed_logins(PLANEACION, since=mark) >= refusals, "Dovecot's log of the refusals")
    assert mail.failed_logins(PLANEACION, since=mark) == refusals

    assert not refused.healthy
    assert any("imap refused the credentials" in p for p in refused.problems), refused.problems
    (report,) = refused.processes
    assert report["auth_state"] == "refused"
    assert "login refused" in (report["last_error"] or "")
    assert resumed.healthy, resumed.problems
    assert resumed.processes[0]["auth_state"] == "ok"


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_campaign_and_flush_exit_75_while_mail_waits_saying_when_and_why(tmp_path: Path, mail: MailServers) -> None:
    config = server_config(tmp_path, mail, {"smtp": {"port": _unused_port()}})  # SMTP down
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "db", "upgrade"]).exit_code == 0
    started = runner.invoke(cli, ["--config", str(config), "campaign", "start", "formulacion", "--vigencia", "2027"])
    assert started.exit_code == EXIT_TEMPORARY, started.output
    assert "4 mailing(s) queued" in started.stdout
    assert "the server could not be reached" in started.stdout
    assert "4 mail(s) waiting to be sent; next attempt at" in started.stderr
    assert "-05:00" in started.stderr  # America/Bogota, with its offset
    flushed = runner.invoke(cli, ["--config", str(config), "outbox", "flush"])
    assert flushed.exit_code == EXIT_TEMPORARY, flushed.output
    assert "0 sent" in flushed.stdout
    assert "4 mail(s) waiting" in flushed.stderr
    # The reason is the connection's failure, recorded on every mail it held back ...
    assert "cannot connect to SMTP" in flushed.stderr
    app = App(load_config(config, environ={}))
    with app.sessions() as session:
        rows = list(session.scalars(select(OutboxMail)))
    assert all("cannot connect to SMTP" in (row.last_error or "") for row in rows)
    # ... which all wait the same minute: a command run every minute tries the server once, not once per mail.
    assert len({row.next_attempt_at for row in rows}) == 1
    with capture_logs() as logs:
        report = outbox.flush(app.sessions, app.senders, lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    # The batch stops at the first connection that cannot be made, and an outage is no mail's failed attempt.
    assert (report.sent, report.retrying, report.waiting_for_server) == ([], [], True)
    assert "cannot connect to SMTP" in (report.connection_error or "")
    assert "outbox_retry" not in [e["event"] for e in logs]
    with app.sessions() as session:
        assert [row.attempts for row in session.scalars(select(OutboxMail))] == [0, 0, 0, 0]
    app.close()


@pytest.mark.slow  # a real `mailbot run` started and stopped, about 10 s
def test_mailbot_run_under_systemd_says_ready_feeds_the_watchdog_serves_metrics_and_health_follows(
    tmp_path: Path, mail: MailServers
) -> None:
    """`mailbot run` with NOTIFY_SOCKET and WATCHDOG_USEC set as systemd sets them (`Type=notify`,
    `WatchdogSec=`): READY=1, then WATCHDOG=1 while its loops beat, STOPPING=1 on SIGTERM; `mailbot health`
    says healthy while it runs and unhealthy once it stopped; /metrics answers on the configured address."""
    config = server_config(tmp_path, mail, {"metrics": {"listen": "127.0.0.1:0"}})
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "db", "upgrade"]).exit_code == 0
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(60)
    log = tmp_path / "run.log"
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "1000000"}
    command = [sys.executable, "-m", "mailbot", "--config", str(config), "--log-format", "json"]
    command += ["--log-level", "debug", "run"]
    try:
        with log.open("wb") as err, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env) as run:
            try:
                assert notify.recv(4096).startswith(b"READY=1\n")
                assert notify.recv(4096) == b"WATCHDOG=1"
                wait_until(
                    lambda: run.poll() is not None or "watcher_idle" in [e.get("event") for e in log_events(log)],
                    "the daemon never reported its first pass done",
                )
                well = runner.invoke(cli, ["--config", str(config), "health", "--json"])
                (address,) = [e["address"] for e in log_events(log) if e.get("event") == "metrics_listening"]
                with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as answer:
                    scraped = answer.read().decode()
            finally:
                run.send_signal(signal.SIGTERM)
                run.wait(timeout=60)
        assert run.returncode == 0, log.read_text()[-3000:]
        said = []
        while b"STOPPING=1" not in said:
            said.append(notify.recv(4096))
    finally:
        notify.close()
    assert well.exit_code == 0, well.output
    (report,) = json.loads(well.stdout)["processes"]
    assert (report["role"], report["idle_alive"], report["auth_state"]) == ("all", True, "ok")
    assert report["last_pass_at"]
    assert "mailbot_outbox_waiting 0.0" in scraped
    stopped = runner.invoke(cli, ["--config", str(config), "health"])
    assert stopped.exit_code == 1
    assert "stopped at" in stopped.stdout
