"""In-memory fakes of mailbot's ports (mailbot/ports.py), for service tests that run in seconds without servers.

Each fake has two sides: the port a service uses (`FakeMailbox`, `FakeSender`, `MemoryArchive`, `FixedClock`) and
what a test uses to arrange and inspect (`FakeMailServer.deliver`, `FakeSmtpServer.sent`, `fail_next`, ...).
tests/contract/ runs the same assertions on each fake and on the real adapter, so the fakes cannot drift from
what Dovecot, Postfix and the archive folder do.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from mailbot.adapters.archive import attachment_path, message_path, plan_path, sha256_of
from mailbot.adapters.smtp import Refusal, SendFailedError
from mailbot.errors import PermanentError, StorageError, TemporaryError
from mailbot.ports import FolderState, SendResult, Stored

INBOX = "INBOX"

# ------------------------------------------------------------------------------------------------ the clock


class FixedClock:
    """A clock that moves only when told: `advance()`."""

    def __init__(self, now: dt.datetime, timezone: str = "America/Bogota") -> None:
        if now.tzinfo is None:
            raise ValueError("a FixedClock needs an aware datetime")
        self.tz = ZoneInfo(timezone)
        self._now = now.astimezone(self.tz)

    def now(self) -> dt.datetime:
        return self._now

    def today(self) -> dt.date:
        return self._now.date()

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta


# ------------------------------------------------------------------------------------------------ the mailbox


@dataclass
class StoredMail:
    uid: int
    raw: bytes
    received: dt.datetime
    flags: set[str] = field(default_factory=set)


@dataclass
class _Folder:
    uidvalidity: int
    uidnext: int = 1
    messages: dict[int, StoredMail] = field(default_factory=dict)


class FakeMailServer:
    """The server side of a fake IMAP account: folders of messages with UIDs and a UIDVALIDITY.

    `mailbox()` gives a `FakeMailbox` (a factory for `App(mailboxes=...)`); `down = True` makes connecting and
    every command of an open connection raise TemporaryError, as a server that went away.
    """

    def __init__(self) -> None:
        self._folders: dict[str, _Folder] = {}
        self._validity = itertools.count(1000)
        self._changed = threading.Condition()
        self.down = False
        self.create_folder(INBOX)

    # -- arranging and inspecting ---------------------------------------------------------------------------

    def deliver(self, raw: bytes, folder: str = INBOX, *, received: dt.datetime | None = None) -> int:
        """Store a message as a delivery would (no flags); returns its UID."""
        with self._changed:
            box = self._folder(folder)
            uid = box.uidnext
            box.uidnext += 1
            box.messages[uid] = StoredMail(uid, raw, received or dt.datetime.now(dt.UTC))
            self._changed.notify_all()
        return uid

    def messages(self, folder: str = INBOX) -> list[StoredMail]:
        return [box.messages[uid] for box in [self._folder(folder)] for uid in sorted(box.messages)]

    def uids(self, folder: str = INBOX) -> list[int]:
        return [m.uid for m in self.messages(folder)]

    def flags(self, folder: str, uid: int) -> set[str]:
        return set(self._folder(folder).messages[uid].flags)

    def folders(self) -> list[str]:
        return sorted(self._folders)

    def create_folder(self, name: str) -> None:
        if name not in self._folders:
            self._folders[name] = _Folder(uidvalidity=next(self._validity))

    def recreate(self, folder: str = INBOX) -> None:
        """The folder deleted and created again: a new UIDVALIDITY, UIDs start again at 1, messages kept."""
        with self._changed:
            old = self._folder(folder)
            fresh = _Folder(uidvalidity=next(self._validity))
            for mail in sorted(old.messages.values(), key=lambda m: m.uid):
                fresh.messages[fresh.uidnext] = StoredMail(fresh.uidnext, mail.raw, mail.received, set(mail.flags))
                fresh.uidnext += 1
            self._folders[folder] = fresh

    def mailbox(self) -> FakeMailbox:
        """A new, unconnected mailbox on this server: pass the method as `App(mailboxes=...)`."""
        return FakeMailbox(self)

    # -- for FakeMailbox ----------------------------------------------------------------------------------

    def _folder(self, name: str) -> _Folder:
        try:
            return self._folders[name]
        except KeyError:
            raise PermanentError(f"IMAP folder '{name}' cannot be opened: it does not exist") from None

    def _check_up(self) -> None:
        if self.down:
            raise TemporaryError("fake IMAP server is down")


class FakeMailbox:
    """The `Mailbox` port on a `FakeMailServer`: one connection, like `ImapMailbox`."""

    def __init__(self, server: FakeMailServer) -> None:
        self.server = server
        self._connected = False
        self._looked_at: dict[str, int] = {}  # folder -> its UIDNEXT when last searched

    @property
    def connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        self.server._check_up()
        self._connected = True

    def close(self) -> None:
        self._connected = False

    def state(self, folder: str) -> FolderState:
        box = self._open(folder)
        return FolderState(uidvalidity=box.uidvalidity, uidnext=box.uidnext, exists=len(box.messages))

    def uids_after(self, folder: str, last_uid: int) -> list[int]:
        if last_uid < 0:
            raise ValueError("last_uid is a UID checkpoint: 0 or more")
        box = self._open(folder)
        self._looked_at[folder] = box.uidnext
        return sorted(uid for uid in box.messages if uid > last_uid)

    def uids_since(self, folder: str, day: dt.date) -> list[int]:
        box = self._open(folder)
        return sorted(uid for uid, m in box.messages.items() if m.received.date() >= day)

    def fetch_raw(self, folder: str, uids: Sequence[int]) -> Iterator[tuple[int, bytes]]:
        for uid in sorted(set(uids)):
            found = self._open(folder).messages.get(uid)
            if found is not None:
                yield uid, found.raw

    def fetch_files(self, folder: str, uids: Sequence[int], directory: Path) -> Iterator[tuple[int, Path]]:
        for uid, raw in self.fetch_raw(folder, uids):
            path = directory / f"{uid}.eml"
            path.write_bytes(raw)
            yield uid, path

    def ensure_folder(self, name: str) -> str:
        self._check()
        self.server.create_folder(name)
        return name

    def move(self, folder: str, uid: int, target: str) -> None:
        box = self._open(folder)
        with self.server._changed:
            mail = box.messages.pop(uid, None)
            if mail is None:
                return
            self.ensure_folder(target)
            destination = self.server._folder(target)
            moved = StoredMail(destination.uidnext, mail.raw, mail.received, set(mail.flags))
            destination.messages[moved.uid] = moved
            destination.uidnext += 1

    def move_many(self, folder: str, uids: Sequence[int], target: str) -> None:
        for uid in sorted(set(uids)):
            self.move(folder, uid, target)

    def wait_for_new(self, folder: str, timeout: float, stop: threading.Event | None = None) -> bool:
        """True as soon as the folder has mail beyond what the last search saw; else False after `timeout`."""
        box = self._open(folder)
        seen = self._looked_at.get(folder, box.uidnext)
        with self.server._changed:
            return self.server._changed.wait_for(
                lambda: self.server._folder(folder).uidnext > seen or (stop is not None and stop.is_set()),
                timeout,
            ) and not (stop is not None and stop.is_set())

    def _open(self, folder: str) -> _Folder:
        self._check()
        return self.server._folder(folder)

    def _check(self) -> None:
        if not self._connected:
            raise TemporaryError("IMAP is not connected (connect() first, or again after a lost connection)")
        if self.server.down:
            self._connected = False
            raise TemporaryError("fake IMAP server went away")


# ------------------------------------------------------------------------------------------------ the sender


@dataclass(frozen=True)
class SentMail:
    envelope_from: str
    recipients: tuple[str, ...]  # those the server accepted
    raw: bytes


class FakeSmtpServer:
    """The server side of a fake SMTP relay: records what it accepted, refuses and fails on demand.

    `refuse[address]` answers that recipient with a code (550: refused for good, 450: try later); `fail_next()`
    queues a failure for the next mails (a SendFailedError for the whole mail, or a TemporaryError: the
    connection dropped); `down = True` refuses connections.
    """

    def __init__(self) -> None:
        self.sent: list[SentMail] = []
        self.refuse: dict[str, Refusal] = {}
        self.down = False
        self.connections = 0
        self._failures: list[Exception] = []

    def sender(self) -> FakeSender:
        """A new, unopened sender on this server: pass the method as `App(senders=...)`."""
        return FakeSender(self)

    def fail_next(self, code: int | None = None, text: str = "fallo simulado", *, times: int = 1) -> None:
        """The next `times` mails fail: answered with `code`, or (None) with the connection dropping."""
        for _ in range(times):
            failure = SendFailedError(code, text) if code is not None else TemporaryError("connection lost (fake)")
            self._failures.append(failure)

    def to(self, address: str) -> list[bytes]:
        """The mails accepted for `address`, in order."""
        wanted = address.lower()
        return [mail.raw for mail in self.sent if wanted in (r.lower() for r in mail.recipients)]


class FakeSender:
    """The `Sender` port on a `FakeSmtpServer`."""

    def __init__(self, server: FakeSmtpServer) -> None:
        self.server = server
        self._open = False

    def open(self) -> None:
        if self.server.down:
            raise TemporaryError("cannot connect to SMTP (fake server down)")
        self.server.connections += 1
        self._open = True

    def send(self, envelope_from: str, recipients: Sequence[str], raw: bytes) -> SendResult:
        if not self._open:
            raise TemporaryError("SMTP connection is not open")
        if self.server._failures:
            failure = self.server._failures.pop(0)
            if isinstance(failure, TemporaryError):
                self._open = False
            raise failure
        refused = {r: self.server.refuse[r.lower()] for r in recipients if r.lower() in self.server.refuse}
        if refused and len(refused) == len(recipients):
            worst = min(refused.values(), key=lambda r: r.permanent)  # temporary wins, as SmtpConnection
            raise SendFailedError(worst.code, worst.text, refused)
        accepted = tuple(r for r in recipients if r not in refused)
        self.server.sent.append(SentMail(envelope_from, accepted, raw))
        return SendResult(refused)

    def close(self) -> None:
        self._open = False


# ------------------------------------------------------------------------------------------------ the archive


class MemoryArchive:
    """The `Archive` port in a dict, with the real archive's paths (mailbot.adapters.archive)."""

    def __init__(self) -> None:
        self.files: dict[Path, bytes] = {}
        self.writes = 0  # bytes objects actually stored: storing the same content again adds none
        self.broken = False  # every access raises StorageError, as a full or unmounted disk

    def store_message(self, raw: bytes, received: dt.datetime) -> Stored:
        digest = sha256_of(raw)
        return self._store(message_path(digest, received), raw, digest)

    def store_message_file(self, source: Path, received: dt.datetime) -> Stored:
        self._check()
        return self.store_message(source.read_bytes(), received)

    def store_attachment(self, data: bytes, kind: str) -> Stored:
        digest = sha256_of(data)
        return self._store(attachment_path(digest, kind), data, digest)

    def file_plan(
        self, stored: Stored, *, vigencia: int, dependencia: str, ronda: str, version: int, outcome: str
    ) -> Path:
        relative = plan_path(
            stored, vigencia=vigencia, dependencia=dependencia, ronda=ronda, version=version, outcome=outcome
        )
        self.files.setdefault(relative, self.read(stored.path))
        return relative

    def open(self, relative: Path | str) -> BinaryIO:
        return io.BytesIO(self.read(relative))

    def read(self, relative: Path | str) -> bytes:
        self._check()
        try:
            return self.files[Path(relative)]
        except KeyError:
            raise StorageError(f"cannot read {relative} from the archive: not stored") from None

    def plans(self) -> list[Path]:
        return sorted(p for p in self.files if p.parts[0] == "planes")

    def _store(self, relative: Path, data: bytes, digest: str) -> Stored:
        self._check()
        if relative not in self.files:
            self.files[relative] = data
            self.writes += 1
        return Stored(relative, digest, len(data))

    def _check(self) -> None:
        if self.broken:
            raise StorageError("cannot write to the archive (fake: broken)")
