"""Prometheus metrics (`metrics.listen`): message outcomes, outbox results and depth, pass durations, refusals.

Off unless `metrics.listen` is set: then `mailbot run` serves `/metrics` on that address (prometheus_client's
own HTTP server, one thread). The counters live in the process (prometheus_client's default registry) and are
counted where the log lines are written; the outbox depth is read from the database at each scrape, so it is
right whichever process sent what. Without `listen` the metrics are inert stand-ins and prometheus_client is not
imported at all; the daemon starts the server before its first pass, so nothing is counted before it exists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from mailbot.log import get_logger

log = get_logger("mailbot.metrics")


class _Unserved:
    """Stands for every metric while none is served: without `metrics.listen` prometheus_client is never imported
    (it weighs ~12 MB in each process), and counting costs nothing."""

    def labels(self, **_labels: str) -> _Unserved:
        return self

    def inc(self, amount: float = 1) -> None:
        return None

    def set(self, value: float) -> None:
        return None

    def time(self) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()


_UNSERVED = _Unserved()
# Rebound to prometheus_client's metrics by `count()`; callers reach them as `metrics.NAME` at each use.
DECIDED: Any = _UNSERVED
OUTBOX_RESULTS: Any = _UNSERVED
PASS_SECONDS: Any = _UNSERVED
AUTH_REFUSED: Any = _UNSERVED
OUTBOX_WAITING: Any = _UNSERVED


def count() -> None:
    """Create the metrics in prometheus_client's default registry, once per process (the server calls it)."""
    global DECIDED, OUTBOX_RESULTS, PASS_SECONDS, AUTH_REFUSED, OUTBOX_WAITING
    if DECIDED is not _UNSERVED:
        return
    from prometheus_client import Counter, Gauge, Histogram

    DECIDED = Counter("mailbot_messages_decided", "Received messages decided, by outcome.", ["outcome"])
    OUTBOX_RESULTS = Counter(
        "mailbot_outbox_mails", "Outbox send attempts, by result (sent, retry, failed).", ["result"]
    )
    PASS_SECONDS = Histogram(
        "mailbot_pass_duration_seconds",
        "Duration of one mailbox pass (fetch, archive, decide, answer).",
        buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
    )
    AUTH_REFUSED = Gauge("mailbot_authentication_refused", "1 while a server refuses the credentials.", ["path"])
    OUTBOX_WAITING = Gauge("mailbot_outbox_waiting", "Mails waiting to be sent (pending or being sent).")


class MetricsServer:
    """/metrics served in a thread of its own until `close()`."""

    def __init__(self, listen: str, outbox_waiting: Callable[[], int]) -> None:
        from prometheus_client import REGISTRY, start_http_server

        count()
        host, _, port = listen.rpartition(":")
        OUTBOX_WAITING.set_function(lambda: float(outbox_waiting()))
        self._server: Any
        self._server, self._thread = start_http_server(
            int(port), addr=host.strip("[]") or "127.0.0.1", registry=REGISTRY
        )
        self.port = int(self._server.server_port)
        log.info("metrics_listening", address=f"{host}:{self.port}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
