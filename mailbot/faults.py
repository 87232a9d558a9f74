"""Failpoints for the crash tests: `MAILBOT_FAILPOINT=<name>` kills the process with SIGKILL at that point.

Unset (always, in production) a failpoint is one comparison with None. The names mark the moments where a crash
must lose nothing and answer nothing twice: after_fetch, after_archive, after_commit, after_queue, before_send.
"""

from __future__ import annotations

import os
import signal

_ARMED = os.environ.get("MAILBOT_FAILPOINT") or None


def failpoint(name: str) -> None:
    if _ARMED is not None and name == _ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
