"""Helpers for running mailbot as several cooperating processes: a backlog of replies, role processes, progress.

Used by tests/integration/test_workers.py and benchmarks/bench_workers.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import create_engine, func, select

from mailbot.adapters.db.models import OutboxMail, ReceivedMessage
from mailbot.app import App
from mailbot.domain.context import AvailableBudget
from tests.support.configs import SERVER_DEPENDENCIAS
from tests.support.mailservers import MailServers
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of

PLANEACION = "planeacion@municipio.test"
#: Settings for quick tests: idle workers look every 0.2 s, a standby fetcher retries every 0.5 s.
FAST = {
    "imap": {"idle": True, "poll_interval": 5},
    "limits": {"auto_mails_per_address_per_day": 100_000},
    "workers": {"poll_interval": 0.2, "standby_retry": 0.5, "fetcher_recheck": 0.5, "batch": 5},
}


def salted(xlsx: bytes, salt: int) -> bytes:
    """The same workbook, different bytes (a zip comment): each reply is a new file, not a duplicate."""
    comment = f"reply-{salt}".encode()
    assert xlsx[-22:-18] == b"PK\x05\x06", "expected a zip without a comment"
    assert xlsx[-2:] == b"\x00\x00", "expected a zip without a comment"
    return xlsx[:-2] + len(comment).to_bytes(2, "little") + comment


def replies(app: App, mail: MailServers, n: int, *, metas: int = 3, start: int = 0) -> list[tuple[bytes, str]]:
    """n replies (raw, Message-ID) spread over the four dependencias, each with a distinct valid plan."""
    codes = list(SERVER_DEPENDENCIAS)
    mailings = {code: parse(mail.wait_for(SERVER_DEPENDENCIAS[code], count=1, timeout=30)[0]) for code in codes}
    workbooks = {}
    for code in codes:
        dep = app.config.dependencia(code)
        budget = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
        workbooks[code] = fill_plan(workbook_of(mailings[code]), valid_metas(metas, budget, dependencia=code))
    out = []
    for i in range(start, start + n):
        code = codes[i % len(codes)]
        files = [("Plan.xlsx", salted(workbooks[code], i))]
        raw = reply(mailings[code], sender=SERVER_DEPENDENCIAS[code], attachments=files)
        out.append((raw, str(parse(raw)["Message-ID"]).strip("<>")))
    return out


def append(mail: MailServers, messages: list[tuple[bytes, str]]) -> list[str]:
    """Put the replies in planeación's INBOX (IMAP APPEND: much faster than SMTP for a backlog)."""
    with mail.mailbox(PLANEACION) as box:
        for raw, _ in messages:
            box.append(raw, "INBOX")
    return [message_id for _, message_id in messages]


@dataclass
class RoleProcess:
    """`mailbot run --role ROLE` as a subprocess, its JSON log lines in a file."""

    role: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit status (SIGKILL and -9 if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_event(self, event: str, timeout: float = 30) -> None:
        """Block until the process has logged `event` (JSON log lines)."""
        deadline = time.monotonic() + timeout
        while f'"event": "{event}"' not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise TimeoutError(f"{self.role}: no {event} (exit {self.process.poll()}):\n{self.log()[-3000:]}")
            time.sleep(0.05)


def start(
    config: Path,
    role: str,
    folder: Path,
    name: str,
    env: dict[str, str] | None = None,
    python_args: list[str] | None = None,
) -> RoleProcess:
    """`python_args` replace `-m mailbot` (e.g. a profiling launcher that runs it)."""
    log_path = folder / f"{name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by RoleProcess.terminate
    launcher = python_args or ["-m", "mailbot"]
    command = [sys.executable, *launcher, "--config", str(config), "--log-format", "json", "run"]
    process = subprocess.Popen(
        [*command, "--role", role], stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    return RoleProcess(role, process, log_path, log)


@dataclass(frozen=True)
class Progress:
    received: int
    decided: int
    moved: int
    answers_queued: int
    answers_sent: int


class Monitor:
    """Reads progress with a plain engine of its own (on SQLite: no BEGIN IMMEDIATE, so it never blocks mailbot)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def progress(self) -> Progress:
        with self.engine.connect() as conn:
            received = conn.scalar(select(func.count(ReceivedMessage.id))) or 0
            decided = conn.scalar(select(func.count(ReceivedMessage.id)).where(ReceivedMessage.outcome.is_not(None)))
            moved = conn.scalar(select(func.count(ReceivedMessage.id)).where(ReceivedMessage.moved_to.is_not(None)))
            answers = OutboxMail.received_message_id.is_not(None)
            queued = conn.scalar(select(func.count(OutboxMail.id)).where(answers))
            sent = conn.scalar(select(func.count(OutboxMail.id)).where(answers, OutboxMail.status == "sent"))
        return Progress(received, decided or 0, moved or 0, queued or 0, sent or 0)

    def wait(self, done: Callable[[Progress], bool], timeout: float, poll: float = 0.05) -> Progress:
        deadline = time.monotonic() + timeout
        while True:
            now = self.progress()
            if done(now):
                return now
            if time.monotonic() > deadline:
                raise TimeoutError(f"not done after {timeout} s: {now}")
            time.sleep(poll)

    def close(self) -> None:
        self.engine.dispose()
