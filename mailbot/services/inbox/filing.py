"""Filing a submission under planes/…, after the commit that created it, driven by the database.

A submission is committed with `filed_as` NULL; the link `planes/<vigencia>/<dep>/<ronda>/vNN-<outcome>-<sha>.xlsx`
is made afterwards and only then is `filed_as` set. Its name depends only on the committed row, and making it is
idempotent, so a process killed anywhere leaves at worst a submission not yet filed (or filed but not yet marked),
which the next sweep (`file_pending`, every pass of the fetcher) completes under the same name: `planes/` never
holds a version that the database does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update

from mailbot.adapters.archive import Stored
from mailbot.adapters.db.models import Attachment, Dependencia, Mailing, Round, Submission
from mailbot.app import App
from mailbot.faults import failpoint


@dataclass(frozen=True)
class ToFile:
    """A committed submission as its link needs it: its own values, which the sweep reads back from the rows."""

    submission_id: int
    version: int
    decision: str
    stored: Stored  # the attachment's archived file
    vigencia: int
    ronda: str
    dependencia: str


def file_pending(app: App, submission_ids: list[int] | None = None) -> int:
    """File every submission not yet filed (or only those of `submission_ids`); how many were filed."""
    query = (
        select(
            Submission.id,
            Submission.version,
            Submission.decision,
            Attachment.archive_path,
            Attachment.sha256,
            Attachment.size,
            Round.vigencia,
            Round.kind,
            Dependencia.code,
        )
        .join(Attachment, Submission.attachment_id == Attachment.id)
        .join(Mailing, Submission.mailing_id == Mailing.id)
        .join(Round, Mailing.round_id == Round.id)
        .join(Dependencia, Mailing.dependencia_id == Dependencia.id)
        .where(Submission.filed_as.is_(None))
        .order_by(Submission.id)
    )
    if submission_ids is not None:
        if not submission_ids:
            return 0
        query = query.where(Submission.id.in_(submission_ids))
    with app.sessions() as session:
        pending = session.execute(query).all()
    for submission_id, version, decision, path, sha256, size, vigencia, ronda, code in pending:
        file_one(app, ToFile(submission_id, version, decision, Stored(Path(path), sha256, size), vigencia, ronda, code))
    return len(pending)


def file_one(app: App, submission: ToFile) -> None:
    """Link one committed submission under planes/, then note where (the worker's path right after its commit: it
    knows the values, so it reads nothing back)."""
    failpoint("before_filing")
    filed = app.archive.file_plan(
        submission.stored,
        vigencia=submission.vigencia,
        dependencia=submission.dependencia,
        ronda=submission.ronda,
        version=submission.version,
        outcome=submission.decision,
    )
    failpoint("after_filing")
    with app.sessions.begin() as session:  # one UPDATE: the row is not loaded again
        session.execute(
            update(Submission).where(Submission.id == submission.submission_id).values(filed_as=str(filed)),
            execution_options={"synchronize_session": False},
        )
