"""Issue 9, item 5: hostile mail appended to planeación's INBOX; each gets an outcome, none crashes the pass,
the archive names nothing after the sender, and memory stays bounded (a sanity bound, not a benchmark)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.adapters.db.models import Attachment, OutboxMail, ReceivedMessage
from tests.integration.test_daemon import prepared
from tests.integration.test_inbox_cycle import mailing_of
from tests.support import hostile
from tests.support.configs import SERVER_DEPENDENCIAS
from tests.support.mailservers import MailServers
from tests.support.replies import XLSX, reply

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

PLANEACION = "planeacion@municipio.test"
OUTSIDER = "outsider@externo.test"
HAC = SERVER_DEPENDENCIAS["HAC"]
MEMORY_BOUND_KB = 1024 * 1024  # 1 GB: catches a blow-up (a copy per part, a parse of 50 MB per level), not a tuning
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" * 64


def headers(sender: str, subject: str, extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: {PLANEACION}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{abs(hash(subject))}.{subject[:10].replace(' ', '-')}@externo.test>\r\n"
        f"Date: Mon, 04 Jan 2027 10:00:00 -0500\r\nMIME-Version: 1.0\r\n{extra}"
    ).encode()


def with_files(sender: str, subject: str, files: list[tuple[str, bytes]], original: object = None) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"], message["To"], message["Subject"] = sender, PLANEACION, subject
    message["Message-ID"] = f"<{abs(hash(subject))}@hostil.test>"
    if original is not None:
        message["In-Reply-To"] = message["References"] = str(original["Message-ID"])  # type: ignore[index]
    message.set_content("Adjunto.")
    for name, data in files:
        message.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=name)
    return message.as_bytes()


def nested(depth: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nhondo\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (
            b"Content-Type: multipart/mixed; boundary="
            + boundary
            + b"\r\n\r\n--"
            + boundary
            + b"\r\n"
            + body
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    return headers(OUTSIDER, "cien niveles") + body


def hostile_messages(hac: object) -> dict[str, bytes]:
    huge = os.urandom(50 * 2**20)
    return {
        "attachment_50mb": with_files(OUTSIDER, "grande", [("Plan.xlsx", huge)]),
        "attachments_200": with_files(
            OUTSIDER, "doscientos", [(f"a{i}.xlsx", bytes([i % 256]) * 64) for i in range(200)]
        ),
        "nested_100": nested(100),
        "header_line_1mb": headers(OUTSIDER, "cabecera", "X-Relleno: " + "x" * 2**20 + "\r\n")
        + b"Content-Type: text/plain\r\n\r\nhola\r\n",
        "subject_1mb": headers(OUTSIDER, "=?utf-8?b?" + "QUFB" * (2**18) + "?=")
        + b"Content-Type: text/plain\r\n\r\nhola\r\n",
        "invalid_charsets": headers(
            OUTSIDER,
            "=?x-no-such-charset?B?w7Fvw7Fv?= =?utf-8?q?=FF=FE?=",
            "Content-Type: multipart/mixed; boundary=z\r\n",
        )
        + b"\r\n--z\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n\xff\xfe\xc3(\r\n"
        b"--z\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;"
        b" filename*=x-bogus''%FF%FE.xlsx\r\nContent-Transfer-Encoding: base64\r\n\r\n!!notbase64!!\r\n--z--\r\n",
        "traversal_name": with_files(
            HAC, "nombre peligroso", [("PLACEHOLDER.xlsx", hostile.minimal_xlsx())], hac
        ).replace(
            b'filename="PLACEHOLDER.xlsx"', b"filename*=utf-8''..%2F..%2F..%2Fetc%2Fpasswd%0D%0A%00%1B%5B31m.xlsx"
        ),
        "exe_named_xlsx": with_files(HAC, "ejecutable", [("Plan de accion.xlsx", EXECUTABLE)], hac),
        "zip_bomb": with_files(HAC, "bomba", [("Plan.xlsx", hostile.zip_bomb(2))], hac),
        "reply_chain_junk": reply(None, sender=OUTSIDER, body="\x00" * 1000, headers={"References": "<a@b> " * 5000}),
    }


def poll_measured(config: Path, log: Path) -> tuple[int, int]:
    """`mailbot poll --once` in a child process: (exit status, peak RSS in KB from the kernel's rusage)."""
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "mailbot", "--config", str(config), "--log-format", "json", "poll", "--once"],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
    return process.returncode, usage.ru_maxrss


@pytest.mark.slow
def test_hostile_messages_each_get_an_outcome_with_sender_free_archive_names_and_bounded_memory(
    tmp_path: Path, mail: MailServers
) -> None:
    app, config = prepared(tmp_path, mail)
    messages = hostile_messages(mailing_of(mail, "HAC"))
    with mail.mailbox(PLANEACION) as box:
        for raw in messages.values():
            box.append(raw, "INBOX")
        assert len(list(box.uids())) == len(messages)
    del messages

    status, peak_kb = poll_measured(config, tmp_path / "poll.log")
    logs = (tmp_path / "poll.log").read_text(errors="replace")
    assert status == 0, logs[-3000:]
    assert peak_kb < MEMORY_BOUND_KB, f"peak RSS {peak_kb} KB"

    with app.sessions() as session:
        rows = list(session.scalars(select(ReceivedMessage)))
        outcomes = {r.subject[:20]: (r.outcome, r.reason) for r in rows}
        assert len(rows) == 10, outcomes
        assert all(r.outcome is not None for r in rows), outcomes
        assert [r.reason for r in rows if r.outcome == "error"] == [], outcomes
        by_subject = {r.subject: r for r in rows}
        for subject in ("nombre peligroso", "ejecutable", "bomba"):
            assert by_subject[subject].outcome == "correction_requested", outcomes  # a polite F01, never accepted
        assert not any(r.outcome == "accepted" for r in rows)
        names = [a.filename for a in session.scalars(select(Attachment))]
        assert len(names) >= 200
        answered = {m.recipients[0] for m in session.scalars(select(OutboxMail)) if m.received_message_id}
        assert OUTSIDER not in answered

    archive = app.config.storage.archive_dir
    allowed = re.compile(
        r"(recibidos/\d{4}-\d{2}/[0-9a-f]{64}\.eml|adjuntos/[0-9a-f]{2}/[0-9a-f]{64}\.[A-Za-z0-9_-]+|"
        r"planes/\d{4}/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/v\d{2}-[a-z_]+-[0-9a-f]{12}\.xlsx|\.mailbot\.lock)"
    )
    files = [p.relative_to(archive).as_posix() for p in archive.rglob("*") if p.is_file()]
    assert files
    assert [f for f in files if not allowed.fullmatch(f)] == []
    assert not any("passwd" in f or ".." in f for f in files)
    with mail.mailbox(PLANEACION) as box:
        assert list(box.uids()) == [], "every message decided and moved out of INBOX"
