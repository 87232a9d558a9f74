"""Waiting between reconnects, and logging a connection's loss once instead of once per retry.

`Backoff` grows the delay exponentially (1 s, 2 s, 4 s ... capped at 60 s) and shaves a random part off each delay,
so that several daemons cut off by one outage do not all hammer the server again in the same second.
`ConnectionState` turns a stream of failed attempts into two log lines: `imap_connection_lost` when the first
attempt fails and `imap_connection_restored` when one succeeds again.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mailbot.log import get_logger

log = get_logger(__name__)

# Past this many doublings the delay is at its cap anyway; stopping here keeps 2.0**n from overflowing.
_MAX_EXPONENT = 64


@dataclass
class Backoff:
    """Exponential backoff with jitter: each delay lies in [base * (1 - jitter), base], base doubling up to maximum."""

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0
    jitter: float = 0.25
    rng: random.Random = field(default_factory=random.Random, repr=False)
    failures: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError("backoff needs 0 < initial <= maximum")
        if self.factor < 1:
            raise ValueError("backoff factor must be at least 1 (delays never shrink)")
        if not 0 <= self.jitter < 1:
            raise ValueError("backoff jitter is a fraction of the delay: 0 <= jitter < 1")

    def next_delay(self) -> float:
        """The delay before the next attempt; every call counts one more failure."""
        exponent = min(self.failures, _MAX_EXPONENT)
        base = min(self.maximum, self.initial * self.factor**exponent)
        self.failures += 1
        return base * (1 - self.jitter * self.rng.random())

    def reset(self) -> None:
        """After a success the next failure starts again from `initial`."""
        self.failures = 0

    def wait(self, stop: threading.Event | None = None) -> bool:
        """Sleep for the next delay; return True as soon as `stop` is set (the daemon is shutting down)."""
        delay = self.next_delay()
        if stop is None:
            time.sleep(delay)
            return False
        return stop.wait(delay)


class ConnectionState:
    """Tracks whether a server is reachable and logs only the changes: one line when lost, one when restored.

    A daemon retrying every minute through a night-long outage must not write hundreds of identical lines;
    the operator needs to know when it went down, why, when it came back and how many attempts failed.
    """

    def __init__(
        self,
        name: str = "imap",
        *,
        clock: Callable[[], float] = time.monotonic,
        logger: Any = None,
    ) -> None:
        self.name = name
        self._clock = clock
        self._log = logger if logger is not None else log
        self._lost_at: float | None = None
        self.failed_attempts = 0

    @property
    def up(self) -> bool:
        return self._lost_at is None

    def lost(self, error: BaseException | str) -> bool:
        """Record a failed attempt; log it only when the connection was up until now. True when logged."""
        self.failed_attempts += 1
        if self._lost_at is not None:
            return False
        self._lost_at = self._clock()
        self._log.warning(f"{self.name}_connection_lost", error=str(error), error_type=_kind(error))
        return True

    def restored(self) -> bool:
        """Record a success; log it only when the connection had been lost. True when logged."""
        if self._lost_at is None:
            return False
        down = self._clock() - self._lost_at
        self._log.info(
            f"{self.name}_connection_restored",
            down_seconds=round(down, 1),
            failed_attempts=self.failed_attempts,
        )
        self._lost_at = None
        self.failed_attempts = 0
        return True


def _kind(error: BaseException | str) -> str | None:
    return type(error).__name__ if isinstance(error, BaseException) else None


class AuthBackoff:
    """Logins after a server refused the credentials: long, growing waits instead of a retry every pass.

    A refused login repeats until a person fixes the password or token, and a provider locks an account after a
    few dozen failures (Microsoft's Smart Lockout, cPanel's cPHulk, Google). So after a refusal the next login is
    allowed only `initial` seconds later, doubling up to `maximum`; the refusal is logged once as a state change
    (`authentication_refused`), each later failed retry as `authentication_retry_failed` with the server's answer,
    and the first login that works again as `authentication_restored`.
    """

    def __init__(
        self,
        path: str,
        *,
        initial: float,
        maximum: float,
        clock: Callable[[], float] = time.monotonic,
        logger: Any = None,
    ) -> None:
        self.path = path  # what logs in: "imap" (the watcher) or "smtp" (the outbox)
        self._backoff = Backoff(initial=initial, maximum=max(initial, maximum), jitter=0.1)
        self._clock = clock
        self._log = logger if logger is not None else log
        self._retry_at: float | None = None
        self.error: str | None = None  # the server's refusal while refused
        self.service: str | None = None  # who refused: imap, smtp or oauth2
        self.refusals = 0

    @property
    def refused(self) -> bool:
        return self._retry_at is not None

    def allowed(self) -> bool:
        """True when a login may be tried now: never refused, or the wait after the last refusal is over."""
        return self._retry_at is None or self._clock() >= self._retry_at

    def seconds_left(self) -> float:
        return 0.0 if self._retry_at is None else max(0.0, self._retry_at - self._clock())

    def refuse(self, error: BaseException, service: str | None = None) -> float:
        """Record a refused login; return the seconds until the next one may be tried."""
        delay = self._backoff.next_delay()
        first = self._retry_at is None
        self._retry_at = self._clock() + delay
        self.error, self.service = str(error)[:500], service or self.path
        self.refusals += 1
        event = "authentication_refused" if first else "authentication_retry_failed"
        (self._log.error if first else self._log.warning)(
            event, path=self.path, service=self.service, error=self.error, retry_in_seconds=round(delay)
        )
        return delay

    def succeeded(self) -> bool:
        """A login worked: back to normal. True (and one log line) when it had been refused."""
        if self._retry_at is None:
            return False
        self._log.info("authentication_restored", path=self.path, service=self.service, refusals=self.refusals)
        self._retry_at, self.error, self.service, self.refusals = None, None, None, 0
        self._backoff.reset()
        return True
