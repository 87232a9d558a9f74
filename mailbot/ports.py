"""The ports: what services need of the outside world, as protocols, so that a fake can stand in for each.

    port          real adapter (built by `mailbot.app.App`)     fake (tests/support/fakes.py)
    Mailbox       adapters.imap.ImapMailbox                      FakeMailbox
    Sender        adapters.smtp.SmtpConnection                   FakeSender
    Archive       adapters.archive.FileArchive                   MemoryArchive
    Clock         adapters.clock.SystemClock                     FixedClock
    UnitOfWork    sqlalchemy's sessionmaker (SQLite/PostgreSQL)   the same, on SQLite in a temporary folder

Each protocol holds only what services call; the behaviour they rely on beyond the signatures (UIDs above a
checkpoint only, fetching never sets \\Seen, a refused recipient reported per recipient, content addressed by
SHA-256) is pinned for both implementations by tests/contract/. Values crossing a port (FolderState, SendResult,
Stored) live with the real adapter and are re-used by the fakes.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy.orm import Session

from mailbot.adapters.archive import Stored
from mailbot.adapters.imap import FolderState
from mailbot.adapters.smtp import SendResult

__all__ = [
    "Archive",
    "Clock",
    "FolderState",
    "Mailbox",
    "MailboxFactory",
    "SendResult",
    "Sender",
    "SenderFactory",
    "Stored",
    "UnitOfWork",
]


class Mailbox(Protocol):
    """One connection to planeación's mailbox; TemporaryError when it is lost (then `connect()` again)."""

    @property
    def connected(self) -> bool: ...

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def state(self, folder: str) -> FolderState:
        """UIDVALIDITY, UIDNEXT and size: UIDs compare only within one UIDVALIDITY."""
        ...

    def uids_after(self, folder: str, last_uid: int) -> list[int]:
        """UIDs strictly above the checkpoint, ascending."""
        ...

    def uids_since(self, folder: str, day: dt.date) -> list[int]:
        """UIDs of the messages received on or after `day`, ascending."""
        ...

    def fetch_raw(self, folder: str, uids: Sequence[int]) -> Iterator[tuple[int, bytes]]:
        """(uid, original bytes) ascending; never marks a message \\Seen; a vanished UID is skipped."""
        ...

    def fetch_files(self, folder: str, uids: Sequence[int], directory: Path) -> Iterator[tuple[int, Path]]:
        """(uid, a new file in `directory` holding its original bytes) ascending, in bounded memory whatever the
        message weighs; never marks a message \\Seen; a vanished UID is skipped; the caller owns the files."""
        ...

    def ensure_folder(self, name: str) -> str:
        """Create the folder when missing; returns its name as the server spells it."""
        ...

    def move(self, folder: str, uid: int, target: str) -> None:
        """Move one message (gone from `folder` afterwards); a UID that no longer exists is not an error."""
        ...

    def move_many(self, folder: str, uids: Sequence[int], target: str) -> None:
        """`move` of several messages to one folder, in as few round trips as the server allows."""
        ...

    def wait_for_new(self, folder: str, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until new mail may be there (True), or the timeout or `stop` (False)."""
        ...


class Sender(Protocol):
    """One SMTP session for a batch of mails: `open`, any number of `send`, `close`."""

    def open(self) -> None:
        """Connect and authenticate: TemporaryError (network) or PermanentError (refused login)."""
        ...

    def send(self, envelope_from: str, recipients: Sequence[str], raw: bytes) -> SendResult:
        """Hand one mail over. Refused recipients come back in the result (some) or as SendFailedError (all);
        a lost connection raises TemporaryError."""
        ...

    def close(self) -> None: ...


class Archive(Protocol):
    """Every message and attachment received, content-addressed by SHA-256; storing twice writes nothing new."""

    def store_message(self, raw: bytes, received: dt.datetime) -> Stored: ...

    def store_message_file(self, source: Path, received: dt.datetime) -> Stored:
        """`store_message` of a message spooled to a file, read in pieces (any size in bounded memory)."""
        ...

    def store_attachment(self, data: bytes, kind: str) -> Stored: ...

    def file_plan(
        self, stored: Stored, *, vigencia: int, dependencia: str, ronda: str, version: int, outcome: str
    ) -> Path:
        """Make a stored plan visible under planes/…; idempotent."""
        ...

    def open(self, relative: Path | str) -> BinaryIO:
        """The stored file for reading in pieces (the caller closes it); StorageError when it cannot be opened."""
        ...

    def read(self, relative: Path | str) -> bytes:
        """The bytes stored at a path this archive returned; StorageError when they cannot be read."""
        ...


class Clock(Protocol):
    """The only source of "now" and "today" (the municipality's time zone)."""

    @property
    def tz(self) -> dt.tzinfo: ...

    def now(self) -> dt.datetime: ...

    def today(self) -> dt.date: ...


class UnitOfWork(Protocol):
    """Sessions on the database: `sessions()` to read, `with sessions.begin() as s:` for one committed unit."""

    def __call__(self) -> Session: ...

    def begin(self) -> AbstractContextManager[Session]: ...


MailboxFactory = Callable[[], Mailbox]  # a new, not yet connected mailbox
SenderFactory = Callable[[], Sender]  # a new, not yet opened sender
