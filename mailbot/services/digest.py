"""Planeación's digest: where every dependencia stands, what changed, what needs a person, two charts, and the
consolidated plan whenever it changed. At most one digest a day (the outbox dedup key is the date)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.adapters import charts
from mailbot.adapters.db.models import (
    AttentionItem,
    AuditEvent,
    Dependencia,
    Mailing,
    ReceivedMessage,
    Round,
    Submission,
)
from mailbot.adapters.mail_builder import new_message_id
from mailbot.adapters.mail_templates import render
from mailbot.app import App
from mailbot.domain.attention import KIND_ES, Kind, age_es, coverage_es
from mailbot.domain.espanol import cantidad, numero, plazo
from mailbot.domain.evaluation import MetaState, percent
from mailbot.domain.fechas import fecha_larga
from mailbot.domain.money import format_percent
from mailbot.domain.outgoing import AutoSubmitted, OutgoingAttachment, OutgoingMail
from mailbot.domain.rounds import default_vigencia
from mailbot.domain.workbook_format import FORMAT_CODE, Ronda
from mailbot.log import get_logger
from mailbot.services import attention, outbox, queries, seguimiento
from mailbot.services.export import accepted_plans, consolidated_bytes

log = get_logger("mailbot.digest")

STATE_ES = {
    "pending": ("Pendiente", "#eeeeee"),
    "correction_requested": ("Con correcciones", "#fff4ce"),
    "accepted": ("Aceptado", "#e2f0d9"),
    "late": ("Vencido", "#fce4e4"),
}
OUTCOME_ES = {
    "accepted": "plan aceptado",
    "correction_requested": "correcciones solicitadas",
    "duplicate": "archivo repetido",
    "quarantined": "mensaje en cuarentena",
    "unmatched": "mensaje sin relacionar",
    "automatic": "respuesta automática (ignorada)",
    "bounce": "rebote de correo",
    "no_attachment": "mensaje sin el archivo",
    "several_attachments": "mensaje con varios archivos",
    "rejected_sender": "remitente no autorizado",
    "error": "mensaje que no se pudo procesar",
    "question": "consulta reenviada a una persona",
}
CID_STATES, CID_BUDGET, CID_SCORES = "estados@mailbot", "presupuesto@mailbot", "cumplimiento@mailbot"


@dataclass
class DigestResult:
    sent: bool
    reason: str
    message_id: str | None = None
    written: list[Path] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)


def send(app: App, *, dry_run: Path | None = None, force: bool = False) -> DigestResult:
    config, now = app.config, app.clock.now()
    today = now.astimezone(app.clock.tz).date()
    vigencia = default_vigencia(today, config.rounds.vigencia)
    status = queries.status(app, today=today)
    with app.sessions() as session:
        last = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "digest_sent").order_by(AuditEvent.at.desc())
        ).first()
        since = last.at if last is not None else dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        news = _news(session, since)
        opened = _opened_since(session, since)
        deadlines = list(session.scalars(select(Round.deadline).where(Round.vigencia == vigencia)))
        planned = _planned_by_dependencia(session, vigencia)
    due = any(today >= d for d in deadlines)
    queue, away = _attention(app, today)
    if config.digest.skip_when_unchanged and not force and not news and not opened and not due:
        return DigestResult(False, "nothing new since the last digest")

    found = accepted_plans(app, vigencia, Ronda.FORMULACION)
    changed = found.plans and (last is None or last.detail.get("consolidated") != found.fingerprint)
    rows, counts = _rows(status, vigencia, today)
    context = {
        "municipio": config.municipality.name,
        "remitente": config.smtp.from_name,
        "titulo": f"Resumen del plan de acción {vigencia}",
        "vigencia": vigencia,
        "fecha": fecha_larga(today),
        "filas": rows,
        "totales": [(STATE_ES[s][0], counts.get(s, 0)) for s in STATE_ES],
        "novedades": news,
        "atencion": queue,
        "ausentes": away,
        "consolidado": f"{len(found.plans)} de {len(config.dependencias)} dependencias" if changed else None,
        "cid_estados": CID_STATES,
        "cid_presupuesto": CID_BUDGET,
    }
    evaluation = _seguimiento(app)
    context["seguimiento"] = evaluation.context if evaluation else None
    context["cid_cumplimiento"] = CID_SCORES
    text, html = render("resumen", context, config.smtp.templates_dir)
    budget_rows = [(d.code, planned.get(d.code, 0), d.budget.total) for d in config.dependencias]
    images: tuple[tuple[str, bytes], ...] = (
        (CID_STATES, charts.states_chart({STATE_ES[s][0]: counts.get(s, 0) for s in STATE_ES})),
        (CID_BUDGET, charts.budget_chart(budget_rows)),
    )
    if evaluation is not None:
        images += ((CID_SCORES, evaluation.chart),)
    attachments: tuple[OutgoingAttachment, ...] = ()
    if changed:
        workbook = consolidated_bytes(app, vigencia, Ronda.FORMULACION, found, now)
        attachments = (OutgoingAttachment(f"{FORMAT_CODE} Plan de acción consolidado {vigencia}.xlsx", workbook),)
    mail = OutgoingMail(
        kind="digest",
        to=tuple(config.digest.recipients),
        subject=f"[mailbot] Resumen del plan de acción {vigencia} – {fecha_larga(today)}",
        text=text,
        html=html,
        auto_submitted=AutoSubmitted.GENERATED,
        attachments=attachments,
        inline_images=images,
    )
    if dry_run is not None:
        raw = outbox.render(config, mail, new_message_id(config.smtp.effective_message_id_domain), now)
        dry_run.mkdir(parents=True, exist_ok=True)
        written = [dry_run / f"resumen-{today.isoformat()}.eml", dry_run / f"resumen-{today.isoformat()}.html"]
        written[0].write_bytes(raw)
        written[1].write_text(html, encoding="utf-8")
        return DigestResult(False, "dry run", None, written, context)

    with app.sessions.begin() as session:
        row, created = outbox.queue(session, config, mail, dedup_key=f"digest:{today.isoformat()}", now=now)
        if not created:
            return DigestResult(False, "today's digest was already queued", row.message_id)
        session.add(
            AuditEvent(
                at=now,
                kind="digest_sent",
                subject_type="outbox",
                subject_id=row.id,
                detail={"consolidated": found.fingerprint if found.plans else None, "message_id": row.message_id},
            )
        )
        message_id = row.message_id
    log.info("digest_queued", news=len(news), attention=len(queue), away=len(away), consolidated=bool(changed))
    return DigestResult(True, "queued", message_id, context=context)


def _rows(status: dict[str, Any], vigencia: int, today: dt.date) -> tuple[list[dict[str, Any]], Counter[str]]:
    rows, counts = [], Counter[str]()
    for dep in status["dependencias"]:
        entry = next((r for r in reversed(dep["rounds"]) if r["vigencia"] == vigencia), None)
        state = entry["state"] if entry else "pending"
        counts[state] += 1
        days = None
        if entry and state != "accepted":
            days = plazo((dt.date.fromisoformat(entry["deadline"]) - today).days)
        findings = entry["open_findings"] if entry else 0
        rows.append(
            {
                "codigo": dep["code"],
                "nombre": dep["name"],
                "estado": STATE_ES[state][0] if entry else "Sin envío",
                "ronda": Ronda(entry["ronda"]).label if entry else "",
                "color": STATE_ES[state][1],
                "radicado": entry["radicado"] if entry else None,
                "hallazgos": findings,
                "correcciones": cantidad(findings, "punto por corregir", "puntos por corregir") if findings else None,
                "dias": days,
            }
        )
    return rows, counts


def _news(session: Session, since: dt.datetime) -> list[str]:
    lines = []
    rows = session.execute(
        select(
            ReceivedMessage.outcome, ReceivedMessage.from_address, ReceivedMessage.dependencia_id, ReceivedMessage.id
        )
        .where(ReceivedMessage.decided_at > since)
        .order_by(ReceivedMessage.id)
    ).all()
    names = dict(session.execute(select(Dependencia.id, Dependencia.code)).all())
    for outcome, sender, dependencia_id, row_id in rows:
        who = names.get(dependencia_id) if dependencia_id is not None else None
        lines.append(
            f"{who or 'Sin dependencia'}: {OUTCOME_ES.get(outcome or '', outcome or '')} "
            f"(mensaje #{row_id} de {sender or 'desconocido'})"
        )
    for sub in session.scalars(
        select(Submission).where(Submission.created_at > since, Submission.radicado.is_not(None))
    ):
        lines.append(f"Radicado {sub.radicado} asignado (versión {sub.version})")
    return lines


def _opened_since(session: Session, since: dt.datetime) -> int:
    return len(list(session.scalars(select(AttentionItem.id).where(AttentionItem.created_at > since))))


def _attention(app: App, today: dt.date) -> tuple[list[str], list[str]]:
    """The standing queue, oldest first, with its age; and apart, the secretarios who are away and until when."""
    queue, away = [], []
    for item in attention.standing(app):
        since = item.since.astimezone(app.clock.tz).date()
        if item.kind == Kind.AWAY.value:
            away.append(item.summary)
            continue
        label = KIND_ES.get(item.kind, item.kind)
        said = [
            label,
            item.dependencia,
            age_es(since, today),
            f"Mensaje #{item.received_id}" if item.received_id else None,
        ]
        queue.append(f"{' · '.join(p for p in said if p)}: {item.summary} (ítem {item.id})")
    return queue, away


def _planned_by_dependencia(session: Session, vigencia: int) -> dict[str, int]:
    planned: dict[str, int] = {}
    rows = session.execute(
        select(Dependencia.code, Submission.plan)
        .join(Mailing, Submission.mailing_id == Mailing.id)
        .join(Round, Mailing.round_id == Round.id)
        .join(Dependencia, Mailing.dependencia_id == Dependencia.id)
        .where(Round.vigencia == vigencia, Submission.decision == "accepted")
        .order_by(Submission.version)
    ).all()
    for code, plan in rows:
        if plan and "summary" in plan:
            planned[code] = int(plan["summary"]["planned"])
    return planned


@dataclass(frozen=True)
class _Seguimiento:
    context: dict[str, Any]
    chart: bytes


def _seguimiento(app: App) -> _Seguimiento | None:
    """The latest seguimiento round: each dependencia's score and grade, the lagging metas, a chart of scores."""
    with app.sessions() as session:
        latest = session.scalars(
            select(Round)
            .where(Round.kind != Ronda.FORMULACION.value)
            .order_by(Round.started_at.desc(), Round.id.desc())
        ).first()
        if latest is None:
            return None
        vigencia, ronda = latest.vigencia, Ronda(latest.kind)
    found = seguimiento.quarter_result(app, vigencia, ronda)
    by_code = {d.code: d for d in found.evaluation.dependencias}
    rows = []
    for dep in app.config.dependencias:
        evaluated = by_code.get(dep.code)
        rows.append(
            {
                "codigo": dep.code,
                "nombre": dep.name,
                "puntaje": _score_text(evaluated.score) if evaluated else "Sin reporte aceptado",
                "calificacion": evaluated.grade.name if evaluated and evaluated.grade else "",
                "color": f"#{evaluated.grade.colour}" if evaluated and evaluated.grade else "#eeeeee",
                "radicado": found.radicados.get(dep.code, ""),
            }
        )
    lagging = [
        f"{d.code} – {m.meta.meta_code} {m.meta.meta}: {_score_text(m.cumulative_compliance)} "
        f"(programado a la fecha {numero(m.planned_to_date)}, ejecutado {numero(m.executed_to_date)})"
        for d in found.evaluation.dependencias
        for m in d.metas
        if m.state is MetaState.REZAGADA
    ]
    result = found.evaluation
    context = {
        "trimestre": ronda.quarter,
        "vigencia": vigencia,
        "filas": rows,
        "municipio_puntaje": _score_text(result.score),
        "municipio_calificacion": result.grade.name if result.grade else "",
        "municipio_color": f"#{result.grade.colour}" if result.grade else "#eeeeee",
        "cobertura": coverage_es(len(by_code), len(app.config.dependencias)),
        "rezagadas": lagging,
        "umbral_rezago": format_percent(app.config.evaluation.lag_below_percent),
    }
    bands = [(float(g.min_percent), g.name) for g in app.config.evaluation.rules().grades]
    scores = [(d.code, float(percent(d.score))) for d in result.dependencias if d.score is not None]
    return _Seguimiento(context, charts.scores_chart(scores, bands=bands))


def _score_text(fraction: Decimal | None) -> str:
    return format_percent(None if fraction is None else percent(fraction), missing="sin metas programadas")
