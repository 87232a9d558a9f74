"""The plans of record: a dependencia's latest accepted submission of a round, and its file read from the archive.

The consolidated plan, the seguimiento baseline and the quarter's evaluation all start here, so "which version
counts" is decided in one place: the accepted one of the highest quarter, then of the highest version.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.adapters.db.models import Attachment, Dependencia, Mailing, Round, Submission
from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook
from mailbot.app import App
from mailbot.domain.accepted import AcceptedPlan
from mailbot.domain.context import AvailableBudget
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.workbook_format import Ronda
from mailbot.errors import StorageError


def latest_accepted(
    session: Session, vigencia: int, dependencia: str, rondas: tuple[Ronda, ...]
) -> tuple[Submission, str, Ronda] | None:
    """The newest accepted submission among `rondas` (highest quarter, then highest version), with its file."""
    rows = session.execute(
        select(Submission, Attachment.archive_path, Round.kind)
        .join(Attachment, Submission.attachment_id == Attachment.id)
        .join(Mailing, Submission.mailing_id == Mailing.id)
        .join(Round, Mailing.round_id == Round.id)
        .join(Dependencia, Mailing.dependencia_id == Dependencia.id)
        .where(
            Round.vigencia == vigencia,
            Round.kind.in_([r.value for r in rondas]),
            Dependencia.code == dependencia,
            Submission.decision == "accepted",
        )
    ).all()
    if not rows:
        return None
    submission, path, kind = max(rows, key=lambda r: (Ronda(r[2]).quarter or 0, r[0].version))
    return submission, path, Ronda(kind)


def accepted_plan(
    app: App, session: Session, vigencia: int, dependencia: str, ronda: Ronda = Ronda.FORMULACION
) -> AcceptedPlan | None:
    """A dependencia's plan of record for `ronda`, read from the archive; None when none was accepted."""
    found = latest_accepted(session, vigencia, dependencia, (ronda,))
    if found is None:
        return None
    submission, path, _ = found
    dep = app.config.dependencia(dependencia)
    return AcceptedPlan(
        dependencia_code=dep.code,
        dependencia_name=dep.name,
        radicado=submission.radicado or "",
        version=submission.version,
        accepted_at=submission.created_at,
        workbook=read_archived(app, path, dep.code),
        available=AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing),
    )


def read_archived(app: App, path: str, dependencia: str) -> ParsedWorkbook:
    """An accepted workbook as archived; one that no longer reads is a storage fault, not the secretario's."""
    data = app.archive.read(path)
    parsed = read_workbook(data, ReaderLimits.from_config(app.config.limits))
    if not isinstance(parsed, ParsedWorkbook):
        raise StorageError(f"the archived plan {path} of {dependencia} can no longer be read: {parsed.message}")
    return parsed
