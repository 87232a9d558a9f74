"""Backlog throughput: the single process on SQLite beside 1, 2 and 4 workers (and one fetcher) on PostgreSQL.

    python benchmarks/bench_workers.py --json benchmarks/results/workers.json      # the full run (a few minutes)
    python benchmarks/bench_workers.py --quick                                      # a smoke run (CI)

Needs root, Debian's dovecot-imapd, dovecot-lmtpd and postfix (`bash .ci/install-mailservers.sh`) and the
PostgreSQL server (`bash .ci/install-postgres.sh`): it starts them on loopback with the test suite's fixtures
(tests/support/mailservers.py, tests/support/postgres.py) and stops them at the end.

For each set-up, N replies (each a distinct plan of 40 metas, spread over four dependencias) wait in planeación's
INBOX when the processes start: `mailbot run` (role all) on SQLite, or `mailbot run --role fetcher` plus K
`mailbot run --role worker` on PostgreSQL. The clock starts when the processes are launched (their start-up, about
a second, is included) and stops when every reply has its answer in the outbox ("queued") and when every answer
has been handed to Postfix ("sent"). Progress is read from the database every 50 ms by a separate connection.

`BENCH_PROFILE=PREFIX` profiles every thread of every process (the daemon works in the scheduler's threads, which
`python -m cProfile` would miss) and writes one cProfile per process and set-up, `PREFIX.<set-up>.<process>`, the
threads' profiles merged: read them with `pstats` (for finding what to cut, not for the figures).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.app import App  # noqa: E402
from mailbot.config import load_config  # noqa: E402
from mailbot.services import campaign, outbox, setup  # noqa: E402
from tests.support import workers  # noqa: E402
from tests.support.configs import server_config  # noqa: E402
from tests.support.mailservers import MailServers  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402

VIGENCIA = 2027
SETTINGS = {
    "imap": {"idle": True, "poll_interval": 60},
    "limits": {"auto_mails_per_address_per_day": 1_000_000},
    "workers": {"poll_interval": 0.2, "batch": 20, "fetcher_recheck": 1},
}


# Run `mailbot` with every thread under its own cProfile; at exit the profiles are merged into argv[1].
_PROFILED = """
import atexit, cProfile, pstats, runpy, sys, threading
out, profiles = sys.argv[1], []
def _run(self, _run=threading.Thread.run):
    profile = cProfile.Profile()
    profiles.append(profile)
    profile.runcall(_run, self)
threading.Thread.run = _run
main = cProfile.Profile()
profiles.append(main)
def _dump():
    main.disable()
    stats = None
    for profile in profiles:
        try:
            stats = pstats.Stats(profile) if stats is None else stats.add(profile)
        except TypeError:  # a thread that never ran anything
            continue
    if stats is not None:
        stats.dump_stats(out)
atexit.register(_dump)
sys.argv = ["mailbot", *sys.argv[2:]]
main.enable()
runpy.run_module("mailbot", run_name="__main__", alter_sys=True)
"""


def prepare(servers: MailServers, url: str, replies: int, metas: int) -> tuple[App, Path]:
    """A fresh database and archive with the mailings sent, and `replies` replies waiting in the INBOX."""
    servers.clear_mailboxes()
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    path = server_config(folder, servers, {**SETTINGS, "storage": {"database_url": url}})
    app = App(load_config(path, environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, VIGENCIA)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    workers.append(servers, workers.replies(app, servers, replies, metas=metas))
    return app, path


def measure(servers: MailServers, url: str, n_workers: int, replies: int, metas: int) -> dict[str, Any]:
    app, path = prepare(servers, url, replies, metas)
    monitor = workers.Monitor(url)
    folder = path.parent
    profile = os.environ.get("BENCH_PROFILE")
    setup_name = "sqlite" if n_workers == 0 else f"pg{n_workers}"

    def launch(role: str, name: str) -> workers.RoleProcess:
        prefix = ["-c", _PROFILED, f"{profile}.{setup_name}.{name}"] if profile else None
        return workers.start(path, role, folder, name, python_args=prefix)

    started, busy_at_start = time.monotonic(), machine_busy_seconds()
    if n_workers == 0:
        processes = [launch("all", "all")]
    else:
        processes = [launch("fetcher", "fetcher")]
        processes += [launch("worker", f"worker-{i}") for i in range(1, n_workers + 1)]
    try:
        monitor.wait(lambda p: p.decided >= replies and p.answers_queued >= replies, timeout=1800)
        queued = time.monotonic() - started
        monitor.wait(lambda p: p.answers_sent >= replies, timeout=600)
        sent = time.monotonic() - started
        busy = machine_busy_seconds() - busy_at_start
        final = monitor.wait(lambda p: p.moved >= replies, timeout=600)
    finally:
        codes = [process.terminate() for process in processes]
        monitor.close()
        app.close()
    if any(code != 0 for code in codes):
        raise SystemExit(f"a process exited with {codes}: {processes[0].log()[-2000:]}")
    return {
        "engine": "postgresql" if url.startswith("postgresql") else "sqlite",
        "workers": n_workers,
        "replies": replies,
        "metas": metas,
        "seconds_queued": round(queued, 2),
        "seconds_sent": round(sent, 2),
        "replies_per_second": round(replies / sent, 2),
        "machine_cpu_seconds": round(busy, 1),
        "received": final.received,
    }


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (every core, every process: mailbot, PostgreSQL, Dovecot, Postfix)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(f) for f in stat.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


def render(results: list[dict[str, Any]]) -> str:
    base = next((r for r in results if r["engine"] == "postgresql" and r["workers"] == 1), None)
    lines = [
        "| set-up | replies | all answers queued (s) | all answers sent (s) | replies/s | vs 1 worker "
        "| machine CPU per reply (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        name = (
            "SQLite, one process (`run`)"
            if r["engine"] == "sqlite"
            else f"PostgreSQL, 1 fetcher + {r['workers']} worker(s)"
        )
        ratio = f"{r['replies_per_second'] / base['replies_per_second']:.2f}×" if base else "—"
        lines.append(
            f"| {name} | {r['replies']} | {r['seconds_queued']:.1f} | {r['seconds_sent']:.1f} | "
            f"{r['replies_per_second']:.2f} | {ratio} | {1000 * r['machine_cpu_seconds'] / r['replies']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: a few replies, SQLite and 2 workers")
    parser.add_argument("--replies", type=int, default=300)
    parser.add_argument("--metas", type=int, default=40)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL set-ups only")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    replies, metas, counts = (6, 3, [2]) if args.quick else (args.replies, args.metas, args.workers)
    reason = MailServers.available()
    if reason:
        raise SystemExit(reason)
    results = []
    with MailServers() as servers:
        postgres = PostgresServer()
        postgres.start()
        try:
            if not args.no_sqlite:
                with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as folder:
                    results.append(measure(servers, f"sqlite:///{folder}/mailbot.db", 0, replies, metas))
            for n in counts:
                results.append(measure(servers, postgres.new_database(), n, replies, metas))
                print(f"{n} worker(s): {results[-1]}", file=sys.stderr)
        finally:
            postgres.stop()
    table = render(results)
    print(table)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        }
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
