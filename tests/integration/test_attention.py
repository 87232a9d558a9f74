"""The person in the loop on the real servers: questions reach planeación's contact, out-of-office replies show the
secretario away, a misdirected workbook is explained, an answer that cannot be built still acknowledges, and the
attention queue keeps every item across digests until an event or a person resolves it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mailbot.adapters.db.models import AttentionItem, OutboxMail
from mailbot.app import App
from mailbot.cli import cli
from mailbot.config import load_config
from mailbot.domain.context import AvailableBudget
from mailbot.domain.fechas import fecha_larga
from mailbot.services import attention, campaign, digest, outbox, queries, setup
from mailbot.services.daemon import Watcher
from tests.support.configs import SERVER_DEPENDENCIAS, server_config
from tests.support.mailservers import MailServers
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of

pytestmark = [pytest.mark.storage, pytest.mark.mailserver]

VIGENCIA = 2027
PLANEACION = "planeacion@municipio.test"
CONTACT = "asistente@municipio.test"


def make_app(tmp_path: Path, mail: MailServers, changes: dict[str, Any] | None = None) -> tuple[App, Path]:
    contact = {"contact": {"name": "Laura Gómez Ruiz", "phone": "(604) 555 0100 ext. 214", "email": CONTACT}}
    path = server_config(tmp_path, mail, {**contact, **(changes or {})})
    app = App(load_config(path, environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, VIGENCIA)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    return app, path


@pytest.fixture
def app_and_config(tmp_path: Path, mail: MailServers) -> tuple[App, Path]:
    return make_app(tmp_path, mail)


def mailing_of(mail: MailServers, code: str) -> Any:
    (raw,) = mail.wait_for(SERVER_DEPENDENCIAS[code], count=1, timeout=30)
    return parse(raw)


def box(mail: MailServers, address: str, count: int) -> list[Any]:
    return [parse(raw) for raw in mail.wait_for(address, count=count, timeout=30)]


def filled(app: App, template: bytes, code: str) -> bytes:
    dep = app.config.dependencia(code)
    budget = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
    return fill_plan(template, valid_metas(4, budget, dependencia=code))


def deliver(mail: MailServers, *messages: tuple[bytes, str]) -> None:
    for raw, sender in messages:
        mail.send(raw, sender, [PLANEACION])
    mail.wait_for(PLANEACION, count=len(messages), timeout=30)


def poll(app: App) -> dict[str, int]:
    watcher = Watcher(app, threading.Event())
    try:
        return dict(watcher.once().outcomes)
    finally:
        watcher.close()


def text_of(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def row_of(app: App, raw: bytes) -> dict[str, Any]:
    message_id = str(parse(raw)["Message-ID"]).strip("<>")
    return next(r for r in queries.received_rows(app, limit=1000) if r["message_id"] == message_id)


def answers_to(app: App, raw: bytes) -> list[OutboxMail]:
    """Positive evidence of what was (not) answered: the outbox rows a received message caused."""
    row_id = row_of(app, raw)["id"]
    with app.sessions() as session:
        return list(session.scalars(select(OutboxMail).where(OutboxMail.received_message_id == row_id)))


def cli_json(config: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_question_reaches_the_contact_threaded_and_the_secretario_is_told(
    app_and_config: tuple[App, Path], mail: MailServers
) -> None:
    app, config = app_and_config
    hac = mailing_of(mail, "HAC")
    question = reply(
        hac,
        sender=SERVER_DEPENDENCIAS["HAC"],
        body="Buenos días, ¿la meta de recaudo se registra en pesos o en porcentaje?\n\nCordialmente,\nDiana",
    )
    deliver(mail, (question, SERVER_DEPENDENCIAS["HAC"]))
    assert poll(app) == {"question": 1}

    (forwarded,) = box(mail, CONTACT, 1)
    asked = parse(question)
    assert forwarded["In-Reply-To"] == asked["Message-ID"]
    assert asked["Message-ID"] in forwarded["References"]
    assert forwarded["Reply-To"] == SERVER_DEPENDENCIAS["HAC"]
    assert "> Buenos días, ¿la meta de recaudo se registra en pesos o en porcentaje?" in text_of(forwarded)
    assert "Secretaría de Hacienda" in str(forwarded["Subject"])

    _, told = box(mail, SERVER_DEPENDENCIAS["HAC"], 2)
    assert told["In-Reply-To"] == asked["Message-ID"]
    told_text = text_of(told)
    assert "Laura Gómez Ruiz" in told_text
    assert "le responderá" in told_text
    assert "no trae adjunto" not in told_text

    assert row_of(app, question)["outcome"] == "question"
    (item,) = cli_json(config, "attention", "list", "--json")
    assert set(item) == {"id", "since", "dependencia", "kind", "summary", "message_id"}
    assert item["kind"] == "question"
    assert item["dependencia"] == "HAC"
    assert item["message_id"] == asked["Message-ID"].strip("<>")
    assert item["summary"].startswith("La Secretaría de Hacienda preguntó")
    assert item["since"].endswith("-05:00")  # America/Bogota


def test_when_the_contact_is_planeacions_own_mailbox_the_question_is_not_sent_to_itself(
    tmp_path: Path, mail: MailServers
) -> None:
    # As without a `contact` section, whose default is smtp.from_address.
    app, config = make_app(tmp_path, mail, {"contact": {"name": "Secretaría de Planeación", "email": PLANEACION}})
    edu = mailing_of(mail, "EDU")
    question = reply(edu, sender=SERVER_DEPENDENCIAS["EDU"], body="¿Puedo incluir metas del plan anterior?")
    deliver(mail, (question, SERVER_DEPENDENCIAS["EDU"]))
    assert poll(app) == {"question": 1}
    assert [m.kind for m in answers_to(app, question)] == ["consulta_recibida"], "no forward to its own mailbox"
    _, told = box(mail, SERVER_DEPENDENCIAS["EDU"], 2)
    assert "Secretaría de Planeación" in text_of(told)
    (item,) = cli_json(config, "attention", "list", "--json")
    assert item["summary"].endswith("está en el buzón de Planeación, sin responder")


def test_an_out_of_office_shows_the_secretario_away_until_the_dependencia_writes_again(
    app_and_config: tuple[App, Path], mail: MailServers, tmp_path: Path
) -> None:
    app, config = app_and_config
    sal = mailing_of(mail, "SAL")
    away = reply(
        sal,
        sender=SERVER_DEPENDENCIAS["SAL"],
        subject="Respuesta automática: Fuera de la oficina",
        body="Estaré fuera de la oficina hasta el lunes 18 de enero de 2027. Para asuntos urgentes llame al 555.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    deliver(mail, (away, SERVER_DEPENDENCIAS["SAL"]))
    assert poll(app) == {"automatic": 1}
    assert row_of(app, away)["dependencia"] == "SAL"
    assert answers_to(app, away) == [], "an out-of-office is never answered"

    result = digest.send(app, dry_run=tmp_path / "digest")
    (line,) = result.context["ausentes"]
    salud = next(d for d in app.config.dependencias if d.code == "SAL")
    assert line.startswith(f"{salud.head.name} ({salud.name}) está ausente hasta el lunes 18 de enero de 2027")
    html = result.written[1].read_text(encoding="utf-8")
    assert html.index("Requiere atención") < html.index("Estado por dependencia")
    assert "hasta el lunes 18 de enero de 2027" in html

    later = reply(sal, sender=SERVER_DEPENDENCIAS["SAL"], body="Adjunto el plan.")
    deliver(mail, (later, SERVER_DEPENDENCIAS["SAL"]))
    assert poll(app) == {"no_attachment": 1}
    _, answer = box(mail, SERVER_DEPENDENCIAS["SAL"], 2)
    assert answer["In-Reply-To"] == parse(later)["Message-ID"], "the only answer is to the later message"
    assert cli_json(config, "attention", "list", "--json") == [], "the dependencia wrote again: back"


def test_another_dependencias_workbook_is_explained_kept_across_digests_and_resolved_by_the_accepted_plan(
    app_and_config: tuple[App, Path], mail: MailServers, tmp_path: Path
) -> None:
    app, _ = app_and_config
    hac, edu = mailing_of(mail, "HAC"), mailing_of(mail, "EDU")
    cross = reply(
        edu, sender=SERVER_DEPENDENCIAS["EDU"], attachments=[("Plan.xlsx", filled(app, workbook_of(hac), "HAC"))]
    )
    deliver(mail, (cross, SERVER_DEPENDENCIAS["EDU"]))
    assert poll(app) == {"quarantined": 1}
    _, notice = box(mail, SERVER_DEPENDENCIAS["EDU"], 2)
    assert (
        "El archivo que adjuntó es el formato de la Secretaría de Hacienda y no el de la Secretaría de Educación"
        in (" ".join(text_of(notice).split()))
    )

    summary = "La Secretaría de Educación envió el archivo de la Secretaría de Hacienda"
    first = digest.send(app)
    assert first.sent
    assert any(summary in line for line in first.context["atencion"])
    assert all("signals" not in line for line in first.context["atencion"]), "reasons are in Spanish"
    again = digest.send(app, dry_run=tmp_path / "next")  # the next digest: nobody acted, the item stays
    assert any(summary in line for line in again.context["atencion"])

    good = reply(
        notice, sender=SERVER_DEPENDENCIAS["EDU"], attachments=[("Plan EDU.xlsx", filled(app, workbook_of(edu), "EDU"))]
    )
    deliver(mail, (good, SERVER_DEPENDENCIAS["EDU"]))
    assert poll(app) == {"accepted": 1}
    assert attention.list_rows(app) == []
    with app.sessions() as session:
        (item,) = session.scalars(select(AttentionItem))
    assert item.kind == "quarantined"
    assert item.resolved_by == "accepted PA-2027-EDU-0001"


def test_two_workbooks_get_the_answer_that_names_them(app_and_config: tuple[App, Path], mail: MailServers) -> None:
    app, config = app_and_config
    hac = mailing_of(mail, "HAC")
    files = [("Plan HAC.xlsx", filled(app, workbook_of(hac), "HAC")), ("Formato en blanco.xlsx", workbook_of(hac))]
    two = reply(hac, sender=SERVER_DEPENDENCIAS["HAC"], attachments=files)
    deliver(mail, (two, SERVER_DEPENDENCIAS["HAC"]))
    assert poll(app) == {"several_attachments": 1}
    _, answer = box(mail, SERVER_DEPENDENCIAS["HAC"], 2)
    assert answer["In-Reply-To"] == parse(two)["Message-ID"]
    text = text_of(answer)
    assert "{{" not in text
    assert "{%" not in text
    assert "Plan HAC.xlsx" in text  # the real answer, naming both files, not the fallback acknowledgement
    assert "Formato en blanco.xlsx" in text
    assert "solo el archivo del formato" in text
    assert [i for i in cli_json(config, "attention", "list", "--json") if i["kind"] == "answer_failed"] == []


BROKEN = "{{ saludo }},\n{% if %}\n"


def test_an_answer_that_cannot_be_built_still_acknowledges_and_the_cap_holds(tmp_path: Path, mail: MailServers) -> None:
    override = tmp_path / "plantillas"
    override.mkdir()
    (override / "sin_adjunto.txt.j2").write_text(BROKEN, encoding="utf-8")
    app, config = make_app(
        tmp_path,
        mail,
        {"smtp": {"templates_dir": str(override)}, "limits": {"auto_mails_per_address_per_day": 1}},
    )
    gob = mailing_of(mail, "GOB")
    forgot = reply(gob, sender=SERVER_DEPENDENCIAS["GOB"], body="Adjunto el plan.")
    deliver(mail, (forgot, SERVER_DEPENDENCIAS["GOB"]))
    assert poll(app) == {"no_attachment": 1}

    _, ack = box(mail, SERVER_DEPENDENCIAS["GOB"], 2)
    assert ack["In-Reply-To"] == parse(forgot)["Message-ID"]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["Reply-To"] is None, "a reply to it (with the workbook) comes back to the mailbox"
    assert ack["From"].addresses[0].addr_spec == PLANEACION
    text = text_of(ack)
    assert "Recibimos su mensaje" in text
    assert "Una persona de la Secretaría de Planeación lo revisará" in text
    assert "Laura Gómez Ruiz" in text
    assert fecha_larga(app.clock.now().date()) in text  # "jueves 3 de diciembre de 2026"
    (item,) = cli_json(config, "attention", "list", "--json")
    assert item["kind"] == "answer_failed"
    assert item["dependencia"] == "GOB"

    again = reply(gob, sender=SERVER_DEPENDENCIAS["GOB"], body="Adjunto el plan otra vez.")
    deliver(mail, (again, SERVER_DEPENDENCIAS["GOB"]))
    assert poll(app) == {"no_attachment": 1}
    assert answers_to(app, again) == [], "the daily cap holds for the acknowledgement too"
    kinds = [i["kind"] for i in cli_json(config, "attention", "list", "--json")]
    assert kinds == ["answer_failed", "withheld"]


def test_a_person_resolves_an_item_from_the_command_line(app_and_config: tuple[App, Path], mail: MailServers) -> None:
    app, config = app_and_config
    stranger = reply(None, sender="asistente@municipio.test", body="Buenos días, adjunto documento.")
    deliver(mail, (stranger, "asistente@municipio.test"))
    assert poll(app) == {"unmatched": 1}
    (item,) = cli_json(config, "attention", "list", "--json")
    assert item["summary"] == ("Mensaje sin dependencia de asistente@municipio.test: sin firma ni remitente registrado")

    invoke: Callable[..., Any] = CliRunner().invoke
    listed = invoke(cli, ["--config", str(config), "attention", "list"])
    assert listed.exit_code == 0
    assert f"{item['id']}" in listed.stdout
    assert "unmatched" in listed.stdout
    assert "sin firma ni remitente registrado" in listed.stdout
    done = invoke(cli, ["--config", str(config), "attention", "resolve", str(item["id"]), "--note", "Era un oficio"])
    assert done.exit_code == 0, done.output
    assert cli_json(config, "attention", "list", "--json") == []
    assert "nothing open" in invoke(cli, ["--config", str(config), "attention", "list"]).stdout
    twice = invoke(cli, ["--config", str(config), "attention", "resolve", str(item["id"])])
    assert twice.exit_code == 1
    assert f"no open item with id {item['id']}" in twice.stderr
    unknown = invoke(cli, ["--config", str(config), "attention", "resolve", "999999"])
    assert unknown.exit_code == 1
    with app.sessions() as session:
        resolved = session.get_one(AttentionItem, item["id"])
        assert (resolved.resolved_by, resolved.note) == ("person", "Era un oficio")


def bounce_of(mailing: Any, recipient: str) -> bytes:
    """What a receiving server sends back for a full mailbox: an RFC 3464 report naming the returned message."""
    return "\r\n".join(
        [
            "From: MAILER-DAEMON@mx.municipio.test",
            f"To: {PLANEACION}",
            "Subject: Undelivered Mail Returned to Sender",
            f"Message-ID: {make_msgid(domain='mx.municipio.test')}",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
            "",
            "--B",
            "Content-Type: text/plain",
            "",
            "Your message could not be delivered.",
            "--B",
            "Content-Type: message/delivery-status",
            "",
            "Reporting-MTA: dns; mx.municipio.test",
            "",
            f"Final-Recipient: rfc822; {recipient}",
            "Action: failed",
            "Status: 5.2.2",
            "Diagnostic-Code: smtp; 552 5.2.2 mailbox full",
            "",
            "--B",
            "Content-Type: text/rfc822-headers",
            "",
            f"Message-ID: {mailing['Message-ID']}",
            f"Subject: {mailing['Subject']}",
            "",
            "--B--",
            "",
        ]
    ).encode()


def test_a_bounce_opens_one_undelivered_item_for_the_dependencia(
    app_and_config: tuple[App, Path], mail: MailServers
) -> None:
    app, config = app_and_config
    sal = mailing_of(mail, "SAL")
    deliver(mail, (bounce_of(sal, SERVER_DEPENDENCIAS["SAL"]), "MAILER-DAEMON@mx.municipio.test"))
    assert poll(app) == {"bounce": 1}
    (item,) = cli_json(config, "attention", "list", "--json")
    assert item["kind"] == "undelivered"
    assert item["dependencia"] == "SAL"
    assert item["summary"].startswith(f"Un correo a {SERVER_DEPENDENCIAS['SAL']} no se pudo entregar (5.2.2")
    sent = [
        r["status"] for r in queries.outbox_rows(app, limit=100) if r["message_id"] == sal["Message-ID"].strip("<>")
    ]
    assert sent == ["failed"]
    assert len(cli_json(config, "attention", "list", "--json")) == 1, "the failed outbox row is the same item"
