"""The services on the fakes of every port: a whole reply cycle in about a second, without any mail server.

`App` takes the fakes of tests/support/fakes.py through the same keywords that build the real adapters; the
database is SQLite in the test's folder (hence `storage`). The daemon's own `Watcher` runs the pass, so what is
exercised here is the production path from the composition root down; tests/contract/ keeps the fakes honest.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, select
from structlog.testing import capture_logs

from mailbot.adapters.db.models import OutboxMail, ReceivedMessage, Submission
from mailbot.adapters.smtp import Refusal
from mailbot.app import App
from mailbot.config import load_config
from mailbot.domain.context import AvailableBudget
from mailbot.errors import StorageError, TemporaryError
from mailbot.services import attention, campaign, metrics, outbox, setup
from mailbot.services.daemon import Watcher
from mailbot.services.inbox import PassReport, processor
from tests.support.configs import example_data, write_config
from tests.support.fakes import FakeMailbox, FakeMailServer, FakeSmtpServer, FixedClock, MemoryArchive
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of

pytestmark = pytest.mark.storage

VIGENCIA = 2027
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("America/Bogota"))
CODES = ("HAC", "EDU", "SAL")  # three of the example's twelve: each mailing builds a workbook, about 0.3 s


@dataclass
class World:
    app: App
    inbox: FakeMailServer
    smtp: FakeSmtpServer
    archive: MemoryArchive
    clock: FixedClock

    def address(self, code: str) -> str:
        return self.app.config.dependencia(code).addresses[0]

    def flush(self) -> outbox.FlushReport:
        return outbox.flush(self.app.sessions, self.app.senders, self.clock.now)

    def poll(self) -> PassReport:
        watcher = Watcher(self.app, threading.Event())
        try:
            return watcher.once()  # fetch, archive, decide, move, then flush the outbox
        finally:
            watcher.close()

    def plan_reply(self, code: str) -> bytes:
        """The dependencia answers its mailing with a correct plan."""
        mailing = parse(self.smtp.to(self.address(code))[0])
        dep = self.app.config.dependencia(code)
        budget = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
        plan = fill_plan(workbook_of(mailing), valid_metas(4, budget, dependencia=code))
        return reply(mailing, sender=self.address(code), attachments=[(f"Plan {code}.xlsx", plan)])

    def receive(self, raw: bytes) -> int:
        return self.inbox.deliver(raw, received=self.clock.now())


@pytest.fixture
def world(tmp_path: Path) -> World:
    """Formulación 2027 started and mailed to three dependencias (through the fake SMTP server)."""
    inbox, smtp, archive, clock = FakeMailServer(), FakeSmtpServer(), MemoryArchive(), FixedClock(START)
    dependencias = [d for d in example_data()["dependencias"] if d["code"] in CODES]
    config = load_config(write_config(tmp_path, {"dependencias": dependencias}), environ={})
    app = App(config, clock=clock, archive=archive, mailboxes=inbox.mailbox, senders=smtp.sender)
    setup.upgrade_storage(app)
    campaign.start(app, VIGENCIA)
    world = World(app, inbox, smtp, archive, clock)
    assert len(world.flush().sent) == len(config.dependencias)
    return world


def test_a_reply_is_archived_decided_answered_and_moved_in_one_pass(world: World) -> None:
    """A correct plan: archived by its SHA-256, accepted, the acceptance sent in reply, the message moved."""
    raw = world.plan_reply("HAC")
    uid = world.receive(raw)

    report = world.poll()

    assert report.fetched == 1
    assert dict(report.outcomes) == {"accepted": 1}
    _, acceptance = (parse(m) for m in world.smtp.to(world.address("HAC")))
    assert acceptance["In-Reply-To"] == parse(raw)["Message-ID"]
    assert f"PA-{VIGENCIA}-HAC-0001" in acceptance.get_body(("plain",)).get_content()
    assert uid not in world.inbox.uids("INBOX")
    assert len(world.inbox.uids(world.app.config.imap.outcome_folders.processed)) == 1
    (filed,) = world.archive.plans()
    assert filed.parts[:3] == ("planes", str(VIGENCIA), "HAC")
    assert world.archive.read(filed) == workbook_of(parse(raw))
    with world.app.sessions() as session:
        row = session.scalars(select(ReceivedMessage)).one()
        assert world.archive.read(row.raw_path) == raw


def test_each_decided_message_is_one_log_line_with_sender_dependencia_outcome_and_radicado(world: World) -> None:
    metrics.count()  # as a daemon with `metrics.listen` counts
    world.receive(world.plan_reply("HAC"))
    counted = REGISTRY.get_sample_value("mailbot_messages_decided_total", {"outcome": "accepted"}) or 0.0
    with capture_logs() as logs:
        assert dict(world.poll().outcomes) == {"accepted": 1}
    assert REGISTRY.get_sample_value("mailbot_messages_decided_total", {"outcome": "accepted"}) == counted + 1
    (line,) = [e for e in logs if e["event"] == "message_decided"]
    assert line["sender"] == world.address("HAC")
    assert (line["dependencia"], line["outcome"], line["radicado"]) == ("HAC", "accepted", f"PA-{VIGENCIA}-HAC-0001")


def test_a_plan_committed_but_not_filed_is_filed_by_the_next_pass_under_the_same_name(world: World) -> None:
    """The link under planes/ is made after the commit, from the committed row: a process that died in between
    left `filed_as` empty and no file; the next pass files it, once, under the name the row gives."""
    world.receive(world.plan_reply("HAC"))
    assert dict(world.poll().outcomes) == {"accepted": 1}
    (filed,) = world.archive.plans()
    with world.app.sessions.begin() as session:
        submission = session.scalars(select(Submission)).one()
        assert submission.filed_as == str(filed)
        submission.filed_as = None  # as a kill after the commit leaves it
    del world.archive.files[filed]

    assert world.poll().fetched == 0
    assert world.archive.plans() == [filed]
    with world.app.sessions() as session:
        assert session.scalars(select(Submission.filed_as)).one() == str(filed)


def test_the_same_plan_sent_twice_is_a_duplicate_answered_with_the_first_radicado(world: World) -> None:
    """The second message carries the same file: no new version, an answer naming the first radicado."""
    first = world.plan_reply("HAC")
    world.receive(first)
    assert dict(world.poll().outcomes) == {"accepted": 1}
    again = reply(
        parse(world.smtp.to(world.address("HAC"))[0]),
        sender=world.address("HAC"),
        attachments=[("Plan HAC otra vez.xlsx", workbook_of(parse(first)))],
    )
    world.receive(again)

    assert dict(world.poll().outcomes) == {"duplicate": 1}
    *_, duplicate = (parse(m) for m in world.smtp.to(world.address("HAC")))
    assert duplicate["In-Reply-To"] == parse(again)["Message-ID"]
    assert f"PA-{VIGENCIA}-HAC-0001" in duplicate.get_body(("plain",)).get_content()
    assert len(world.archive.plans()) == 1


def test_a_temporary_send_failure_is_retried_after_the_backoff_and_sent_once(world: World) -> None:
    """451 on the acceptance: the row waits its backoff (not due a moment later), then goes out exactly once."""
    world.receive(world.plan_reply("EDU"))
    world.smtp.fail_next(451, "4.3.0 intente más tarde")

    report = world.poll()

    assert dict(report.outcomes) == {"accepted": 1}
    assert len(world.smtp.to(world.address("EDU"))) == 1  # the mailing only
    assert world.flush().sent == []  # not due yet
    world.clock.advance(outbox.backoff(1))
    assert len(world.flush().sent) == 1
    assert len(world.smtp.to(world.address("EDU"))) == 2
    with world.app.sessions() as session:
        answer = session.scalars(select(OutboxMail).where(OutboxMail.received_message_id.is_not(None))).one()
        assert (answer.status, answer.attempts) == (outbox.SENT, 2)


def test_a_dropped_connection_stops_the_batch_and_the_rest_goes_next_time(world: World) -> None:
    """The connection drops on the first of two answers: both wait, and both leave with the next flush."""
    world.receive(world.plan_reply("HAC"))
    world.receive(world.plan_reply("EDU"))
    world.smtp.fail_next(None)

    assert dict(world.poll().outcomes) == {"accepted": 2}
    assert [len(world.smtp.to(world.address(c))) for c in ("HAC", "EDU")] == [1, 1]
    world.clock.advance(outbox.backoff(1))
    assert len(world.flush().sent) == 2
    assert [len(world.smtp.to(world.address(c))) for c in ("HAC", "EDU")] == [2, 2]


def test_a_recipient_refused_for_good_is_recorded_per_recipient(world: World) -> None:
    """550 for the secretaría's address: the answer is failed, with that address's code and text recorded."""
    world.receive(world.plan_reply("SAL"))
    world.smtp.refuse[world.address("SAL").lower()] = Refusal(550, "5.1.1 buzón inexistente")

    world.poll()

    with world.app.sessions() as session:
        answer = session.scalars(select(OutboxMail).where(OutboxMail.received_message_id.is_not(None))).one()
        assert answer.status == outbox.FAILED
        assert answer.recipient_results == {world.address("SAL"): {"code": 550, "text": "5.1.1 buzón inexistente"}}


def test_a_new_uidvalidity_sees_the_folder_again_without_answering_twice(world: World) -> None:
    """The folder is recreated (new UIDVALIDITY, UIDs from 1): its messages are looked at again, none answered
    twice, and mail that arrives afterwards is processed."""
    world.receive(world.plan_reply("HAC"))
    assert dict(world.poll().outcomes) == {"accepted": 1}
    world.inbox.deliver(world.inbox.messages("mailbot/procesados")[0].raw)  # a person moved it back
    world.inbox.recreate("INBOX")
    world.receive(world.plan_reply("EDU"))

    report = world.poll()

    assert report.fetched == 2
    assert len(world.smtp.to(world.address("HAC"))) == 2  # mailing and the one acceptance
    assert len(world.smtp.to(world.address("EDU"))) == 2


def test_an_unwritable_archive_leaves_the_message_on_the_server_until_it_can_be_stored(world: World) -> None:
    """Nothing is decided before the message is archived: a storage fault stops the pass with the message still in
    INBOX and nothing recorded; once the archive works the next pass answers it, once."""
    uid = world.receive(world.plan_reply("HAC"))
    world.archive.broken = True

    with pytest.raises(StorageError):
        world.poll()

    assert world.inbox.uids("INBOX") == [uid]
    with world.app.sessions() as session:
        assert session.scalars(select(ReceivedMessage)).all() == []
    world.archive.broken = False
    assert dict(world.poll().outcomes) == {"accepted": 1}
    assert len(world.smtp.to(world.address("HAC"))) == 2


def test_a_mailbox_that_went_away_is_a_temporary_error_and_the_next_pass_catches_up(world: World) -> None:
    """The server is down: the pass raises TemporaryError (the watcher backs off); back up, the mail is answered."""
    world.receive(world.plan_reply("EDU"))
    world.inbox.down = True

    with pytest.raises(TemporaryError):
        world.poll()

    world.inbox.down = False
    assert dict(world.poll().outcomes) == {"accepted": 1}
    assert len(world.smtp.to(world.address("EDU"))) == 2


def test_an_away_secretario_is_shown_until_the_day_after_the_return_date(world: World) -> None:
    """The attention queue on the fake clock: an out-of-office opens an away item that closes by itself."""
    mailing = parse(world.smtp.to(world.address("SAL"))[0])
    world.receive(
        reply(
            mailing,
            sender=world.address("SAL"),
            subject="Respuesta automática: Fuera de la oficina",
            body="Estoy de vacaciones. Regreso el 15 de diciembre.",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    assert dict(world.poll().outcomes) == {"automatic": 1}
    (item,) = attention.list_rows(world.app)
    assert (item["kind"], item["dependencia"]) == ("away", "SAL")
    assert "hasta el martes 15 de diciembre de 2026" in item["summary"]
    world.clock.advance(dt.timedelta(days=14))  # 15 December: still away
    assert len(attention.list_rows(world.app)) == 1
    world.clock.advance(dt.timedelta(days=1))
    assert attention.list_rows(world.app) == []


def test_a_message_that_makes_the_processing_fail_is_an_error_in_the_queue(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("mailbot.domain.reply.classify", broken)
    world.receive(world.plan_reply("HAC"))
    assert dict(world.poll().outcomes) == {"error": 1}
    (item,) = attention.list_rows(world.app)
    assert item["kind"] == "error"
    assert item["summary"].startswith(f"No se pudo procesar el mensaje de {world.address('HAC')}")
    assert item["summary"].endswith("el original está guardado en el archivo")


def test_a_pass_flushes_batch_after_batch_until_no_answer_is_left_pending(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More answers than one batch (200 a connection; 2 here): `poll --once` must not exit with some pending."""
    monkeypatch.setattr(outbox, "FLUSH_BATCH", 2)
    with world.app.sessions.begin() as session:
        for i in range(5):
            outbox.enqueue(
                session,
                dedup_key=f"batch-{i}",
                kind="test",
                raw=f"Subject: lote {i}\r\n\r\nHola.\r\n".encode(),
                message_id=f"<batch-{i}@municipio.test>",
                envelope_from="planeacion@municipio.test",
                recipients=["lotes@municipio.test"],
                now=world.clock.now(),
            )
    connections = world.smtp.connections

    world.poll()

    assert len(world.smtp.to("lotes@municipio.test")) == 5
    assert world.smtp.connections - connections == 3  # batches of 2, 2 and 1, one connection each
    assert outbox.waiting(world.app.sessions) == 0


def test_a_long_pass_moves_sets_and_sends_answers_as_it_goes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ROUND_EVERY decided messages the pass moves them (one set per folder) and flushes the outbox in its
    own thread; the rest is moved at the end: five replies, rounds of two → moves of 2, 2 and 1."""
    monkeypatch.setattr(processor, "ROUND_EVERY", 2)
    address = world.address("SAL")
    mailing = parse(world.smtp.to(address)[0])
    uids = [world.receive(reply(mailing, sender=address, body=f"Sin adjunto {n}")) for n in range(5)]
    moves: list[tuple[list[int], int]] = []  # (UIDs moved, answers sent by then)
    real = FakeMailbox.move_many

    def spy(box: FakeMailbox, folder: str, moved: Sequence[int], target: str) -> None:
        moves.append((sorted(moved), len(world.smtp.to(address)) - 1))
        real(box, folder, moved, target)

    monkeypatch.setattr(FakeMailbox, "move_many", spy)
    report = world.poll()

    assert dict(report.outcomes) == {"no_attachment": 5}
    assert report.moved == 5
    assert moves == [(uids[:2], 0), (uids[2:4], 2), (uids[4:], 4)]  # each round moves, then flushes
    assert world.inbox.uids("INBOX") == []
    assert len(world.smtp.to(address)) == 1 + 5  # the mailing, and the fifth answer by the flush after the pass


GROWING = ("outbox", "received_messages", "submissions", "attachments", "answer_recipients", "audit_events")


@pytest.mark.sqlite_only
def test_no_statement_of_a_pass_scans_a_table_that_grows_with_the_mail(world: World) -> None:
    """Each query a pass runs (fetch, decide, answer with the daily cap, file, flush, move) reads an index: its cost
    stays flat as the day's backlog and the years of history grow. SQLite's plan says so: no bare SCAN of a table
    that grows (a SCAN through a partial index holds only the rows still to do)."""
    statements: set[str] = set()
    event.listen(world.app.engine, "before_cursor_execute", lambda *a: statements.add(a[2]))
    first = parse(world.plan_reply("HAC"))
    plan = next(p.get_content() for p in first.iter_attachments())
    for _ in range(2):  # the same file twice: a duplicate, which looks for the first version
        world.receive(
            reply(
                parse(world.smtp.to(world.address("HAC"))[0]),
                sender=world.address("HAC"),
                attachments=[("Plan.xlsx", plan)],
            )
        )
    world.receive(reply(parse(world.smtp.to(world.address("SAL"))[0]), sender=world.address("SAL"), body="Hola"))

    assert dict(world.poll().outcomes) == {"accepted": 1, "duplicate": 1, "no_attachment": 1}

    scans = []
    with world.app.engine.connect() as connection:
        for statement in sorted(s for s in statements if s.lstrip().startswith(("SELECT", "UPDATE"))):
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", (None,) * statement.count("?"))
            scans += [(step, statement) for *_, step in plan if step.split()[:2] in (["SCAN", t] for t in GROWING)]
    assert [s for s in scans if "USING" not in s[0]] == []
    assert len(statements) > 20  # the pass was seen
