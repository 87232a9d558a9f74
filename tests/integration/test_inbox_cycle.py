"""The whole cycle on the real servers: mailing, replies, poll, answers, corrections, resubmission, oddities."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from mailbot.adapters.db.models import ReceivedMessage
from mailbot.app import App
from mailbot.config import load_config
from mailbot.domain.context import AvailableBudget
from mailbot.domain.workbook_format import SHEET_CORRECTIONS
from mailbot.services import campaign, outbox, queries, setup
from mailbot.services.daemon import Watcher
from tests.support.configs import SERVER_DEPENDENCIAS, server_config
from tests.support.mailservers import MailServers
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of
from tests.support.settle import all_delivered, exactly

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

VIGENCIA = 2027
PLANEACION = "planeacion@municipio.test"


@pytest.fixture
def app(tmp_path: Path, mail: MailServers) -> App:
    app = App(load_config(server_config(tmp_path, mail), environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, VIGENCIA)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    return app


def mailing_of(mail: MailServers, code: str) -> Any:
    (raw,) = mail.wait_for(SERVER_DEPENDENCIAS[code], count=1, timeout=30)
    return parse(raw)


def filled(
    app: App, template: bytes, code: str, mutate: Callable[[list[dict[str, object]]], None] | None = None
) -> bytes:
    dep = app.config.dependencia(code)

    metas = valid_metas(
        4, AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing), dependencia=code
    )
    if mutate:
        mutate(metas)
    return fill_plan(template, metas)


def poll(app: App) -> dict[str, int]:
    watcher = Watcher(app, threading.Event())
    try:
        return dict(watcher.once().outcomes)
    finally:
        watcher.close()


def answers(mail: MailServers, code: str, count: int) -> list[Any]:
    """The mailbox of a dependencia: its mailing first, then the answers."""
    return [parse(raw) for raw in mail.wait_for(SERVER_DEPENDENCIAS[code], count=count, timeout=30)]


def by_id(app: App) -> dict[str, dict[str, Any]]:
    return {row["message_id"]: row for row in queries.received_rows(app, limit=1000)}


def test_whole_cycle_acceptance_correction_and_resubmission(app: App, mail: MailServers) -> None:
    hac, edu = mailing_of(mail, "HAC"), mailing_of(mail, "EDU")
    good = reply(
        hac, sender=SERVER_DEPENDENCIAS["HAC"], attachments=[("Plan HAC.xlsx", filled(app, workbook_of(hac), "HAC"))]
    )

    def spoil(metas: list[dict[str, object]]) -> None:
        metas[0]["unit"] = "Galones"

    bad_workbook = filled(app, workbook_of(edu), "EDU", spoil)
    bad = reply(edu, sender=SERVER_DEPENDENCIAS["EDU"], attachments=[("Plan EDU.xlsx", bad_workbook)])
    mail.send(good, SERVER_DEPENDENCIAS["HAC"], [PLANEACION])
    mail.send(bad, SERVER_DEPENDENCIAS["EDU"], [PLANEACION])
    mail.wait_for(PLANEACION, count=2, timeout=30)

    assert poll(app) == {"accepted": 1, "correction_requested": 1}

    _, acceptance = answers(mail, "HAC", 2)
    assert acceptance["In-Reply-To"] == parse(good)["Message-ID"]
    assert parse(good)["Message-ID"] in acceptance["References"]
    assert acceptance["Auto-Submitted"] == "auto-replied"
    assert "[E-DE-F-010 HAC 2027]" in acceptance["Subject"]
    text = acceptance.get_body(("plain",)).get_content()
    assert "PA-2027-HAC-0001" in text
    assert "ACEPTADO" in text
    assert text.startswith("Doctora Diana Marcela Londoño Zapata\r\nSecretaria de Hacienda\r\n")  # as configured
    assert "consejo de gobierno" in text  # what follows, not where the file was archived
    assert "SHA-256" not in text
    assert app.config.effective_contact.email in text

    _, correction = answers(mail, "EDU", 2)
    assert correction["In-Reply-To"] == parse(bad)["Message-ID"]
    body = correction.get_body(("plain",)).get_content()
    assert "Galones" in body
    assert "Hoja «Metas»" in body
    annotated = next(correction.iter_attachments()).get_content()
    assert load_workbook(io.BytesIO(annotated)).sheetnames[0] == SHEET_CORRECTIONS

    fixed = reply(
        correction,
        sender=SERVER_DEPENDENCIAS["EDU"],
        attachments=[("Plan EDU corregido.xlsx", filled(app, workbook_of(edu), "EDU"))],
    )
    mail.send(fixed, SERVER_DEPENDENCIAS["EDU"], [PLANEACION])
    mail.wait_for(PLANEACION, count=1, timeout=30)  # the first two were moved out of INBOX
    assert poll(app) == {"accepted": 1}
    *_, accepted = answers(mail, "EDU", 3)
    assert "PA-2027-EDU-0002" in accepted.get_body(("plain",)).get_content()

    status = {d["code"]: d["rounds"][0] for d in queries.status(app, today=dt.date(2027, 1, 5))["dependencias"]}
    assert status["HAC"]["state"] == "accepted"
    assert status["HAC"]["radicado"] == "PA-2027-HAC-0001"
    assert status["EDU"]["state"] == "accepted"
    assert status["EDU"]["version"] == 2
    assert status["SAL"]["state"] == "pending"
    late = {d["code"]: d["rounds"][0]["state"] for d in queries.status(app, today=dt.date(2027, 2, 1))["dependencias"]}
    assert late["SAL"] == "late"

    with mail.mailbox(PLANEACION) as box:
        assert list(box.uids()) == [], "every decided message leaves INBOX"
        box.folder.set("mailbot/procesados")
        assert len(list(box.uids())) == 3


def test_same_file_twice_is_answered_as_duplicate_with_the_first_radicado(app: App, mail: MailServers) -> None:
    hac = mailing_of(mail, "HAC")
    workbook = filled(app, workbook_of(hac), "HAC")
    for _ in range(2):
        mail.send(
            reply(hac, sender=SERVER_DEPENDENCIAS["HAC"], attachments=[("Plan.xlsx", workbook)]),
            SERVER_DEPENDENCIAS["HAC"],
            [PLANEACION],
        )
    mail.wait_for(PLANEACION, count=2, timeout=30)
    assert poll(app) == {"accepted": 1, "duplicate": 1}
    # Postfix may deliver the two answers in either order: each is found by the message it answers.
    _, *replies = answers(mail, "HAC", 3)
    outcomes = {row["message_id"]: row["outcome"] for row in queries.received_rows(app)}
    by_outcome = {outcomes[answer["In-Reply-To"].strip("<>")]: answer for answer in replies}
    assert sorted(by_outcome) == ["accepted", "duplicate"]
    text = by_outcome["duplicate"].get_body(("plain",)).get_content()
    assert "Ya recibimos este mismo archivo" in text
    assert "PA-2027-HAC-0001" in text
    assert "Ya recibimos este mismo archivo" not in by_outcome["accepted"].get_body(("plain",)).get_content()


def test_misdirected_automatic_and_empty_replies(app: App, mail: MailServers) -> None:
    hac, edu, sal = mailing_of(mail, "HAC"), mailing_of(mail, "EDU"), mailing_of(mail, "SAL")
    hacienda_workbook = filled(app, workbook_of(hac), "HAC")
    # Educación's address carrying Hacienda's workbook (and replying in Educación's thread): quarantined.
    cross = reply(edu, sender=SERVER_DEPENDENCIAS["EDU"], attachments=[("Plan.xlsx", hacienda_workbook)])
    out_of_office = reply(
        sal,
        sender=SERVER_DEPENDENCIAS["SAL"],
        subject="Respuesta automática: Fuera de la oficina",
        body="Estaré fuera de la oficina hasta el lunes.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    empty = reply(sal, sender=SERVER_DEPENDENCIAS["SAL"], body="Adjunto el plan.")
    drive = reply(
        hac, sender=SERVER_DEPENDENCIAS["HAC"], body="Aquí está el plan: https://drive.google.com/file/d/abc123/view"
    )
    outsider = reply(None, sender="outsider@externo.test", attachments=[("Plan.xlsx", hacienda_workbook)])
    for raw, sender in (
        (cross, "EDU"),
        (out_of_office, "SAL"),
        (empty, "SAL"),
        (drive, "HAC"),
    ):
        mail.send(raw, SERVER_DEPENDENCIAS[sender], [PLANEACION])
    mail.send(outsider, "outsider@externo.test", [PLANEACION])
    mail.wait_for(PLANEACION, count=5, timeout=30)

    outcomes = poll(app)
    assert outcomes == {"quarantined": 1, "automatic": 1, "no_attachment": 2, "rejected_sender": 1}
    rows = by_id(app)
    assert rows[parse(cross)["Message-ID"].strip("<>")]["outcome"] == "quarantined"
    assert "disagree" in rows[parse(cross)["Message-ID"].strip("<>")]["reason"]
    assert rows[parse(out_of_office)["Message-ID"].strip("<>")]["outcome"] == "automatic"
    all_delivered(app, mail)  # the pass returned: whatever it sent is delivered, so the counts below are final
    # Salud: its mailing and one answer (no attachment); nothing for the out-of-office.
    sal_box = [parse(raw) for raw in exactly(mail, SERVER_DEPENDENCIAS["SAL"], 2)]
    assert "no trae adjunto" in sal_box[1].get_body(("plain",)).get_content()
    hac_box = [parse(raw) for raw in exactly(mail, SERVER_DEPENDENCIAS["HAC"], 2)]
    assert "enlace" in hac_box[1].get_body(("plain",)).get_content()
    edu_box = [
        parse(raw) for raw in exactly(mail, SERVER_DEPENDENCIAS["EDU"], 2)
    ]  # an insider in quarantine gets a neutral notice
    assert "una persona de Planeación lo revisará" in edu_box[1].get_body(("plain",)).get_content()
    with mail.mailbox("outsider@externo.test") as box:
        assert list(box.uids()) == [], "no answer ever goes to an outsider by default"
    with mail.mailbox(PLANEACION) as box:
        box.folder.set("mailbot/revision")
        assert len(list(box.uids())) == 2
        box.folder.set("mailbot/ignorados")
        assert len(list(box.uids())) == 1


def test_mail_already_in_the_mailbox_before_the_first_round_is_left_alone(tmp_path: Path, mail: MailServers) -> None:
    old = reply(None, sender=SERVER_DEPENDENCIAS["HAC"], subject="Reunión del consejo de gobierno", body="Hola")
    mail.send(old, SERVER_DEPENDENCIAS["HAC"], [PLANEACION])
    mail.wait_for(PLANEACION, count=1, timeout=30)
    app = App(load_config(server_config(tmp_path, mail), environ={}))
    setup.upgrade_storage(app)
    assert poll(app) == {}, "a mailbox mailbot has just started watching: old mail is not answered"
    campaign.start(app, VIGENCIA)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    hac = mailing_of(mail, "HAC")
    fresh = reply(
        hac, sender=SERVER_DEPENDENCIAS["HAC"], attachments=[("Plan.xlsx", filled(app, workbook_of(hac), "HAC"))]
    )
    mail.send(fresh, SERVER_DEPENDENCIAS["HAC"], [PLANEACION])
    mail.wait_for(PLANEACION, count=2, timeout=30)
    assert poll(app) == {"accepted": 1}
    with mail.mailbox(PLANEACION) as box:
        remaining = [m.subject for m in box.fetch(mark_seen=False, headers_only=True)]
    assert remaining == ["Reunión del consejo de gobierno"]


def test_a_message_over_the_size_limit_is_archived_whole_and_answered_too_large(
    tmp_path: Path, mail: MailServers
) -> None:
    """A reply with the plan and a heavy annex, over `max_message_bytes` (1 MB here) and over one FETCH piece
    (2 MB): fetched in pieces, archived byte for byte, never parsed past its headers, answered naming the limit."""
    app = App(load_config(server_config(tmp_path, mail, {"limits": {"max_message_bytes": 2**20}}), environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, VIGENCIA)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    hac = mailing_of(mail, "HAC")
    annex = bytes(range(256)) * (12 * 2**10)  # 3 MB of binary: about 4 MB of base64
    heavy = reply(
        hac,
        sender=SERVER_DEPENDENCIAS["HAC"],
        attachments=[("Plan HAC.xlsx", filled(app, workbook_of(hac), "HAC")), ("Anexo.xlsx", annex)],
    )
    mail.send(heavy, SERVER_DEPENDENCIAS["HAC"], [PLANEACION])
    (delivered,) = mail.wait_for(PLANEACION, count=1, timeout=30)

    assert poll(app) == {"no_attachment": 1}

    _, answer = answers(mail, "HAC", 2)
    text = answer.get_body(("plain",)).get_content()
    assert "supera el tamaño máximo" in text
    assert "1,0 MB" in text
    assert "no trae adjunto" not in text
    (row,) = by_id(app).values()
    assert row["outcome"] == "no_attachment"
    assert "over the size limit" in row["reason"]
    with app.sessions() as session:
        raw_path = session.scalars(select(ReceivedMessage.raw_path)).one()
    assert app.archive.read(raw_path) == delivered
