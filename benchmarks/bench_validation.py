"""Validation cost per plan, beside merely loading the same file, and the cost of refusing hostile files.

    python benchmarks/bench_validation.py                  # the full run behind benchmarks/README.md
    python benchmarks/bench_validation.py --sizes 5 --repeat 1 --no-hostile   # a smoke run
    python benchmarks/bench_validation.py --sizes 3 --repeat 1 --hostile xxe.xlsx too-wide.xlsx   # CI's smoke

Each measurement runs in a fresh process (spawn), so its peak memory (ru_maxrss) is its own; the figure shown is
the peak above that process's baseline after imports. Times come from one more process that runs the operations in
turns, --repeat rounds after a warm-up, so that load from other processes falls on all of them alike: medians of
wall time, and the ratios from CPU time (equal to wall time on a quiet machine).
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _config() -> Any:
    from mailbot.config import load_config
    from tests.support.configs import write_config

    return load_config(write_config(Path(tempfile.mkdtemp(prefix="bench-"))), environ={})


def _op_validate(data: bytes) -> None:
    from mailbot.services.validation import validate_bytes

    result = validate_bytes(_CONFIG, data, dependencia="HAC", vigencia=2027)
    assert result.parsed is not None


def _op_read(data: bytes) -> None:
    from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook

    assert not hasattr(read_workbook(data, ReaderLimits.from_config(_CONFIG.limits)), "code")


def _op_openpyxl(data: bytes) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    for sheet in workbook.worksheets:
        for _row in sheet.iter_rows(values_only=True):
            pass
    workbook.close()


def _op_calamine(data: bytes) -> None:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for name in workbook.sheet_names:
        workbook.get_sheet_by_name(name).to_python()


OPS: dict[str, Callable[[bytes], None]] = {
    "validate": _op_validate,
    "read": _op_read,
    "openpyxl_read_only": _op_openpyxl,
    "calamine": _op_calamine,
}
_CONFIG: Any = None


def _measure(op: str, path: str, repeat: int, queue: Any) -> None:
    global _CONFIG
    _CONFIG = _config()
    import openpyxl  # noqa: F401 - imports belong to the baseline, not to the figure
    import python_calamine  # noqa: F401

    import mailbot.services.validation  # noqa: F401

    data = Path(path).read_bytes()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times, cpu_times = [], []
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        OPS[op](data)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()  # one more run, traced: the Python heap's own peak (tracing slows it: not timed)
    OPS[op](data)
    heap_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    queue.put(
        {
            "seconds": statistics.median(times),
            "cpu_seconds": statistics.median(cpu_times),
            "peak_mb": peak / 1024,
            "over_baseline_mb": (peak - baseline) / 1024,
            "heap_peak_mb": heap_peak / 2**20,
        }
    )


def _interleaved(path: str, repeat: int, queue: Any) -> None:
    """Every op timed in one process, in turns (validate, read, openpyxl, calamine, validate, …), so that a busy
    machine slows all of them alike; the figures are the medians of wall and CPU time per op."""
    global _CONFIG
    _CONFIG = _config()
    import openpyxl  # noqa: F401 - imports belong to the baseline, not to the figure
    import python_calamine  # noqa: F401

    import mailbot.services.validation  # noqa: F401

    data = Path(path).read_bytes()
    for op in OPS.values():  # one warm-up each: caches of the first call are not the steady state
        op(data)
    wall: dict[str, list[float]] = {op: [] for op in OPS}
    cpu: dict[str, list[float]] = {op: [] for op in OPS}
    for _ in range(repeat):
        for name, op in OPS.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            op(data)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - cpu_start)
    queue.put(
        {name: {"seconds": statistics.median(wall[name]), "cpu_seconds": statistics.median(cpu[name])} for name in OPS}
    )


_LAUNCHER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kb": peak, "exit": done.returncode, "out": done.stdout.decode()}))
"""


def cli_validate(path: Path, config: Path) -> dict[str, Any]:
    """`mailbot validate FILE` as planeación runs it: wall time, exit status and that process's peak RSS.

    A tiny launcher process starts it, because a child forked from this (large) process would count our
    memory as its own peak.
    """
    command = [sys.executable, "-m", "mailbot", "--config", str(config), "validate", str(path), "--json"]
    launched = subprocess.run([sys.executable, "-c", _LAUNCHER, *command], capture_output=True, check=True)
    figures = json.loads(launched.stdout)
    codes = {f["code"] for f in json.loads(figures["out"])["findings"]}
    return {
        "seconds": figures["seconds"],
        "peak_mb": figures["peak_kb"] / 1024,
        "exit": figures["exit"],
        "f01": "F01" in codes,
    }


def run_isolated(target: Callable[..., None], *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result: dict[str, Any] = queue.get(timeout=600)
    process.join(60)
    return result


def build_plans(sizes: list[int], folder: Path) -> dict[int, Path]:
    from tests.support.plans import make_plan

    config = _config()
    paths = {}
    for n in sizes:
        path = folder / f"plan-{n}.xlsx"
        path.write_bytes(make_plan(config, "HAC", n))
        paths[n] = path
    return paths


def build_hostile(folder: Path, names: list[str] | None = None) -> dict[str, Path]:
    from tests.support import hostile

    files = hostile.all_files()
    unknown = sorted(set(names or ()) - set(files))
    if unknown:
        raise SystemExit(f"unknown hostile file(s) {unknown}; known: {sorted(files)}")
    paths = {}
    for name, data in files.items():
        if names is not None and name not in names:
            continue
        path = folder / name
        path.write_bytes(data)
        paths[name] = path
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-hostile", action="store_true")
    parser.add_argument(
        "--hostile", nargs="+", default=None, metavar="NAME", help="only these hostile files (default: every one)"
    )
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures as JSON here.")
    args = parser.parse_args()

    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {multiprocessing.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "plans": [],
        "hostile": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp:
        folder = Path(tmp)
        for n, path in build_plans(args.sizes, folder).items():
            row: dict[str, Any] = {"metas": n, "bytes": path.stat().st_size}
            for op in ("validate", "read", "openpyxl_read_only", "calamine"):
                row[op] = run_isolated(_measure, op, str(path), args.repeat)  # memory, each op on its own
            timed: Any = run_isolated(_interleaved, str(path), args.repeat)
            for op, figures in timed.items():
                row[op].update(figures)  # times and ratios from the interleaved run
            report["plans"].append(row)
        if not args.no_hostile:
            from tests.support.configs import write_config

            config = write_config(folder)
            for name, path in build_hostile(folder, args.hostile).items():
                figures = cli_validate(path, config)
                report["hostile"].append({"file": name, "bytes": path.stat().st_size, **figures})

    print(render(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


def _ratio(a: dict[str, float], b: dict[str, float]) -> float:
    return a.get("cpu_seconds", a["seconds"]) / b.get("cpu_seconds", b["seconds"])


def render(report: dict[str, Any]) -> str:
    lines = [f"machine: {report['machine']}; date: {report['date']}", ""]
    lines.append(
        "| metas | file | validate (s) | of which reading (s) | validate heap peak (MB) "
        "| validate RSS over baseline (MB) | openpyxl read_only load (s) | openpyxl heap peak (MB) "
        "| python-calamine load (s) | validate / openpyxl | validate / calamine |"
    )
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in report["plans"]:
        v, r, o, c = row["validate"], row["read"], row["openpyxl_read_only"], row["calamine"]
        lines.append(
            f"| {row['metas']} | {row['bytes'] / 1024:.0f} KB | {v['seconds']:.3f} | {r['seconds']:.3f} "
            f"| {v['heap_peak_mb']:.1f} | {v['over_baseline_mb']:.1f} | {o['seconds']:.3f} | {o['heap_peak_mb']:.1f} "
            f"| {c['seconds']:.4f} | {_ratio(v, o):.2f}× | {_ratio(v, c):.1f}× |"
        )
    if report["hostile"]:
        lines += [
            "",
            "`mailbot validate FILE` on each hostile file (a whole process: start-up, imports, reading, output):",
            "",
            "| hostile file | size | exit | F01 | wall time (s) | process peak RSS (MB) |",
            "|---|---:|---:|---|---:|---:|",
        ]
        for row in report["hostile"]:
            lines.append(
                f"| {row['file']} | {row['bytes'] / 1024:.0f} KB | {row['exit']} | {'yes' if row['f01'] else 'NO'} "
                f"| {row['seconds']:.2f} | {row['peak_mb']:.0f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
