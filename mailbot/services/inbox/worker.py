"""A worker's steps on one message: claim → decide → persist → queue the answer → commit → file the plan.

The row stays locked (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises the
single process) for the whole transaction: other workers skip it, and if this process dies its lock vanishes with
the connection and another worker takes the row. Everything written about the message (outcome, submission, answer
in the outbox, attention items, audit) commits together; what lives outside the database (the plan's link under
planes/) is made after the commit, from the committed row (`filing`).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mailbot.adapters.db.models import ReceivedMessage
from mailbot.domain import reply
from mailbot.domain.decisions import Outcome
from mailbot.domain.inbound import ParsedMessage
from mailbot.domain.matching import Directory
from mailbot.errors import StorageError
from mailbot.faults import failpoint
from mailbot.log import get_logger
from mailbot.services import metrics
from mailbot.services.inbox import answering, attend, deciding, filing, persist
from mailbot.services.inbox import directory as directories
from mailbot.services.inbox.common import Files, Inbox, parse_stored, store_attachments

log = get_logger("mailbot.inbox")


@dataclass(frozen=True)
class Done:
    """One message decided and committed."""

    row_id: int
    outcome: str
    to_file: filing.ToFile | None = None  # a version to file under planes/ once committed
    sender: str | None = None
    dependencia: str | None = None
    radicado: str | None = None


def work_pending(inbox: Inbox, stop: threading.Event | None = None, limit: int | None = None) -> list[tuple[int, str]]:
    """Decide received messages without an outcome (any fetcher's) until none is left, `limit`, or `stop`."""
    done: list[tuple[int, str]] = []
    directory: Directory | None = None
    while limit is None or len(done) < limit:
        if stop is not None and stop.is_set():
            break
        directory = directory or directories.load(inbox.app)
        result = work_one(inbox, directory)
        if result is None:
            break
        done.append(result)
    return done


def work_one(
    inbox: Inbox, directory: Directory, row_id: int | None = None, parsed: ParsedMessage | None = None
) -> tuple[int, str] | None:
    """Claim one row without an outcome (`row_id`'s, or the oldest free one), decide it, commit, file; or None.

    `parsed`: `row_id`'s message as the fetcher just parsed it (role `all`), not read and parsed again.
    """
    done = decide_one(inbox, directory, row_id, parsed)
    if done is None:
        return None
    failpoint("after_commit")
    # One line per decided message, after its commit: what an operator follows (and greps) day to day.
    log.info(
        "message_decided",
        received_id=done.row_id,
        sender=done.sender,
        dependencia=done.dependencia,
        outcome=done.outcome,
        radicado=done.radicado,
    )
    metrics.DECIDED.labels(outcome=done.outcome).inc()
    if done.to_file is not None:
        filing.file_one(inbox.app, done.to_file)
    return done.row_id, done.outcome


def decide_one(
    inbox: Inbox, directory: Directory, row_id: int | None = None, parsed: ParsedMessage | None = None
) -> Done | None:
    """The claiming transaction: a failure of this message becomes its outcome `error`; a storage fault (archive
    or database) leaves the row without an outcome for the next attempt."""
    now = inbox.app.clock.now()
    with inbox.app.sessions.begin() as session:
        row = claim(inbox, session, row_id)
        if row is None:
            return None
        failpoint("while_deciding")
        if parsed is None or row.id != row_id:  # a StorageError leaves the row for later
            parsed = parse_stored(inbox, row.raw_path, row.size)
        files = store_attachments(inbox, parsed)
        try:
            with session.begin_nested():  # a failure undoes this message's partial writes, keeps the claim
                verdict = deciding.decide(inbox, session, parsed, directory)
                done = persist_decision(inbox, session, row, parsed, verdict, files, now)
        except (StorageError, OperationalError):
            raise
        except Exception as exc:
            log.exception("message_failed", received_id=row.id, uid=row.uid)
            done = Done(row.id, persist.fail(session, row, exc, now), sender=parsed.facts.from_address)
    return done


def claim(inbox: Inbox, session: Session, row_id: int | None) -> ReceivedMessage | None:
    parameters = {"account": inbox.account, "folder": inbox.folder}
    if row_id is None:
        return session.scalars(_OLDEST_FREE, parameters).first()
    return session.scalars(_THIS_IF_FREE, {**parameters, "id": row_id}).first()


# Built once: building a statement and its cache key costs more than the database's running it.
_OLDEST_FREE = (
    select(ReceivedMessage)
    .where(
        ReceivedMessage.account == bindparam("account"),
        ReceivedMessage.folder == bindparam("folder"),
        ReceivedMessage.outcome.is_(None),
    )
    .order_by(ReceivedMessage.id)
    .limit(1)
    .with_for_update(skip_locked=True)
)
_THIS_IF_FREE = _OLDEST_FREE.where(ReceivedMessage.id == bindparam("id"))


def persist_decision(
    inbox: Inbox,
    session: Session,
    row: ReceivedMessage,
    parsed: ParsedMessage,
    verdict: reply.Verdict,
    files: Files,
    now: dt.datetime,
) -> Done:
    """Write the decision in the claiming transaction, after locking what it shares with other workers."""
    ref = verdict.match.mailing if verdict.match else None
    persist.lock_shared(session, row, parsed, ref)
    earlier = persist.same_message_decided(session, row)
    if earlier is not None:  # a resynchronised mailbox shows a message already decided: never twice
        return Done(row.id, persist.adopt(row, earlier, now), sender=parsed.facts.from_address)
    verdict = reply.settle(verdict, persist.earlier_submission(session, verdict))
    decision = verdict.decision
    persist.record_outcome(session, row, parsed, verdict, now)
    if decision.outcome is Outcome.BOUNCE:
        persist.mark_bounced(session, verdict.bounced, parsed)
    persisted = persist.insert_submission(inbox, session, row, verdict, files, now)
    facts = answering.answer_facts(inbox, session, verdict, files, persisted)
    if decision.outcome is Outcome.QUESTION:
        answering.forward(inbox, session, row, parsed, files, ref.dependencia if ref else None, now)
    if decision.answer is not None and parsed.facts.from_address:
        answering.queue_answer(inbox, session, row, decision.answer, parsed, facts, now)
    attend.attend(inbox, session, row, parsed, verdict, facts.radicado, now)
    persist.audit_decided(session, row, verdict, now)
    return Done(
        row.id,
        str(row.outcome),
        persisted.to_file if persisted else None,
        sender=parsed.facts.from_address,
        dependencia=ref.dependencia if ref else None,
        radicado=facts.radicado,
    )
