"""Processing the planeación mailbox: every message ends with exactly one recorded outcome and at most one answer.

For each new UID (above the checkpoint of folder and UIDVALIDITY):
  1. fetch the original bytes (never setting \\Seen), archive them and every attachment by SHA-256, and commit a
     `received_messages` row with no outcome yet;
  2. parse, classify, match, validate and decide (pure functions over what was read);
  3. commit, in one transaction: the outcome, the submission (version, findings, radicado), the answer in the
     outbox, the audit event and the advanced checkpoint;
  4. only then move the message to the folder of its outcome.
A crash between 1 and 3 repeats 2 on restart (the archive is content-addressed, the answer's dedup key is the
received row): nothing is lost and nothing is answered twice. A crash between 3 and 4 is healed by the first
step of every pass, which moves what was decided but not yet moved. A message that makes the processing fail gets
the outcome `error` (its raw bytes are in the archive) and the loop goes on; a storage fault (archive or database)
stops the pass instead, leaving the message untouched on the server for the next one.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mailbot.adapters.archive import Archive, Stored
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
from mailbot.adapters.imap import FolderState, ImapMailbox
from mailbot.adapters.mime import parse_message
from mailbot.adapters.workbook.annotate import annotated_copy
from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook
from mailbot.app import App
from mailbot.domain import authentication
from mailbot.domain import control as control_block
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
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.rules import validate
from mailbot.domain.seguimiento import Baseline
from mailbot.domain.summary import summarize
from mailbot.domain.workbook_format import FORMAT_CODE, Ronda
from mailbot.errors import StorageError
from mailbot.faults import failpoint
from mailbot.log import get_logger
from mailbot.services import outbox, seguimiento
from mailbot.services.answers import AnswerFacts, compose_answer
from mailbot.services.validation import build_context

log = get_logger("mailbot.inbox")

FOLDER_OF = {
    Outcome.ACCEPTED: "processed",
    Outcome.CORRECTION_REQUESTED: "processed",
    Outcome.DUPLICATE: "processed",
    Outcome.NO_ATTACHMENT: "processed",
    Outcome.SEVERAL_ATTACHMENTS: "processed",
    Outcome.QUARANTINED: "review",
    Outcome.UNMATCHED: "review",
    Outcome.REJECTED_SENDER: "review",
    Outcome.AUTOMATIC: "ignored",
    Outcome.BOUNCE: "ignored",
    Outcome.ERROR: "errors",
}
ANSWER_KINDS = tuple(a.value for a in Answer)


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


class InboxProcessor:
    """One mailbox (configuration's imap section); one instance per daemon."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.config = app.config
        self.archive = Archive(app.config.storage.archive_dir)
        imap = app.config.imap
        self.account = f"{imap.user or ''}@{imap.host}:{imap.effective_port}"
        self.folder = imap.folder
        self.limits = ReaderLimits.from_config(app.config.limits)

    # ------------------------------------------------------------------------------------------ the pass

    def run_pass(self, mailbox: ImapMailbox, stop: threading.Event | None = None) -> PassReport:
        """Process every new message; with `stop` set, return after the message in hand."""
        report = PassReport()
        report.moved += self.move_decided(mailbox)
        state = mailbox.state(self.folder)
        last_uid = self._checkpoint(state, mailbox)
        uids = mailbox.uids_after(self.folder, last_uid)
        directory = self._directory()
        for uid, raw in mailbox.fetch_raw(self.folder, uids):
            failpoint("after_fetch")
            report.fetched += 1
            row_id, outcome = self.process(uid, state.uidvalidity, raw, directory)
            report.outcomes[outcome] += 1
            report.moved += self._move(mailbox, row_id)
            if stop is not None and stop.is_set():
                return report
        if uids:
            self._advance(state.uidvalidity, max(uids))  # UIDs that vanished before the fetch count as seen
        if report.fetched:
            log.info("inbox_pass", **{k: v for k, v in report.outcomes.items()}, moved=report.moved)
        return report

    def move_decided(self, mailbox: ImapMailbox) -> int:
        """Messages decided before a crash but not yet moved: move them now (the outcome is committed)."""
        with self.app.sessions() as session:
            ids = list(
                session.scalars(
                    select(ReceivedMessage.id).where(
                        ReceivedMessage.account == self.account,
                        ReceivedMessage.folder == self.folder,
                        ReceivedMessage.outcome.is_not(None),
                        ReceivedMessage.moved_to.is_(None),
                    )
                )
            )
        return sum(self._move(mailbox, row_id) for row_id in ids)

    def _move(self, mailbox: ImapMailbox, row_id: int) -> int:
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

    def _checkpoint(self, state: FolderState, mailbox: ImapMailbox | None = None) -> int:
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

    def _first_uid_to_process(self, session: Session, state: FolderState, mailbox: ImapMailbox | None) -> int:
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

    # ------------------------------------------------------------------------------------------ one message

    def process(self, uid: int, uidvalidity: int, raw: bytes, directory: Directory) -> tuple[int, str]:
        """Archive, record, decide and answer one message; returns (received row id, outcome)."""
        now = self.app.clock.now()
        done = self._already_decided(uidvalidity, uid)
        if done is not None:
            return done
        limits = self.config.limits
        parsed = parse_message(
            raw, max_message_bytes=limits.max_message_bytes, max_attachment_bytes=limits.max_attachment_bytes
        )
        stored = self.archive.store_message(raw, now)
        files = [
            (part, self.archive.store_attachment(part.data, str(part.kind))) for part in parsed.attachments if part.data
        ]
        row_id = self._record(uid, uidvalidity, parsed, stored, files, now)
        failpoint("after_archive")
        try:
            verdict = self._decide(parsed, directory)
            outcome = self._apply(row_id, uid, uidvalidity, parsed, verdict, files, directory, now)
        except (StorageError, OperationalError):
            raise  # the archive or the database: stop the pass, leave the message for the next one
        except Exception as exc:
            log.exception("message_failed", received_id=row_id, uid=uid)
            outcome = self._fail(row_id, uidvalidity, uid, exc, now)
        failpoint("after_commit")
        return row_id, outcome

    def _find(self, session: Session, uidvalidity: int, uid: int) -> ReceivedMessage | None:
        return session.scalars(
            select(ReceivedMessage).where(
                ReceivedMessage.account == self.account,
                ReceivedMessage.folder == self.folder,
                ReceivedMessage.uidvalidity == uidvalidity,
                ReceivedMessage.uid == uid,
            )
        ).first()

    def _already_decided(self, uidvalidity: int, uid: int) -> tuple[int, str] | None:
        with self.app.sessions() as session:
            row = self._find(session, uidvalidity, uid)
            if row is not None and row.outcome is not None:
                return row.id, row.outcome
        return None

    def _record(
        self,
        uid: int,
        uidvalidity: int,
        parsed: ParsedMessage,
        stored: Stored,
        files: list[tuple[AttachmentPart, Stored]],
        now: dt.datetime,
    ) -> int:
        facts = parsed.facts
        with self.app.sessions.begin() as session:
            row = self._find(session, uidvalidity, uid)
            if row is None:
                row = ReceivedMessage(
                    account=self.account,
                    folder=self.folder,
                    uidvalidity=uidvalidity,
                    uid=uid,
                    message_id=facts.message_id,
                    sha256=stored.sha256,
                    size=stored.size,
                    raw_path=str(stored.path),
                    from_address=facts.from_address,
                    subject=(facts.subject or "")[:2000],
                    received_at=now,
                )
                session.add(row)
                session.flush()
                for part, file in files:
                    session.add(
                        Attachment(
                            received_message_id=row.id,
                            filename=(part.filename or "")[:500] or None,
                            content_type=part.content_type[:200],
                            detected_kind=str(part.kind),
                            archive_path=str(file.path),
                            sha256=file.sha256,
                            size=file.size,
                        )
                    )
            return row.id

    def _decide(self, parsed: ParsedMessage, directory: Directory) -> _Verdict:
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
            return _Verdict(Decision(Outcome.AUTOMATIC, classification.reason, None))
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
            return _Verdict(
                decide_unplaced(matched, insider=insider, answer_outsiders=config.sender_policy.answer_outsiders),
                matched,
            )
        if chosen is None:
            by_files = decide_attachments(found, parsed.cloud_links)
            assert by_files is not None
            return _Verdict(by_files, matched)

        ref = matched.mailing
        findings: tuple[Finding, ...]
        baseline = self._baseline(ref)
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
        duplicate = self._earlier_submission(ref.mailing_id, chosen.sha256)
        decision = decide_validated(findings, duplicate_of=duplicate.id if duplicate else None)
        return _Verdict(
            decision,
            matched,
            findings,
            chosen,
            workbook if isinstance(workbook, ParsedWorkbook) else None,
            duplicate,
            baseline=baseline,
        )

    def _baseline(self, ref: MailingRef) -> Baseline | None:
        """A seguimiento is checked against the plan accepted before it (read now, as it stands)."""
        ronda = Ronda(ref.ronda)
        if ronda.quarter is None:
            return None
        with self.app.sessions() as session:
            found = seguimiento.baseline(self.app, session, ref.vigencia, ref.dependencia, ronda)
        return found[0] if found else None

    def _read(self, part: AttachmentPart) -> ParsedWorkbook | Finding:
        return read_workbook(part.data, self.limits) if part.data else _too_large(part)

    def _earlier_submission(self, mailing_id: int, sha256: str) -> Submission | None:
        with self.app.sessions() as session:
            return session.scalars(
                select(Submission)
                .join(Attachment, Submission.attachment_id == Attachment.id)
                .where(Submission.mailing_id == mailing_id, Attachment.sha256 == sha256)
                .order_by(Submission.version)
            ).first()

    def _apply(
        self,
        row_id: int,
        uid: int,
        uidvalidity: int,
        parsed: ParsedMessage,
        verdict: _Verdict,
        files: list[tuple[AttachmentPart, Stored]],
        directory: Directory,
        now: dt.datetime,
    ) -> str:
        decision = verdict.decision
        ref = verdict.match.mailing if verdict.match else None
        with self.app.sessions.begin() as session:
            row = session.get_one(ReceivedMessage, row_id)
            earlier = self._same_message_decided(session, row)
            if earlier is not None:  # a resynchronised mailbox shows a message already decided: never twice
                row.outcome, row.reason = earlier.outcome, f"already processed as message #{earlier.id}"
                row.dependencia_id, row.mailing_id, row.decided_at = earlier.dependencia_id, earlier.mailing_id, now
                self._advance(uidvalidity, uid, session)
                return str(row.outcome)
            row.outcome, row.reason, row.decided_at = decision.outcome.value, decision.reason[:2000], now
            if ref is not None:
                row.mailing_id = ref.mailing_id
                row.dependencia_id = session.scalars(
                    select(Dependencia.id).where(Dependencia.code == ref.dependencia)
                ).one()
            if decision.outcome is Outcome.BOUNCE:
                _mark_bounced(session, verdict.bounced, parsed)
            facts = self._answer_facts(session, row, verdict, files, ref, now)
            if decision.answer is not None and parsed.facts.from_address:
                self._queue_answer(session, row, decision.answer, parsed, facts, now)
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
            self._advance(uidvalidity, uid, session)
            return str(row.outcome)

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
        summary = None
        record: dict[str, Any] | None = None
        extra: dict[str, Any] = {}
        if verdict.workbook is not None:
            context = build_context(self.config, ref.dependencia, vigencia=ref.vigencia, ronda=ronda)
            summary = summarize(verdict.workbook, context)
            record = {"summary": summary.to_json()}
            if accepted and verdict.baseline is not None:
                evaluation = seguimiento.evaluate(self.config, ref.dependencia, verdict.workbook, verdict.baseline)
                record |= seguimiento.record(verdict.workbook, verdict.baseline, evaluation)
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
        annotated = None
        if not accepted and verdict.workbook is not None and has_errors(verdict.findings):
            annotated = annotated_copy(verdict.chosen.data, verdict.findings)
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
        mail = compose_answer(self.config, answer, parsed.facts, facts, sender)
        outbox.queue(
            session,
            self.config,
            mail,
            dedup_key=f"answer:{row.id}",
            now=now,
            mailing_id=row.mailing_id,
            received_message_id=row.id,
        )

    def _over_daily_limit(self, session: Session, address: str, now: dt.datetime) -> bool:
        start = now.astimezone(self.app.clock.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        recent = session.scalars(
            select(OutboxMail.recipients).where(OutboxMail.created_at >= start, OutboxMail.kind.in_(ANSWER_KINDS))
        )
        sent = sum(1 for recipients in recent if address in recipients)
        return sent >= self.config.limits.auto_mails_per_address_per_day

    def _fail(self, row_id: int, uidvalidity: int, uid: int, exc: Exception, now: dt.datetime) -> str:
        with self.app.sessions.begin() as session:
            row = session.get_one(ReceivedMessage, row_id)
            row.outcome, row.decided_at = Outcome.ERROR.value, now
            row.reason = f"{exc.__class__.__name__}: {exc}"[:2000]
            session.add(
                AuditEvent(
                    at=now,
                    kind="message_error",
                    subject_type="received_message",
                    subject_id=row_id,
                    detail={"error": row.reason},
                )
            )
            self._advance(uidvalidity, uid, session)
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


def _state_es(decision: str) -> str:
    return {"accepted": "aceptado", "correction_requested": "con correcciones pendientes"}.get(decision, decision)


def _replace(facts: AnswerFacts, **changes: object) -> AnswerFacts:
    from dataclasses import replace

    return replace(facts, **changes)  # type: ignore[arg-type]
