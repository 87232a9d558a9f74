"""The answers to a received message: threaded, Spanish, from the templates, one per decision."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from html import escape
from typing import Any

from mailbot.adapters.mail_templates import render
from mailbot.config import MailbotConfig
from mailbot.domain.decisions import Answer
from mailbot.domain.espanol import de
from mailbot.domain.fechas import fecha_larga
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.inbound import MessageFacts
from mailbot.domain.money import format_pesos
from mailbot.domain.outgoing import (
    AutoSubmitted,
    OutgoingAttachment,
    OutgoingMail,
    plus_address,
    subject_tag,
    thread_references,
)
from mailbot.domain.places import shown_sheet
from mailbot.domain.summary import PlanSummary
from mailbot.domain.workbook_format import Ronda, Source
from mailbot.services import mail_context


@dataclass(frozen=True)
class AnswerFacts:
    """What an answer may show, gathered by the inbox service."""

    dependencia: str | None = None
    vigencia: int | None = None
    ronda: str | None = None
    deadline: dt.date | None = None
    token: str | None = None
    version: int | None = None
    radicado: str | None = None
    sha256: str | None = None
    findings: tuple[Finding, ...] = ()
    summary: PlanSummary | None = None
    annotated: bytes | None = None
    annotated_name: str | None = None
    attachment_names: tuple[str, ...] = ()
    first_date: dt.datetime | None = None
    first_radicado: str | None = None
    first_state: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def compose_answer(
    config: MailbotConfig, answer: Answer, received: MessageFacts, facts: AnswerFacts, sender: str
) -> OutgoingMail:
    dep = config.dependencia(facts.dependencia) if facts.dependencia else None
    cc = tuple(a for a in (dep.addresses if dep else []) if a != sender) if answer is not Answer.REVIEW else ()
    context = answer_context(config, received, facts)
    text, html = render(answer.value, context, config.smtp.templates_dir)
    attachments: tuple[OutgoingAttachment, ...] = ()
    if answer is Answer.CORRECTION and facts.annotated is not None:
        attachments = (OutgoingAttachment(facts.annotated_name or "Correcciones.xlsx", facts.annotated),)
    smtp = config.smtp
    return OutgoingMail(
        kind=answer.value,
        to=(sender,),
        cc=cc,
        subject=reply_subject(received.subject, dep.code if dep else None, facts.vigencia),
        text=text,
        html=html,
        auto_submitted=AutoSubmitted.REPLIED,
        reply_to=plus_address(smtp.from_address, facts.token) if smtp.plus_address_reply and facts.token else None,
        in_reply_to=received.message_id,
        references=thread_references(received.message_id, received.references),
        attachments=attachments,
    )


def reply_subject(original: str, dependencia: str | None, vigencia: int | None) -> str:
    """`Re: <their subject>`, carrying the tag so that the next reply still matches by subject too."""
    subject = (original or "").strip() or "Plan de acción"
    if not subject.lower().startswith(("re:", "rv:", "fw:", "fwd:")):
        subject = f"Re: {subject}"
    if dependencia and vigencia and "[E-DE-F-010" not in subject:
        subject = f"{subject} {subject_tag(dependencia, vigencia)}"
    return subject


def answer_context(config: MailbotConfig, received: MessageFacts, facts: AnswerFacts) -> dict[str, Any]:
    """What every answer template receives (each uses its part)."""
    dep = config.dependencia(facts.dependencia) if facts.dependencia else None
    ronda = Ronda(facts.ronda) if facts.ronda in {r.value for r in Ronda} else None
    errors = [f for f in facts.findings if f.severity is Severity.ERROR]
    by_sheet = [
        {
            "nombre": sheet or "el archivo",
            "titulo": f"Hoja «{sheet}»" if sheet else "Todo el archivo",
            "hallazgos": [f.to_json() for f in group],
        }
        for sheet, group in itertools.groupby(facts.findings, key=lambda f: shown_sheet(f.sheet))
    ]
    to = mail_context.addressee(dep, received.from_address or "", received.from_name)
    return {
        **mail_context.common(config, dep, to),
        **mail_context.round_facts(config, ronda, facts.vigencia),
        "vigencia": facts.vigencia or "",
        "fecha_limite": fecha_larga(facts.deadline) if facts.deadline else "",
        "asunto": received.subject or "(sin asunto)",
        "version": facts.version,
        "radicado": facts.radicado,
        # planeación's records keep the archived path and the SHA-256; the mails no longer show them
        "sha256": facts.sha256,
        "errores": len(errors),
        "por_hoja": by_sheet,
        "advertencias": [f.to_json() for f in facts.findings if f.severity is Severity.WARNING],
        "anotado": facts.annotated is not None,
        "resumen": _summary(facts.summary),
        "adjuntos": list(facts.attachment_names),
        "primera_fecha": fecha_larga(facts.first_date.date()) if facts.first_date else "",
        "primer_radicado": facts.first_radicado,
        "primer_estado": facts.first_state or "",
        "evaluacion": None,  # an accepted seguimiento: its metas with compliance, state and grade
        **facts.extra,
    }


def _summary(summary: PlanSummary | None) -> dict[str, Any]:
    if summary is None:
        return {"metas": 0, "fuentes": [], "total_programado": format_pesos(0), "total_disponible": format_pesos(0)}
    return {
        "metas": summary.metas,
        "fuentes": [
            {
                "nombre": Source(s.source).label,
                "trimestres": [format_pesos(v) for v in s.by_quarter],
                "programado": format_pesos(s.planned),
                "disponible": format_pesos(s.available),
            }
            for s in summary.sources
            if s.available or s.planned  # a source the dependencia has no money from is left out
        ],
        "total_programado": format_pesos(summary.planned),
        "total_disponible": format_pesos(summary.available),
    }


def contact_context(config: MailbotConfig) -> dict[str, str]:
    """Planeación's person for questions, as the mails name them (`contacto` in a template's context)."""
    return mail_context.contact(config)


def _contact_lines(config: MailbotConfig) -> list[str]:
    contact = contact_context(config)
    return [line for line in (contact["nombre"], contact["cargo"], contact["telefono"], contact["correo"]) if line]


def acknowledgement(config: MailbotConfig, received: MessageFacts, sender: str, today: dt.date) -> OutgoingMail:
    """The answer when the templates fail at run time: received, when, that a person will look, and who.

    Built here in code, never from a template, so that an operator's broken override cannot leave a secretario
    without any answer."""
    text = "\n".join(
        [
            "Buen día:",
            "",
            f"Recibimos su mensaje «{received.subject or '(sin asunto)'}» el {fecha_larga(today)}.",
            "Una persona de la Secretaría de Planeación lo revisará y le responderá.",
            "",
            "Si tiene alguna inquietud, puede comunicarse con:",
            *_contact_lines(config),
            "",
            "Cordialmente,",
            config.smtp.from_name,
            config.municipality.name,
            "",
        ]
    )
    html = "".join(f"<p>{escape(block).replace(chr(10), '<br>')}</p>" for block in text.strip().split("\n\n"))
    return OutgoingMail(
        kind=ACKNOWLEDGEMENT,
        to=(sender,),
        subject=reply_subject(received.subject, None, None),
        text=text,
        html=f'<!DOCTYPE html><html lang="es-CO"><body>{html}</body></html>',
        auto_submitted=AutoSubmitted.REPLIED,
        in_reply_to=received.message_id,
        references=thread_references(received.message_id, received.references),
    )


#: The kind of the plain acknowledgement (counted in the per-address daily cap with the template answers).
ACKNOWLEDGEMENT = "acuse_recibo"
#: The kind of a question forwarded to planeación's contact.
FORWARDED_QUESTION = "consulta_reenviada"
#: Attachments of a question travel with it up to this size in all; larger ones stay in the archive.
FORWARD_ATTACHMENTS_MAX = 5 * 1024 * 1024


def forward_question(
    config: MailbotConfig,
    received: MessageFacts,
    text: str,
    attachments: tuple[tuple[str, str, bytes], ...],
    dependencia: str | None,
) -> OutgoingMail:
    """A secretario's question to planeación's contact: threaded to his message, his address as Reply-To (a plain
    «Responder» reaches him), his text quoted. Built in code: a question must reach a person even when an
    operator's template is broken."""
    dep = config.dependencia(dependencia) if dependencia else None
    who = f"{received.from_name} <{received.from_address}>" if received.from_name else (received.from_address or "")
    origin = de(dep.name) if dep else "de una dependencia"
    quoted = "\n".join(f"> {line}" for line in (text or "(sin texto)").splitlines())
    sent = fecha_larga(received.date.date()) if received.date else "hoy"
    body = "\n".join(
        [
            f"{config.effective_contact.name}:",
            "",
            f"{who}, {origin}, escribió una consulta sin el formato diligenciado. El sistema no responde "
            "preguntas: le avisó que usted le responderá. Use «Responder»: su respuesta le llegará "
            "directamente.",
            "",
            f"Asunto: {received.subject or '(sin asunto)'}",
            f"Enviado: {sent}",
            "",
            quoted,
            "",
            *(["Adjuntos: " + ", ".join(name for name, _, _ in attachments), ""] if attachments else []),
            "--",
            f"mailbot · {config.smtp.from_name}",
            "",
        ]
    )
    files: list[OutgoingAttachment] = []
    total = 0
    for name, content_type, data in attachments:
        total += len(data)
        if total > FORWARD_ATTACHMENTS_MAX:
            break
        maintype, _, subtype = content_type.partition("/")
        files.append(OutgoingAttachment(name, data, maintype or "application", subtype or "octet-stream"))
    html_quote = escape(text or "(sin texto)").replace("\n", "<br>")
    html = (
        '<!DOCTYPE html><html lang="es-CO"><body>'
        f"<p>{escape(config.effective_contact.name)}:</p>"
        f"<p>{escape(who)}, {escape(origin)}, escribió una consulta sin el formato diligenciado. El sistema no "
        "responde preguntas: le avisó que usted le responderá. Use «Responder»: su respuesta le llegará "
        "directamente.</p>"
        f"<p>Asunto: {escape(received.subject or '(sin asunto)')}<br>Enviado: {escape(sent)}</p>"
        f'<blockquote style="border-left: 3px solid #cccccc; margin: 0; padding-left: 12px;">{html_quote}</blockquote>'
        "</body></html>"
    )
    subject = (received.subject or "").strip() or "(sin asunto)"
    return OutgoingMail(
        kind=FORWARDED_QUESTION,
        to=(str(config.effective_contact.email),),
        subject=f"Consulta {origin if dep else f'de {received.from_address}'}: {subject}",
        text=body,
        html=html,
        auto_submitted=AutoSubmitted.GENERATED,
        reply_to=received.from_address,
        in_reply_to=received.message_id,
        references=thread_references(received.message_id, received.references),
        attachments=tuple(files),
    )
