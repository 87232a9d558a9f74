"""Processing the planeación mailbox: every message ends with exactly one recorded outcome and at most one answer.

Two halves, each a function of its own, so that one process may run both (`mailbot run`, role `all`) or many
processes on many machines may share the work (PostgreSQL: one fetcher, any number of workers):

the fetcher (holds the IMAP connection, one per mailbox at a time)
  1. fetches each new UID's original bytes (never setting \\Seen), archives them and every attachment by
     SHA-256, and commits a `received_messages` row with no outcome yet together with the advanced checkpoint
     (`record`);
  4. moves every decided message to the folder of its outcome (`move_decided`).
a worker (any number; `work_one`)
  2. claims one row without an outcome (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's
     `BEGIN IMMEDIATE` serialises the single process) and keeps the row locked for its whole transaction;
     reads the raw message back from the archive; parses, classifies, matches, validates and decides (pure
     functions over what was read);
  3. commits in that same transaction the outcome, the submission (version, findings, radicado), the answer in
     the outbox and the audit event.
Role `all` runs 1-2-3-4 per message through these same functions. A crash between 1 and 3 leaves a row without
an outcome that the next worker claims (a killed worker's row lock vanishes with its connection); the answer's
dedup key is the received row, so nothing is answered twice. A crash between 3 and 4 is healed by the fetcher's
next `move_decided`. A message that makes the processing fail gets the outcome `error` (its raw bytes are in the
archive) and the loop goes on; a storage fault (archive or database) stops the pass instead, leaving the message
untouched on the server, or its row without an outcome, for the next attempt.

Concurrent workers and the rows they share: what a decision reads of other messages (an earlier submission of
the same file, the next version number, today's answers to the sender, the same message seen before a
resynchronisation) is read after taking transaction-scoped advisory locks on the mailing, the sender and the
Message-ID (`adapters.db.locks`), so two workers never give one file two versions or one sender too many answers.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mailbot.adapters.archive import Stored
from mailbot.adapters.db.locks import serialize
from mailbot.adapters.db.models import (
    Attachment,
    AuditEvent,
    Dependencia,
    ImapCheckpoint,
    Mailing,
    OutboxMail,
    ReceivedMessage,
    Round,
    Submission,
)
from mailbot.adapters.mime import parse_message
from mailbot.adapters.workbook.annotate import annotated_copy
from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook
from mailbot.app import App
from mailbot.domain import attention as attention_items
from mailbot.domain import authentication
from mailbot.domain import control as control_block
from mailbot.domain.away import is_out_of_office, return_date
from mailbot.domain.classify import classify
from mailbot.domain.decisions import (
    Answer,
    Decision,
    Outcome,
    candidates,
    decide_attachments,
    decide_unplaced,
    decide_validated,
    radicado,
)
from mailbot.domain.findings import Finding, has_errors
from mailbot.domain.inbound import AttachmentPart, ParsedMessage
from mailbot.domain.matching import Directory, MailingRef, Match, WorkbookControl, match
from mailbot.domain.outgoing import OutgoingMail
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.questions import is_question, new_text
from mailbot.domain.rules import validate
from mailbot.domain.seguimiento import Baseline
from mailbot.domain.summary import PlanSummary, summarize
from mailbot.domain.workbook_format import FORMAT_CODE, Ronda
from mailbot.errors import StorageError
from mailbot.faults import failpoint
from mailbot.log import get_logger
from mailbot.ports import FolderState, Mailbox
from mailbot.services import attention, outbox, seguimiento
from mailbot.services.answers import (
    ACKNOWLEDGEMENT,
    AnswerFacts,
    acknowledgement,
    compose_answer,
    contact_context,
    forward_question,
)
from mailbot.services.validation import build_context

log = get_logger("mailbot.inbox")

FOLDER_OF = {
    Outcome.ACCEPTED: "processed",
    Outcome.CORRECTION_REQUESTED: "processed",
    Outcome.DUPLICATE: "processed",
    Outcome.NO_ATTACHMENT: "processed",
    Outcome.SEVERAL_ATTACHMENTS: "processed",
    Outcome.QUESTION: "processed",
    Outcome.QUARANTINED: "review",
    Outcome.UNMATCHED: "review",
    Outcome.REJECTED_SENDER: "review",
    Outcome.AUTOMATIC: "ignored",
    Outcome.BOUNCE: "ignored",
    Outcome.ERROR: "errors",
}
ANSWER_KINDS = (*(a.value for a in Answer), ACKNOWLEDGEMENT)  # what the per-address daily cap counts


@dataclass
class PassReport:
    fetched: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    moved: int = 0

    def summary(self) -> str:
        done = ", ".join(f"{n} {o}" for o, n in sorted(self.outcomes.items())) or "nothing new"
        return f"{self.fetched} fetched: {done}; {self.moved} moved"


@dataclass(frozen=True)
class _Verdict:
    decision: Decision
    match: Match | None = None
    findings: tuple[Finding, ...] = ()
    chosen: AttachmentPart | None = None
    workbook: ParsedWorkbook | None = None
    duplicate_of: Submission | None = None
    bounced: tuple[str, ...] = ()
    baseline: Baseline | None = None  # seguimiento: the accepted plan and quarters the workbook was checked against
    summary: PlanSummary | None = None  # computed before any lock is taken: the costly part of an answer
    annotated: bytes | None = None
    away: _Away | None = None  # an out-of-office from a registered address
    tampered: bool = False  # the workbook's _control signature does not verify
    insider: bool = True  # the sender is on one of the municipality's domains


@dataclass(frozen=True)
class _Away:
    dependencia: str
    until: dt.date | None


class InboxProcessor:
    """One mailbox (configuration's imap section); one instance per daemon."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.config = app.config
        self.archive = app.archive
        imap = app.config.imap
        self.account = f"{imap.user or ''}@{imap.host}:{imap.effective_port}"
        self.folder = imap.folder
        self.limits = ReaderLimits.from_config(app.config.limits)

    # ------------------------------------------------------------------------------------------ the pass

    def run_pass(self, mailbox: Mailbox, stop: threading.Event | None = None, *, work: bool = True) -> PassReport:
        """The fetcher's pass over every new message; with `work` (role `all`) each one is decided at once.

        With `stop` set, return after the message in hand.
        """
        report = PassReport()
        report.moved += self.move_decided(mailbox)
        if work:  # rows left without an outcome by a crash or a storage fault: decide them first
            for row_id, outcome in self.work_pending(stop):
                report.outcomes[outcome] += 1
                report.moved += self._move(mailbox, row_id)
        state = mailbox.state(self.folder)
        last_uid = self._checkpoint(state, mailbox)
        uids = mailbox.uids_after(self.folder, last_uid)
        directory = self._directory() if work and uids else None
        for uid, raw in mailbox.fetch_raw(self.folder, uids):
            failpoint("after_fetch")
            report.fetched += 1
            row_id = self.record(uid, state.uidvalidity, raw)
            failpoint("after_archive")
            if directory is not None:
                done = self.work_one(directory, row_id=row_id)
                report.outcomes[done[1] if done else self._outcome_of(row_id)] += 1
                report.moved += self._move(mailbox, row_id)
            if stop is not None and stop.is_set():
                return report
        if uids:
            self._advance(state.uidvalidity, max(uids))  # UIDs that vanished before the fetch count as seen
        if report.fetched or report.outcomes:
            log.info("inbox_pass", fetched=report.fetched, **dict(report.outcomes.items()), moved=report.moved)
        return report

    def unfinished(self) -> int:
        """Messages of this mailbox recorded but not yet moved: the fetcher looks again soon while there are any."""
        with self.app.sessions() as session:
            return int(
                session.scalar(
                    select(func.count(ReceivedMessage.id)).where(
                        ReceivedMessage.account == self.account,
                        ReceivedMessage.folder == self.folder,
                        ReceivedMessage.moved_to.is_(None),
                    )
                )
                or 0
            )

    def move_decided(self, mailbox: Mailbox) -> int:
        """Messages decided (by any worker) but not yet moved: move them now (the outcome is committed)."""
        with self.app.sessions() as session:
            ids = list(
                session.scalars(
                    select(ReceivedMessage.id)
                    .where(
                        ReceivedMessage.account == self.account,
                        ReceivedMessage.folder == self.folder,
                        ReceivedMessage.outcome.is_not(None),
                        ReceivedMessage.moved_to.is_(None),
                    )
                    .order_by(ReceivedMessage.id)
                )
            )
        return sum(self._move(mailbox, row_id) for row_id in ids)

    def _move(self, mailbox: Mailbox, row_id: int) -> int:
        with self.app.sessions() as session:
            row = session.get_one(ReceivedMessage, row_id)
            if row.outcome is None or row.moved_to is not None:
                return 0
            target = getattr(self.config.imap.outcome_folders, FOLDER_OF[Outcome(row.outcome)])
            uid, uidvalidity = row.uid, row.uidvalidity
        state = mailbox.state(self.folder)
        if state.uidvalidity == uidvalidity:
            mailbox.ensure_folder(target)
            mailbox.move(self.folder, uid, target)
        with self.app.sessions.begin() as session:
            session.get_one(ReceivedMessage, row_id).moved_to = target if state.uidvalidity == uidvalidity else "-"
        return 1

    def _checkpoint(self, state: FolderState, mailbox: Mailbox | None = None) -> int:
        """The last UID processed in this UIDVALIDITY; a new UIDVALIDITY starts again at 0 (deduplicated later).

        The very first pass must not answer years of old mail in a mailbox that mailbot just started watching:
        messages received before the first round started (a day's margin) are left alone, and logged.
        """
        now = self.app.clock.now()
        with self.app.sessions.begin() as session:
            row = session.scalars(
                select(ImapCheckpoint).where(
                    ImapCheckpoint.account == self.account, ImapCheckpoint.folder == self.folder
                )
            ).first()
            if row is None:
                start = self._first_uid_to_process(session, state, mailbox)
                session.add(
                    ImapCheckpoint(
                        account=self.account,
                        folder=self.folder,
                        uidvalidity=state.uidvalidity,
                        last_uid=start,
                        updated_at=now,
                    )
                )
                return start
            if row.uidvalidity != state.uidvalidity:
                log.warning("imap_uidvalidity_changed", folder=self.folder, old=row.uidvalidity, new=state.uidvalidity)
                row.uidvalidity, row.last_uid, row.updated_at = state.uidvalidity, 0, now
                return 0
            return row.last_uid

    def _first_uid_to_process(self, session: Session, state: FolderState, mailbox: Mailbox | None) -> int:
        """The checkpoint of a mailbox seen for the first time: just before the first message of the first round."""
        first_round = session.scalar(select(func.min(Round.started_at)))
        if mailbox is None or state.exists == 0:
            return 0
        newest = max(state.uidnext - 1, 0)
        if first_round is None:
            log.warning(
                "imap_existing_messages_left_alone", folder=self.folder, count=state.exists, reason="no round yet"
            )
            return newest
        since = first_round.astimezone(self.app.clock.tz).date() - dt.timedelta(days=1)
        recent = mailbox.uids_since(self.folder, since)
        start = (min(recent) - 1) if recent else newest
        if start > 0:
            log.warning("imap_existing_messages_left_alone", folder=self.folder, below_uid=start + 1, since=str(since))
        return start

    def _advance(self, uidvalidity: int, uid: int, session: Session | None = None) -> None:
        statement = (
            update(ImapCheckpoint)
            .where(
                ImapCheckpoint.account == self.account,
                ImapCheckpoint.folder == self.folder,
                ImapCheckpoint.uidvalidity == uidvalidity,
                ImapCheckpoint.last_uid < uid,
            )
            .values(last_uid=uid, updated_at=self.app.clock.now())
        )
        if session is not None:
            session.execute(statement)
            return
        with self.app.sessions.begin() as own:
            own.execute(statement)

    # ------------------------------------------------------------------------------------------ the fetcher's half

    def record(self, uid: int, uidvalidity: int, raw: bytes) -> int:
        """Archive a fetched message and its attachments, then commit its row (no outcome) and the checkpoint.

        A UID already recorded (a re-fetch after a crash) gives back its row and writes nothing.
        """
        with self.app.sessions() as session:
            known = self._find(session, uidvalidity, uid)
            if known is not None:
                return known.id
        now = self.app.clock.now()
        parsed = self._parse(raw)
        stored = self.archive.store_message(raw, now)
        files = self._store_attachments(parsed)
        facts = parsed.facts
        with self.app.sessions.begin() as session:
            row = ReceivedMessage(
                account=self.account,
                folder=self.folder,
                uidvalidity=uidvalidity,
                uid=uid,
                message_id=_text(facts.message_id, 998),
                sha256=stored.sha256,
                size=stored.size,
                raw_path=str(stored.path),
                from_address=_text(facts.from_address, 320),
                subject=_text(facts.subject or "", 2000),
                received_at=now,
            )
            session.add(row)
            session.flush()
            for part, file in files:
                session.add(
                    Attachment(
                        received_message_id=row.id,
                        filename=_text(part.filename or "", 500) or None,
                        content_type=_text(part.content_type, 200),
                        detected_kind=str(part.kind),
                        archive_path=str(file.path),
                        sha256=file.sha256,
                        size=file.size,
                    )
                )
            self._advance(uidvalidity, uid, session)
            return row.id

    def _parse(self, raw: bytes) -> ParsedMessage:
        limits = self.config.limits
        return parse_message(
            raw, max_message_bytes=limits.max_message_bytes, max_attachment_bytes=limits.max_attachment_bytes
        )

    def _store_attachments(self, parsed: ParsedMessage) -> list[tuple[AttachmentPart, Stored]]:
        """Content-addressed: the worker's call finds the fetcher's files and writes nothing."""
        return [
            (part, self.archive.store_attachment(part.data, str(part.kind))) for part in parsed.attachments if part.data
        ]

    def _find(self, session: Session, uidvalidity: int, uid: int) -> ReceivedMessage | None:
        return session.scalars(
            select(ReceivedMessage).where(
                ReceivedMessage.account == self.account,
                ReceivedMessage.folder == self.folder,
                ReceivedMessage.uidvalidity == uidvalidity,
                ReceivedMessage.uid == uid,
            )
        ).first()

    def _outcome_of(self, row_id: int) -> str:
        with self.app.sessions() as session:
            return session.get_one(ReceivedMessage, row_id).outcome or "in_progress"

    # ------------------------------------------------------------------------------------------ a worker's half

    def work_pending(self, stop: threading.Event | None = None, limit: int | None = None) -> list[tuple[int, str]]:
        """Decide received messages without an outcome (any fetcher's) until none is left, `limit`, or `stop`."""
        done: list[tuple[int, str]] = []
        directory: Directory | None = None
        while limit is None or len(done) < limit:
            if stop is not None and stop.is_set():
                break
            directory = directory or self._directory()
            result = self.work_one(directory)
            if result is None:
                break
            done.append(result)
        return done

    def work_one(self, directory: Directory, row_id: int | None = None) -> tuple[int, str] | None:
        """Claim one row without an outcome (`row_id`'s, or the oldest free one), decide it, commit; or None.

        The row stays locked (FOR UPDATE SKIP LOCKED) for the whole transaction: other workers skip it, and if
        this process dies its lock vanishes with the connection and another worker takes the row.
        """
        now = self.app.clock.now()
        with self.app.sessions.begin() as session:
            row = self._claim(session, row_id)
            if row is None:
                return None
            failpoint("while_deciding")
            parsed = self._parse(self.archive.read(row.raw_path))  # a StorageError leaves the row for later
            files = self._store_attachments(parsed)
            try:
                with session.begin_nested():  # a failure undoes this message's partial writes, keeps the claim
                    verdict = self._decide(session, parsed, directory)
                    outcome = self._apply(session, row, parsed, verdict, files, now)
            except (StorageError, OperationalError):
                raise  # the archive or the database: stop, leave the row without an outcome for the next attempt
            except Exception as exc:
                log.exception("message_failed", received_id=row.id, uid=row.uid)
                outcome = self._fail(session, row, exc, now)
            result = (row.id, outcome)
        failpoint("after_commit")
        return result

    def _claim(self, session: Session, row_id: int | None) -> ReceivedMessage | None:
        query = select(ReceivedMessage).where(
            ReceivedMessage.account == self.account,
            ReceivedMessage.folder == self.folder,
            ReceivedMessage.outcome.is_(None),
        )
        if row_id is not None:
            query = query.where(ReceivedMessage.id == row_id)
        return session.scalars(query.order_by(ReceivedMessage.id).limit(1).with_for_update(skip_locked=True)).first()

    def _decide(self, session: Session, parsed: ParsedMessage, directory: Directory) -> _Verdict:
        config = self.config
        classification = classify(
            parsed,
            own_domains=frozenset(config.municipality.domains),
            own_message_id_domain=config.smtp.effective_message_id_domain,
            own_addresses=frozenset({config.smtp.from_address}),
        )
        if classification.kind == "bounce":
            return _Verdict(
                Decision(Outcome.BOUNCE, classification.reason, None), bounced=classification.bounced_message_ids
            )
        if classification.kind != "reply":
            away = self._away(parsed, directory) if classification.kind == "automatic" else None
            reason = f"{classification.reason}; out-of-office of {away.dependencia}" if away else classification.reason
            return _Verdict(Decision(Outcome.AUTOMATIC, reason, None), away=away)
        forged = authentication.forged_reason(
            parsed.facts.authentication_results, config.sender_policy.trusted_authserv_ids
        )
        if forged is not None:  # never answered: the From is not who wrote it, an answer would go to the victim
            return _Verdict(Decision(Outcome.QUARANTINED, forged, None))

        found = candidates(parsed.attachments)
        workbooks = {part.sha256: self._read(part) for part in found}
        chosen, workbook = _pick(found, workbooks, config.signing.secret.get_secret_value(), directory)
        control = _control_of(workbook, config.signing.secret.get_secret_value())
        matched = match(parsed.facts, control, directory, allow=config.sender_policy.allow)
        insider = _insider(parsed, config.municipality.domains)
        if matched.status != "matched" or matched.mailing is None:
            tampered = control is not None and control.block is not None and not control.verified
            return _Verdict(
                decide_unplaced(matched, insider=insider, answer_outsiders=config.sender_policy.answer_outsiders),
                matched,
                tampered=tampered,
                insider=insider,
            )
        if chosen is None:
            asks = "sender" in matched.signals and is_question(parsed.text)
            by_files = decide_attachments(found, parsed.cloud_links, asks=asks)
            assert by_files is not None
            return _Verdict(by_files, matched)

        ref = matched.mailing
        findings: tuple[Finding, ...]
        baseline = self._baseline(session, ref)
        if isinstance(workbook, ParsedWorkbook):
            known_token = (
                control is not None and control.block is not None and control.block.token in directory.by_token
            )
            context = build_context(
                config,
                ref.dependencia,
                vigencia=ref.vigencia,
                ronda=Ronda(ref.ronda),
                expected_token=ref.token if known_token else None,
                baseline=baseline,
            )
            findings = tuple(validate(workbook, context))
        else:
            unreadable = workbooks[chosen.sha256]
            findings = (unreadable,) if isinstance(unreadable, Finding) else ()
        parsed_workbook = workbook if isinstance(workbook, ParsedWorkbook) else None
        decision = decide_validated(findings, duplicate_of=None)  # settled under the mailing's lock (`_settle`)
        summary = annotated = None
        if parsed_workbook is not None:
            summary_context = build_context(config, ref.dependencia, vigencia=ref.vigencia, ronda=Ronda(ref.ronda))
            summary = summarize(parsed_workbook, summary_context)
            if has_errors(findings):
                annotated = annotated_copy(chosen.data, findings)
        return _Verdict(
            decision,
            matched,
            findings,
            chosen,
            parsed_workbook,
            summary=summary,
            annotated=annotated,
            baseline=baseline,
        )

    def _away(self, parsed: ParsedMessage, directory: Directory) -> _Away | None:
        """An out-of-office from a registered address (one dependencia's): whose, and until when if it says."""
        codes = directory.addresses.get(parsed.facts.from_address or "", frozenset())
        if len(codes) != 1 or not is_out_of_office(parsed.facts, parsed.text):
            return None
        received = self.app.clock.now().astimezone(self.app.clock.tz).date()
        return _Away(next(iter(codes)), return_date(parsed.text, received))

    def _baseline(self, session: Session, ref: MailingRef) -> Baseline | None:
        """A seguimiento is checked against the plan accepted before it, read in the claiming transaction (a second
        session would wait for the claim's own lock on SQLite)."""
        ronda = Ronda(ref.ronda)
        if ronda.quarter is None:
            return None
        found = seguimiento.baseline(self.app, session, ref.vigencia, ref.dependencia, ronda)
        return found[0] if found else None

    def _read(self, part: AttachmentPart) -> ParsedWorkbook | Finding:
        return read_workbook(part.data, self.limits) if part.data else _too_large(part)

    def _settle(self, session: Session, verdict: _Verdict) -> _Verdict:
        """The same file already submitted for this mailing makes a duplicate; read under the mailing's lock."""
        ref = verdict.match.mailing if verdict.match else None
        if verdict.chosen is None or ref is None:
            return verdict
        earlier = session.scalars(
            select(Submission)
            .join(Attachment, Submission.attachment_id == Attachment.id)
            .where(Submission.mailing_id == ref.mailing_id, Attachment.sha256 == verdict.chosen.sha256)
            .order_by(Submission.version)
        ).first()
        if earlier is None:
            return verdict
        decision = decide_validated(verdict.findings, duplicate_of=earlier.id)
        return dataclass_replace(verdict, decision=decision, duplicate_of=earlier)

    def _apply(
        self,
        session: Session,
        row: ReceivedMessage,
        parsed: ParsedMessage,
        verdict: _Verdict,
        files: list[tuple[AttachmentPart, Stored]],
        now: dt.datetime,
    ) -> str:
        """Write the decision in the claiming transaction, after locking what it shares with other workers."""
        ref = verdict.match.mailing if verdict.match else None
        shared = [f"sender:{parsed.facts.from_address or ''}", f"message:{row.message_id or row.sha256}"]
        serialize(session, [*shared, f"mailing:{ref.mailing_id}"] if ref else shared)
        earlier = self._same_message_decided(session, row)
        if earlier is not None:  # a resynchronised mailbox shows a message already decided: never twice
            row.outcome, row.reason = earlier.outcome, f"already processed as message #{earlier.id}"
            row.dependencia_id, row.mailing_id, row.decided_at = earlier.dependencia_id, earlier.mailing_id, now
            return str(row.outcome)
        verdict = self._settle(session, verdict)
        decision = verdict.decision
        row.outcome, row.decided_at = decision.outcome.value, now
        row.reason = parsed.reason_with_defects(decision.reason)[:2000]  # a workbook lost in parsing says why
        if ref is not None:
            row.mailing_id = ref.mailing_id
            row.dependencia_id = session.scalars(
                select(Dependencia.id).where(Dependencia.code == ref.dependencia)
            ).one()
        if decision.outcome is Outcome.BOUNCE:
            _mark_bounced(session, verdict.bounced, parsed)
        facts = self._answer_facts(session, row, verdict, files, ref, now)
        if decision.answer is Answer.REVIEW and verdict.match is not None:
            told = attention_items.told_to_sender(verdict.match, self._names())
            facts = _replace(facts, extra={**facts.extra, "motivo": told}) if told else facts
        if decision.outcome is Outcome.QUESTION:
            self._forward_question(session, row, parsed, files, ref, now)
            facts = _replace(facts, extra={**facts.extra, "contacto": contact_context(self.config)})
        if decision.answer is not None and parsed.facts.from_address:
            self._queue_answer(session, row, decision.answer, parsed, facts, now)
        self._attend(session, row, parsed, verdict, facts, now)
        session.add(
            AuditEvent(
                at=now,
                kind="message_decided",
                subject_type="received_message",
                subject_id=row.id,
                detail={
                    "outcome": row.outcome,
                    "reason": row.reason,
                    "dependencia": ref.dependencia if ref else None,
                    "signals": verdict.match.signals if verdict.match else {},
                    "findings": len(verdict.findings),
                },
            )
        )
        return str(row.outcome)

    def _attend(
        self,
        session: Session,
        row: ReceivedMessage,
        parsed: ParsedMessage,
        verdict: _Verdict,
        facts: AnswerFacts,
        now: dt.datetime,
    ) -> None:
        """The attention queue after a decision: the items it opens, and those it closes."""
        outcome, sender = verdict.decision.outcome, parsed.facts.from_address or ""
        key = f"{outcome.value}:{row.id}"
        if outcome in (Outcome.QUARANTINED, Outcome.UNMATCHED, Outcome.REJECTED_SENDER):
            # An outsider rejected had matched a mailing (a thread, a token, a signed workbook): a secretario
            # writing from a personal address, say; a person must look, though the outsider gets no answer.
            found = verdict.match or Match("quarantined", verdict.decision.reason)
            opening = attention_items.unplaced(
                found, sender, self._names(), tampered=verdict.tampered, insider=verdict.insider
            )
            attention.open_item(session, opening, key=key, now=now, received_message_id=row.id)
        elif outcome is Outcome.BOUNCE:
            self._attend_bounce(session, row, parsed, verdict, now)
        elif verdict.away is not None:
            self._attend_away(session, row, sender, verdict.away, now)
        if outcome is Outcome.ACCEPTED and row.dependencia_id is not None and row.mailing_id is not None:
            attention.resolve_on_acceptance(session, row.dependencia_id, row.mailing_id, facts.radicado, now)
        if outcome not in (Outcome.AUTOMATIC, Outcome.BOUNCE) and row.dependencia_id is not None:
            attention.resolve_on_reply(session, row.dependencia_id, row.id, now)

    def _attend_bounce(
        self, session: Session, row: ReceivedMessage, parsed: ParsedMessage, verdict: _Verdict, now: dt.datetime
    ) -> None:
        failed = [r for r in parsed.report.recipients if r.failed] if parsed.report is not None else []
        detail = "; ".join(f"{r.status} {r.diagnostic}".strip() for r in failed)[:160]
        for message_id in verdict.bounced:
            sent = session.execute(
                select(OutboxMail.recipients, OutboxMail.mailing_id, Dependencia.code)
                .outerjoin(Mailing, OutboxMail.mailing_id == Mailing.id)
                .outerjoin(Dependencia, Mailing.dependencia_id == Dependencia.id)
                .where(OutboxMail.message_id == message_id)
            ).first()
            if sent is None:
                continue
            recipients, mailing_id, code = sent
            opening = attention_items.undelivered([r.address for r in failed] or list(recipients), detail, code)
            attention.open_item(
                session,
                opening,
                key=attention.undelivered_key(message_id),
                now=now,
                received_message_id=row.id,
                mailing_id=mailing_id,
            )

    def _attend_away(self, session: Session, row: ReceivedMessage, sender: str, away: _Away, now: dt.datetime) -> None:
        """The secretario is away: attributed to his dependencia; a newer out-of-office replaces an older one."""
        row.dependencia_id = session.scalars(select(Dependencia.id).where(Dependencia.code == away.dependencia)).one()
        attention.resolve_on_reply(session, row.dependencia_id, row.id, now)
        head = next(d.head.name for d in self.config.dependencias if d.code == away.dependencia)
        opening = attention_items.away(away.dependencia, sender, away.until, self._names(), head=head)
        attention.open_item(
            session, opening, key=f"away:{row.id}", now=now, received_message_id=row.id, until=away.until
        )

    def _forward_question(
        self,
        session: Session,
        row: ReceivedMessage,
        parsed: ParsedMessage,
        files: list[tuple[AttachmentPart, Stored]],
        ref: MailingRef | None,
        now: dt.datetime,
    ) -> None:
        """A question goes to planeación's contact (a person answers it) and into the attention queue."""
        text = new_text(parsed.text) or parsed.text
        dependencia = ref.dependencia if ref else None
        contact = self.config.effective_contact
        forwarded_to = None
        if str(contact.email).lower() != self.config.smtp.from_address.lower():  # else: it is in that mailbox already
            attached = tuple((p.filename or "adjunto", p.content_type, p.data) for p, _ in files if p.data)
            mail = forward_question(self.config, parsed.facts, parsed.text, attached, dependencia)
            outbox.queue(session, self.config, mail, dedup_key=f"forward:{row.id}", now=now, received_message_id=row.id)
            forwarded_to = contact.name
        sender = parsed.facts.from_address or ""
        opening = attention_items.question(dependencia, sender, text, forwarded_to, self._names())
        attention.open_item(
            session,
            opening,
            key=f"question:{row.id}",
            now=now,
            received_message_id=row.id,
            mailing_id=row.mailing_id,
        )

    def _names(self) -> dict[str, str]:
        return {d.code: d.name for d in self.config.dependencias}

    def _same_message_decided(self, session: Session, row: ReceivedMessage) -> ReceivedMessage | None:
        if not row.message_id:
            return None
        return session.scalars(
            select(ReceivedMessage).where(
                ReceivedMessage.id != row.id,
                ReceivedMessage.message_id == row.message_id,
                ReceivedMessage.sha256 == row.sha256,
                ReceivedMessage.outcome.is_not(None),
            )
        ).first()

    def _answer_facts(
        self,
        session: Session,
        row: ReceivedMessage,
        verdict: _Verdict,
        files: list[tuple[AttachmentPart, Stored]],
        ref: MailingRef | None,
        now: dt.datetime,
    ) -> AnswerFacts:
        deadline = None
        if ref is not None:
            deadline = session.scalars(select(Round.deadline).join(Mailing).where(Mailing.id == ref.mailing_id)).first()
        base = AnswerFacts(
            dependencia=ref.dependencia if ref else None,
            vigencia=ref.vigencia if ref else None,
            ronda=ref.ronda if ref else None,
            deadline=deadline,
            token=ref.token if ref else None,
            findings=verdict.findings,
            attachment_names=tuple(p.filename or "(sin nombre)" for p in candidates([p for p, _ in files])),
        )
        outcome = verdict.decision.outcome
        if outcome is Outcome.DUPLICATE and verdict.duplicate_of is not None:
            first = verdict.duplicate_of
            return _replace(
                base, first_date=first.created_at, first_radicado=first.radicado, first_state=_state_es(first.decision)
            )
        if outcome not in (Outcome.ACCEPTED, Outcome.CORRECTION_REQUESTED) or verdict.chosen is None or ref is None:
            return base
        stored = next(f for p, f in files if p.sha256 == verdict.chosen.sha256)
        attachment_id = session.scalars(
            select(Attachment.id).where(Attachment.received_message_id == row.id, Attachment.sha256 == stored.sha256)
        ).first()
        assert attachment_id is not None
        version = 1 + (
            session.scalar(select(func.max(Submission.version)).where(Submission.mailing_id == ref.mailing_id)) or 0
        )
        accepted = outcome is Outcome.ACCEPTED
        ronda = Ronda(ref.ronda)
        number = radicado(ref.vigencia, ref.dependencia, version, ronda.quarter) if accepted else None
        summary = verdict.summary
        record: dict[str, Any] | None = {"summary": summary.to_json()} if summary is not None else None
        extra: dict[str, Any] = {}
        if accepted and verdict.workbook is not None and verdict.baseline is not None:
            evaluation = seguimiento.evaluate(self.config, ref.dependencia, verdict.workbook, verdict.baseline)
            record = {**(record or {}), **seguimiento.record(verdict.workbook, verdict.baseline, evaluation)}
            lag = self.config.evaluation.lag_below_percent
            extra = {"evaluacion": seguimiento.for_mail(evaluation, lag)}
        session.add(
            Submission(
                mailing_id=ref.mailing_id,
                attachment_id=attachment_id,
                version=version,
                findings=[f.to_json() for f in verdict.findings],
                decision=outcome.value,
                radicado=number,
                plan=record if accepted else None,
                created_at=now,
            )
        )
        filed = self.archive.file_plan(
            stored,
            vigencia=ref.vigencia,
            dependencia=ref.dependencia,
            ronda=ref.ronda,
            version=version,
            outcome=outcome.value,
        )
        annotated = None if accepted else verdict.annotated
        return _replace(
            base,
            version=version,
            radicado=number,
            sha256=stored.sha256,
            archived_as=str(filed),
            summary=summary,
            annotated=annotated,
            annotated_name=f"Correcciones {FORMAT_CODE} {ref.dependencia} {ref.vigencia} v{version}.xlsx",
            extra=extra,
        )

    def _queue_answer(
        self,
        session: Session,
        row: ReceivedMessage,
        answer: Answer,
        parsed: ParsedMessage,
        facts: AnswerFacts,
        now: dt.datetime,
    ) -> None:
        sender = parsed.facts.from_address or ""
        if self._over_daily_limit(session, sender, now):
            row.reason = f"{row.reason}; answer withheld: daily limit of automatic mails to {sender} reached"
            opening = attention_items.withheld(
                sender, self.config.limits.auto_mails_per_address_per_day, facts.dependencia
            )
            attention.open_item(
                session,
                opening,
                key=f"withheld:{sender}:{now.astimezone(self.app.clock.tz).date()}",
                now=now,
                received_message_id=row.id,
                mailing_id=row.mailing_id,
            )
            session.add(
                AuditEvent(
                    at=now,
                    kind="rate_limited",
                    subject_type="received_message",
                    subject_id=row.id,
                    detail={"address": sender},
                )
            )
            log.warning("answer_rate_limited", address=sender, received_id=row.id)
            return
        mail = self._compose(session, row, answer, parsed, facts, now)
        outbox.queue(
            session,
            self.config,
            mail,
            dedup_key=f"answer:{row.id}",
            now=now,
            mailing_id=row.mailing_id,
            received_message_id=row.id,
        )

    def _compose(
        self,
        session: Session,
        row: ReceivedMessage,
        answer: Answer,
        parsed: ParsedMessage,
        facts: AnswerFacts,
        now: dt.datetime,
    ) -> OutgoingMail:
        """The answer from its templates; if that fails at run time (an operator's broken override), a plain
        acknowledgement built without them, and the case in the attention queue: the outcome stands, nothing is lost."""
        sender = parsed.facts.from_address or ""
        try:
            return compose_answer(self.config, answer, parsed.facts, facts, sender)
        except Exception as exc:
            log.exception("answer_failed", received_id=row.id, answer=answer.value, error=exc.__class__.__name__)
            row.reason = _text(
                f"{row.reason}; answer {answer.value} failed ({exc.__class__.__name__}): acknowledged", 2000
            )
            opening = attention_items.answer_failed(sender, facts.dependencia)
            attention.open_item(
                session,
                opening,
                key=f"answer_failed:{row.id}",
                now=now,
                received_message_id=row.id,
                mailing_id=row.mailing_id,
            )
            return acknowledgement(self.config, parsed.facts, sender, now.astimezone(self.app.clock.tz).date())

    def _over_daily_limit(self, session: Session, address: str, now: dt.datetime) -> bool:
        start = now.astimezone(self.app.clock.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        recent = session.scalars(
            select(OutboxMail.recipients).where(OutboxMail.created_at >= start, OutboxMail.kind.in_(ANSWER_KINDS))
        )
        sent = sum(1 for recipients in recent if address in recipients)
        return sent >= self.config.limits.auto_mails_per_address_per_day

    def _fail(self, session: Session, row: ReceivedMessage, exc: Exception, now: dt.datetime) -> str:
        """The outcome `error`, in the claiming transaction (the failed attempt's writes were rolled back)."""
        row.outcome, row.decided_at = Outcome.ERROR.value, now
        row.reason = _text(f"{exc.__class__.__name__}: {exc}", 2000)
        session.add(
            AuditEvent(
                at=now,
                kind="message_error",
                subject_type="received_message",
                subject_id=row.id,
                detail={"error": row.reason},
            )
        )
        opening = attention_items.error(row.from_address or "", row.subject or "", None)
        attention.open_item(session, opening, key=f"error:{row.id}", now=now, received_message_id=row.id)
        return Outcome.ERROR.value

    # ------------------------------------------------------------------------------------------ directory

    def _directory(self) -> Directory:
        config = self.config
        by_token: dict[str, MailingRef] = {}
        current: dict[str, MailingRef] = {}
        by_message_id: dict[str, MailingRef] = {}
        with self.app.sessions() as session:
            rows = session.execute(
                select(Mailing, Round, Dependencia)
                .join(Round)
                .join(Dependencia)
                .order_by(Round.vigencia, Round.id, Mailing.id)
            ).all()
            for mailing, round_, dependencia in rows:
                ref = MailingRef(mailing.id, dependencia.code, round_.vigencia, round_.kind, mailing.token)
                by_token[mailing.token] = ref
                by_message_id[mailing.message_id] = ref
                current[dependencia.code] = ref  # ordered: the latest round wins
            refs = {ref.mailing_id: ref for ref in by_token.values()}
            for message_id, mailing_id in session.execute(
                select(OutboxMail.message_id, OutboxMail.mailing_id).where(OutboxMail.mailing_id.is_not(None))
            ):
                if mailing_id in refs:
                    by_message_id[message_id] = refs[mailing_id]
        addresses: dict[str, set[str]] = {}
        for dep in config.dependencias:
            for address in dep.addresses:
                addresses.setdefault(address, set()).add(dep.code)
        return Directory(
            by_token=by_token,
            by_message_id=by_message_id,
            current=current,
            addresses={a: frozenset(c) for a, c in addresses.items()},
            own_domains=frozenset(config.municipality.domains),
            mailbox_address=config.smtp.from_address,
        )


# ------------------------------------------------------------------------------------------------ helpers


def _pick(
    found: list[AttachmentPart], read: dict[str, ParsedWorkbook | Finding], secret: str, directory: Directory
) -> tuple[AttachmentPart | None, ParsedWorkbook | Finding | None]:
    """The one candidate to validate: the only one, or the only one signed for a known mailing among several."""
    if len(found) == 1:
        return found[0], read[found[0].sha256]
    signed = []
    for part in found:
        workbook = read[part.sha256]
        control = _control_of(workbook, secret)
        if (
            control is not None
            and control.verified
            and control.block is not None
            and directory.by_control(control.block)
        ):
            signed.append(part)
    if len(signed) == 1:
        return signed[0], read[signed[0].sha256]
    return None, None


def _control_of(workbook: ParsedWorkbook | Finding | None, secret: str) -> WorkbookControl | None:
    if not isinstance(workbook, ParsedWorkbook) or workbook.control is None:
        return None
    return WorkbookControl(control_block.parse(workbook.control), control_block.verify(workbook.control, secret))


def _insider(parsed: ParsedMessage, domains: Iterable[str]) -> bool:
    sender = parsed.facts.from_address or ""
    return sender.rsplit("@", 1)[-1] in set(domains)


def _too_large(part: AttachmentPart) -> Finding:
    from mailbot.domain.findings import error

    return error(
        "F01",
        None,
        None,
        part.filename,
        "El archivo adjunto supera el tamaño máximo que se recibe; envíe el formato E-DE-F-010 diligenciado "
        "como Libro de Excel (.xlsx), sin imágenes ni hojas adicionales.",
    )


def _mark_bounced(session: Session, message_ids: Iterable[str], parsed: ParsedMessage) -> None:
    detail = ""
    if parsed.report is not None:
        detail = "; ".join(
            f"{r.address} {r.status} {r.diagnostic}".strip() for r in parsed.report.recipients if r.failed
        )
    for message_id in message_ids:
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.message_id == message_id)
            .values(status=outbox.FAILED, last_error=f"bounced: {detail}"[:2000] or "bounced")
        )


def _text(value: str | None, limit: int) -> str | None:
    """What the sender wrote, fit for any database: NUL removed (PostgreSQL refuses it in text), cut to the column."""
    return None if value is None else value.replace("\x00", "")[:limit]


def _state_es(decision: str) -> str:
    return {"accepted": "aceptado", "correction_requested": "con correcciones pendientes"}.get(decision, decision)


def _replace(facts: AnswerFacts, **changes: object) -> AnswerFacts:
    from dataclasses import replace

    return replace(facts, **changes)  # type: ignore[arg-type]
