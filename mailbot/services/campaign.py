"""Starting a round: one mailing per dependencia, each queued in the outbox in the same transaction.

Running `campaign start` again sends nothing new: a dependencia that has its mailing is skipped, and a dependencia
added to the configuration later gets its mailing on the next run. The mailing row, its token and its outbox row
are committed together, so a crash leaves either all of them or none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.adapters.db.models import AuditEvent, Dependencia, Mailing, OutboxMail, Round
from mailbot.adapters.mail_builder import new_message_id
from mailbot.adapters.mail_templates import render
from mailbot.app import App
from mailbot.config import Dependencia as DependenciaConfig
from mailbot.config import MailbotConfig
from mailbot.domain.espanol import enumeracion
from mailbot.domain.fechas import fecha_larga
from mailbot.domain.money import format_pesos
from mailbot.domain.outgoing import AutoSubmitted, OutgoingAttachment, OutgoingMail, plus_address, subject_tag
from mailbot.domain.workbook_format import FORMAT_CODE, QUARTER_MONTHS, Ronda
from mailbot.errors import MailbotError
from mailbot.log import get_logger
from mailbot.services import mail_context, outbox, seguimiento
from mailbot.services.accepted import latest_accepted
from mailbot.services.round_dates import due_rounds, round_deadline
from mailbot.services.templates import make_template, new_token

log = get_logger("mailbot.campaign")


@dataclass
class StartReport:
    vigencia: int
    ronda: Ronda
    deadline: dt.date
    queued: list[str] = field(default_factory=list)  # dependencia codes mailed now
    already: list[str] = field(default_factory=list)  # had their mailing before
    written: list[Path] = field(default_factory=list)  # --dry-run files
    no_plan: list[str] = field(default_factory=list)  # seguimiento: no accepted plan to follow up yet


def sync_dependencias(session: Session, config: MailbotConfig, now: dt.datetime) -> dict[str, Dependencia]:
    """The configuration is the source of truth; the table mirrors it (rows are never deleted: history)."""
    rows = {d.code: d for d in session.scalars(select(Dependencia))}
    configured = {d.code for d in config.dependencias}
    for dep in config.dependencias:
        row = rows.get(dep.code)
        if row is None:
            row = Dependencia(code=dep.code, name=dep.name, active=True, created_at=now)
            session.add(row)
            rows[dep.code] = row
        else:
            row.name, row.active = dep.name, True
    for code, row in rows.items():
        if code not in configured:
            row.active = False
    session.flush()
    return rows


def get_round(session: Session, config: MailbotConfig, vigencia: int, ronda: Ronda, now: dt.datetime) -> Round:
    found = session.scalars(select(Round).where(Round.vigencia == vigencia, Round.kind == ronda.value)).first()
    if found is not None:
        return found
    row = Round(
        vigencia=vigencia,
        kind=ronda.value,
        deadline=round_deadline(config, ronda, vigencia),
        started_at=now,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Format:
    """One dependencia's workbook for a round, and what its mail says about it."""

    workbook: bytes
    filename: str
    extra: dict[str, Any]


def make_format(
    app: App, session: Session, dep: DependenciaConfig, vigencia: int, ronda: Ronda, token: str
) -> Format | None:
    """The workbook to mail; None for a seguimiento when the dependencia has no accepted plan to follow up."""
    config = app.config
    if ronda is Ronda.FORMULACION:
        workbook = make_template(config, dep.code, vigencia=vigencia, ronda=ronda, token=token)
        return Format(workbook, workbook_filename(dep, vigencia), {})
    found = seguimiento.baseline(app, session, vigencia, dep.code, ronda)
    if found is None:
        return None
    base, plan = found
    workbook = make_template(
        config, dep.code, vigencia=vigencia, ronda=ronda, token=token, baseline=base, accepted=plan.workbook
    )
    extra = seguimiento_extra(base.quarter, plan.radicado, sorted(base.reported), list(base.open_quarters))
    return Format(workbook, seguimiento_filename(dep, vigencia, base.quarter), extra)


def seguimiento_extra(
    quarter: int, radicado_plan: str, reported: list[int], open_quarters: list[int]
) -> dict[str, Any]:
    """What a seguimiento mailing (and its reminders) says about the workbook: the plan it is built on, the
    quarters already reported and the columns to fill."""
    return {
        "trimestre": quarter,
        "periodo": QUARTER_MONTHS[quarter],
        "radicado_plan": radicado_plan,
        "trimestres_anteriores": _quarters_es(reported),
        "columnas_abiertas": _quarters_es(open_quarters),
    }


def _quarters_es(quarters: list[int]) -> str:
    """[1, 2] → "T1 y T2"."""
    return enumeracion([f"T{q}" for q in quarters])


def compose_mailing(
    config: MailbotConfig,
    dep: DependenciaConfig,
    vigencia: int,
    deadline: dt.date,
    token: str,
    found: Format,
    ronda: Ronda = Ronda.FORMULACION,
) -> OutgoingMail:
    smtp = config.smtp
    context = mailing_context(config, dep, vigencia, deadline, found.extra, ronda)
    title = context["titulo"]
    template = "formulacion" if ronda is Ronda.FORMULACION else "seguimiento"
    text, html = render(template, context, smtp.templates_dir)
    return OutgoingMail(
        kind="mailing",
        to=tuple(dep.addresses),
        subject=f"{subject_tag(dep.code, vigencia)} {title} – {dep.name}",
        text=text,
        html=html,
        auto_submitted=AutoSubmitted.GENERATED,
        reply_to=plus_address(smtp.from_address, token) if smtp.plus_address_reply else None,
        attachments=(OutgoingAttachment(found.filename, found.workbook),),
    )


def mailing_context(
    config: MailbotConfig,
    dep: DependenciaConfig,
    vigencia: int,
    deadline: dt.date,
    extra: dict[str, Any],
    ronda: Ronda = Ronda.FORMULACION,
) -> dict[str, Any]:
    """What the `formulacion` / `seguimiento` templates receive (`extra`: the seguimiento's baseline facts)."""
    title = (
        f"Formulación del plan de acción {vigencia}"
        if ronda is Ronda.FORMULACION
        else f"Seguimiento al plan de acción {vigencia} – trimestre {ronda.quarter}"
    )
    return {
        **mail_context.common(config, dep, mail_context.addressee(dep)),
        **mail_context.round_facts(config, ronda, vigencia),
        "vigencia": vigencia,
        "fecha_limite": fecha_larga(deadline),
        "titulo": title,
        "disponible": {
            "poai": format_pesos(dep.budget.poai),
            "funcionamiento": format_pesos(dep.budget.operating),
            "cofinanciacion": format_pesos(dep.budget.cofinancing),
            "total": format_pesos(dep.budget.total),
        },
        **extra,
    }


def seguimiento_filename(dep: DependenciaConfig, vigencia: int, quarter: int) -> str:
    return f"{FORMAT_CODE} Seguimiento T{quarter} {vigencia} – {dep.name}.xlsx"


def workbook_filename(dep: DependenciaConfig, vigencia: int) -> str:
    return f"{FORMAT_CODE} Plan de acción {vigencia} – {dep.name}.xlsx"


def start(
    app: App,
    vigencia: int,
    *,
    ronda: Ronda = Ronda.FORMULACION,
    only: list[str] | None = None,
    dry_run: Path | None = None,
) -> StartReport:
    """Queue the mailing of every (or each `only`) dependencia that has none yet; `dry_run` writes .eml files."""
    config, now = app.config, app.clock.now()
    chosen = [config.dependencia(code) for code in only] if only else list(config.dependencias)
    deadline = round_deadline(config, ronda, vigencia)
    report = StartReport(vigencia, ronda, deadline)
    if dry_run is not None:
        return _dry_run(app, chosen, vigencia, deadline, dry_run, now, report)

    domain = config.smtp.effective_message_id_domain
    with app.sessions.begin() as session:
        deps = sync_dependencias(session, config, now)
        round_row = get_round(session, config, vigencia, ronda, now)
        mailed = set(session.scalars(select(Mailing.dependencia_id).where(Mailing.round_id == round_row.id)))
        for dep in chosen:
            row = deps[dep.code]
            if row.id in mailed:
                report.already.append(dep.code)
                continue
            token = new_token()
            message_id = new_message_id(domain)
            found = make_format(app, session, dep, vigencia, ronda, token)
            if found is None:
                report.no_plan.append(dep.code)
                continue
            mail = compose_mailing(config, dep, vigencia, round_row.deadline, token, found, ronda)
            mailing = Mailing(
                round_id=round_row.id, dependencia_id=row.id, token=token, message_id=message_id, created_at=now
            )
            session.add(mailing)
            session.flush()
            outbox.queue(
                session,
                config,
                mail,
                dedup_key=f"mailing:{mailing.id}",
                now=now,
                message_id=message_id,
                mailing_id=mailing.id,
            )
            session.add(
                AuditEvent(
                    at=now,
                    kind="mailing_queued",
                    subject_type="mailing",
                    subject_id=mailing.id,
                    detail={"dependencia": dep.code, "vigencia": vigencia, "ronda": ronda.value},
                )
            )
            report.queued.append(dep.code)
    log.info(
        "campaign_started",
        vigencia=vigencia,
        ronda=ronda.value,
        queued=report.queued,
        already=report.already,
        no_plan=report.no_plan,
    )
    return report


def resend(app: App, code: str, vigencia: int, ronda: Ronda = Ronda.FORMULACION) -> str:
    """Queue the same mailing again (same token, a new Message-ID), when planeación asks; returns its Message-ID."""
    config, now = app.config, app.clock.now()
    dep = config.dependencia(code)
    with app.sessions.begin() as session:
        mailing = session.scalars(
            select(Mailing)
            .join(Round)
            .join(Dependencia)
            .where(Round.vigencia == vigencia, Round.kind == ronda.value, Dependencia.code == dep.code)
        ).first()
        if mailing is None:
            raise MailbotError(f"{dep.code} has no {ronda.value} {vigencia} mailing yet: run `campaign start` first")
        earlier = session.scalar(
            select(func.count()).select_from(OutboxMail).where(OutboxMail.mailing_id == mailing.id)
        )
        found = make_format(app, session, dep, vigencia, ronda, mailing.token)
        if found is None:
            raise MailbotError(f"{dep.code} has no accepted {vigencia} plan: its seguimiento cannot be resent")
        mail = compose_mailing(config, dep, vigencia, mailing.round.deadline, mailing.token, found, ronda)
        row, _ = outbox.queue(
            session, config, mail, dedup_key=f"mailing:{mailing.id}:resend:{earlier}", now=now, mailing_id=mailing.id
        )
        message_id = row.message_id
        session.add(
            AuditEvent(
                at=now, kind="mailing_resent", subject_type="mailing", subject_id=mailing.id, detail={"n": earlier}
            )
        )
    return message_id


def _dry_run(
    app: App,
    chosen: list[DependenciaConfig],
    vigencia: int,
    deadline: dt.date,
    folder: Path,
    now: dt.datetime,
    report: StartReport,
) -> StartReport:
    """The same mails, written as .eml files; nothing is stored and nothing is sent."""
    config = app.config
    folder.mkdir(parents=True, exist_ok=True)
    domain = config.smtp.effective_message_id_domain
    # Formulación's workbook needs nothing stored (an unbound session, never used): a dry run works before
    # `db upgrade`; a seguimiento's is built on the accepted plan, so it opens the database (and checks it).
    with Session() if report.ronda is Ronda.FORMULACION else app.sessions() as session:
        for dep in chosen:
            token = new_token()
            found = make_format(app, session, dep, vigencia, report.ronda, token)
            if found is None:
                report.no_plan.append(dep.code)
                continue
            mail = compose_mailing(config, dep, vigencia, deadline, token, found, report.ronda)
            path = folder / f"{dep.code}-{report.ronda.value}-{vigencia}.eml"
            path.write_bytes(outbox.render(config, mail, new_message_id(domain), now))
            report.written.append(path)
    return report


def has_accepted_plans(app: App, vigencia: int) -> bool:
    with app.sessions() as session:
        return any(
            latest_accepted(session, vigencia, dep.code, (Ronda.FORMULACION,)) is not None
            for dep in app.config.dependencias
        )


def start_due(app: App, today: dt.date) -> list[str]:
    """The scheduled start: mail every due seguimiento to each dependencia with an accepted plan (idempotent)."""
    if not app.config.rounds.seguimiento.auto_start:
        return []
    started = []
    for vigencia, ronda in due_rounds(app.config, today):
        if not has_accepted_plans(app, vigencia):
            continue
        report = start(app, vigencia, ronda=ronda)
        if report.queued:
            started.append(f"{ronda.value} {vigencia}: {', '.join(report.queued)}")
    return started
