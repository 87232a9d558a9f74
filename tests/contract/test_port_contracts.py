"""One contract per port, run on the fake (tests/support/fakes.py) and on the real adapter, so the fakes cannot drift.

The assertions are the behaviours services rely on: UIDs only above a checkpoint, fetching never sets \\Seen, a
move removes the message from its folder, a sent mail arrives once with its Message-ID, a refused recipient is
reported per recipient, the archive is content-addressed by SHA-256 and idempotent, the clock tells Bogotá's
time. The real mailbox and sender run against the session's Dovecot and Postfix (tests/support/mailservers.py;
marked `mailserver`, so `-m "not mailserver"` keeps only the fakes), the real archive on a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

import pytest

from mailbot.adapters.archive import FileArchive, sha256_of
from mailbot.adapters.clock import SystemClock
from mailbot.adapters.imap import ImapMailbox
from mailbot.adapters.smtp import Refusal, SendFailedError, SmtpConnection
from mailbot.config import Imap, Smtp
from mailbot.errors import StorageError
from mailbot.ports import Archive, Clock, Mailbox, Sender
from tests.support.fakes import FakeMailServer, FakeSmtpServer, FixedClock, MemoryArchive
from tests.support.mailservers import REJECTED_ADDRESS, MailServers

USER = "planeacion@municipio.test"
SECRETARIA = "hacienda@municipio.test"
TARGET = "mailbot/procesados"
SENT_AT = dt.datetime(2027, 2, 1, 9, 30, tzinfo=dt.UTC)

FAKE = "fake"
REAL = pytest.param("real", marks=pytest.mark.mailserver)


def message(subject: str, to: str = USER) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Secretaría de Hacienda <{SECRETARIA}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(SENT_AT)
    msg["Message-ID"] = make_msgid(domain="municipio.test")
    msg.set_content("Adjunto el plan de acción.\n")
    return msg.as_bytes(policy=policy.SMTP)


def message_id(raw: bytes) -> str:
    return str(BytesParser(policy=policy.default).parsebytes(raw)["Message-ID"])


# ------------------------------------------------------------------------------------------------ the mailbox


class MailboxSide(Protocol):
    """The server side of a mailbox contract: arrange and look, without the port under test."""

    def deliver(self, raw: bytes) -> int: ...
    def uids(self, folder: str) -> list[int]: ...
    def flags(self, uid: int) -> str: ...
    def connect(self) -> Mailbox: ...


class FakeSide:
    def __init__(self) -> None:
        self.server = FakeMailServer()

    def deliver(self, raw: bytes) -> int:
        return self.server.deliver(raw)

    def uids(self, folder: str) -> list[int]:
        return self.server.uids(folder) if folder in self.server.folders() else []

    def flags(self, uid: int) -> str:
        return " ".join(sorted(self.server.flags("INBOX", uid)))

    def connect(self) -> Mailbox:
        box = self.server.mailbox()
        box.connect()
        return box


class DovecotSide:
    """APPEND and EXAMINE from a second plain imaplib connection: looking changes nothing."""

    def __init__(self, mail: MailServers) -> None:
        self.mail = mail

    def _client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.mail.host, self.mail.imap_port, timeout=10)
        client.login(USER, self.mail.password)
        return client

    def deliver(self, raw: bytes) -> int:
        client = self._client()
        try:
            typ, data = client.append("INBOX", None, None, raw)
            assert typ == "OK", data
            found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            assert found is not None, data  # Dovecot has UIDPLUS
            return int(found.group(1))
        finally:
            client.logout()

    def uids(self, folder: str) -> list[int]:
        client = self._client()
        try:
            name = TARGET.replace("/", self._delimiter(client)) if folder == TARGET else folder
            typ, _ = client.select(f'"{name}"', readonly=True)
            if typ != "OK":
                return []
            _, data = client.uid("SEARCH", "ALL")
            return [int(uid) for uid in data[0].split()]
        finally:
            client.logout()

    def flags(self, uid: int) -> str:
        client = self._client()
        try:
            client.select("INBOX", readonly=True)
            _, data = client.uid("FETCH", str(uid), "(FLAGS)")
            return " ".join(item.decode() for item in data if isinstance(item, bytes))
        finally:
            client.logout()

    def connect(self) -> Mailbox:
        config = Imap(
            host=self.mail.host,
            port=self.mail.imap_port,
            security="none",
            user=USER,
            password=self.mail.password,
            timeout=10,
        )
        box = ImapMailbox(config)
        box.connect()
        return box

    @staticmethod
    def _delimiter(client: imaplib.IMAP4) -> str:
        _, data = client.list('""', '""')
        found = re.search(rb'\(.*?\) "(.)"', data[0] or b"")
        return found.group(1).decode() if found else "/"


@pytest.fixture(params=[FAKE, REAL])
def side(request: pytest.FixtureRequest) -> MailboxSide:
    if request.param == FAKE:
        return FakeSide()
    return DovecotSide(request.getfixturevalue("mail"))


@pytest.fixture
def mailbox(side: MailboxSide) -> Iterator[Mailbox]:
    box = side.connect()
    try:
        yield box
    finally:
        box.close()


def test_uids_after_returns_only_uids_above_the_checkpoint(side: MailboxSide, mailbox: Mailbox) -> None:
    """Only what came after the checkpoint, ascending; nothing above the last UID gives nothing (not the last)."""
    first, second, third = (side.deliver(message(f"m{n}")) for n in range(3))
    assert mailbox.uids_after("INBOX", first) == [second, third]
    assert mailbox.uids_after("INBOX", 0) == [first, second, third]
    assert mailbox.uids_after("INBOX", third) == []


def test_state_reports_uidvalidity_uidnext_and_size(side: MailboxSide, mailbox: Mailbox) -> None:
    """UIDNEXT is above every UID, EXISTS counts the messages, UIDVALIDITY stays while the folder lives."""
    uids = [side.deliver(message(f"m{n}")) for n in range(2)]
    mailbox.close()
    mailbox.connect()  # the state as a fresh SELECT sees it
    state = mailbox.state("INBOX")
    assert state.exists == 2
    assert state.uidnext > max(uids)
    assert mailbox.state("INBOX").uidvalidity == state.uidvalidity


def test_fetch_returns_the_original_bytes_and_never_sets_seen(side: MailboxSide, mailbox: Mailbox) -> None:
    """The bytes as delivered, in UID order, a vanished UID skipped; no flag changes on the server."""
    raws = [message(f"m{n}") for n in range(2)]
    uids = [side.deliver(raw) for raw in raws]
    fetched = list(mailbox.fetch_raw("INBOX", [uids[1], uids[0], uids[1] + 100]))
    assert [uid for uid, _ in fetched] == uids
    assert [message_id(raw) for _, raw in fetched] == [message_id(raw) for raw in raws]
    assert all(b"Subject: m" in raw for _, raw in fetched)
    assert all("\\Seen" not in side.flags(uid) for uid in uids)


def test_move_removes_the_message_from_the_source_and_creates_the_target(side: MailboxSide, mailbox: Mailbox) -> None:
    """After a move the UID is gone from INBOX and the target holds one message; moving it again does nothing."""
    kept, moved = side.deliver(message("kept")), side.deliver(message("moved"))
    mailbox.move("INBOX", moved, TARGET)
    mailbox.move("INBOX", moved, TARGET)
    assert side.uids("INBOX") == [kept]
    assert len(side.uids(TARGET)) == 1
    assert mailbox.uids_after("INBOX", 0) == [kept]


def test_ensure_folder_is_idempotent_and_its_name_can_be_read(side: MailboxSide, mailbox: Mailbox) -> None:
    """The returned name (as the server spells it) opens the folder; asking twice gives the same name."""
    name = mailbox.ensure_folder(TARGET)
    assert mailbox.ensure_folder(TARGET) == name
    assert mailbox.state(name).exists == 0


def test_uids_since_finds_mail_received_today(side: MailboxSide, mailbox: Mailbox) -> None:
    """The first-pass lookup by arrival day: today's mail is found, a day in the future finds none."""
    uid = side.deliver(message("hoy"))
    today = dt.datetime.now(dt.UTC).date()
    assert uid in mailbox.uids_since("INBOX", today - dt.timedelta(days=1))
    assert mailbox.uids_since("INBOX", today + dt.timedelta(days=2)) == []


def test_wait_for_new_wakes_for_mail_that_arrived_after_the_last_search(side: MailboxSide, mailbox: Mailbox) -> None:
    """The watcher's wait: mail delivered after a search makes it return True (IDLE on Dovecot, at once)."""
    assert mailbox.uids_after("INBOX", 0) == []
    uid = side.deliver(message("nuevo"))
    assert mailbox.wait_for_new("INBOX", timeout=20)
    assert mailbox.uids_after("INBOX", 0) == [uid]


# ------------------------------------------------------------------------------------------------ the sender


class SenderSide(Protocol):
    def connect(self) -> Sender: ...
    def received(self, address: str, count: int) -> list[bytes]:
        """The mails `address` has received, once there are at least `count`."""
        ...


class FakeSmtpSide:
    def __init__(self) -> None:
        self.server = FakeSmtpServer()
        self.server.refuse[REJECTED_ADDRESS] = Refusal(550, "5.1.1 mailbox refused by the test server")

    def connect(self) -> Sender:
        sender = self.server.sender()
        sender.open()
        return sender

    def received(self, address: str, count: int) -> list[bytes]:
        found = self.server.to(address)
        assert len(found) >= count, found
        return found


class PostfixSide:
    def __init__(self, mail: MailServers) -> None:
        self.mail = mail

    def connect(self) -> Sender:
        config = Smtp(host=self.mail.host, port=self.mail.smtp_port, security="none", from_address=USER, timeout=10)
        sender = SmtpConnection(config)
        sender.open()
        return sender

    def received(self, address: str, count: int) -> list[bytes]:
        return self.mail.wait_for(address, count=count, timeout=30)


@pytest.fixture(params=[FAKE, REAL])
def smtp_side(request: pytest.FixtureRequest) -> SenderSide:
    if request.param == FAKE:
        return FakeSmtpSide()
    return PostfixSide(request.getfixturevalue("mail"))


@pytest.fixture
def sender(smtp_side: SenderSide) -> Iterator[Sender]:
    connection = smtp_side.connect()
    try:
        yield connection
    finally:
        connection.close()


def test_a_sent_mail_arrives_once_with_its_message_id(smtp_side: SenderSide, sender: Sender) -> None:
    """Accepted by the server, delivered once: a second mail sent after it arrives and the first is there once."""
    first, marker = message("plan", to=SECRETARIA), message("marca", to=SECRETARIA)
    assert sender.send(USER, [SECRETARIA], first).refused == {}
    sender.send(USER, [SECRETARIA], marker)
    arrived = [message_id(raw) for raw in smtp_side.received(SECRETARIA, count=2)]
    assert message_id(marker) in arrived
    assert arrived.count(message_id(first)) == 1


def test_a_refused_recipient_is_reported_per_recipient(smtp_side: SenderSide, sender: Sender) -> None:
    """One refused recipient of two: the mail goes to the other, the refusal names the address and a 5xx."""
    raw = message("plan", to=SECRETARIA)
    result = sender.send(USER, [SECRETARIA, REJECTED_ADDRESS], raw)
    assert list(result.refused) == [REJECTED_ADDRESS]
    assert result.refused[REJECTED_ADDRESS].permanent
    assert message_id(raw) in [message_id(r) for r in smtp_side.received(SECRETARIA, count=1)]


def test_every_recipient_refused_raises_with_the_answer_per_recipient(sender: Sender) -> None:
    """Nobody accepted: SendFailedError, permanent, carrying each recipient's answer."""
    with pytest.raises(SendFailedError) as refused:
        sender.send(USER, [REJECTED_ADDRESS], message("plan", to=REJECTED_ADDRESS))
    assert refused.value.permanent
    assert list(refused.value.refused) == [REJECTED_ADDRESS]
    assert refused.value.refused[REJECTED_ADDRESS].code == 550


# ------------------------------------------------------------------------------------------------ the clock


@pytest.mark.parametrize("clock", [SystemClock(), FixedClock(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC))])
def test_the_clock_tells_time_in_bogota(clock: Clock) -> None:
    """Aware times in the municipality's zone (UTC-5), and "today" is Bogotá's date, not UTC's."""
    now = clock.now()
    assert now.utcoffset() == dt.timedelta(hours=-5)
    assert clock.today() == now.astimezone(clock.tz).date()


def test_the_fixed_clock_is_bogotas_date_on_new_years_eve() -> None:
    """23:30 UTC on 31 December is still 31 December in Bogotá: the vigencia of a date does not jump a year."""
    assert FixedClock(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)).today() == dt.date(2026, 12, 31)


# ------------------------------------------------------------------------------------------------ the archive


@pytest.fixture(params=["memory", "folder"])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Archive:
    return MemoryArchive() if request.param == "memory" else FileArchive(tmp_path / "archivo")


def test_archive_is_content_addressed_and_idempotent(archive: Archive) -> None:
    """The path and digest come from the SHA-256 of the bytes; storing again returns the same; reading gives them."""
    when = dt.datetime(2027, 1, 15, 10, tzinfo=dt.UTC)
    first = archive.store_message(b"raw message", when)
    assert archive.store_message(b"raw message", when) == first
    assert first.sha256 == sha256_of(b"raw message")
    assert first.sha256 in first.path.name
    assert first.size == len(b"raw message")
    assert archive.read(first.path) == b"raw message"
    other = archive.store_message(b"another message", when)
    assert other.path != first.path
    part = archive.store_attachment(b"PK\x03\x04 workbook", "xlsx")
    assert archive.store_attachment(b"PK\x03\x04 workbook", "xlsx") == part
    assert archive.read(str(part.path)) == b"PK\x03\x04 workbook"


def test_filing_a_plan_is_idempotent_and_names_no_sender_file(archive: Archive) -> None:
    """The filed plan reads back the stored bytes; filing it twice gives the same path, a new version another."""
    part = archive.store_attachment(b"PK\x03\x04 workbook", "../../evil name.xlsx")
    assert ".." not in str(part.path)
    assert " " not in str(part.path)

    def file(version: int) -> Path:
        return archive.file_plan(
            part, vigencia=2027, dependencia="HAC", ronda="formulacion", version=version, outcome="accepted"
        )

    filed = file(2)
    assert file(2) == filed
    assert file(3) != filed
    assert filed.parts[:4] == ("planes", "2027", "HAC", "formulacion")
    assert archive.read(filed) == b"PK\x03\x04 workbook"


def test_reading_what_was_never_stored_is_a_storage_error(archive: Archive) -> None:
    with pytest.raises(StorageError):
        archive.read(Path("recibidos") / "2027-01" / f"{sha256_of(b'nunca')}.eml")
