"""systemd's notify protocol (`Type=notify`, `WatchdogSec=`) through `sdnotify`; nothing at all outside systemd.

systemd sets NOTIFY_SOCKET (and WATCHDOG_USEC with WATCHDOG_PID when the unit has `WatchdogSec=`). Without them
every call here is a no-op, so `mailbot run` behaves the same in a terminal, under Docker or in the tests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import sdnotify


class Notifier:
    """READY=1 once started, WATCHDOG=1 while the loops are alive, STOPPING=1 on the way out, STATUS= lines."""

    def __init__(self) -> None:
        self.enabled = bool(os.environ.get("NOTIFY_SOCKET"))  # sdnotify reads it there too
        self._notifier = sdnotify.SystemdNotifier() if self.enabled else None
        self.watchdog_seconds = _watchdog_seconds(os.environ)

    def ready(self, status: str) -> None:
        self._send(f"READY=1\nSTATUS={status}")

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def status(self, text: str) -> None:
        self._send(f"STATUS={text}")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def close(self) -> None:
        """Close the socket (sdnotify never does)."""
        notifier, self._notifier = self._notifier, None
        if notifier is not None and notifier.socket is not None:
            notifier.socket.close()

    def _send(self, state: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(state)


def _watchdog_seconds(env: Mapping[str, str]) -> float | None:
    """The watchdog's period when systemd asked this process for one (WATCHDOG_PID, when set, names us)."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000
