"""Reconnect pacing and once-only connection logs (mailbot.adapters.backoff)."""

from __future__ import annotations

import random
import threading

import pytest
from structlog.testing import capture_logs

from mailbot.adapters.backoff import Backoff, ConnectionState


def test_delays_double_from_initial_up_to_the_cap_without_jitter() -> None:
    """1, 2, 4 ... then 60 s for as long as the outage lasts, even after thousands of failures."""
    backoff = Backoff(initial=1, maximum=60, jitter=0)

    delays = [backoff.next_delay() for _ in range(10)]

    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    backoff.failures = 10_000
    assert backoff.next_delay() == 60


def test_jitter_shortens_each_delay_by_at_most_its_fraction() -> None:
    """Delays stay within [base * (1 - jitter), base], and differ between daemons with different seeds."""
    runs = []
    for seed in (1, 2):
        backoff = Backoff(initial=1, maximum=60, jitter=0.5, rng=random.Random(seed))
        delays = [backoff.next_delay() for _ in range(8)]
        bases = [1, 2, 4, 8, 16, 32, 60, 60]
        assert all(base * 0.5 <= delay <= base for delay, base in zip(delays, bases, strict=True))
        runs.append(delays)

    assert runs[0] != runs[1]


def test_reset_starts_again_from_initial() -> None:
    backoff = Backoff(initial=1, maximum=60, jitter=0)
    for _ in range(5):
        backoff.next_delay()

    backoff.reset()

    assert backoff.next_delay() == 1


@pytest.mark.parametrize(
    "settings",
    [{"initial": 0}, {"initial": 10, "maximum": 5}, {"factor": 0.5}, {"jitter": 1.0}, {"jitter": -0.1}],
)
def test_nonsense_settings_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(**settings)  # type: ignore[arg-type]


def test_wait_returns_at_once_when_stop_is_set() -> None:
    """A daemon asked to stop does not sit out a 60 s delay; the failure still counts."""
    stop = threading.Event()
    stop.set()
    backoff = Backoff(initial=60, maximum=60)

    assert backoff.wait(stop) is True
    assert backoff.failures == 1


def test_wait_sleeps_the_delay_when_not_stopped() -> None:
    backoff = Backoff(initial=0.01, maximum=0.01)

    assert backoff.wait(threading.Event()) is False
    assert backoff.wait() is False


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_logged_once_when_lost_and_once_when_restored() -> None:
    """Five failed attempts in a row: one warning; the first success: one info with the downtime and count."""
    clock = _Clock()
    state = ConnectionState("imap", clock=clock)

    with capture_logs() as logs:
        logged = [state.lost(ConnectionRefusedError("refused")) for _ in range(5)]
        clock.now += 42.0
        assert not state.up
        assert state.restored() is True
        assert state.restored() is False

    assert logged == [True, False, False, False, False]
    assert state.up
    assert logs == [
        {
            "event": "imap_connection_lost",
            "error": "refused",
            "error_type": "ConnectionRefusedError",
            "log_level": "warning",
        },
        {"event": "imap_connection_restored", "down_seconds": 42.0, "failed_attempts": 5, "log_level": "info"},
    ]


def test_a_success_without_a_loss_logs_nothing() -> None:
    state = ConnectionState("smtp")

    with capture_logs() as logs:
        assert state.restored() is False

    assert logs == []
    assert state.up


def test_a_second_outage_is_logged_again() -> None:
    state = ConnectionState("imap")

    with capture_logs() as logs:
        state.lost("timeout")
        state.restored()
        state.lost("timeout")

    assert [entry["event"] for entry in logs] == [
        "imap_connection_lost",
        "imap_connection_restored",
        "imap_connection_lost",
    ]
    assert logs[0]["error_type"] is None
