"""Sending the formats through the real Postfix into the real Dovecot: once each, whatever happens."""

from __future__ import annotations

import datetime as dt
import email
import json
import threading
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mailbot.adapters.db.models import Mailing, OutboxMail
from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook
from mailbot.app import App
from mailbot.cli import cli
from mailbot.config import load_config
from mailbot.domain import control
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.services import campaign, outbox, setup
from tests.support.configs import SERVER_DEPENDENCIAS, TEST_SECRET, server_config
from tests.support.mailservers import MailServers

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

VIGENCIA = 2027


def make_app(folder: Path, servers: MailServers, changes: dict[str, object] | None = None) -> App:
    app = App(load_config(server_config(folder, servers, changes), environ={}))
    setup.upgrade_storage(app)
    return app


@pytest.fixture
def app(tmp_path: Path, mail: MailServers) -> App:
    return make_app(tmp_path, mail)


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def workbook_of(message: EmailMessage) -> tuple[str, bytes]:
    (attachment,) = list(message.iter_attachments())
    data = attachment.get_content()
    assert isinstance(data, bytes)
    return str(attachment.get_filename()), data


def settle(servers: MailServers, user: str, count: int) -> list[bytes]:
    """Every message of `user` once nothing more can arrive: call it after the sending command or flush returned.

    Wait for `count` messages, then for Postfix's queue to be empty: every mail that was handed over is delivered
    by then, so the list is final and a duplicate would be in it (tests/support/settle.py).
    """
    servers.wait_for(user, count=count, timeout=30)
    servers.wait_until_delivered()
    return servers.wait_for(user, count=count, timeout=5)


def later(hours: float) -> outbox.Clock:
    return lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


def test_each_dependencia_receives_exactly_one_mail_with_its_workbook(app: App, mail: MailServers) -> None:
    report = campaign.start(app, VIGENCIA)
    assert sorted(report.queued) == sorted(SERVER_DEPENDENCIAS)
    flushed = outbox.flush(app.sessions, app.senders, app.clock.now)
    assert len(flushed.sent) == len(SERVER_DEPENDENCIAS)

    with app.sessions() as session:
        tokens = {m.dependencia.code: (m.token, m.message_id) for m in session.scalars(select(Mailing))}
        assert all(m.sent_at is not None for m in session.scalars(select(Mailing)))
    limits = ReaderLimits.from_config(app.config.limits)
    for code, address in SERVER_DEPENDENCIAS.items():
        (raw,) = settle(mail, address, 1)
        message = parse(raw)
        dep = app.config.dependencia(code)
        token, message_id = tokens[code]
        assert message["Subject"].startswith(f"[E-DE-F-010 {code} {VIGENCIA}] Formulación del plan de acción")
        assert message["Message-ID"].strip("<>") == message_id
        assert message_id.endswith("@municipio.test")
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["X-Auto-Response-Suppress"] == "All"
        assert message["X-Mailbot-Loop"] == "planeacion@municipio.test"
        assert message["Reply-To"] == f"planeacion+{token}@municipio.test"
        raw_from = str(email.message_from_bytes(raw)["From"])  # RFC 2047 words, decoded as mail clients do
        assert str(make_header(decode_header(raw_from))).startswith(app.config.smtp.from_name)
        filename, data = workbook_of(message)
        assert filename == f"E-DE-F-010 Plan de acción {VIGENCIA} – {dep.name}.xlsx"
        parsed = read_workbook(data, limits)
        assert isinstance(parsed, ParsedWorkbook)
        assert parsed.control is not None
        assert control.verify(parsed.control, TEST_SECRET)
        block = control.parse(parsed.control)
        assert block is not None
        assert (block.dependencia, block.vigencia, block.token) == (code, VIGENCIA, token)
        assert message.get_body(("plain",)) is not None
        assert message.get_body(("html",)) is not None

    again = campaign.start(app, VIGENCIA)
    assert again.queued == []
    assert sorted(again.already) == sorted(SERVER_DEPENDENCIAS)
    assert outbox.flush(app.sessions, app.senders, app.clock.now).sent == []
    for address in SERVER_DEPENDENCIAS.values():
        assert len(settle(mail, address, 1)) == 1


def test_a_dependencia_added_later_gets_its_mailing_on_the_next_run(app: App, mail: MailServers) -> None:
    assert campaign.start(app, VIGENCIA, only=["HAC"]).queued == ["HAC"]
    second = campaign.start(app, VIGENCIA)
    assert sorted(second.queued) == sorted(set(SERVER_DEPENDENCIAS) - {"HAC"})
    assert second.already == ["HAC"]
    outbox.flush(app.sessions, app.senders, app.clock.now)
    for address in SERVER_DEPENDENCIAS.values():
        assert len(settle(mail, address, 1)) == 1


def test_resend_keeps_the_token(app: App, mail: MailServers) -> None:
    campaign.start(app, VIGENCIA, only=["SAL"])
    outbox.flush(app.sessions, app.senders, app.clock.now)
    settle(mail, SERVER_DEPENDENCIAS["SAL"], 1)  # delivered before the resend leaves: the order below is theirs
    resent_id = campaign.resend(app, "SAL", VIGENCIA)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    first, second = (parse(raw) for raw in settle(mail, SERVER_DEPENDENCIAS["SAL"], 2))
    assert second["Message-ID"].strip("<>") == resent_id
    assert first["Message-ID"] != second["Message-ID"]
    limits = ReaderLimits.from_config(app.config.limits)
    blocks = []
    for message in (first, second):
        parsed = read_workbook(workbook_of(message)[1], limits)
        assert isinstance(parsed, ParsedWorkbook)
        assert parsed.control is not None
        blocks.append(control.parse(parsed.control))
    assert blocks[0] == blocks[1]


def test_postfix_stopped_mid_batch_then_every_mail_delivered_once(app: App, mail: MailServers) -> None:
    campaign.start(app, VIGENCIA)

    def stop_after_first(row_id: int) -> None:
        if not stopped.is_set():
            stopped.set()
            # Let the first mail reach its mailbox before stopping: a Postfix killed between its LMTP delivery
            # and its own bookkeeping delivers again on restart (the MTA's at-least-once, not ours).
            with app.sessions() as session:
                (address,) = session.get_one(OutboxMail, row_id).recipients
            mail.wait_for(address, count=1, timeout=30)
            mail.stop_postfix()

    stopped = threading.Event()
    try:
        first = outbox.flush(app.sessions, app.senders, app.clock.now, on_sent=stop_after_first)
        assert len(first.sent) == 1
        assert first.retrying, "the mail after the outage must be kept for a retry"
        with app.sessions() as session:
            statuses = sorted(session.scalars(select(OutboxMail.status)))
        assert "sending" not in statuses
        assert statuses.count("sent") == 1
        assert outbox.flush(app.sessions, app.senders, app.clock.now).sent == []  # backoff: not due yet
    finally:
        mail.start_postfix()
    rest = outbox.flush(app.sessions, app.senders, later(2))
    assert len(first.sent) + len(rest.sent) == len(SERVER_DEPENDENCIAS)
    for address in SERVER_DEPENDENCIAS.values():
        assert len(settle(mail, address, 1)) == 1


def test_refused_recipient_fails_its_row_and_the_others_are_delivered(tmp_path: Path, mail: MailServers) -> None:
    app = make_app(tmp_path, mail)
    config_path = server_config(
        tmp_path,
        mail,
        {
            "storage": {"database_url": app.config.storage.database_url},  # the same database, on any engine
            "dependencias": [
                *[d.model_dump(mode="json") for d in app.config.dependencias if d.code != "GOB"],
                {**app.config.dependencia("GOB").model_dump(mode="json"), "addresses": ["rechazado@municipio.test"]},
            ],
        },
    )
    app = App(load_config(config_path, environ={}))
    campaign.start(app, VIGENCIA)
    report = outbox.flush(app.sessions, app.senders, app.clock.now)
    assert len(report.sent) == 3
    assert len(report.failed) == 1
    with app.sessions() as session:
        failed = session.scalars(select(OutboxMail).where(OutboxMail.status == "failed")).one()
        assert failed.recipients == ["rechazado@municipio.test"]
        assert failed.recipient_results is not None
        assert failed.recipient_results["rechazado@municipio.test"]["code"] == 550
    for code in ("HAC", "EDU", "SAL"):
        assert len(settle(mail, SERVER_DEPENDENCIAS[code], 1)) == 1


def test_two_flushes_at_once_send_each_mail_once(app: App, mail: MailServers) -> None:
    campaign.start(app, VIGENCIA)
    reports: list[outbox.FlushReport] = []
    threads = [
        threading.Thread(target=lambda: reports.append(outbox.flush(app.sessions, app.senders, app.clock.now)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(i for r in reports for i in r.sent) == sorted(set(i for r in reports for i in r.sent))
    assert sum(len(r.sent) for r in reports) == len(SERVER_DEPENDENCIAS)
    for address in SERVER_DEPENDENCIAS.values():
        assert len(settle(mail, address, 1)) == 1


def test_dry_run_writes_one_parseable_eml_per_dependencia(tmp_path: Path, mail: MailServers) -> None:
    config_path = server_config(tmp_path, mail)
    out = tmp_path / "out"
    run = CliRunner().invoke(
        cli, ["--config", str(config_path), "campaign", "start", "formulacion", "--dry-run", str(out)]
    )
    assert run.exit_code == 0, run.output
    files = sorted(out.glob("*.eml"))
    assert [f.name.split("-")[0] for f in files] == sorted(SERVER_DEPENDENCIAS)
    limits = ReaderLimits.from_config(load_config(config_path, environ={}).limits)
    for path in files:
        message = parse(path.read_bytes())
        filename, data = workbook_of(message)
        assert filename.endswith(".xlsx")
        assert "acción" in filename
        assert isinstance(read_workbook(data, limits), ParsedWorkbook)
    assert not (tmp_path / "state" / "mailbot.db").exists() or _no_rows(config_path)
    mail.wait_until_delivered()  # the command returned: whatever it might have sent is delivered by now
    with mail.mailbox("hacienda@municipio.test") as box:
        assert len(list(box.fetch(mark_seen=False, headers_only=True))) == 0


def _no_rows(config_path: Path) -> bool:
    app = App(load_config(config_path, environ={}))
    with app.sessions() as session:
        return session.scalars(select(OutboxMail)).first() is None


def test_cli_campaign_start_sends_and_a_rerun_sends_nothing(tmp_path: Path, mail: MailServers) -> None:
    config_path = server_config(tmp_path, mail)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config_path), "db", "upgrade"]).exit_code == 0
    args = ["--config", str(config_path), "campaign", "start", "formulacion", "--vigencia", str(VIGENCIA)]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "4 mailing(s) queued" in first.stdout
    assert "4 sent" in first.stdout
    second = runner.invoke(cli, args)
    assert "0 mailing(s) queued" in second.stdout
    assert "0 sent" in second.stdout
    for address in SERVER_DEPENDENCIAS.values():
        assert len(settle(mail, address, 1)) == 1
    listing = runner.invoke(cli, ["--config", str(config_path), "outbox", "list", "--json"])
    assert listing.exit_code == 0
    assert {row["status"] for row in json.loads(listing.stdout)} == {"sent"}
