"""The daemon: APScheduler's BlockingScheduler, jobs added at start-up from the configuration and the role.

Roles (`mailbot run --role`):
- `all` (the default, and the only one on SQLite): one process does everything. Jobs: the mailbox watcher (IMAP
  IDLE when offered, polling otherwise; it runs for the life of the process and reconnects with backoff, logging
  each state change once), which fetches each new message and decides it at once through the worker's own
  function, the outbox flush every 30 seconds for retries (the watcher also flushes right after each pass, so
  answers leave at once), the digest and the reminders.
- `fetcher` (PostgreSQL): the watcher without deciding: it archives and records each message and moves decided
  ones to their folders; the digest and the reminders are queued here. One fetcher per mailbox is active: it holds
  a PostgreSQL advisory lock on a dedicated connection; others stand by and take over within
  `workers.standby_retry` seconds of the holder's death (its connection closes, the server releases the lock).
- `worker` (PostgreSQL): decides recorded messages (claimed with `SELECT … FOR UPDATE SKIP LOCKED`) and flushes
  the outbox; any number of them, on any number of machines.
Scheduled jobs run only where the mailbox lock is held, so a digest is never built twice.
SIGTERM and SIGINT set a stop event: the message in hand is finished, the scheduler waits for running jobs, and
the process exits 0. On SQLite a lock file beside the archive keeps a second daemon (or `poll --once`) off the
mailbox; on PostgreSQL the advisory lock does (a lock file would mean nothing across machines).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Literal

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from mailbot.adapters.backoff import AuthBackoff, Backoff, ConnectionState
from mailbot.adapters.db.engine import database_label
from mailbot.adapters.db.locks import AdvisoryLock, is_postgresql
from mailbot.adapters.sd_notify import Notifier
from mailbot.app import App
from mailbot.errors import (
    AuthenticationError,
    ConfigError,
    MailbotError,
    PermanentError,
    StorageError,
    TemporaryError,
)
from mailbot.faults import failpoint
from mailbot.log import get_logger
from mailbot.ports import Mailbox
from mailbot.services import campaign, digest, health, metrics, outbox, reminders
from mailbot.services.inbox import InboxProcessor, PassReport

log = get_logger("mailbot.daemon")
OUTBOX_INTERVAL_SECONDS = 30
# A fetcher killed a moment ago holds its PostgreSQL lock until the server notices the closed connection.
LOCK_GRACE_SECONDS = 3.0
Role = Literal["all", "fetcher", "worker"]
ROLES: tuple[Role, ...] = ("all", "fetcher", "worker")
#: The longest single sleep of a loop that waits on purpose (backoff, refused credentials): it beats in between.
BEAT_SLICE_SECONDS = 5.0


class AlreadyRunningError(MailbotError):
    """Another mailbot process holds the mailbox lock."""


def check_role(app: App, role: Role) -> None:
    """Several processes need PostgreSQL's locks: on SQLite only `all` makes sense (a ConfigError: exit 2, decided
    from the URL before the database is opened)."""
    if role != "all" and make_url(app.config.storage.database_url).get_backend_name() != "postgresql":
        raise ConfigError(
            f"--role {role} needs PostgreSQL (storage.database_url: postgresql+psycopg://...); "
            "with SQLite one process does everything: run `mailbot run` (role all)"
        )


def fetcher_lock(app: App) -> AdvisoryLock:
    """The PostgreSQL advisory lock that makes one fetcher per mailbox (account and folder) the active one."""
    imap = app.config.imap
    return AdvisoryLock(app.engine, f"fetcher:{imap.user or ''}@{imap.host}:{imap.effective_port}/{imap.folder}")


@contextlib.contextmanager
def exclusive_mailbox(app: App) -> Iterator[None]:
    """This process alone fetches the mailbox (a lock file on SQLite, the advisory lock on PostgreSQL), or raise."""
    if not is_postgresql(app.engine):
        with mailbox_lock(app):
            yield
        return
    lock = fetcher_lock(app)
    deadline = time.monotonic() + LOCK_GRACE_SECONDS
    while not lock.try_acquire():
        if time.monotonic() > deadline:
            raise AlreadyRunningError("another mailbot process is fetching this mailbox (its PostgreSQL lock is held)")
        time.sleep(0.2)
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def mailbox_lock(app: App) -> Iterator[Path]:
    """An exclusive lock file beside the archive: one processor per mailbox on this host."""
    folder = app.config.storage.archive_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / ".mailbot.lock"
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunningError(
                f"another mailbot process is processing this mailbox (lock {path} is held)"
            ) from None
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(handle)


class FailureLog:
    """A failure logged the first time it happens, not once per retry, and its end logged once too."""

    def __init__(self, recovered_event: str) -> None:
        self.recovered_event = recovered_event
        self.failing: str | None = None  # the kind of failure being retried

    def failed(self, event: str, exc: Exception) -> None:
        if self.failing != event:
            self.failing = event
            log.error(event, error=str(exc)[:500], error_type=type(exc).__name__)

    def recovered(self) -> None:
        if self.failing is not None:
            log.info("storage_restored" if self.failing == "storage_unavailable" else self.recovered_event)
            self.failing = None


class Watcher:
    """Keeps one IMAP connection: pass, flush, wait for news; reconnects with backoff after a failure.

    With `work` (role `all`) each fetched message is decided at once and the outbox flushed after each pass;
    without it (role `fetcher`) messages are only archived and recorded, and decided ones moved to their folders.
    With a `lock` (PostgreSQL) the watcher stands by until it holds the mailbox's advisory lock, and goes back to
    standing by if it loses it.
    """

    def __init__(
        self,
        app: App,
        stop: threading.Event,
        *,
        work: bool = True,
        lock: AdvisoryLock | None = None,
        reporter: health.Reporter | None = None,
    ) -> None:
        self.app = app
        self.stop = stop
        self.work = work
        self.lock = lock
        self.reporter = reporter
        self.processor = InboxProcessor(app)
        self.imap_state = ConnectionState("imap")
        self.smtp_state = ConnectionState("smtp")
        self.imap_auth = auth_backoff(app, "imap")
        self.smtp_auth = auth_backoff(app, "smtp")
        self._flushing = threading.Lock()  # the watcher and the retry job never flush at once
        self.backoff = Backoff()
        self._mailbox: Mailbox | None = None
        self.failures = FailureLog("watcher_recovered")  # non-connection failures being retried, logged once
        self._standing_by = False
        self.idle = threading.Event()  # set while waiting for news after a pass that found none
        self._passing = threading.Event()  # set during a pass, which flushes in its own thread as it goes

    @property
    def active(self) -> bool:
        """This process fetches the mailbox now (always, without a lock: the caller holds the lock file)."""
        return self.lock is None or self.lock.held()

    def once(self) -> PassReport:
        """One pass: connect, fetch and process everything new, flush the outbox (when working too)."""
        mailbox = self._connected()
        try:
            self._passing.set()
            try:
                with metrics.PASS_SECONDS.time():
                    between = self.flush_outbox if self.work else None
                    report = self.processor.run_pass(mailbox, stop=self.stop, work=self.work, between=between)
            finally:
                self._passing.clear()
            failpoint("after_queue")
            if self.work:
                self.flush_outbox()
        except SQLAlchemyError as exc:  # e.g. "database is locked" past the busy timeout: exit 3, or retry later
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
            where = database_label(self.app.config.storage.database_url)
            raise StorageError(
                f"{where}: the database cannot be used now ({reason}); the message stays on the server"
            ) from exc
        return report

    def forever(self) -> None:
        config = self.app.config.imap
        try:
            while not self.stop.is_set():
                self._beat()
                if not self._hold_lock():
                    continue
                if not self.imap_auth.allowed():  # refused credentials: no login before the long wait is over
                    self._pause(self.imap_auth.seconds_left())
                    continue
                try:
                    self.idle.clear()
                    report = self.once()
                    if self.imap_auth.succeeded():
                        self._report_auth()
                    self.imap_state.restored()
                    self.failures.recovered()
                    self.backoff.reset()
                    if self.reporter is not None:
                        self.reporter.pass_done(idle_alive=True)
                    if report.fetched:
                        continue  # mail that arrived during the pass may not raise IDLE again: look once more now
                    self._report_idle()
                    # IDLE (when offered and on) returns as soon as mail arrives; either way a pass runs at least
                    # every poll_interval, a safety net for a notification that never came.
                    self._connected().wait_for_new(config.folder, self._wait_seconds(), stop=self.stop)
                except AuthenticationError as exc:  # a person must fix the credentials: try again much later
                    self._drop()
                    self.imap_auth.refuse(exc, exc.service)
                    self._failed(exc)
                    self._report_auth()
                except TemporaryError as exc:
                    self._drop()
                    self.imap_state.lost(exc)
                    self._failed(exc)
                    self._pause(self.backoff.next_delay())
                except PermanentError as exc:
                    self._drop()
                    log.error("imap_refused", error=str(exc))
                    self._failed(exc)
                    self._pause(self.backoff.next_delay())  # a person must fix it (e.g. the certificate); slowly
                except StorageError as exc:  # archive or database: the message stays on the server; retry later
                    self.failures.failed("storage_unavailable", exc)
                    self._failed(exc)
                    self._pause(self.backoff.next_delay())
                except Exception as exc:  # never let the watcher thread die: the daemon would stop answering
                    self._drop()
                    self.failures.failed("watcher_failed", exc)
                    self._failed(exc)
                    self._pause(self.backoff.next_delay())
        finally:
            self._drop()
            if self.lock is not None:
                self.lock.release()

    def _beat(self) -> None:
        if self.reporter is not None:
            self.reporter.beat("watcher")

    def _pause(self, seconds: float) -> None:
        """Wait on purpose (backoff), beating meanwhile: a loop that waits is alive, one that hangs is not."""
        pause(seconds, self.stop, self._beat)

    def _failed(self, exc: Exception) -> None:
        if self.reporter is not None:
            self.reporter.failed(exc)
            self.reporter.idle(False)

    def _report_auth(self) -> None:
        for gate in (self.imap_auth, self.smtp_auth):
            metrics.AUTH_REFUSED.labels(path=gate.path).set(int(gate.refused))
        if self.reporter is not None:
            self.reporter.authentication(self.imap_auth, self.smtp_auth)

    def _report_idle(self) -> None:
        """A pass found nothing new and its flush is done: say so (a log event, and `idle` until the next pass).

        Observable evidence that the daemon has caught up, for an operator reading the logs and for tests that
        must prove nothing more is coming (instead of sleeping a while and hoping).
        """
        self.idle.set()
        log.debug("watcher_idle", folder=self.app.config.imap.folder, outbox_waiting=outbox.waiting(self.app.sessions))

    def _hold_lock(self) -> bool:
        """True while this fetcher is the active one; otherwise wait `standby_retry` seconds and say False."""
        lock = self.lock
        if lock is None or lock.held():
            return True
        if not self._standing_by and self._mailbox is not None:
            log.error("fetcher_lock_lost", lock=lock.name)  # its connection died: another fetcher may take over
            self._drop()
        if lock.try_acquire():
            log.info("fetcher_active", lock=lock.name, took_over=self._standing_by)
            self._standing_by = False
            return True
        if not self._standing_by:
            log.info("fetcher_standby", lock=lock.name, retry_seconds=self.app.config.workers.standby_retry)
            self._standing_by = True
            if self.reporter is not None:
                self.reporter.idle(None)  # standing by: health expects no pass from this one
        self.stop.wait(self.app.config.workers.standby_retry)
        return False

    def _wait_seconds(self) -> float:
        """The poll interval; a fetcher whose workers are still deciding looks again soon to move their mail."""
        interval = float(self.app.config.imap.poll_interval)
        if self.work or self.processor.unfinished() == 0:
            return interval
        return min(interval, self.app.config.workers.fetcher_recheck)

    def flush_outbox(self) -> None:
        with self._flushing:
            refused = self.smtp_auth.refused
            flush_outbox(self.app, self.smtp_state, self.smtp_auth)
            if refused != self.smtp_auth.refused or self.smtp_auth.refused:
                self._report_auth()

    def flush_retries(self) -> None:
        """The retry job's flush, skipped during a pass: the pass flushes as it goes (`run_pass`'s `between`), and a
        second thread would only wait on the pass's transactions (on SQLite, in the busy handler's sleeps)."""
        if not self._passing.is_set():
            self.flush_outbox()

    def close(self) -> None:
        self._drop()

    def _connected(self) -> Mailbox:
        if self._mailbox is None or not self._mailbox.connected:
            mailbox = self.app.mailboxes()
            mailbox.connect()
            self._mailbox = mailbox
        return self._mailbox

    def _drop(self) -> None:
        mailbox, self._mailbox = self._mailbox, None
        if mailbox is not None:
            with contextlib.suppress(Exception):
                mailbox.close()


def auth_backoff(app: App, path: str) -> AuthBackoff:
    """The long waits after refused credentials, as configured (`daemon.auth_retry`, `daemon.auth_retry_max`)."""
    settings = app.config.daemon
    return AuthBackoff(path, initial=settings.auth_retry, maximum=settings.auth_retry_max)


def pause(seconds: float, stop: threading.Event, beat: Callable[[], None]) -> None:
    """Sleep `seconds` in slices, calling `beat` between them; return at once when `stop` is set."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        if stop.wait(min(left, BEAT_SLICE_SECONDS)):
            return
        beat()


def flush_outbox(app: App, smtp_state: ConnectionState, smtp_auth: AuthBackoff | None = None) -> None:
    """Send what is due; an SMTP outage is logged once per state change and retried by the next flush.

    After refused credentials (`smtp_auth`) no flush logs in until the long wait is over: the mail waits in the
    outbox, each row with its own error, and nothing is lost.
    """
    if smtp_auth is not None and not smtp_auth.allowed():
        return
    try:
        report = outbox.flush_due(app.sessions, app.senders, app.clock.now)
        for result, ids in (("sent", report.sent), ("retry", report.retrying), ("failed", report.failed)):
            if ids:
                metrics.OUTBOX_RESULTS.labels(result=result).inc(len(ids))
        if report.connection_error is not None:  # an outage: one line when it starts, one when it ends
            smtp_state.lost(report.connection_error)
        elif report.sent or report.failed:  # the server answered (a flush with nothing due proves nothing)
            smtp_state.restored()
        if smtp_auth is not None and (report.sent or report.failed):
            smtp_auth.succeeded()
    except AuthenticationError as exc:
        if smtp_auth is None:
            smtp_state.lost(exc)
        else:
            smtp_auth.refuse(exc, exc.service)
    except (TemporaryError, PermanentError) as exc:
        smtp_state.lost(exc)


class Worker:
    """Role `worker`: decide recorded messages (any fetcher's) a batch at a time, flush the outbox, repeat.

    An idle worker looks again every `workers.poll_interval` seconds. A storage fault (database down, archive
    unreadable) is logged once and retried with backoff; the row it was deciding stays without an outcome.
    """

    def __init__(self, app: App, stop: threading.Event, reporter: health.Reporter | None = None) -> None:
        self.app = app
        self.stop = stop
        self.reporter = reporter
        self.processor = InboxProcessor(app)
        self.smtp_state = ConnectionState("smtp")
        self.smtp_auth = auth_backoff(app, "smtp")
        self.backoff = Backoff()
        self.failures = FailureLog("worker_recovered")

    def forever(self) -> None:
        settings = self.app.config.workers
        while not self.stop.is_set():
            self._beat()
            try:
                done = self.processor.work_pending(self.stop, limit=settings.batch)
                failpoint("after_queue")
                refused = self.smtp_auth.refused
                flush_outbox(self.app, self.smtp_state, self.smtp_auth)
                metrics.AUTH_REFUSED.labels(path="smtp").set(int(self.smtp_auth.refused))
                if self.reporter is not None:
                    if refused or self.smtp_auth.refused:
                        self.reporter.authentication(self.smtp_auth)
                    self.reporter.pass_done(idle_alive=None)
                self.failures.recovered()
                self.backoff.reset()
                if not done:
                    self.stop.wait(settings.poll_interval)
            except (StorageError, SQLAlchemyError) as exc:
                self.failures.failed("storage_unavailable", exc)
                self._failed(exc)
            except Exception as exc:  # never let the worker thread die silently
                self.failures.failed("worker_failed", exc)
                self._failed(exc)

    def _beat(self) -> None:
        if self.reporter is not None:
            self.reporter.beat("worker")

    def _failed(self, exc: Exception) -> None:
        if self.reporter is not None:
            self.reporter.failed(exc)
        pause(self.backoff.next_delay(), self.stop, self._beat)


def add_jobs(scheduler: BaseScheduler, app: App, watcher: Watcher, role: Role = "all") -> None:
    """The daemon's jobs for `role`, from the configuration: the same for `mailbot run` and for `mailbot demo`.

    Every scheduled job goes through `_then_flush`, which runs it only where the mailbox lock is held.
    """
    if role == "worker":
        worker = Worker(app, watcher.stop, watcher.reporter)
        # misfire_grace_time=None: run however late the scheduler starts (its default, 1 s, silently skips a
        # loop job on a loaded machine, leaving a daemon that runs and does nothing).
        scheduler.add_job(
            worker.forever, id="worker", name="decide received messages, send answers", misfire_grace_time=None
        )
        return
    scheduler.add_job(
        watcher.forever, id="inbox_watch", name="IMAP IDLE/poll watcher", max_instances=1, misfire_grace_time=None
    )
    if role == "all":
        scheduler.add_job(
            watcher.flush_retries,
            "interval",
            seconds=OUTBOX_INTERVAL_SECONDS,
            id="outbox_flush",
            name="outbox retries",
            max_instances=1,
            coalesce=True,
        )
    schedule = app.config.digest.schedule
    scheduler.add_job(
        _quietly,
        CronTrigger(day_of_week=schedule.days, hour=schedule.time.hour, minute=schedule.time.minute),
        args=("digest", lambda: _then_flush(digest.send, app, watcher)),
        id="digest",
        name="planeación's digest",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    at = app.config.rounds.reminder_time
    scheduler.add_job(
        _quietly,
        CronTrigger(day_of_week="mon-fri", hour=at.hour, minute=at.minute),
        args=("reminders", lambda: _then_flush(lambda a: reminders.send_due(a, a.clock.today()), app, watcher)),
        id="reminders",
        name="reminders and late notices",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        _quietly,
        CronTrigger(hour=at.hour, minute=at.minute),
        args=("seguimiento", lambda: _then_flush(lambda a: campaign.start_due(a, a.clock.today()), app, watcher)),
        id="seguimiento_start",
        name="seguimiento rounds on each cut-off day",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )


class BackgroundDaemon:
    """The daemon's scheduler and jobs in background threads, for a caller that keeps the main thread (the demo)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.stop_event = threading.Event()
        self.scheduler = BackgroundScheduler(timezone=app.config.municipality.timezone)
        self.watcher = Watcher(app, self.stop_event)
        self._lock: contextlib.ExitStack | None = None

    def start(self) -> None:
        self._lock = contextlib.ExitStack()
        self._lock.enter_context(exclusive_mailbox(self.app))
        add_jobs(self.scheduler, self.app, self.watcher)
        self.scheduler.start()
        log.info("daemon_started", mailbox=self.app.config.imap.user, folder=self.app.config.imap.folder)

    def stop(self) -> None:
        self.stop_event.set()
        self.scheduler.shutdown(wait=True)
        if self._lock is not None:
            self._lock.close()
        log.info("daemon_stopped")


def run(app: App, role: Role = "all") -> None:
    """Block until SIGTERM or SIGINT; return after the current message and the running jobs finish."""
    check_role(app, role)
    stop = threading.Event()
    scheduler = BlockingScheduler(timezone=app.config.municipality.timezone)
    postgresql = is_postgresql(app.engine)
    lock = fetcher_lock(app) if postgresql and role != "worker" else None
    reporter = health.Reporter(app, role)
    reporter.register("worker" if role == "worker" else "watcher", health.loop_max_age(app, role))
    watcher = Watcher(app, stop, work=role == "all", lock=lock, reporter=reporter)
    notifier = Notifier()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("daemon_stopping", signal=signal.Signals(signum).name)
        notifier.stopping()
        stop.set()
        scheduler.shutdown(wait=False)

    with contextlib.ExitStack() as held:
        if not postgresql:
            held.enter_context(mailbox_lock(app))
        add_jobs(scheduler, app, watcher, role)
        reporter.started()
        listen = app.config.metrics.listen
        if listen:
            held.callback(metrics.MetricsServer(listen, lambda: outbox.waiting(app.sessions)).close)
        feeder = threading.Thread(
            target=health.feed_watchdog, args=(notifier, reporter, stop), name="watchdog", daemon=True
        )
        feeder.start()
        notifier.ready(f"mailbot {role}: watching {app.config.imap.folder}" if role != "worker" else "mailbot worker")
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        log.info(
            "daemon_started",
            role=role,
            mailbox=app.config.imap.user,
            folder=app.config.imap.folder,
            idle=app.config.imap.idle,
        )
        try:
            scheduler.start()  # returns once shut down
        finally:
            stop.set()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            _join_jobs(scheduler)
            feeder.join(timeout=5)
            reporter.stopped()
            notifier.close()
        log.info("daemon_stopped", role=role)


def _then_flush(job: Callable[[App], object], app: App, watcher: Watcher) -> None:
    """A scheduled job: only in the process holding the mailbox lock (a standby fetcher skips it, so nothing is
    queued twice), then the outbox is flushed at once unless this is a fetcher (its workers send)."""
    if not watcher.active:
        log.info("job_skipped_standby")
        return
    job(app)
    if watcher.work:
        watcher.flush_outbox()


def _quietly(name: str, job: Callable[[], object]) -> None:
    """A scheduled job's failure is logged (once per run) and the daemon goes on."""
    try:
        job()
    except Exception:
        log.exception("job_failed", job=name)


def _join_jobs(scheduler: BlockingScheduler) -> None:
    """Wait for the watcher to finish its message: the executor's threads are joined on shutdown(wait=True)."""
    for executor in scheduler._executors.values():  # APScheduler exposes no public join
        with contextlib.suppress(Exception):
            executor.shutdown(wait=True)
