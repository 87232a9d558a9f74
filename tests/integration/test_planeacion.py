"""Planeación's view on the real servers: the digest, the reminders and the consolidated plan."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader

from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook
from mailbot.app import App
from mailbot.cli import cli
from mailbot.config import Limits, load_config
from mailbot.domain import control
from mailbot.domain.context import AvailableBudget
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.workbook_format import QUARTERS, Ronda, Source, money_key
from mailbot.services import campaign, digest, outbox, queries, reminders, setup
from mailbot.services.daemon import Watcher
from mailbot.services.round_dates import calendar_for, round_deadline
from tests.support.configs import SERVER_DEPENDENCIAS, server_config
from tests.support.digest_html import cards
from tests.support.mailservers import MailServers
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

VIGENCIA = 2027
PLANEACION = "planeacion@municipio.test"


@pytest.fixture
def cycle(tmp_path: Path, mail: MailServers) -> tuple[App, Path, dict[str, list[dict[str, object]]]]:
    """HAC and EDU accepted, SAL asked for corrections, GOB silent."""
    path = server_config(tmp_path, mail)
    app = App(load_config(path, environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, VIGENCIA)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    sent: dict[str, list[dict[str, object]]] = {}
    for code, spoil in (("HAC", False), ("EDU", False), ("SAL", True)):
        (raw,) = mail.wait_for(SERVER_DEPENDENCIAS[code], count=1, timeout=30)
        mailing = parse(raw)
        dep = app.config.dependencia(code)
        metas = valid_metas(
            3 + len(sent),
            AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing),
            dependencia=code,
        )
        if spoil:
            metas[0]["resp_email"] = "sin correo"
        sent[code] = metas
        files = [("Plan.xlsx", fill_plan(workbook_of(mailing), metas))]
        mail.send(
            reply(mailing, sender=SERVER_DEPENDENCIAS[code], attachments=files), SERVER_DEPENDENCIAS[code], [PLANEACION]
        )
    mail.wait_for(PLANEACION, count=3, timeout=30)
    watcher = Watcher(app, threading.Event())
    try:
        assert dict(watcher.once().outcomes) == {"accepted": 2, "correction_requested": 1}
    finally:
        watcher.close()
    # Every mailing and answer delivered: what a test sends next arrives after them, in order.
    for code in SERVER_DEPENDENCIAS:
        mail.wait_for(SERVER_DEPENDENCIAS[code], count=2 if code in sent else 1, timeout=30)
    return app, path, sent


def test_digest_arrives_with_inline_charts_and_numbers_matching_status(
    cycle: tuple[App, Path, dict[str, list[dict[str, object]]]], mail: MailServers
) -> None:
    app, path, _ = cycle
    result = digest.send(app)
    assert result.sent
    outbox.flush(app.sessions, app.senders, app.clock.now)
    message = next(parse(raw) for raw in mail.wait_for(PLANEACION, count=1, timeout=30) if b"Resumen del plan" in raw)
    html = message.get_body(("html",)).get_content()
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 2
    for image in images:
        cid = str(image["Content-ID"]).strip("<>")
        assert f"cid:{cid}" in html
        assert image.get_content().startswith(b"\x89PNG")
    consolidated = [p for p in message.iter_attachments() if str(p.get_filename()).endswith(".xlsx")]
    assert len(consolidated) == 1

    status = json.loads(CliRunner().invoke(cli, ["--config", str(path), "status", "--json"]).stdout)
    states = [d["rounds"][0]["state"] for d in status["dependencias"]]
    text = message.get_body(("plain",)).get_content()
    assert f"Aceptado {states.count('accepted')}" in text
    assert f"Con correcciones {states.count('correction_requested')}" in text
    assert "PA-2027-HAC-0001" in text
    assert "1 punto por corregir" in text
    for part in (html.lower(), text.lower()):  # the long list of news never pushes the queue down
        assert part.index("requiere atención") < part.index("estado por dependencia") < part.index("novedades desde")
    assert "(s)" not in text

    # On a phone each dependencia is one card holding its code, state and radicado (no wide table to cut off).
    found = cards(html, "Estado por dependencia")
    assert set(found) == {d["code"] for d in status["dependencias"]}
    for dep in status["dependencias"]:
        card, entry = found[dep["code"]], dep["rounds"][0]
        assert card.startswith(f"{dep['code']} · {dep['name']} Estado: "), card
        label = digest.STATE_ES[entry["state"]][0]
        if entry["state"] == "accepted":
            assert f"Estado: Aceptado · Formulación Radicado: {entry['radicado']}" in card
            assert "Plazo" not in card
        else:
            assert entry["radicado"] is None
            assert f"Estado: {label} · Formulación " in card
            assert "Plazo: vence" in card
        if entry["state"] == "correction_requested":
            assert "Correcciones: 1 punto por corregir" in card

    again = digest.send(app)
    assert not again.sent
    assert "already" in again.reason


def test_reminders_on_working_days_never_twice_and_never_after_acceptance(
    cycle: tuple[App, Path, dict[str, list[dict[str, object]]]], mail: MailServers
) -> None:
    app, _, _ = cycle
    deadline = dt.date(VIGENCIA, 1, 20)
    calendar = calendar_for([VIGENCIA - 1, VIGENCIA])
    days = calendar.reminder_dates(deadline, app.config.rounds.formulacion.reminder_offsets)
    assert all(calendar.is_working_day(d) for d in days)
    assert dt.date(VIGENCIA, 1, 11) not in days  # Reyes Magos, moved to Monday: not a working day

    report = reminders.send_due(app, days[0])
    assert sorted(report.reminded) == ["GOB formulacion 2027", "SAL formulacion 2027"]
    assert reminders.send_due(app, days[0]).reminded == []  # never two on one day
    quiet = next(d for d in (days[0] - dt.timedelta(days=n) for n in range(1, 10)) if d not in days)
    assert reminders.send_due(app, quiet).reminded == []  # only on the configured working days
    outbox.flush(app.sessions, app.senders, app.clock.now)
    gob = [parse(raw) for raw in mail.wait_for(SERVER_DEPENDENCIAS["GOB"], count=2, timeout=30)]
    assert gob[1]["In-Reply-To"] == gob[0]["Message-ID"], "threaded to the original mailing"
    assert "Aún no hemos recibido su plan" in gob[1].get_body(("plain",)).get_content()
    assert token_of(gob[1]) == token_of(gob[0]), "the workbook attached again carries the mailing's token"
    sal = [parse(raw) for raw in mail.wait_for(SERVER_DEPENDENCIAS["SAL"], count=3, timeout=30)]
    assert "Su última versión tiene 1 punto por corregir" in sal[2].get_body(("plain",)).get_content()

    every = app.config.rounds.formulacion.late_notice_every
    late_days = calendar.late_notice_dates(deadline, every, until=dt.date(VIGENCIA, 2, 15))
    late = reminders.send_due(app, late_days[0])
    assert sorted(late.late) == ["GOB formulacion 2027", "SAL formulacion 2027"]
    outbox.flush(app.sessions, app.senders, app.clock.now)
    notice = parse(mail.wait_for(SERVER_DEPENDENCIAS["GOB"], count=3, timeout=30)[2])
    assert PLANEACION in str(notice["Cc"])
    assert "venció" in notice.get_body(("plain",)).get_content()


def token_of(message: EmailMessage) -> str:
    parsed = read_workbook(workbook_of(message), ReaderLimits.from_config(Limits()))
    assert isinstance(parsed, ParsedWorkbook)
    block = control.parse(parsed.control or {})
    assert block is not None
    return block.token


def test_a_late_seguimiento_notice_speaks_of_the_quarter_and_its_workbook_matches(
    cycle: tuple[App, Path, dict[str, list[dict[str, object]]]], mail: MailServers
) -> None:
    """HAC's plan was accepted; its T1 report is late. The notice says so (not "no accepted plan", not 31 January),
    attaches the T1 workbook again with the seguimiento mailing's token, and a reply with it in a new thread is
    matched to that mailing."""
    app, _, _ = cycle
    hac = SERVER_DEPENDENCIAS["HAC"]
    assert "HAC" in campaign.start(app, VIGENCIA, ronda=Ronda.SEGUIMIENTO_T1).queued
    outbox.flush(app.sessions, app.senders, app.clock.now)
    mailing = parse(mail.wait_for(hac, count=3, timeout=30)[2])
    assert "Seguimiento" in str(mailing["Subject"])

    deadline = round_deadline(app.config, Ronda.SEGUIMIENTO_T1, VIGENCIA)
    calendar = calendar_for([VIGENCIA])
    every = app.config.rounds.seguimiento.late_notice_every
    day = calendar.late_notice_dates(deadline, every, until=deadline + dt.timedelta(days=30))[0]
    assert "HAC seguimiento-T1 2027" in reminders.send_due(app, day).late
    outbox.flush(app.sessions, app.senders, app.clock.now)
    notice = parse(mail.wait_for(hac, count=4, timeout=30)[3])
    text = notice.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Doctora Diana Marcela Londoño Zapata\nSecretaria de Hacienda\n\nReciba un cordial saludo." in text
    assert (
        "el seguimiento del primer trimestre (enero a marzo) del plan de acción 2027 de la Secretaría de Hacienda"
        in text
    )
    assert "Su plan de acción 2027 está aceptado (radicado PA-2027-HAC-0001)" in text
    assert "con corte al 31 de marzo de 2027" in text
    assert "plan de acción aceptado" not in text
    assert "Ley 1474" not in text
    assert app.config.effective_contact.email in text
    assert notice["In-Reply-To"] == mailing["Message-ID"]
    assert token_of(notice) == token_of(mailing)

    files = [("Seguimiento.xlsx", workbook_of(notice))]
    mail.send(reply(None, sender=hac, attachments=files, subject="Seguimiento"), hac, [PLANEACION])
    mail.wait_for(PLANEACION, count=4, timeout=30)
    watcher = Watcher(app, threading.Event())
    try:
        outcomes = dict(watcher.once().outcomes)
    finally:
        watcher.close()
    # the late notices' copies to planeación come back as mailbot's own (automatic); the reply is matched
    assert outcomes.get("accepted", 0) + outcomes.get("correction_requested", 0) == 1, outcomes
    assert not {"quarantined", "unmatched"} & set(outcomes), outcomes


def test_export_rows_and_sums_equal_the_accepted_plans(
    cycle: tuple[App, Path, dict[str, list[dict[str, object]]]], tmp_path: Path
) -> None:
    app, path, sent = cycle
    out, pdf = tmp_path / "consolidado.xlsx", tmp_path / "publicacion.pdf"
    args = ["--config", str(path), "export", "--vigencia", str(VIGENCIA), "--out", str(out), "--pdf", str(pdf)]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    assert "2 accepted plan(s), 2 dependencia(s) missing" in run.stdout
    published = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    codes = [str(m["meta_code"]) for code in ("HAC", "EDU") for m in sent[code]]
    assert [c for c in codes if c not in published] == []
    workbook = load_workbook(io.BytesIO(out.read_bytes()))
    sheet = workbook.worksheets[0]
    header_row = next(r for r in sheet.iter_rows() if any(c.value == "Código meta producto" for c in r))
    labels = [c.value for c in header_row]
    body = [
        dict(zip(labels, (c.value for c in row), strict=False))
        for row in sheet.iter_rows(min_row=header_row[0].row + 1)
        if any(c.value is not None for c in row)
    ]
    accepted = {code: sent[code] for code in ("HAC", "EDU")}
    assert len(body) == sum(len(m) for m in accepted.values())
    for source in Source:
        expected = sum(int(m[money_key(source, q)]) for metas in accepted.values() for m in metas for q in QUARTERS)
        assert sum(int(r[f"{source.label} total"] or 0) for r in body) == expected
    status = queries.status(app, today=dt.date(VIGENCIA, 1, 5))
    assert {d["code"] for d in status["dependencias"] if d["rounds"][0]["state"] == "accepted"} == {"HAC", "EDU"}
