"""The daemon: one process, one APScheduler BlockingScheduler, jobs added at start-up from the configuration.

Jobs: the mailbox watcher (IMAP IDLE when offered, polling otherwise; it runs for the life of the process and
reconnects with backoff, logging each state change once), and the outbox flush every 30 seconds for retries (the
watcher also flushes right after each pass, so answers leave at once). SIGTERM and SIGINT set a stop event: the
watcher finishes the message in hand, the scheduler waits for running jobs, and the process exits 0.
A lock file beside the archive keeps a second daemon (or `poll --once`) off the same mailbox.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import SQLAlchemyError

from mailbot.adapters.backoff import Backoff, ConnectionState
from mailbot.adapters.imap import ImapMailbox
from mailbot.app import App
from mailbot.errors import MailbotError, PermanentError, StorageError, TemporaryError
from mailbot.faults import failpoint
from mailbot.log import get_logger
from mailbot.services import digest, outbox, reminders, seguimiento
from mailbot.services.inbox import InboxProcessor, PassReport

log = get_logger("mailbot.daemon")
OUTBOX_INTERVAL_SECONDS = 30


class AlreadyRunningError(MailbotError):
    """Another mailbot process holds the mailbox lock."""


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


class Watcher:
    """Keeps one IMAP connection: pass, flush, wait for news; reconnects with backoff after a failure."""

    def __init__(self, app: App, stop: threading.Event) -> None:
        self.app = app
        self.stop = stop
        self.processor = InboxProcessor(app)
        self.imap_state = ConnectionState("imap")
        self.smtp_state = ConnectionState("smtp")
        self.backoff = Backoff()
        self._mailbox: ImapMailbox | None = None
        self._failing: str | None = None  # the kind of non-connection failure being retried, logged once

    def once(self) -> PassReport:
        """One pass: connect, fetch and process everything new, flush the outbox."""
        mailbox = self._connected()
        try:
            report = self.processor.run_pass(mailbox, stop=self.stop)
            failpoint("after_queue")
            self.flush_outbox()
        except SQLAlchemyError as exc:  # e.g. "database is locked" past the busy timeout: exit 3, or retry later
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
            raise StorageError(f"the database cannot be used now ({reason}); the message stays on the server") from exc
        return report

    def forever(self) -> None:
        config = self.app.config.imap
        while not self.stop.is_set():
            try:
                report = self.once()
                self.imap_state.restored()
                self._recovered()
                self.backoff.reset()
                if report.fetched:
                    continue  # mail that arrived during the pass may not raise IDLE again: look once more now
                # IDLE (when offered and on) returns as soon as mail arrives; either way a pass runs at least
                # every poll_interval, a safety net for a notification that never came.
                self._connected().wait_for_new(config.folder, config.poll_interval, stop=self.stop)
            except TemporaryError as exc:
                self._drop()
                self.imap_state.lost(exc)
                self.backoff.wait(self.stop)
            except PermanentError as exc:
                self._drop()
                log.error("imap_refused", error=str(exc))
                self.backoff.wait(self.stop)  # a person must fix the credentials; keep trying, slowly
            except StorageError as exc:  # archive or database: the message stays on the server; retry later
                self._failed("storage_unavailable", exc)
                self.backoff.wait(self.stop)
            except Exception as exc:  # never let the watcher thread die: the daemon would stop answering
                self._drop()
                self._failed("watcher_failed", exc)
                self.backoff.wait(self.stop)
        self._drop()

    def _failed(self, event: str, exc: Exception) -> None:
        """Log a failure the first time it happens, not once per retry."""
        if self._failing != event:
            self._failing = event
            log.error(event, error=str(exc)[:500], error_type=type(exc).__name__)

    def _recovered(self) -> None:
        if self._failing is not None:
            log.info("storage_restored" if self._failing == "storage_unavailable" else "watcher_recovered")
            self._failing = None

    def flush_outbox(self) -> None:
        try:
            outbox.flush(self.app.sessions, self.app.config.smtp, self.app.clock.now)
            self.smtp_state.restored()
        except (TemporaryError, PermanentError) as exc:
            self.smtp_state.lost(exc)

    def close(self) -> None:
        self._drop()

    def _connected(self) -> ImapMailbox:
        if self._mailbox is None or not self._mailbox.connected:
            mailbox = ImapMailbox(self.app.config.imap)
            mailbox.connect()
            self._mailbox = mailbox
        return self._mailbox

    def _drop(self) -> None:
        mailbox, self._mailbox = self._mailbox, None
        if mailbox is not None:
            with contextlib.suppress(Exception):
                mailbox.close()


def add_jobs(scheduler: BaseScheduler, app: App, watcher: Watcher) -> None:
    """The daemon's jobs, from the configuration: the same for `mailbot run` and for `mailbot demo`."""
    scheduler.add_job(watcher.forever, id="inbox_watch", name="IMAP IDLE/poll watcher", max_instances=1)
    scheduler.add_job(
        watcher.flush_outbox,
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
        args=("seguimiento", lambda: _then_flush(lambda a: seguimiento.start_due(a, a.clock.today()), app, watcher)),
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
        self._lock.enter_context(mailbox_lock(self.app))
        add_jobs(self.scheduler, self.app, self.watcher)
        self.scheduler.start()
        log.info("daemon_started", mailbox=self.app.config.imap.user, folder=self.app.config.imap.folder)

    def stop(self) -> None:
        self.stop_event.set()
        self.scheduler.shutdown(wait=True)
        if self._lock is not None:
            self._lock.close()
        log.info("daemon_stopped")


def run(app: App) -> None:
    """Block until SIGTERM or SIGINT; return after the current message and the running jobs finish."""
    stop = threading.Event()
    scheduler = BlockingScheduler(timezone=app.config.municipality.timezone)
    watcher = Watcher(app, stop)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("daemon_stopping", signal=signal.Signals(signum).name)
        stop.set()
        scheduler.shutdown(wait=False)

    with mailbox_lock(app):
        add_jobs(scheduler, app, watcher)
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        log.info(
            "daemon_started", mailbox=app.config.imap.user, folder=app.config.imap.folder, idle=app.config.imap.idle
        )
        try:
            scheduler.start()  # returns once shut down
        finally:
            stop.set()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            _join_jobs(scheduler)
        log.info("daemon_stopped")


def _then_flush(job: Callable[[App], object], app: App, watcher: Watcher) -> None:
    job(app)
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
