"""Pure parts of the person in the loop: questions, out-of-office return dates, attention summaries."""

from __future__ import annotations

import datetime as dt

import pytest

from mailbot.domain import attention
from mailbot.domain.away import is_out_of_office, return_date
from mailbot.domain.decisions import Outcome, decide_attachments
from mailbot.domain.inbound import MessageFacts
from mailbot.domain.matching import Match
from mailbot.domain.questions import is_question, new_text

NAMES = {"HAC": "Secretaría de Hacienda", "GOB": "Secretaría de Gobierno", "DES": "Despacho del Alcalde"}
QUOTE = (
    "\n\nEl mar, 5 ene 2027 a las 8:00, Planeación <planeacion@municipio.test> escribió:\n"
    "> ¿Tiene dudas? Responda este correo. ¿Cuál es la fecha límite? El 29 de enero.\n"
)


@pytest.mark.parametrize(
    "body",
    [
        "Buenos días, ¿la meta de cobertura se mide en porcentaje o en número de estudiantes?",
        "Buenas tardes. Quisiera saber si debemos incluir los proyectos de cofinanciación." + QUOTE,
        "Tengo una duda con la hoja Metas: no me deja escoger la fuente de recursos.\n\nCordialmente,\nAna",
        "Hi, could you tell me which budget figure goes in the POAI column",
        "Does the plan include the operating budget?\n\nSent from my iPhone",
        "Me pueden indicar cómo diligencio el indicador de la meta 3.2.1",
        "Buenos días. Revisando el formato encontramos que el presupuesto asignado a la secretaría no corresponde con "
        "el aprobado por el concejo municipal en el acuerdo de presupuesto de la vigencia, por lo que necesitamos "
        "revisarlo con ustedes antes de enviar el plan definitivo a la oficina.",
    ],
)
def test_questions_reach_a_person(body: str) -> None:
    assert is_question(body)


@pytest.mark.parametrize(
    "body",
    [
        "Adjunto el plan.",
        "Buenos días, adjunto el plan de acción diligenciado.\n\nCordialmente,",
        "Please find attached our action plan.\n\nBest regards,\nJohn",
        "Envío el plan de Hacienda." + QUOTE,
        "",
        "> ¿Cuál es la fecha límite?\n> Quoted only",
        "Adjunto el plan.\n\n--\nSecretaría de Hacienda\n¿Necesita ayuda? Llame al 555 0100",
    ],
)
def test_a_forgotten_attachment_is_not_a_question(body: str) -> None:
    assert not is_question(body)


def test_new_text_cuts_the_quote_and_the_signature() -> None:
    body = "¿Cuándo vence?\n\nSaludos,\nPedro\n" + QUOTE
    assert new_text(body) == "¿Cuándo vence?"
    outlook = "Ok, gracias por la respuesta\n\nFrom: Planeación\nSent: Monday\n¿Preguntas?"
    assert new_text(outlook) == "Ok, gracias por la respuesta"


def test_a_question_without_a_workbook_is_its_own_outcome() -> None:
    decision = decide_attachments([], [], asks=True)
    assert decision is not None
    assert decision.outcome is Outcome.QUESTION
    link = decide_attachments([], ["https://drive.google.com/x"], asks=True)
    assert link is not None
    assert link.outcome is Outcome.NO_ATTACHMENT


JAN_5 = dt.date(2027, 1, 5)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Estoy de vacaciones, regreso el 15 de enero.", dt.date(2027, 1, 15)),
        ("Estaré fuera de la oficina hasta el lunes 20 de enero de 2027.", dt.date(2027, 1, 20)),
        ("Estaré fuera hasta el 12/01/2027; para urgencias escriba a...", dt.date(2027, 1, 12)),
        ("I am out of the office and will be back on January 15.", dt.date(2027, 1, 15)),
        ("Out of office until Monday, January 18th, 2027.", dt.date(2027, 1, 18)),
        ("Me encuentro en vacaciones. Regreso el 3 de enero.", dt.date(2028, 1, 3)),  # already past: next year
        ("Estaré fuera de la oficina hasta el lunes.", dt.date(2027, 1, 11)),
        ("Me encuentro fuera de la oficina. Gracias.", None),
        ("Fuera de la oficina. Informe del 2 de febrero pendiente.", None),  # a date, but not a return
    ],
)
def test_return_date(body: str, expected: dt.date | None) -> None:
    assert return_date(body, JAN_5) == expected


def test_out_of_office_from_subject_or_auto_reply_text() -> None:
    assert is_out_of_office(MessageFacts(subject="Respuesta automática: Plan de acción"), "")
    replied = MessageFacts(subject="RE: Plan", auto_submitted="auto-replied")
    assert is_out_of_office(replied, "Me encuentro fuera de la oficina hasta el 15 de enero.")
    assert not is_out_of_office(replied, "Su mensaje fue recibido.")
    receipt = MessageFacts(subject="Leído: Plan", is_report=True, auto_submitted="auto-replied")
    assert not is_out_of_office(receipt, "fuera de la oficina")


def test_another_dependencias_workbook_is_said_in_spanish() -> None:
    found = Match("quarantined", "signals disagree", signals={"control": "HAC", "sender": "GOB", "thread": "GOB"})
    opening = attention.unplaced(found, "gobierno@municipio.test", NAMES)
    assert opening.kind is attention.Kind.QUARANTINED
    assert opening.dependencia == "GOB"
    assert opening.summary == "La Secretaría de Gobierno envió el archivo de la Secretaría de Hacienda"


def test_unmatched_and_other_summaries() -> None:
    nothing = attention.unplaced(Match("unmatched", "no signal"), "x@y.co", NAMES)
    assert nothing.summary == "Mensaje sin dependencia de x@y.co: sin firma ni remitente registrado"
    assert nothing.dependencia is None
    thread = Match("quarantined", "…", signals={"thread": "DES", "sender": "HAC"})
    assert attention.unplaced(thread, "h@m.co", NAMES).summary == (
        "La Secretaría de Hacienda respondió el correo enviado al Despacho del Alcalde"
    )
    tag_only = Match("unmatched", "…", signals={"subject_tag": "DES"})
    assert attention.unplaced(tag_only, "h@m.co", NAMES).summary.endswith(
        "solo el asunto nombra al Despacho del Alcalde"
    )
    tampered = attention.unplaced(Match("quarantined", "…"), "h@m.co", NAMES, tampered=True)
    assert "firma inválida" in tampered.summary
    rejected = Match("rejected_sender", "…", dependencia="HAC")
    assert "no está registrado en la Secretaría de Hacienda" in attention.unplaced(rejected, "z@m.co", NAMES).summary
    away = attention.away("HAC", "h@m.co", dt.date(2027, 1, 15), NAMES, head="Diana Marcela Londoño Zapata")
    assert away.summary == (  # the head is named: no "el secretario" guessing a gender
        "Diana Marcela Londoño Zapata (Secretaría de Hacienda) está ausente hasta el viernes 15 de enero de 2027 "
        "(h@m.co)"
    )
    unnamed = attention.away("HAC", "h@m.co", None, NAMES)
    assert unnamed.summary == (
        "h@m.co (Secretaría de Hacienda) está ausente (sin fecha de regreso en su respuesta automática)"
    )


def test_what_resolves_what() -> None:
    assert attention.resolves_on_acceptance("quarantined")
    assert not attention.resolves_on_acceptance("question")  # a person answers a question
    assert not attention.resolves_on_acceptance("rejected_sender")  # someone else tried: a person decides
    assert not attention.resolves_on_acceptance("away")
    assert attention.resolves_on_reply("away")
    assert not attention.away_expired(dt.date(2027, 1, 15), dt.date(2027, 1, 15))
    assert attention.away_expired(dt.date(2027, 1, 15), dt.date(2027, 1, 16))
    assert not attention.away_expired(None, dt.date(2030, 1, 1))
    assert attention.coverage_es(3, 6) == "3 de 6 dependencias reportaron"
    assert attention.coverage_es(1, 6) == "1 de 6 dependencias reportó"
    assert attention.age_es(JAN_5, JAN_5) == "desde hoy"
    assert attention.age_es(JAN_5, dt.date(2027, 1, 6)) == "desde hace 1 día"
    assert attention.age_es(JAN_5, dt.date(2027, 1, 8)) == "desde hace 3 días"


def test_what_the_secretario_is_told_about_a_quarantine() -> None:
    cross = Match("quarantined", "…", signals={"control": "HAC", "sender": "GOB"})
    assert attention.told_to_sender(cross, NAMES) == (
        "El archivo que adjuntó es el formato de la Secretaría de Hacienda y no el de la Secretaría de Gobierno."
    )
    thread = Match("quarantined", "…", signals={"thread": "DES", "sender": "HAC"})
    assert attention.told_to_sender(thread, NAMES) == (
        "Su mensaje responde el correo enviado al Despacho del Alcalde, pero su dirección está registrada en "
        "la Secretaría de Hacienda."
    )
    assert attention.told_to_sender(Match("unmatched", "…"), NAMES) is None


def test_an_outsider_who_matched_a_mailing_is_named_as_such() -> None:
    outsider = Match("rejected_sender", "…", dependencia="HAC", signals={"thread": "HAC"})
    opening = attention.unplaced(outsider, "someone@gmail.com", NAMES, insider=False)
    assert opening.summary == "someone@gmail.com, de fuera del municipio, envió un plan para la Secretaría de Hacienda"
