"""Failpoints for the crash tests: `MAILBOT_FAILPOINT=<name>` kills the process with SIGKILL at that point.

Unset (always, in production) a failpoint is one comparison with None. The names mark the moments where a crash
must lose nothing and answer nothing twice: after_fetch, after_archive, while_deciding (a worker holding its
claim on a message), after_commit, before_filing and after_filing (a plan's link under planes/, made after the
commit; `services/inbox/filing.py`), after_queue, before_send. `<name>@N` kills at the N-th time the point is
reached (mid-backlog), instead of the first.
"""

from __future__ import annotations

import os
import signal

_ARMED, _, _NTH = (os.environ.get("MAILBOT_FAILPOINT") or "").partition("@")
_REMAINING = [int(_NTH or 1)]


def failpoint(name: str) -> None:
    if _ARMED and name == _ARMED:
        _REMAINING[0] -= 1
        if _REMAINING[0] <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
