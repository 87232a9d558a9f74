"""Each daemon process's report of itself (`process_health`), and `mailbot health`'s verdict on those reports.

Every process of `mailbot run` (role all, fetcher or worker) writes one row: a heartbeat while its loops are alive
(also while they wait on purpose, e.g. after a refused login), its last successful pass, whether its IMAP connection
is up and waiting for news, the authentication state, and its last error. `mailbot health` reads those rows and the
outbox without asking the daemon, so it works from a Docker HEALTHCHECK, cron or a monitoring agent, for one
process or for all of them on PostgreSQL. The same in-memory beats decide whether systemd's watchdog is fed.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from mailbot.adapters.backoff import AuthBackoff
from mailbot.adapters.db.models import OutboxMail, ProcessHealth
from mailbot.adapters.sd_notify import Notifier
from mailbot.app import App
from mailbot.errors import StorageError
from mailbot.log import get_logger

log = get_logger("mailbot.health")
#: The heartbeat is written at most this often (the in-memory beat that feeds the watchdog, at every beat).
HEARTBEAT_WRITE_SECONDS = 10.0
INSTANCE_ENV = "MAILBOT_INSTANCE"


def process_name(role: str, environ: dict[str, str] | None = None) -> str:
    """`role@host`, and `#instance` when `MAILBOT_INSTANCE` is set (two workers on one host: worker@%i units)."""
    env = os.environ if environ is None else environ
    instance = env.get(INSTANCE_ENV, "").strip()
    return f"{role}@{socket.gethostname()}" + (f"#{instance}" if instance else "")


class Reporter:
    """One process's report: written to `process_health` by its loops, never allowed to stop them.

    A loop registers with the longest it may stay silent (`max_age` seconds) and beats while alive; `silent()` is
    empty while every registered loop beat within its own limit, which is when the watchdog is fed.
    """

    def __init__(
        self, app: App, role: str, *, name: str | None = None, monotonic: Callable[[], float] = time.monotonic
    ):
        self.app = app
        self.role = role
        self.name = name or process_name(role)
        self._monotonic = monotonic
        self._loops: dict[str, tuple[float, float]] = {}  # loop → (last beat, max age)
        self._lock = threading.Lock()
        self._written = float("-inf")
        self._write_failed = False
        self._last_pass: tuple[dt.datetime, bool | None] | None = None  # the last pass written, and its IDLE state

    # -- in memory: the loops' beats -------------------------------------------------------------------------

    def register(self, loop: str, max_age: float) -> None:
        with self._lock:
            self._loops[loop] = (self._monotonic(), max_age)

    def silent(self) -> list[str]:
        """The loops that have been silent too long (an empty list: all alive)."""
        now = self._monotonic()
        with self._lock:
            return [name for name, (last, max_age) in self._loops.items() if now - last > max_age]

    def beat(self, loop: str) -> None:
        """The loop is alive; the row's heartbeat follows at most every HEARTBEAT_WRITE_SECONDS."""
        with self._lock:
            if loop in self._loops:
                self._loops[loop] = (self._monotonic(), self._loops[loop][1])
        if self._monotonic() - self._written >= HEARTBEAT_WRITE_SECONDS:
            self._update()

    # -- in the database: what `mailbot health` reads ---------------------------------------------------------

    def started(self) -> None:
        """A fresh row for this process: what a previous run of the same name left is replaced."""
        now = self.app.clock.now()
        row = ProcessHealth(
            process=self.name,
            role=self.role,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            started_at=now,
            heartbeat_at=now,
            stopped_at=None,
            last_pass_at=None,
            idle_alive=None,
            auth_state="ok",
            auth_service=None,
            auth_since=None,
            auth_next_attempt_at=None,
            last_error=None,
            last_error_at=None,
        )
        # Two processes of one name starting at once (workers without MAILBOT_INSTANCE) may both insert: the
        # loser's second try finds the row and updates it.
        for _ in range(2):
            if self._write(lambda session: session.merge(row)):
                break

    def pass_done(self, *, idle_alive: bool | None) -> None:
        """A successful pass (or worker batch). Written at most every HEARTBEAT_WRITE_SECONDS while nothing else
        changes: an idle worker loops every second, and health's resolution is minutes."""
        now = self.app.clock.now()
        last = self._last_pass
        if last is not None and idle_alive == last[1] and (now - last[0]).total_seconds() < HEARTBEAT_WRITE_SECONDS:
            return
        self._last_pass = (now, idle_alive)
        self._update(last_pass_at=now, idle_alive=idle_alive)

    def idle(self, alive: bool | None) -> None:
        self._last_pass = None  # the next pass is written at once, with the new state
        self._update(idle_alive=alive)

    def failed(self, exc: BaseException | str) -> None:
        self._update(last_error=str(exc)[:2000], last_error_at=self.app.clock.now())

    def authentication(self, *gates: AuthBackoff) -> None:
        """The state of this process's logins: refused while any of its gates is, with the next attempt's time."""
        refused = [gate for gate in gates if gate.refused]
        if not refused:
            self._update(auth_state="ok", auth_service=None, auth_since=None, auth_next_attempt_at=None)
            return
        gate, now = refused[0], self.app.clock.now()
        self._update(
            auth_state="refused",
            auth_service=gate.service,
            auth_next_attempt_at=now + dt.timedelta(seconds=gate.seconds_left()),
            last_error=gate.error,
            last_error_at=now,
            since_if_new=now,
        )

    def stopped(self) -> None:
        self._update(stopped_at=self.app.clock.now(), idle_alive=None)

    def _update(self, since_if_new: dt.datetime | None = None, **values: Any) -> None:
        now = self.app.clock.now()

        def apply(session: Any) -> None:
            row = session.get(ProcessHealth, self.name)
            if row is None:
                return  # `started` failed (old schema?): nothing to update
            row.heartbeat_at = now
            for key, value in values.items():
                setattr(row, key, value)
            if since_if_new is not None and row.auth_since is None:
                row.auth_since = since_if_new

        self._written = self._monotonic()
        self._write(apply)

    def _write(self, change: Callable[[Any], object]) -> bool:
        try:
            with self.app.sessions.begin() as session:
                change(session)
        except SQLAlchemyError as exc:  # the report must never stop the loops; the storage fault is logged there
            if not self._write_failed:
                log.warning("health_report_failed", process=self.name, error=str(exc).splitlines()[0][:300])
            self._write_failed = True
            return False
        self._write_failed = False
        return True


def loop_max_age(app: App, role: str) -> float:
    """How long the role's loop may stay silent and still count as alive: a pass and an IDLE wait take time."""
    if role == "worker":
        return float(app.config.daemon.stale_after)
    imap = app.config.imap
    return max(float(app.config.daemon.stale_after), imap.poll_interval + 3 * imap.timeout)


def feed_watchdog(notifier: Notifier, reporter: Reporter, stop: threading.Event) -> None:
    """WATCHDOG=1 at half systemd's period, only while every loop beats in time: a hung loop gets the process
    restarted by systemd (`WatchdogSec=`), a hung whole process too. Without a watchdog this thread just ends."""
    period = notifier.watchdog_seconds
    if period is None:
        return
    starving: list[str] = []
    while not stop.wait(period / 2):
        starving = watchdog_tick(notifier, reporter, starving)


def watchdog_tick(notifier: Notifier, reporter: Reporter, starving: list[str]) -> list[str]:
    """One look: feed the watchdog when no loop is silent; log a change of the silent loops once. Returns them."""
    silent = reporter.silent()
    if not silent:
        notifier.watchdog()
        if starving:
            log.info("watchdog_fed_again")
    elif silent != starving:
        log.error("watchdog_starved", loops=silent, hint="systemd restarts the process when its period ends")
    return silent


@dataclass
class Verdict:
    """`mailbot health`'s answer: healthy or not, why, and what it read."""

    healthy: bool
    checked_at: dt.datetime
    problems: list[str] = field(default_factory=list)
    processes: list[dict[str, Any]] = field(default_factory=list)
    outbox: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "problems": self.problems,
            "processes": self.processes,
            "outbox": self.outbox,
        }


def check(app: App, *, process: str | None = None, everywhere: bool = False) -> Verdict:
    """Judge the reports of this host's processes (or `process`, or all with `everywhere`) and the outbox.

    A database that cannot be read (missing, behind its migrations, unreachable) is a verdict, not an error: the
    service manager asks "healthy?" and must get 1, with the reason, never a storage exit code it does not know.
    """
    settings = app.config.daemon
    now = app.clock.now()
    try:
        return _check(app, now, settings.stale_after, settings.outbox_stale_after, process, everywhere)
    except StorageError as exc:
        return Verdict(False, _aware_local(app, now), [f"storage: {exc}"], [], {})


def _check(
    app: App, now: dt.datetime, stale_after: int, outbox_stale_after: int, process: str | None, everywhere: bool
) -> Verdict:
    stale = dt.timedelta(seconds=stale_after)
    problems: list[str] = []
    with app.sessions() as session:
        query = select(ProcessHealth).order_by(ProcessHealth.process)
        if process is not None:
            query = query.where(ProcessHealth.process == process)
        elif not everywhere:
            query = query.where(ProcessHealth.hostname == socket.gethostname())
        rows = list(session.scalars(query))
        oldest = session.scalars(
            select(OutboxMail)
            .where(OutboxMail.status.in_(("pending", "sending")))
            .order_by(OutboxMail.created_at, OutboxMail.id)
            .limit(1)
        ).first()
        waiting = session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status.in_(("pending", "sending"))))
        outbox = {
            "waiting": int(waiting or 0),
            "oldest_pending_since": _iso(app, oldest.created_at if oldest else None),
            "oldest_last_error": oldest.last_error if oldest else None,
        }
        if oldest is not None and now - oldest.created_at > dt.timedelta(seconds=outbox_stale_after):
            problems.append(
                f"outbox: a mail has waited since {_local(app, oldest.created_at)}"
                + (f" ({oldest.last_error})" if oldest.last_error else "")
            )
        reports = [_judge(app, row, now, stale) for row in rows]
    if not rows:
        where = f"named {process}" if process else ("anywhere" if everywhere else f"on {socket.gethostname()}")
        problems.append(f"no mailbot daemon process {where} has reported (is `mailbot run` running?)")
    for report in reports:
        problems += [f"{report['process']}: {p}" for p in report["problems"]]
    return Verdict(not problems, _aware_local(app, now), problems, reports, outbox)


def _judge(app: App, row: ProcessHealth, now: dt.datetime, stale: dt.timedelta) -> dict[str, Any]:
    problems: list[str] = []
    if row.stopped_at is not None:
        problems.append(f"stopped at {_local(app, row.stopped_at)}")
    elif now - row.heartbeat_at > stale:
        problems.append(f"silent since {_local(app, row.heartbeat_at)} (its loops are stuck or it died)")
    if row.auth_state == "refused":
        problems.append(
            f"{row.auth_service or 'the server'} refused the credentials since "
            f"{_local(app, row.auth_since) if row.auth_since else '?'}; next attempt at "
            f"{_local(app, row.auth_next_attempt_at) if row.auth_next_attempt_at else '?'}: {row.last_error or ''}"
        )
    watches = row.role == "all" or (row.role == "fetcher" and row.idle_alive is not None)  # a standby fetcher waits
    if row.stopped_at is None and watches:
        since = row.last_pass_at or row.started_at
        if now - since > stale:
            problems.append(f"no successful pass since {_local(app, since)}")
    return {
        "process": row.process,
        "role": row.role,
        "hostname": row.hostname,
        "pid": row.pid,
        "healthy": not problems,
        "problems": problems,
        "started_at": _iso(app, row.started_at),
        "heartbeat_at": _iso(app, row.heartbeat_at),
        "stopped_at": _iso(app, row.stopped_at),
        "last_pass_at": _iso(app, row.last_pass_at),
        "idle_alive": row.idle_alive,
        "auth_state": row.auth_state,
        "auth_service": row.auth_service,
        "auth_since": _iso(app, row.auth_since),
        "auth_next_attempt_at": _iso(app, row.auth_next_attempt_at),
        "last_error": row.last_error,
        "last_error_at": _iso(app, row.last_error_at),
    }


def _iso(app: App, value: dt.datetime | None) -> str | None:
    return None if value is None else _local(app, value)


def _aware_local(app: App, value: dt.datetime) -> dt.datetime:
    return value.astimezone(ZoneInfo(app.config.municipality.timezone))


def _local(app: App, value: dt.datetime) -> str:
    """A time as operators read it: ISO 8601 in the municipality's zone, with its offset."""
    return _aware_local(app, value).isoformat(timespec="seconds")
