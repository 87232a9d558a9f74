"""The daemon's loop jobs start however late the scheduler gets going (a loaded machine)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_REMOVED
from apscheduler.schedulers.background import BackgroundScheduler

from mailbot.app import App
from mailbot.config import load_config
from mailbot.services.daemon import Role, Watcher, Worker, add_jobs
from tests.support.configs import write_config


@pytest.mark.parametrize(("role", "job_id"), [("all", "inbox_watch"), ("worker", "worker")])
def test_a_loop_job_due_seconds_ago_still_runs(
    role: Role, job_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """APScheduler's default grace of 1 s skips a job whose start came later than that ("was missed"): the
    daemon then ran without ever watching the mailbox or deciding. Seen under load; here the job is due 5 s ago."""
    started = threading.Event()
    monkeypatch.setattr(Watcher, "forever", lambda self: started.set())
    monkeypatch.setattr(Worker, "forever", lambda self: started.set())
    app = App(load_config(write_config(tmp_path, {}), environ={}))
    tz = app.config.municipality.timezone
    scheduler = BackgroundScheduler(timezone=tz)
    add_jobs(scheduler, app, Watcher(app, threading.Event()), role)
    job = scheduler.get_job(job_id)
    assert job is not None
    job.modify(next_run_time=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))
    # The scheduler's thread removes a one-off job after starting it; stopping before then makes that removal
    # fail in its thread (a stopped scheduler looks for the job among the pending ones).
    done = threading.Event()
    scheduler.add_listener(lambda event: done.set() if event.job_id == job_id else None, EVENT_JOB_REMOVED)
    scheduler.start()
    try:
        assert started.wait(30), f"{job_id} was skipped as missed"
        assert done.wait(30)
    finally:
        scheduler.shutdown(wait=False)
