"""Reminders before the deadline and late notices after it, on Colombian working days, threaded to the mailing.

Never two to one dependencia on one day (the outbox dedup key is the mailing and the date), none once its plan
is accepted. Running the job twice on a day sends nothing new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.adapters.db.models import AuditEvent, Mailing, Round, Submission
from mailbot.adapters.mail_templates import render
from mailbot.app import App
from mailbot.config import Dependencia as DependenciaConfig
from mailbot.config import MailbotConfig
from mailbot.domain.calendar import WorkingCalendar
from mailbot.domain.fechas import fecha_larga
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.outgoing import AutoSubmitted, OutgoingAttachment, OutgoingMail, plus_address, subject_tag
from mailbot.domain.workbook_format import Ronda
from mailbot.log import get_logger
from mailbot.services import mail_context, outbox
from mailbot.services.round_dates import calendar_for

if TYPE_CHECKING:
    from mailbot.services.campaign import Format

log = get_logger("mailbot.reminders")


@dataclass
class ReminderReport:
    reminded: list[str] = field(default_factory=list)  # "HAC formulacion 2027"
    late: list[str] = field(default_factory=list)


def send_due(app: App, today: dt.date) -> ReminderReport:
    """Queue today's reminders and late notices (the caller flushes the outbox)."""
    config, now = app.config, app.clock.now()
    report = ReminderReport()
    with app.sessions.begin() as session:
        rounds = list(session.scalars(select(Round)))
        calendar = calendar_for(sorted({r.vigencia for r in rounds} | {r.vigencia - 1 for r in rounds} | {today.year}))
        for round_ in rounds:
            settings = config.rounds.formulacion if round_.kind == Ronda.FORMULACION else config.rounds.seguimiento
            before = today in calendar.reminder_dates(round_.deadline, settings.reminder_offsets)
            after = today > round_.deadline and today in calendar.late_notice_dates(
                round_.deadline, settings.late_notice_every, until=today
            )
            if not (before or after):
                continue
            for mailing in session.scalars(select(Mailing).where(Mailing.round_id == round_.id)):
                if _accepted(session, mailing.id):
                    continue
                label = f"{mailing.dependencia.code} {round_.kind} {round_.vigencia}"
                queued = _queue(app, session, round_, mailing, late=after, today=today, calendar=calendar, now=now)
                if queued:
                    (report.late if after else report.reminded).append(label)
    if report.reminded or report.late:
        log.info("reminders_queued", reminded=report.reminded, late=report.late)
    return report


def _accepted(session: Session, mailing_id: int) -> bool:
    return (
        session.scalars(
            select(Submission.id).where(Submission.mailing_id == mailing_id, Submission.decision == "accepted")
        ).first()
        is not None
    )


def _queue(
    app: App,
    session: Session,
    round_: Round,
    mailing: Mailing,
    *,
    late: bool,
    today: dt.date,
    calendar: WorkingCalendar,
    now: dt.datetime,
) -> bool:
    config = app.config
    dep = config.dependencia(mailing.dependencia.code)
    dedup_key = f"reminder:{mailing.id}:{today.isoformat()}"
    last = session.scalars(
        select(Submission).where(Submission.mailing_id == mailing.id).order_by(Submission.version.desc())
    ).first()
    # through Finding: a record stored before findings were located still gets its place ("El archivo", a cell)
    stored = [Finding.from_json(f) for f in (last.findings if last is not None else [])]
    pending = [f.to_json() for f in stored if f.severity is Severity.ERROR]
    ronda = Ronda(round_.kind)
    expected = _expected_workbook(app, session, dep, round_, mailing.token)
    context = reminder_context(
        config,
        dep,
        ronda,
        round_.vigencia,
        round_.deadline,
        late=late,
        working_days_left=None if late else calendar.working_days_between(today, round_.deadline),
        pending=pending,
        expected=expected,
    )
    template = "aviso_vencido" if late else "recordatorio"
    text, html = render(template, context, config.smtp.templates_dir)
    tag = subject_tag(dep.code, round_.vigencia)
    what = f"plan de acción {round_.vigencia}"
    if ronda.quarter is not None:
        what = f"seguimiento T{ronda.quarter} del {what}"
    subject = (
        f"{tag} {what[0].upper()}{what[1:]} vencido – {dep.name}"
        if late
        else f"{tag} Recordatorio: {what} – {dep.name}"
    )
    mail = OutgoingMail(
        kind="late_notice" if late else "reminder",
        to=tuple(dep.addresses),
        cc=tuple(a for a in config.digest.recipients if a not in dep.addresses) if late else (),
        subject=subject,
        text=text,
        html=html,
        auto_submitted=AutoSubmitted.GENERATED,
        reply_to=plus_address(config.smtp.from_address, mailing.token) if config.smtp.plus_address_reply else None,
        in_reply_to=mailing.message_id,
        references=(mailing.message_id,),
        attachments=(OutgoingAttachment(expected.filename, expected.workbook),) if expected is not None else (),
    )
    _, created = outbox.queue(session, config, mail, dedup_key=dedup_key, now=now, mailing_id=mailing.id)
    if not created:
        return False  # already queued today
    session.add(
        AuditEvent(
            at=now,
            kind="late_notice_queued" if late else "reminder_queued",
            subject_type="mailing",
            subject_id=mailing.id,
            detail={"dependencia": dep.code, "pending_findings": len(pending)},
        )
    )
    return True


def reminder_context(
    config: MailbotConfig,
    dep: DependenciaConfig,
    ronda: Ronda,
    vigencia: int,
    deadline: dt.date,
    *,
    late: bool,
    working_days_left: int | None,
    pending: list[dict[str, Any]],
    expected: Format | None,
) -> dict[str, Any]:
    """What `recordatorio` / `aviso_vencido` receive: the round's facts, what is pending, the workbook attached."""
    return {
        **mail_context.common(config, dep, mail_context.addressee(dep)),
        **mail_context.round_facts(config, ronda, vigencia),
        "radicado_plan": "",
        **(expected.extra if expected is not None else {}),
        "titulo": "Plan de acción vencido" if late else "Recordatorio: plan de acción",
        "vigencia": vigencia,
        "fecha_limite": fecha_larga(deadline),
        "dias_habiles": working_days_left,
        "pendientes": pending,
        "adjunto": expected.filename if expected is not None else "",
    }


def _expected_workbook(app: App, session: Session, dep: DependenciaConfig, round_: Round, token: str) -> Format | None:
    """The workbook the mailing sent, built again with the mailing's token, so a reply carrying it matches
    (the campaign's own path: a seguimiento workbook is rebuilt on the accepted plan)."""
    from mailbot.services import campaign  # campaign → seguimiento → this module: import when used

    return campaign.make_format(app, session, dep, round_.vigencia, Ronda(round_.kind), token)
