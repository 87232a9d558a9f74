"""A tiny run of each benchmark, so that the benchmarks never rot (no timing is asserted here)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.configs import ROOT

pytestmark = pytest.mark.slow


def test_validation_benchmark_smoke() -> None:
    """Two hostile files as whole `mailbot validate` processes (the rest are the reader's, in process: every one is
    an F01 in tests/unit/test_workbook_reader.py)."""
    hostile = ["xxe.xlsx", "too-wide.xlsx"]
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_validation.py"),
            *("--sizes", "3", "--repeat", "1", "--hostile", *hostile),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    table = done.stdout
    assert "| 3 |" in table
    hostile_rows = [line for line in table.splitlines() if line.startswith("| ") and ".xls" in line]
    assert [row.split("|")[1].strip() for row in hostile_rows] == hostile
    assert all("| 1 | yes |" in line for line in hostile_rows), "every hostile file must exit 1 with F01"


@pytest.mark.mailserver
def test_mail_benchmark_smoke() -> None:
    from tests.support.mailservers import MailServers

    reason = MailServers.available()
    if reason:
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_mail.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert any(line.startswith("| Reply latency with IDLE") for line in table)
    assert any(line.startswith("| Poll with nothing new") and "commands" in line for line in table)


@pytest.mark.mailserver
def test_workers_benchmark_smoke() -> None:
    from tests.support import postgres
    from tests.support.mailservers import MailServers

    reason = MailServers.available() or postgres.unavailable()
    if reason:
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_workers.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "replies" not in line]
    assert any(row.startswith("| SQLite, one process") for row in rows)
    assert any(row.startswith("| PostgreSQL, 1 fetcher + 2 worker(s)") for row in rows)
