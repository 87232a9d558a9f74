"""Issue 18, items 3 and 4 without mail servers: the long waits after refused credentials (IMAP and SMTP),
each process's report and `mailbot health`'s verdict on it, and systemd's notify socket and watchdog."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from structlog.testing import capture_logs

from mailbot.adapters.backoff import AuthBackoff, ConnectionState
from mailbot.adapters.db.models import OutboxMail
from mailbot.adapters.sd_notify import Notifier
from mailbot.app import App
from mailbot.cli import cli
from mailbot.config import load_config
from mailbot.errors import AuthenticationError, TemporaryError
from mailbot.services import health, metrics, outbox, setup
from mailbot.services.daemon import flush_outbox
from tests.support.configs import write_config
from tests.support.fakes import FakeSmtpServer, FixedClock

START = dt.datetime(2027, 1, 12, 9, 0, tzinfo=ZoneInfo("America/Bogota"))


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------------------------------------ refused logins


def test_refused_credentials_wait_the_configured_time_doubling_to_the_cap_and_log_the_changes_once() -> None:
    ticks = Ticks()
    gate = AuthBackoff("imap", initial=900, maximum=3600, clock=ticks)
    refusal = AuthenticationError("IMAP login refused for 'planeacion' (AUTHENTICATIONFAILED)", "imap")
    with capture_logs() as logs:
        delays = [gate.refuse(refusal, refusal.service) for _ in range(5)]
        assert not gate.allowed()
        ticks.now += delays[-1]
        assert gate.allowed()
        assert gate.succeeded()
        assert not gate.succeeded()  # already fine: nothing more to say
    bases = [900, 1800, 3600, 3600, 3600]
    assert all(0.9 * base <= delay <= base for delay, base in zip(delays, bases, strict=True)), delays
    assert [e["event"] for e in logs] == ["authentication_refused"] + ["authentication_retry_failed"] * 4 + [
        "authentication_restored"
    ]
    assert all("AUTHENTICATIONFAILED" in e["error"] for e in logs[:5])
    assert logs[0]["log_level"] == "error"
    assert logs[-1]["refusals"] == 5
    assert gate.allowed()
    assert not gate.refused


class FailingSender:
    """An SMTP server whose every login fails with `error` until `fixed`, counting the logins tried."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.logins = 0
        self.fixed = False
        self.delegate = FakeSmtpServer()

    def __call__(self) -> FailingSender:
        return self

    def open(self) -> None:
        self.logins += 1
        if not self.fixed:
            raise self.error
        self._sender = self.delegate.sender()
        self._sender.open()

    def send(self, envelope_from: str, recipients: list[str], raw: bytes) -> object:
        return self._sender.send(envelope_from, recipients, raw)

    def close(self) -> None:
        pass


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    config = load_config(write_config(tmp_path, {"daemon": {"stale_after": 600, "outbox_stale_after": 3600}}), {})
    app = App(config, clock=FixedClock(START))
    setup.upgrade_storage(app)
    yield app
    app.close()


def _queue_one(app: App) -> None:
    with app.sessions.begin() as session:
        outbox.enqueue(
            session,
            dedup_key="one",
            kind="test",
            raw=b"Subject: prueba\r\n\r\nHola.\r\n",
            message_id="<one@municipio.test>",
            envelope_from="planeacion@municipio.test",
            recipients=["hacienda@municipio.test"],
            now=app.clock.now(),
        )


@pytest.mark.storage
def test_after_refused_smtp_credentials_no_flush_logs_in_until_the_wait_is_over(app: App) -> None:
    server = FailingSender(AuthenticationError("SMTP login refused for 'planeacion' (535 5.7.8)", "smtp"))
    ticks = Ticks()
    app.senders = server  # type: ignore[assignment]
    gate = AuthBackoff("smtp", initial=900, maximum=3600, clock=ticks)
    _queue_one(app)
    state = ConnectionState("smtp")
    flush_outbox(app, state, gate)
    assert (server.logins, gate.refused, gate.service) == (1, True, "smtp")
    app.clock.advance(dt.timedelta(hours=1))  # type: ignore[attr-defined]  # the row is due again ...
    for _ in range(3):
        flush_outbox(app, state, gate)  # ... but the credentials' wait is not over: no login at all
    assert server.logins == 1
    with app.sessions() as session:
        (row,) = session.scalars(select(OutboxMail))
        assert (row.status, row.attempts) == ("pending", 0)  # refused credentials: no attempt of the mail spent
        assert "login refused" in (row.last_error or "")
    ticks.now += 900
    server.fixed = True  # the credentials mended meanwhile
    flush_outbox(app, state, gate)
    assert server.logins == 2
    assert not gate.refused
    assert outbox.next_waiting(app.sessions) is None


@pytest.mark.storage
def test_an_smtp_outage_is_logged_once_when_it_starts_and_once_when_it_ends(app: App) -> None:
    server = FailingSender(TemporaryError("cannot connect to SMTP 127.0.0.1:2525: ConnectionRefusedError: [Errno 111]"))
    app.senders = server  # type: ignore[assignment]
    _queue_one(app)
    state = ConnectionState("smtp")
    with capture_logs() as logs:
        flush_outbox(app, state)
        flush_outbox(app, state)  # its retry not yet due: nothing tried, which proves nothing
        assert not state.up
        for _ in range(2):
            app.clock.advance(dt.timedelta(hours=1))  # type: ignore[attr-defined]  # the retry is due again
            flush_outbox(app, state)
        assert not state.up
        server.fixed = True
        app.clock.advance(dt.timedelta(hours=1))  # type: ignore[attr-defined]
        flush_outbox(app, state)
    assert server.logins == 4
    events = [e["event"] for e in logs if e["event"].startswith("smtp_connection")]
    assert events == ["smtp_connection_lost", "smtp_connection_restored"]
    lost = next(e for e in logs if e["event"] == "smtp_connection_lost")
    assert "ConnectionRefusedError" in lost["error"]
    assert state.up
    assert outbox.next_waiting(app.sessions) is None


# ------------------------------------------------------------------------------------------------ health


@pytest.mark.storage
def test_health_judges_each_process_report_and_the_outbox(app: App) -> None:
    clock: FixedClock = app.clock  # type: ignore[assignment]
    assert not health.check(app).healthy  # nothing has reported yet
    reporter = health.Reporter(app, "all")
    reporter.started()
    reporter.pass_done(idle_alive=True)
    verdict = health.check(app)
    assert verdict.healthy, verdict.problems
    (report,) = verdict.processes
    assert (report["process"], report["idle_alive"], report["auth_state"]) == (reporter.name, True, "ok")
    assert report["last_pass_at"] == "2027-01-12T09:00:00-05:00"

    gate = AuthBackoff("imap", initial=900, maximum=3600)
    gate.refuse(AuthenticationError("IMAP login refused (AUTHENTICATIONFAILED)", "imap"), "imap")
    reporter.authentication(gate)
    refused = health.check(app)
    assert not refused.healthy
    assert "imap refused the credentials since 2027-01-12T09:00:00-05:00" in refused.problems[0]
    gate.succeeded()
    reporter.authentication(gate)
    assert health.check(app).healthy

    clock.advance(dt.timedelta(seconds=601))  # silent for longer than daemon.stale_after
    stale = health.check(app)
    assert not stale.healthy
    assert any("silent since" in p for p in stale.problems)
    assert any("no successful pass since" in p for p in stale.problems)
    reporter.pass_done(idle_alive=True)
    assert health.check(app).healthy

    _queue_one(app)
    clock.advance(dt.timedelta(seconds=3601))
    reporter.pass_done(idle_alive=True)
    waited = health.check(app)
    assert [p for p in waited.problems if p.startswith("outbox:")], waited.problems
    assert waited.outbox["waiting"] == 1

    reporter.stopped()
    assert any("stopped at" in p for p in health.check(app).problems)


@pytest.mark.storage
def test_mailbot_health_exits_0_healthy_1_unhealthy_and_speaks_json(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    runner = CliRunner()
    # before `db upgrade`: unhealthy (1, the contract for service managers), not the storage exit code, with why
    early = runner.invoke(cli, ["--config", str(config), "health", "--json"])
    assert early.exit_code == 1, early.output
    assert json.loads(early.stdout)["healthy"] is False
    assert "db upgrade" in json.loads(early.stdout)["problems"][0]
    assert runner.invoke(cli, ["--config", str(config), "db", "upgrade"]).exit_code == 0
    nobody = runner.invoke(cli, ["--config", str(config), "health"])
    assert nobody.exit_code == 1, nobody.output
    assert "no mailbot daemon process" in nobody.stdout
    app = App(load_config(config, environ={}))
    reporter = health.Reporter(app, "all")
    reporter.started()
    reporter.pass_done(idle_alive=True)
    well = runner.invoke(cli, ["--config", str(config), "health", "--json"])
    assert well.exit_code == 0, well.output
    data = json.loads(well.stdout)
    assert data["healthy"] is True
    assert data["processes"][0]["idle_alive"] is True
    assert data["outbox"] == {"waiting": 0, "oldest_pending_since": None, "oldest_last_error": None}
    other = runner.invoke(cli, ["--config", str(config), "health", "--process", "worker@elsewhere"])
    assert other.exit_code == 1

    gate = AuthBackoff("imap", initial=900, maximum=3600)
    gate.refuse(AuthenticationError("IMAP login refused (AUTHENTICATIONFAILED)", "imap"), "imap")
    reporter.authentication(gate)
    status = runner.invoke(cli, ["--config", str(config), "status"])
    assert status.exit_code == 0, status.output
    assert f"daemon {reporter.name}: imap refused the credentials since" in status.stdout
    assert "AUTHENTICATIONFAILED" in status.stdout
    as_json = json.loads(runner.invoke(cli, ["--config", str(config), "status", "--json"]).stdout)
    assert [p["auth_state"] for p in as_json["daemon"]] == ["refused"]
    assert runner.invoke(cli, ["--config", str(config), "health"]).exit_code == 1
    app.close()


# ------------------------------------------------------------------------------------------------ systemd


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A unix datagram socket standing in for systemd's, named in NOTIFY_SOCKET as systemd does."""
    path = str(tmp_path / "notify")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield server
    server.close()


def test_the_notifier_says_ready_and_feeds_the_watchdog_on_the_socket(
    notify_socket: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = notify_socket
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    notifier = Notifier()
    assert notifier.watchdog_seconds == 30
    notifier.ready("mailbot all: watching INBOX")
    notifier.watchdog()
    notifier.stopping()
    notifier.close()
    received = [server.recv(4096) for _ in range(3)]
    assert received == [b"READY=1\nSTATUS=mailbot all: watching INBOX", b"WATCHDOG=1", b"STOPPING=1"]


def test_without_systemd_the_notifier_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        monkeypatch.delenv(name, raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    assert notifier.watchdog_seconds is None
    notifier.ready("x")  # no socket: nothing raised
    monkeypatch.setenv("WATCHDOG_USEC", "1000")
    monkeypatch.setenv("WATCHDOG_PID", "1")  # another process's watchdog (e.g. a shell's child): not ours
    assert Notifier().watchdog_seconds is None


@pytest.mark.storage
def test_the_watchdog_is_fed_only_while_every_loop_beats(
    app: App, notify_socket: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, ticks = notify_socket, Ticks()
    monkeypatch.setenv("WATCHDOG_USEC", "100000")
    notifier = Notifier()
    reporter = health.Reporter(app, "all", monotonic=ticks)
    reporter.started()
    reporter.register("watcher", max_age=60)

    # The feeding thread, as `mailbot run` starts it: while the loop beats, WATCHDOG=1 arrives.
    stop = threading.Event()
    feeder = threading.Thread(target=health.feed_watchdog, args=(notifier, reporter, stop), daemon=True)
    feeder.start()
    try:
        assert server.recv(4096) == b"WATCHDOG=1"
    finally:
        stop.set()
        feeder.join(timeout=10)
    server.setblocking(False)
    while True:  # what the thread sent before it stopped
        try:
            server.recv(4096)
        except BlockingIOError:
            break

    # One look at a time: a datagram on a unix socket is queued before send returns, so an empty queue right
    # after a tick proves that tick sent nothing.
    ticks.now += 61  # the watcher has been silent longer than it may
    with capture_logs() as logs:
        starving = health.watchdog_tick(notifier, reporter, [])
        assert starving == ["watcher"]
        with pytest.raises(BlockingIOError):
            server.recv(4096)
        reporter.beat("watcher")  # alive again
        assert health.watchdog_tick(notifier, reporter, starving) == []
        assert server.recv(4096) == b"WATCHDOG=1"
    notifier.close()
    assert [e["event"] for e in logs] == ["watchdog_starved", "watchdog_fed_again"]


# ------------------------------------------------------------------------------------------------ Prometheus


def test_metrics_serve_the_outbox_depth_read_at_each_scrape_and_the_counters() -> None:
    depth = [3]
    server = metrics.MetricsServer("127.0.0.1:0", lambda: depth[0])
    try:
        metrics.OUTBOX_RESULTS.labels(result="sent").inc(0)  # the series exists from the first scrape on

        def scrape() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as answer:
                return str(answer.read().decode())

        first = scrape()
        depth[0] = 0
        second = scrape()
    finally:
        server.close()
    assert "mailbot_outbox_waiting 3.0" in first
    assert "mailbot_outbox_waiting 0.0" in second
    for name in ("mailbot_messages_decided", "mailbot_outbox_mails_total", "mailbot_pass_duration_seconds"):
        assert name in first
