"""Positive evidence that no more mail is on its way, so that a test can count a mailbox and call it final.

Instead of sleeping "long enough for a duplicate to show up", a test waits for facts:
1. nothing that could send is still running, or it has caught up: the command or pass returned, the daemon was
   stopped, or its watcher reported going idle (`Watcher.idle`, the `watcher_idle` log event) after the
   pass that handled the last message;
2. mailbot's outbox holds no mail still to send (`outbox.waiting` is 0: every row is `sent` or `failed`);
3. Postfix's queue is empty (`MailServers.wait_until_delivered`): every mail it accepted is in its mailbox.
Then every mail mailbot will ever send for what happened is already delivered, and a count is exact. Each wait is
bounded by a generous timeout that only fails the test; it never passes one by waiting.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from mailbot.app import App
from mailbot.services import outbox
from mailbot.services.daemon import Watcher
from tests.support.mailservers import MailServers

TIMEOUT = 60.0


def wait_until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout} s")
        time.sleep(0.05)


def all_delivered(app: App, servers: MailServers, timeout: float = TIMEOUT) -> None:
    """Every mail in mailbot's outbox handed over for good, and Postfix's queue empty (see the module's steps)."""
    wait_until(lambda: outbox.waiting(app.sessions) == 0, "mail left in the outbox", timeout)
    servers.wait_until_delivered(timeout)


def exactly(servers: MailServers, user: str, count: int, folder: str = "INBOX") -> list[bytes]:
    """The messages of `user`, asserted to be exactly `count`; call after `all_delivered` so the count is final."""
    found = servers.wait_for(user, count=count, timeout=TIMEOUT, folder=folder)
    assert len(found) == count, f"{user} {folder}: {len(found)} messages, expected exactly {count}"
    return found


def watcher_caught_up(watcher: Watcher, timeout: float = TIMEOUT) -> None:
    """The watcher is idle: a pass found nothing new after the ones that did work, and its flush is done.

    Call it once the effect of the last piece of work was seen (an answer arrived): every pass clears `idle` when
    it starts, so a set `idle` then was set by a later pass that found nothing.
    """
    wait_until(watcher.idle.is_set, "the watcher never caught up", timeout)


def log_events(log: Path) -> list[dict[str, object]]:
    """The JSON log lines of a `mailbot --log-format json` process, in order."""
    found: list[dict[str, object]] = []
    for line in log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict):
                found.append(event)
    return found


def daemon_caught_up(log: Path, timeout: float = TIMEOUT) -> None:
    """A `mailbot run --log-level debug` process went idle with an empty outbox after its last pass that did work.

    Call it once the effect of that pass was seen (an answer arrived): the pass logs `inbox_pass` before its flush,
    so the answer's arrival means the pass is in the log, and an idle report after it means the daemon caught up.
    """

    def idle_after_last_pass() -> bool:
        events = log_events(log)
        names = [e.get("event") for e in events]
        if "watcher_idle" not in names:
            return False
        last_idle = len(names) - 1 - names[::-1].index("watcher_idle")
        last_pass = len(names) - 1 - names[::-1].index("inbox_pass") if "inbox_pass" in names else -1
        return last_idle > last_pass and events[last_idle].get("outbox_waiting") == 0

    wait_until(idle_after_last_pass, "the daemon never reported idle with an empty outbox", timeout)
