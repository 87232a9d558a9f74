"""The transactional outbox: every mail mailbot sends is a committed row before any SMTP traffic.

    enqueue   (inside the caller's transaction)  → a `pending` row, idempotent by its dedup key
    flush     claim a due row (`SELECT … FOR UPDATE SKIP LOCKED`, then pending → sending with the attempt
              recorded, committed) → SMTP → commit `sent` | `pending` again with backoff | `failed`

A crash before the claim leaves the row pending; after the claim and before the outcome commit, the row stays
`sending`: after STALE_CLAIM it is considered in doubt and sent again with the same bytes and Message-ID. That
window (between the server's 250 and our commit: milliseconds) is the only place a mail can go out twice, and the
same Message-ID lets mail clients fold the copy. Two flushes at once, in one process or on several machines,
never send one row twice: a row being claimed is locked and skipped by the others (PostgreSQL), or the claims
are serialised by `BEGIN IMMEDIATE` (SQLite), and only a `pending` row can be claimed.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BindParameter, Update, bindparam, func, select, update
from sqlalchemy.orm import Session

from mailbot.adapters.db.models import AuditEvent, Mailing, OutboxMail
from mailbot.adapters.mail_builder import build_message, new_message_id
from mailbot.adapters.smtp import Refusal, SendFailedError, SendResult
from mailbot.config import MailbotConfig
from mailbot.domain.outgoing import OutgoingMail
from mailbot.errors import MailbotError, PermanentError, TemporaryError
from mailbot.faults import failpoint
from mailbot.log import get_logger
from mailbot.ports import Sender, SenderFactory, UnitOfWork

RETRY_BASE = dt.timedelta(minutes=1)
RETRY_CAP = dt.timedelta(hours=6)
MAX_ATTEMPTS = 12  # about two days of retries with the cap above
#: After the server could not be reached, and after it refused the credentials (`daemon.auth_retry`'s default):
#: every due mail waits this long, spending none of its attempts (`_wait_for_server`).
SERVER_WAIT = dt.timedelta(minutes=1)
CREDENTIALS_WAIT = dt.timedelta(minutes=15)
STALE_CLAIM = dt.timedelta(minutes=10)
FLUSH_BATCH = 200  # mails sent over one SMTP connection
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"

log = get_logger("mailbot.outbox")
Clock = Callable[[], dt.datetime]


def enqueue(
    session: Session,
    *,
    dedup_key: str,
    kind: str,
    raw: bytes,
    message_id: str,
    envelope_from: str,
    recipients: Sequence[str],
    now: dt.datetime,
    mailing_id: int | None = None,
    received_message_id: int | None = None,
) -> OutboxMail:
    """Add a mail to send in the caller's transaction; the same dedup key twice gives back the first row."""
    existing = _queued(session, dedup_key)
    if existing is not None:
        return existing
    return _insert(
        session,
        dedup_key=dedup_key,
        kind=kind,
        raw=raw,
        message_id=message_id,
        envelope_from=envelope_from,
        recipients=recipients,
        now=now,
        mailing_id=mailing_id,
        received_message_id=received_message_id,
    )


def _queued(session: Session, dedup_key: str) -> OutboxMail | None:
    return session.scalars(_BY_DEDUP_KEY, {"dedup_key": dedup_key}).first()


_BY_DEDUP_KEY = select(OutboxMail).where(OutboxMail.dedup_key == bindparam("dedup_key"))  # built once (see _DUE)


def _insert(
    session: Session,
    *,
    dedup_key: str,
    kind: str,
    raw: bytes,
    message_id: str,
    envelope_from: str,
    recipients: Sequence[str],
    now: dt.datetime,
    mailing_id: int | None,
    received_message_id: int | None,
) -> OutboxMail:
    row = OutboxMail(
        dedup_key=dedup_key,
        kind=kind,
        message_id=message_id,
        envelope_from=envelope_from,
        recipients=list(recipients),
        raw=raw,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        mailing_id=mailing_id,
        received_message_id=received_message_id,
    )
    session.add(row)
    session.flush()
    return row


def render(config: MailbotConfig, mail: OutgoingMail, message_id: str, now: dt.datetime) -> bytes:
    """The bytes of `mail` as mailbot sends it: from planeación's address, with its loop header."""
    smtp = config.smtp
    return build_message(
        mail,
        message_id=message_id,
        from_address=smtp.from_address,
        from_name=smtp.from_name,
        loop_value=smtp.from_address,
        now=now,
    )


def queue(
    session: Session,
    config: MailbotConfig,
    mail: OutgoingMail,
    *,
    dedup_key: str,
    now: dt.datetime,
    message_id: str | None = None,
    mailing_id: int | None = None,
    received_message_id: int | None = None,
) -> tuple[OutboxMail, bool]:
    """Build `mail` and add it to the outbox in the caller's transaction; (row, False) when the key was taken."""
    existing = _queued(session, dedup_key)
    if existing is not None:
        return existing, False
    message_id = message_id or new_message_id(config.smtp.effective_message_id_domain)
    row = _insert(
        session,
        dedup_key=dedup_key,
        kind=mail.kind,
        raw=render(config, mail, message_id, now),
        message_id=message_id,
        envelope_from=config.smtp.from_address,
        recipients=mail.recipients,
        now=now,
        mailing_id=mailing_id,
        received_message_id=received_message_id,
    )
    return row, True


@dataclass
class FlushReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    reclaimed: list[int] = field(default_factory=list)
    #: Why the batch stopped early: the SMTP connection could not be made or was lost (None: it held).
    connection_error: str | None = None
    #: The batch stopped before sending anything: no connection could be made (an outage, not a mail's failure).
    waiting_for_server: bool = False

    @property
    def handled(self) -> int:
        """Rows this flush claimed and settled (sent, failed or back to pending)."""
        return len(self.sent) + len(self.retrying) + len(self.failed)

    def add(self, other: FlushReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.reclaimed += other.reclaimed
        self.connection_error = other.connection_error or self.connection_error
        self.waiting_for_server = other.waiting_for_server or self.waiting_for_server

    def summary(self) -> str:
        return (
            f"{len(self.sent)} sent, {len(self.retrying)} to retry, {len(self.failed)} failed"
            + (f", {len(self.reclaimed)} in doubt re-queued" if self.reclaimed else "")
            + (", the server could not be reached" if self.waiting_for_server else "")
        )


@dataclass(frozen=True)
class _Claimed:
    """What a flush needs of a claimed row: its bytes to send, and what settling it writes (the row is not read
    again: on SQLite loading it walks the mail's bytes)."""

    id: int
    envelope_from: str
    recipients: list[str]
    raw: bytes
    attempts: int
    message_id: str
    kind: str
    mailing_id: int | None


def flush(
    sessions: UnitOfWork,
    senders: SenderFactory,
    now: Clock,
    *,
    limit: int = FLUSH_BATCH,
    on_sent: Callable[[int], None] | None = None,
) -> FlushReport:
    """Send the due rows over one connection from `senders`; stop the batch at the first connection failure."""
    report = FlushReport(reclaimed=_requeue_stale(sessions, now()))
    connection: Sender | None = None
    claimed = _claim_next(sessions, now()) if limit > 0 else None
    try:
        for left in range(limit - 1, -1, -1):
            if claimed is None:
                break  # nothing due, or every due row is being sent by another flush
            if connection is None:
                try:
                    connection = senders()
                    connection.open()
                except (TemporaryError, PermanentError) as exc:
                    report.connection_error, report.waiting_for_server = str(exc), True
                    _wait_for_server(sessions, claimed, exc, now())
                    if isinstance(exc, PermanentError):
                        raise  # refused credentials, an unverifiable certificate: the operator's to fix, loudly
                    break  # no server to send to: every due row waits
            try:
                failpoint("before_send")
                result = connection.send(claimed.envelope_from, claimed.recipients, claimed.raw)
            except SendFailedError as exc:
                _answered_with_error(sessions, claimed, exc, now(), report)
                claimed = _claim_next(sessions, now()) if left else None
                continue
            except (TemporaryError, PermanentError) as exc:
                _retry(sessions, claimed, str(exc), now(), report)
                if isinstance(exc, PermanentError):
                    raise  # the operator's to fix: say it loudly
                report.connection_error = str(exc)
                break  # the connection is gone: the rest of the batch waits for the next flush
            sent, claimed = claimed, _mark_sent(sessions, claimed, result, now(), claim_next=left > 0)
            report.sent.append(sent.id)
            if on_sent is not None:
                on_sent(sent.id)
    finally:
        if connection is not None:
            connection.close()
    if report.handled:
        log.info("outbox_flushed", sent=len(report.sent), retrying=len(report.retrying), failed=len(report.failed))
    return report


def flush_due(
    sessions: UnitOfWork,
    senders: SenderFactory,
    now: Clock,
    *,
    batch: int | None = None,
    on_sent: Callable[[int], None] | None = None,
) -> FlushReport:
    """Flush batch after batch (one connection each) until nothing due remains.

    A backlog answers more than one batch: a single `flush` would leave the rest pending until the next timer. Stops
    when a batch ends short (nothing due left) or a connection failure leaves the rest for the retry.
    """
    size = batch or FLUSH_BATCH
    total = FlushReport()
    while True:
        report = flush(sessions, senders, now, limit=size, on_sent=on_sent)
        total.add(report)
        if report.handled < size or report.retrying:
            return total


def waiting(sessions: UnitOfWork) -> int:
    """Mails not yet handed to the server for good (pending, retrying later, or being sent): 0 when all is out."""
    with sessions() as session:
        return int(
            session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status.in_((PENDING, SENDING)))) or 0
        )


@dataclass(frozen=True)
class Waiting:
    """Mail still to send after a flush: how many, when the next attempt is due, and the last error seen."""

    count: int
    next_attempt_at: dt.datetime
    last_error: str | None


def next_waiting(sessions: UnitOfWork) -> Waiting | None:
    """The mail waiting to be sent (pending or being sent) and its earliest next attempt; None when all is out."""
    with sessions() as session:
        count = int(
            session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status.in_((PENDING, SENDING)))) or 0
        )
        if count == 0:
            return None
        first = session.scalars(
            select(OutboxMail)
            .where(OutboxMail.status.in_((PENDING, SENDING)))
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
            .limit(1)
        ).one()
        return Waiting(count, first.next_attempt_at, first.last_error)


def _requeue_stale(sessions: UnitOfWork, now: dt.datetime) -> list[int]:
    with sessions.begin() as session:
        stale = list(
            session.scalars(
                select(OutboxMail.id).where(OutboxMail.status == SENDING, OutboxMail.claimed_at < now - STALE_CLAIM)
            )
        )
        if stale:
            session.execute(
                update(OutboxMail)
                .where(OutboxMail.id.in_(stale), OutboxMail.status == SENDING)
                .values(status=PENDING, next_attempt_at=now, last_error="attempt interrupted; outcome unknown")
            )
            log.warning("outbox_in_doubt_requeued", ids=stale)
    return stale


def _claim_next(sessions: UnitOfWork, now: dt.datetime) -> _Claimed | None:
    """The oldest due row no other flush holds: pending → sending, attempt counted, committed before any SMTP."""
    with sessions.begin() as session:
        return _claim(session, now)


# The flush's statements, built once: building a statement and its cache key costs more than SQLite's running it.
_DUE = (
    select(
        OutboxMail.id,
        OutboxMail.envelope_from,
        OutboxMail.recipients,
        OutboxMail.raw,
        OutboxMail.attempts,
        OutboxMail.message_id,
        OutboxMail.kind,
        OutboxMail.mailing_id,
    )
    .where(OutboxMail.status == PENDING, OutboxMail.next_attempt_at <= bindparam("now"))
    .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
    .limit(1)
    .with_for_update(skip_locked=True)
)
_MAILING_SENT = (
    update(Mailing)
    .where(Mailing.id == bindparam("mailing_id"), Mailing.sent_at.is_(None))
    .values(sent_at=bindparam("sent_at"))
)
_NO_SYNC = {"synchronize_session": False}  # nothing the session holds is changed: nothing to bring up to date


def _claim(session: Session, now: dt.datetime) -> _Claimed | None:
    """`_claim_next` in the caller's transaction, which must commit before the mail is sent."""
    row = session.execute(_DUE, {"now": now}).first()
    if row is None:
        return None
    row_id, envelope_from, recipients, raw, attempts, message_id, kind, mailing_id = row
    _set(session, row_id, status=SENDING, attempts=attempts + 1, claimed_at=now)
    return _Claimed(row_id, envelope_from, list(recipients), raw, attempts + 1, message_id, kind, mailing_id)


def _set(session: Session, row_id: int, **values: object) -> None:
    """One UPDATE of an outbox row by its id, without loading it."""
    parameters = {"row_id": row_id, **{f"new_{column}": value for column, value in values.items()}}
    session.execute(_update_of(tuple(values)), parameters, execution_options=_NO_SYNC)


@functools.cache
def _update_of(columns: tuple[str, ...]) -> Update:
    """UPDATE outbox SET `columns` WHERE id, built once for each set of columns the flush writes."""
    values: dict[str, BindParameter[Any]] = {column: bindparam(f"new_{column}") for column in columns}
    return update(OutboxMail).where(OutboxMail.id == bindparam("row_id")).values(values)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 … minutes after each failed attempt, capped at 6 hours."""
    delay: dt.timedelta = RETRY_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, RETRY_CAP)


def _retry(sessions: UnitOfWork, claimed: _Claimed, error: str, now: dt.datetime, report: FlushReport) -> None:
    give_up = claimed.attempts >= MAX_ATTEMPTS
    row_next = now + backoff(claimed.attempts)
    with sessions.begin() as session:
        status = FAILED if give_up else PENDING
        _set(session, claimed.id, status=status, next_attempt_at=row_next, last_error=error[:2000])
        _audit(session, claimed, "mail_failed" if give_up else "mail_retry", now, error=error[:500])
    (report.failed if give_up else report.retrying).append(claimed.id)
    log.warning(
        "outbox_retry" if not give_up else "outbox_gave_up",
        id=claimed.id,
        attempts=claimed.attempts,
        next_attempt_at=None if give_up else row_next.isoformat(),
        error=error[:500],
    )


def _wait_for_server(sessions: UnitOfWork, claimed: _Claimed, exc: MailbotError, now: dt.datetime) -> None:
    """The server could not be reached or refused the login: not a failure of any mail, so none spends an attempt.

    However long the outage (a long weekend, credentials expired on a Friday), no mail gives up because of it. The
    claim is undone, and every due row waits `SERVER_WAIT` (`CREDENTIALS_WAIT` after refused credentials, which a
    provider answers by locking the account if tried every minute) with the error, for `outbox list`, exit 75 and
    `health`: a command run every minute by cron then tries the server once per wait, not once per mail. The outage
    itself is logged by whoever flushes (`smtp_connection_lost` in the daemon, `outbox_server_unreachable` for a
    command).
    """
    due_again = now + (CREDENTIALS_WAIT if isinstance(exc, PermanentError) else SERVER_WAIT)
    values = {"next_attempt_at": due_again, "last_error": str(exc)[:2000]}
    # Still this flush's claim (not re-queued as stale and claimed again meanwhile: that would count one more).
    mine = (OutboxMail.id == claimed.id) & (OutboxMail.status == SENDING) & (OutboxMail.attempts == claimed.attempts)
    due = (OutboxMail.status == PENDING) & (OutboxMail.next_attempt_at <= now)
    with sessions.begin() as session:
        undone = update(OutboxMail).where(mine).values(status=PENDING, attempts=claimed.attempts - 1, **values)
        session.execute(undone, execution_options=_NO_SYNC)
        session.execute(update(OutboxMail).where(due).values(**values), execution_options=_NO_SYNC)
    log.debug("outbox_waiting_for_server", id=claimed.id, next_attempt_at=due_again.isoformat())


def _answered_with_error(
    sessions: UnitOfWork, claimed: _Claimed, exc: SendFailedError, now: dt.datetime, report: FlushReport
) -> None:
    if not exc.permanent:
        _retry(sessions, claimed, f"{exc.code} {exc.text}", now, report)
        return
    error = f"{exc.code} {exc.text}"[:2000]
    results = _results(claimed.recipients, exc.refused, default=Refusal(exc.code, exc.text))
    with sessions.begin() as session:
        _set(session, claimed.id, status=FAILED, last_error=error, recipient_results=results)
        _audit(session, claimed, "mail_failed", now, error=error)
    report.failed.append(claimed.id)
    log.warning("outbox_refused", id=claimed.id, code=exc.code)


def _mark_sent(
    sessions: UnitOfWork, claimed: _Claimed, result: SendResult, now: dt.datetime, *, claim_next: bool = False
) -> _Claimed | None:
    """`claimed` is sent; with `claim_next`, the next due row is claimed in the same transaction (one commit a mail
    instead of two). The next row is still claimed and committed before its SMTP, and a crash before this commit
    leaves `claimed` in `sending`: in doubt, as any crash between the server's 250 and the commit. The claim runs
    in a savepoint: a next row that cannot be claimed is raised after `claimed` is committed as sent, never undoes it
    (else that mail would go out again after each stale-claim wait)."""
    failure: Exception | None = None
    following: _Claimed | None = None
    with sessions.begin() as session:
        _set(
            session,
            claimed.id,
            status=SENT,
            sent_at=now,
            last_error=None,
            recipient_results=_results(claimed.recipients, result.refused),
        )
        if claimed.mailing_id is not None and claimed.kind == "mailing":
            session.execute(
                _MAILING_SENT, {"mailing_id": claimed.mailing_id, "sent_at": now}, execution_options=_NO_SYNC
            )
        _audit(session, claimed, "mail_sent", now, refused=sorted(result.refused))
        if claim_next:
            try:
                with session.begin_nested():
                    following = _claim(session, now)
            except Exception as exc:  # raised below, once the sent mark is committed
                failure = exc
    if failure is not None:
        raise failure
    return following


def _results(recipients: list[str], refused: dict[str, Refusal], default: Refusal | None = None) -> dict[str, object]:
    """Per recipient: "accepted", or the server's code and text."""
    out: dict[str, object] = {}
    for address in recipients:
        answer = refused.get(address) or default
        out[address] = "accepted" if answer is None else {"code": answer.code, "text": answer.text[:300]}
    return out


def _audit(session: Session, claimed: _Claimed, kind: str, now: dt.datetime, **detail: object) -> None:
    session.add(
        AuditEvent(
            at=now,
            kind=kind,
            subject_type="outbox",
            subject_id=claimed.id,
            detail={"message_id": claimed.message_id, "kind": claimed.kind, "attempts": claimed.attempts, **detail},
        )
    )
