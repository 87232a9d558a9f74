"""The fetcher's steps: the checkpoint, recording a fetched message, and moving a decided one to its folder.

Recording commits a row without an outcome together with the advanced checkpoint, after the raw message and its
attachments are in the archive: from then on the message cannot be lost. Moving happens only after the outcome is
committed, so a crash before it is healed by the next pass (`move_decided`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from mailbot.adapters.archive import Stored
from mailbot.adapters.db.models import Attachment, ImapCheckpoint, ReceivedMessage, Round
from mailbot.domain.decisions import Outcome
from mailbot.domain.inbound import ParsedMessage
from mailbot.log import get_logger
from mailbot.ports import FolderState, Mailbox
from mailbot.services.inbox.common import Inbox, parse_stored, store_attachments, text

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


# ------------------------------------------------------------------------------------------------ checkpoint


def checkpoint(inbox: Inbox, state: FolderState, mailbox: Mailbox | None = None) -> int:
    """The last UID processed in this UIDVALIDITY; a new UIDVALIDITY starts again at 0 (deduplicated later).

    The very first pass must not answer years of old mail in a mailbox that mailbot just started watching:
    messages received before the first round started (a day's margin) are left alone, and logged.
    """
    now = inbox.app.clock.now()
    with inbox.app.sessions.begin() as session:
        row = session.scalars(
            select(ImapCheckpoint).where(ImapCheckpoint.account == inbox.account, ImapCheckpoint.folder == inbox.folder)
        ).first()
        if row is None:
            start = _first_uid_to_process(inbox, session, state, mailbox)
            session.add(
                ImapCheckpoint(
                    account=inbox.account,
                    folder=inbox.folder,
                    uidvalidity=state.uidvalidity,
                    last_uid=start,
                    updated_at=now,
                )
            )
            return start
        if row.uidvalidity != state.uidvalidity:
            log.warning("imap_uidvalidity_changed", folder=inbox.folder, old=row.uidvalidity, new=state.uidvalidity)
            row.uidvalidity, row.last_uid, row.updated_at = state.uidvalidity, 0, now
            return 0
        return row.last_uid


def _first_uid_to_process(inbox: Inbox, session: Session, state: FolderState, mailbox: Mailbox | None) -> int:
    """The checkpoint of a mailbox seen for the first time: just before the first message of the first round."""
    first_round = session.scalar(select(func.min(Round.started_at)))
    if mailbox is None or state.exists == 0:
        return 0
    newest = max(state.uidnext - 1, 0)
    if first_round is None:
        log.warning("imap_existing_messages_left_alone", folder=inbox.folder, count=state.exists, reason="no round yet")
        return newest
    since = first_round.astimezone(inbox.app.clock.tz).date() - dt.timedelta(days=1)
    recent = mailbox.uids_since(inbox.folder, since)
    start = (min(recent) - 1) if recent else newest
    if start > 0:
        log.warning("imap_existing_messages_left_alone", folder=inbox.folder, below_uid=start + 1, since=str(since))
    return start


def advance(inbox: Inbox, uidvalidity: int, uid: int, session: Session | None = None) -> None:
    parameters = {
        "b_account": inbox.account,
        "b_folder": inbox.folder,
        "b_uidvalidity": uidvalidity,
        "b_uid": uid,
        "b_now": inbox.app.clock.now(),
    }
    options = {"synchronize_session": False}  # no checkpoint is held by the session: nothing to bring up to date
    if session is not None:
        session.execute(_ADVANCE, parameters, execution_options=options)
        return
    with inbox.app.sessions.begin() as own:
        own.execute(_ADVANCE, parameters, execution_options=options)


# Built once (as `_FIND` below): building a statement and its cache key costs more than SQLite's running it.
_ADVANCE = (
    update(ImapCheckpoint)
    .where(
        ImapCheckpoint.account == bindparam("b_account"),  # (an UPDATE's parameters may not be named as columns)
        ImapCheckpoint.folder == bindparam("b_folder"),
        ImapCheckpoint.uidvalidity == bindparam("b_uidvalidity"),
        ImapCheckpoint.last_uid < bindparam("b_uid"),
    )
    .values(last_uid=bindparam("b_uid"), updated_at=bindparam("b_now"))
)


# ------------------------------------------------------------------------------------------------ record


def record(inbox: Inbox, uid: int, uidvalidity: int, raw: bytes) -> int:
    """`record_file` of a message in memory."""
    return _record(inbox, uid, uidvalidity, lambda now: inbox.app.archive.store_message(raw, now))[0]


def record_file(inbox: Inbox, uid: int, uidvalidity: int, path: Path) -> tuple[int, ParsedMessage | None]:
    """Archive a fetched message (spooled to `path`) and its attachments, then commit its row (no outcome) and the
    checkpoint; returns the row and the message as parsed (None when already recorded), for a worker at hand.

    A UID already recorded (a re-fetch after a crash) gives back its row and writes nothing.
    """
    return _record(inbox, uid, uidvalidity, lambda now: inbox.app.archive.store_message_file(path, now))


def _record(
    inbox: Inbox, uid: int, uidvalidity: int, store: Callable[[dt.datetime], Stored]
) -> tuple[int, ParsedMessage | None]:
    with inbox.app.sessions() as session:
        known = _find(inbox, session, uidvalidity, uid)
        if known is not None:
            return known, None
    now = inbox.app.clock.now()
    stored = store(now)
    parsed = parse_stored(inbox, stored.path, stored.size)
    files = store_attachments(inbox, parsed)
    facts = parsed.facts
    with inbox.app.sessions.begin() as session:
        row = ReceivedMessage(
            account=inbox.account,
            folder=inbox.folder,
            uidvalidity=uidvalidity,
            uid=uid,
            message_id=text(facts.message_id, 998),
            sha256=stored.sha256,
            size=stored.size,
            raw_path=str(stored.path),
            from_address=text(facts.from_address, 320),
            subject=text(facts.subject or "", 2000),
            received_at=now,
        )
        session.add(row)
        session.flush()
        for part, file in files:
            session.add(
                Attachment(
                    received_message_id=row.id,
                    filename=text(part.filename or "", 500) or None,
                    content_type=text(part.content_type, 200),
                    detected_kind=str(part.kind),
                    archive_path=str(file.path),
                    sha256=file.sha256,
                    size=file.size,
                )
            )
        advance(inbox, uidvalidity, uid, session)
        return row.id, parsed


def _find(inbox: Inbox, session: Session, uidvalidity: int, uid: int) -> int | None:
    parameters = {"account": inbox.account, "folder": inbox.folder, "uidvalidity": uidvalidity, "uid": uid}
    return session.scalars(_FIND, parameters).first()


_FIND = select(ReceivedMessage.id).where(
    ReceivedMessage.account == bindparam("account"),
    ReceivedMessage.folder == bindparam("folder"),
    ReceivedMessage.uidvalidity == bindparam("uidvalidity"),
    ReceivedMessage.uid == bindparam("uid"),
)


def outcome_of(inbox: Inbox, row_id: int) -> str:
    with inbox.app.sessions() as session:
        return session.get_one(ReceivedMessage, row_id).outcome or "in_progress"


# ------------------------------------------------------------------------------------------------ move


def move_decided(inbox: Inbox, mailbox: Mailbox) -> int:
    """Move every decided message not yet moved (by any worker) to the folder of its outcome, one `UID MOVE` of a
    set per folder, then note them moved in one transaction; how many were noted.

    A message whose UIDVALIDITY is no longer the folder's is only noted as gone ("-"). A crash between the moves
    and the note leaves them to the next pass, whose move of UIDs no longer there does nothing.
    """
    with inbox.app.sessions() as session:
        decided = session.execute(
            select(ReceivedMessage.id, ReceivedMessage.outcome, ReceivedMessage.uid, ReceivedMessage.uidvalidity)
            .where(
                ReceivedMessage.account == inbox.account,
                ReceivedMessage.folder == inbox.folder,
                ReceivedMessage.outcome.is_not(None),
                ReceivedMessage.moved_to.is_(None),
            )
            .order_by(ReceivedMessage.id)
        ).all()
    if not decided:
        return 0
    state = mailbox.state(inbox.folder)
    folders = inbox.config.imap.outcome_folders
    moves: dict[str, list[int]] = defaultdict(list)  # target → UIDs
    noted: dict[str, list[int]] = defaultdict(list)  # moved_to → row ids
    for row_id, outcome, uid, uidvalidity in decided:
        target = getattr(folders, FOLDER_OF[Outcome(str(outcome))])
        if uidvalidity == state.uidvalidity:
            moves[target].append(uid)
            noted[target].append(row_id)
        else:
            noted["-"].append(row_id)
    for target, uids in moves.items():
        mailbox.ensure_folder(target)
        mailbox.move_many(inbox.folder, uids, target)
    with inbox.app.sessions.begin() as session:
        for moved_to, ids in noted.items():
            session.execute(
                update(ReceivedMessage)
                .where(ReceivedMessage.id.in_(ids), ReceivedMessage.moved_to.is_(None))
                .values(moved_to=moved_to)
            )
    return len(decided)


def unfinished(inbox: Inbox) -> int:
    """Messages of this mailbox recorded but not yet moved: the fetcher looks again soon while there are any."""
    with inbox.app.sessions() as session:
        return int(
            session.scalar(
                select(func.count(ReceivedMessage.id)).where(
                    ReceivedMessage.account == inbox.account,
                    ReceivedMessage.folder == inbox.folder,
                    ReceivedMessage.moved_to.is_(None),
                )
            )
            or 0
        )
