"""Reply latency, backlog throughput, poll cost and memory, against the real Dovecot and Postfix, in one run.

    python benchmarks/bench_mail.py --json benchmarks/results/mail.json         # the full run (about 10 minutes)
    python benchmarks/bench_mail.py --quick                                       # a smoke run (CI)

Needs root and Debian's dovecot-imapd, dovecot-lmtpd and postfix (`bash .ci/install-mailservers.sh`): it starts
them on loopback with the test suite's fixture (tests/support/mailservers.py) and stops them at the end.

- latency: a reply is delivered into planeación's mailbox over LMTP (its 250 is the moment of delivery); the
  answer "lands" when the secretario's INBOX shows it (checked every 50 ms with STATUS). `mailbot run` runs as a
  subprocess, with IDLE (poll interval 10 minutes, so only IDLE can be fast) and with polling at the default
  interval (60 s). The floor is Dovecot's own delay between a delivery and the IDLE notification, measured here.
- backlog: N replies carrying distinct plans are waiting when `mailbot poll --once` starts; the figure is the
  time until it exits with every answer handed to Postfix, and its peak RSS (a small launcher process runs it, so
  that the peak is its own).
- poll cost: one pass with nothing new over a folder of 0 and of 100,000 old messages: wall time and the number of
  IMAP commands, as a ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from mailbot.adapters.db.models import OutboxMail  # noqa: E402
from mailbot.adapters.imap import ImapMailbox  # noqa: E402
from mailbot.app import App  # noqa: E402
from mailbot.config import load_config  # noqa: E402
from mailbot.domain.context import AvailableBudget  # noqa: E402
from mailbot.services import campaign, outbox, setup  # noqa: E402
from mailbot.services.inbox import InboxProcessor  # noqa: E402
from mailbot.services.sample_plans import fill_plan, valid_metas  # noqa: E402
from tests.support.configs import SERVER_DEPENDENCIAS, server_config  # noqa: E402
from tests.support.mailservers import MailServers  # noqa: E402
from tests.support.replies import parse, reply, workbook_of  # noqa: E402

PLANEACION = "planeacion@municipio.test"
VIGENCIA = 2027
NO_LIMIT = {"limits": {"auto_mails_per_address_per_day": 1_000_000}}
MEASURES = ("latency", "poll", "backlog", "corrections", "big", "large", "cost")


# ------------------------------------------------------------------------------------------------ set-up


def fresh_app(servers: MailServers, changes: dict[str, Any], codes: list[str]) -> tuple[App, Path, dict[str, bytes]]:
    """A new database and archive, the mailings of `codes` sent; returns the app, its config and each mailing."""
    servers.clear_mailboxes()
    folder = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    path = server_config(folder, servers, {**NO_LIMIT, **changes})
    app = App(load_config(path, environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, VIGENCIA, only=codes)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    mailings = {code: servers.wait_for(SERVER_DEPENDENCIAS[code], count=1, timeout=30)[0] for code in codes}
    servers.clear_mailboxes()  # answers are then counted from zero
    return app, path, mailings


def filled_workbook(app: App, mailing_raw: bytes, code: str, metas: int, *, spoil: bool = False) -> bytes:
    """A valid plan of `metas` metas; `spoil`: with one error (a unit of measure off the list), for a correction."""
    dep = app.config.dependencia(code)
    budget = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
    rows = valid_metas(metas, budget, dependencia=code)
    if spoil:
        rows[0]["unit"] = "Galones"
    return fill_plan(workbook_of(parse(mailing_raw)), rows)


def used_codes(replies: int) -> list[str]:
    """The dependencias that `replies` replies come from, in turn: all four, or fewer for a smoke run of fewer
    replies (a mailing and a workbook nobody answers would only cost time)."""
    return list(SERVER_DEPENDENCIAS)[: max(1, min(replies, len(SERVER_DEPENDENCIAS)))]


def plan_reply(mailing_raw: bytes, code: str, workbook: bytes, salt: int) -> bytes:
    files = [("Plan.xlsx", with_salt(workbook, salt))]
    return reply(parse(mailing_raw), sender=SERVER_DEPENDENCIAS[code], attachments=files)


def with_salt(xlsx: bytes, salt: int) -> bytes:
    """The same workbook, different bytes: a zip comment (so each reply is a new file, not a duplicate)."""
    comment = f"bench-{salt}".encode()
    assert xlsx[-22:-18] == b"PK\x05\x06", "expected a zip without a comment"
    assert xlsx[-2:] == b"\x00\x00", "expected a zip without a comment"
    return xlsx[:-2] + len(comment).to_bytes(2, "little") + comment


def lmtp_deliver(servers: MailServers, messages: list[bytes], to: str = PLANEACION) -> list[float]:
    """Deliver straight into Dovecot; returns the moment of each delivery (its LMTP 250)."""
    moments = []
    with smtplib.LMTP(servers.lmtp) as lmtp:
        for raw in messages:
            lmtp.sendmail("bench@municipio.test", [to], raw)
            moments.append(time.monotonic())
    return moments


def count(servers: MailServers, user: str) -> int:
    with servers.mailbox(user) as box:
        return int(box.folder.status("INBOX", ["MESSAGES"])["MESSAGES"])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def daemon(path: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mailbot", "--config", str(path), "--log-format", "json", "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.5)  # started, first pass done, waiting
    return process


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


# ------------------------------------------------------------------------------------------------ measurements


def idle_floor(servers: MailServers, n: int) -> list[float]:
    """Dovecot's delay between a delivery (LMTP 250) and the IDLE notification to a waiting client."""
    app, _, _ = fresh_app(servers, {}, used_codes(1))
    delays = []
    with ImapMailbox(app.config.imap) as box:
        box.select("INBOX")
        for i in range(n):
            done = threading.Event()
            moment: list[float] = []

            thread = threading.Thread(target=_deliver_later, args=(servers, i, moment, done))
            thread.start()
            assert box.wait_for_new("INBOX", timeout=20)
            notified = time.monotonic()
            thread.join()
            delays.append(notified - moment[0])
    return delays


def _deliver_later(servers: MailServers, i: int, moment: list[float], done: threading.Event) -> None:
    time.sleep(0.3)
    moment.extend(lmtp_deliver(servers, [f"Subject: floor {i}\r\n\r\nx\r\n".encode()]))
    done.set()


def latency(servers: MailServers, n: int, *, idle: bool, spacing: float, poll_interval: int = 60) -> list[float]:
    changes = {"imap": {"idle": idle, "poll_interval": 600 if idle else poll_interval}}
    codes = used_codes(n)
    app, path, mailings = fresh_app(servers, changes, codes)
    workbooks = {code: filled_workbook(app, mailings[code], code, 40) for code in codes}
    replies = [plan_reply(mailings[c], c, workbooks[c], i) for i, c in ((i, codes[i % len(codes)]) for i in range(n))]
    process = daemon(path)
    latencies: list[float] = []
    try:
        pending: list[tuple[str, int, float]] = []  # (mailbox, answers expected, delivered at)
        answered: dict[str, int] = dict.fromkeys(SERVER_DEPENDENCIAS.values(), 0)
        next_send = time.monotonic()
        sent = 0
        while sent < n or pending:
            now = time.monotonic()
            if sent < n and now >= next_send:
                code = codes[sent % len(codes)]
                (moment,) = lmtp_deliver(servers, [replies[sent]])
                address = SERVER_DEPENDENCIAS[code]
                answered[address] += 1
                pending.append((address, answered[address], moment))
                sent += 1
                next_send = now + (random.uniform(0, 2 * spacing) if spacing else 0)
                if not spacing:  # sequential: wait for this answer before the next reply
                    next_send = float("inf")
            for item in list(pending):
                address, expected, moment = item
                if count(servers, address) >= expected:
                    latencies.append(time.monotonic() - moment)
                    pending.remove(item)
                    if not spacing:
                        next_send = time.monotonic()
            if time.monotonic() - now > 600:
                raise TimeoutError("no answer in 10 minutes")
            time.sleep(0.05)
    finally:
        stop(process)
    return latencies


_LAUNCHER = """
import json, os, resource, subprocess, sys, tempfile, time
def busy():
    fields = [int(f) for f in open("/proc/stat").readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
def tree(pid):
    found = [pid]
    for tid in os.listdir(f"/proc/{pid}/task"):
        for child in open(f"/proc/{pid}/task/{tid}/children").read().split():
            found += tree(int(child))
    return found
def status(pid):
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
def cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
machine = busy()
start = time.perf_counter()
out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")  # pipes unread while sampling would fill
process = subprocess.Popen(sys.argv[1:], stdout=out, stderr=err, text=True)
# The process tree's memory (mailbot and any process it starts), sampled every 20 ms: the sum of their RSS at one
# moment, and each one's own peak (VmHWM). RUSAGE_CHILDREN's ru_maxrss is only the largest single process.
summed, peaks, cpus = 0, {}, {}
command = open(f"/proc/{process.pid}/cmdline").read()
while process.poll() is None:
    total = 0
    try:
        for pid in tree(process.pid):
            if pid != process.pid and open(f"/proc/{pid}/cmdline").read() == command:
                continue  # forked, not yet exec'd: its RSS is mailbot's pages, shared, not memory of its own
            rss, hwm = status(pid)
            total += rss
            peaks[pid] = max(peaks.get(pid, 0), hwm)
            cpus[pid] = cpu(pid)  # each process's own CPU time so far (the last sample before it exits)
    except (OSError, ValueError, KeyError):  # a process that exited between two reads: the next sample sees it
        pass
    summed = max(summed, total)
    time.sleep(0.02)
out.seek(0), err.seek(0)
out, err = out.read(), err.read()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
main = peaks.pop(process.pid, 0)
main_cpu = cpus.pop(process.pid, 0.0)
print(json.dumps({"seconds": time.perf_counter() - start, "largest_process_kb": usage.ru_maxrss,
                  "peak_kb": summed, "main_peak_kb": main, "helpers_peak_kb": max(peaks.values(), default=0),
                  "sum_of_peaks_kb": main + sum(peaks.values()),
                  "main_cpu_seconds": main_cpu, "helpers_cpu_seconds": sum(cpus.values()),
                  "cpu_seconds": usage.ru_utime + usage.ru_stime, "machine_cpu_seconds": busy() - machine,
                  "exit": process.returncode, "out": out, "err": err[-2000:]}))
"""


def backlog(servers: MailServers, n: int, metas: int, *, corrections: bool = False) -> dict[str, Any]:
    """`poll --once` over n waiting replies; with `corrections` every other plan has an error (a correction with
    its annotated copy). The clock stops when the process exits, which is after every answer was handed to
    Postfix: checked below from the outbox, so that a pass leaving answers pending could not look fast."""
    codes = used_codes(n)
    app, path, mailings = fresh_app(servers, {}, codes)
    workbooks = {code: filled_workbook(app, mailings[code], code, metas) for code in codes}
    spoiled = (
        {code: filled_workbook(app, mailings[code], code, metas, spoil=True) for code in codes} if corrections else {}
    )
    messages = [
        plan_reply(mailings[c], c, (spoiled if corrections and i % 2 else workbooks)[c], i)
        for i, c in ((i, codes[i % len(codes)]) for i in range(n))
    ]
    lmtp_deliver(servers, messages)
    figures = poll_once(path)
    answered = sent_answers(app)
    assert answered == n, f"{answered} of {n} answers sent"
    assert outbox.waiting(app.sessions) == 0
    return {
        "replies": n,
        "metas": metas,
        "corrections": n // 2 if corrections else 0,
        "seconds": figures["seconds"],
        "plans_per_second": n / figures["seconds"],
        **memory(figures),
        "cpu_seconds": figures["cpu_seconds"],
        "main_cpu_seconds": figures["main_cpu_seconds"],  # mailbot's own process
        "helper_cpu_seconds": figures["helpers_cpu_seconds"],
        "machine_cpu_seconds": figures["machine_cpu_seconds"],
        "answers_sent": answered,
        "summary": figures["out"].strip(),
    }


def large_message(servers: MailServers, megabytes: int, others: int = 20) -> dict[str, Any]:
    """One reply carrying the plan and an annex of `megabytes` MB among `others` ordinary replies: the peak RSS of
    `poll --once`, and the outcome of the large one (over `limits.max_message_bytes`, 25 MB by default, it is
    archived whole and answered as too large)."""
    codes = used_codes(others)
    app, path, mailings = fresh_app(servers, {}, codes)
    workbook = filled_workbook(app, mailings[codes[0]], codes[0], 40)
    annex = random.Random(7).randbytes(megabytes * 2**20 * 3 // 4)  # base64 makes it `megabytes` MB
    files = [("Plan.xlsx", workbook), ("Anexo.pdf", annex)]
    heavy = reply(parse(mailings[codes[0]]), sender=SERVER_DEPENDENCIAS[codes[0]], attachments=files)
    del annex, files
    normal = [plan_reply(mailings[c], c, workbook, i) for i, c in ((i, codes[i % len(codes)]) for i in range(others))]
    lmtp_deliver(servers, [heavy, *normal])
    size = len(heavy)
    del heavy, normal
    figures = poll_once(path)
    assert sent_answers(app) == others + 1
    assert outbox.waiting(app.sessions) == 0
    return {
        "message_mb": round(size / 2**20, 1),
        "others": others,
        "seconds": figures["seconds"],
        **memory(figures),
        "summary": figures["out"].strip(),
    }


def poll_once(path: Path) -> dict[str, Any]:
    """`mailbot poll --once` under a small launcher, so that the peak RSS measured is that process's own."""
    command = [sys.executable, "-m", "mailbot", "--config", str(path), "--log-format", "json", "poll", "--once"]
    if os.environ.get("BENCH_PROFILE"):  # a cProfile of the run, for finding what to cut (not for the figures)
        command[1:1] = ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]]
    if os.environ.get("BENCH_PYSPY"):  # a sampling profile (py-spy, installed apart): true shares, no call overhead
        command[:0] = ["py-spy", "record", "--rate", "200", "--format", "raw", "-o", os.environ["BENCH_PYSPY"], "--"]
    launched = subprocess.run([sys.executable, "-c", _LAUNCHER, *command], capture_output=True, text=True, check=True)
    figures: dict[str, Any] = json.loads(launched.stdout)
    assert figures["exit"] == 0, figures["err"]
    return figures


def memory(figures: dict[str, Any]) -> dict[str, float]:
    """`peak_rss_mb`: the highest sum of the RSS of `poll --once` and any process it started, seen at one moment
    (what the machine must hold), and never below mailbot's own peak (the kernel's VmHWM: a sample every 20 ms can
    miss a spike); each one's own peak beside it (their sum is an upper bound)."""
    return {
        "peak_rss_mb": max(figures["peak_kb"], figures["main_peak_kb"]) / 1024,
        "main_peak_rss_mb": figures["main_peak_kb"] / 1024,
        "helper_peak_rss_mb": figures["helpers_peak_kb"] / 1024,
        "sum_of_peaks_mb": figures["sum_of_peaks_kb"] / 1024,
    }


def sent_answers(app: App) -> int:
    """Answers handed to Postfix (the outbox rows of received messages that are `sent`)."""
    with app.sessions() as session:
        return int(
            session.scalar(
                select(func.count(OutboxMail.id)).where(
                    OutboxMail.received_message_id.is_not(None), OutboxMail.status == outbox.SENT
                )
            )
            or 0
        )


def fill_old_messages(servers: MailServers, n: int) -> None:
    """n old messages straight into planeación's Maildir (an APPEND each would take minutes), owned by `mail`."""
    local, domain = PLANEACION.split("@")
    maildir = servers.root / "mail" / domain / local / "Maildir"
    cur = maildir / "cur"
    cur.mkdir(parents=True, exist_ok=True)
    stamp = int(time.time())
    for i in range(n):
        (cur / f"{stamp}.M{i}P1.bench:2,S").write_bytes(
            f"From: old@municipio.test\r\nSubject: old {i}\r\nMessage-ID: <old{i}@bench>\r\n\r\nold\r\n".encode()
        )
    shutil.chown(maildir, "mail", "mail")
    for path in maildir.rglob("*"):
        shutil.chown(path, "mail", "mail")


def poll_cost(servers: MailServers, old: int) -> dict[str, dict[str, float]]:
    out = {}
    for size in (0, old):
        app, _, _ = fresh_app(servers, {}, used_codes(1))
        if size:
            fill_old_messages(servers, size)
        processor = InboxProcessor(app)
        with ImapMailbox(app.config.imap) as box:
            state = box.select("INBOX")  # the first SELECT indexes the folder: not part of a poll
            processor.checkpoint(state)  # the old messages count as processed: only new ones would be read
            processor.advance(state.uidvalidity, max(state.uidnext - 1, 0))
            times, commands = [], []
            for _ in range(20):
                before = box.commands_sent
                start = time.perf_counter()
                report = processor.run_pass(box)
                times.append(time.perf_counter() - start)
                commands.append(box.commands_sent - before)
                assert report.fetched == 0
        out[str(size)] = {
            "seconds": statistics.median(times),
            "commands": statistics.median(commands),
            "messages": size,
        }
    return out


# ------------------------------------------------------------------------------------------------ report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: a few replies of each kind")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--only", nargs="+", choices=MEASURES, default=list(MEASURES), help="run these measures only (default: all)"
    )
    parser.add_argument("--backlog", type=int, default=None, help="replies in the backlogs (default 1000)")
    parser.add_argument("--large-mb", type=int, nargs="+", default=None, help="sizes of the large replies (MB)")
    args = parser.parse_args()
    sizes = (
        {
            "floor": 2,
            "idle": 2,
            "poll": 1,
            "interval": 5,
            "backlog": 2,
            "metas": 40,
            "big": 1,
            "big_metas": 200,
            "old": 200,
            "large_mb": [3],
            "others": 3,
        }
        if args.quick
        else {
            "floor": 20,
            "idle": 50,
            "poll": 20,
            "interval": 60,
            "backlog": 1000,
            "metas": 40,
            "big": 100,
            "big_metas": 1000,
            "old": 100_000,
            "large_mb": [20, 50, 70],
            "others": 20,
        }
    )
    if args.backlog:
        sizes["backlog"] = args.backlog
    if args.large_mb:
        sizes["large_mb"] = args.large_mb
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
        "sizes": sizes,
    }
    reason = MailServers.available()
    if reason:
        raise SystemExit(f"cannot run: {reason}")
    with MailServers() as servers:
        only = set(args.only)
        if "latency" in only:
            report["floor"] = idle_floor(servers, sizes["floor"])
            report["idle"] = latency(servers, sizes["idle"], idle=True, spacing=0)
        if "poll" in only:
            spacing = 6 if sizes["poll"] > 1 else 0  # one reply alone needs no gaps between replies
            report["poll"] = latency(
                servers, sizes["poll"], idle=False, spacing=spacing, poll_interval=sizes["interval"]
            )
        if "backlog" in only:
            report["backlog"] = backlog(servers, sizes["backlog"], sizes["metas"])
        if "corrections" in only:
            report["corrections"] = backlog(servers, sizes["backlog"], sizes["metas"], corrections=True)
        if "big" in only:
            report["backlog_big"] = backlog(servers, sizes["big"], sizes["big_metas"])
        if "large" in only:
            report["large"] = [large_message(servers, mb, sizes["others"]) for mb in sizes["large_mb"]]
        if "cost" in only:
            report["poll_cost"] = poll_cost(servers, sizes["old"])
    print(render(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


def render(r: dict[str, Any]) -> str:
    def lat(values: list[float]) -> str:
        return f"p50 {percentile(values, 0.5):.2f} s, p95 {percentile(values, 0.95):.2f} s (n={len(values)})"

    def rss(b: dict[str, Any]) -> str:
        if not b.get("helper_peak_rss_mb"):
            return f"peak RSS {b['peak_rss_mb']:.0f} MB"
        return (
            f"peak RSS {b['peak_rss_mb']:.0f} MB together (mailbot {b['main_peak_rss_mb']:.0f} MB, its largest "
            f"child {b['helper_peak_rss_mb']:.0f} MB)"
        )

    def pile(b: dict[str, Any]) -> str:
        helper = f" ({b['helper_cpu_seconds']:.0f} s of it in children)" if b.get("helper_cpu_seconds") else ""
        return (
            f"{b['seconds']:.1f} s, {b['plans_per_second']:.2f} plans/s, {rss(b)}, "
            f"CPU {b['cpu_seconds']:.0f} s mailbot{helper} / {b['machine_cpu_seconds']:.0f} s machine"
        )

    rows = []
    if "floor" in r:
        rows.append(("Dovecot's floor: delivery → IDLE notification", lat(r["floor"]), "—"))
    if "idle" in r:
        rows.append(("Reply latency with IDLE (poll interval 10 min)", lat(r["idle"]), "p50 ≤ 0.7 s, p95 ≤ 1.0 s"))
    if "poll" in r:
        interval = r["sizes"]["interval"]
        rows.append((f"Reply latency polling every {interval} s", lat(r["poll"]), "— (peers: 30 s to 10 min)"))
    for key, what in (("backlog", "all accepted"), ("corrections", "half corrections")):
        if key in r:
            b = r[key]
            name = f"Backlog: {b['replies']} replies × {b['metas']} metas, {what}, until every answer is sent"
            rows.append((name, pile(b), "< 60 s, < 150 MB"))
    if "backlog_big" in r:
        b = r["backlog_big"]
        rows.append((f"Backlog: {b['replies']} replies × {b['metas']} metas", pile(b), "≤ 250 MB"))
    for large in r.get("large", []):
        rows.append(
            (
                f"A {large['message_mb']:.0f} MB reply among {large['others']} others (`poll --once`)",
                f"{large['seconds']:.1f} s, {rss(large)}",
                "< 150 MB",
            )
        )
    if "poll_cost" in r:
        small, big = r["poll_cost"]["0"], r["poll_cost"][str(r["sizes"]["old"])]
        rows.append(
            (
                f"Poll with nothing new: 0 vs {big['messages']:,} old messages",
                f"{small['seconds'] * 1000:.1f} ms / {big['seconds'] * 1000:.1f} ms, {small['commands']:.0f} / "
                f"{big['commands']:.0f} commands, ratio {big['seconds'] / small['seconds']:.2f}",
                "ratio ≤ 1.2",
            )
        )
    lines = [f"machine: {r['machine']}; date: {r['date']}", "", "| measure | result | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
