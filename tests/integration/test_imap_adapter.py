"""The IMAP adapter against the real Dovecot: every imap-tools bite of FIELD-NOTES.md is covered here.

Messages are put in place with APPEND from a second connection where the path through Postfix does not matter
(fast and deterministic), and sent through Postfix where it does (byte identity, IDLE after a real delivery).
"""

from __future__ import annotations

import datetime as dt
import email.policy
import imaplib
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from mailbot.adapters.imap import FETCH_CHUNK, FolderState, ImapMailbox, parse_fetch
from mailbot.config import Imap
from mailbot.errors import PermanentError, TemporaryError
from tests.support.mailservers import MailServers, _free_ports

USER = "planeacion@municipio.test"
OTHER = "hacienda@municipio.test"
PROCESSED = "mailbot/procesados"
SENT_AT = dt.datetime(2027, 2, 1, 9, 30, tzinfo=dt.UTC)


def _config(mail: MailServers, user: str = USER, **changes: Any) -> Imap:
    fields: dict[str, Any] = {
        "host": mail.host,
        "port": mail.imap_port,
        "security": "none",
        "user": user,
        "password": mail.password,
        "timeout": 10,
    }
    fields.update(changes)
    return Imap(**fields)


def _raw(subject: str = "Plan de acción 2027", to: str = USER) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Secretaría de Hacienda <hacienda@municipio.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(SENT_AT)
    msg["Message-ID"] = make_msgid(domain="municipio.test")
    msg.set_content("Adjunto el plan de acción.\n\nCordialmente,\n")
    return msg.as_bytes(policy=email.policy.SMTP)


def _client(mail: MailServers, user: str = USER) -> imaplib.IMAP4:
    client = imaplib.IMAP4(mail.host, mail.imap_port, timeout=10)
    client.login(user, mail.password)
    return client


def _append(mail: MailServers, count: int, user: str = USER, flags: str | None = None) -> list[int]:
    """Put `count` messages in INBOX from another connection; returns their UIDs."""
    client = _client(mail, user)
    try:
        for n in range(count):
            client.append("INBOX", flags, None, _raw(f"mensaje {n}"))
        client.select("INBOX", readonly=True)
        _, data = client.uid("SEARCH", "ALL")
        return [int(uid) for uid in data[0].split()]
    finally:
        client.logout()


def _flags(mail: MailServers, uid: int, folder: str = "INBOX", user: str = USER) -> str:
    """A message's flags as another client sees them (EXAMINE: looking changes nothing)."""
    client = _client(mail, user)
    try:
        client.select(f'"{folder}"', readonly=True)
        _, data = client.uid("FETCH", str(uid), "(FLAGS)")
        return " ".join(item.decode() for item in data if isinstance(item, bytes))
    finally:
        client.logout()


def _uids(mail: MailServers, folder: str, user: str = USER) -> list[int]:
    client = _client(mail, user)
    try:
        typ, _ = client.select(f'"{folder}"', readonly=True)
        assert typ == "OK", folder
        _, data = client.uid("SEARCH", "ALL")
        return [int(uid) for uid in data[0].split()]
    finally:
        client.logout()


@pytest.fixture
def mailbox(mail: MailServers) -> Iterator[ImapMailbox]:
    with ImapMailbox(_config(mail)) as box:
        yield box


# -- connecting --------------------------------------------------------------------------------------------


def test_capabilities_are_read_again_after_login(mailbox: ImapMailbox) -> None:
    """Dovecot announces MOVE only after login; imaplib keeps the pre-login list unless told otherwise."""
    assert {"IDLE", "MOVE", "UIDPLUS"} <= mailbox.capabilities
    assert mailbox.supports_idle
    assert mailbox.supports_move


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_imaps_verifies_the_server_against_ca_file(mail: MailServers, host: str) -> None:
    """IMAPS with the test CA connects; verification is on, by name and by IP address."""
    config = _config(mail, host=host, port=mail.imaps_port, security="ssl", ca_file=mail.ca_file)
    with ImapMailbox(config) as box:
        assert box.select("INBOX").exists == 0


def test_starttls_verifies_the_server_against_ca_file(mail: MailServers) -> None:
    """STARTTLS upgrades the plain port with the same verified context."""
    with ImapMailbox(_config(mail, security="starttls", ca_file=mail.ca_file)) as box:
        assert box.supports_move


def test_imaps_without_ca_file_refuses_the_unknown_certificate(mail: MailServers) -> None:
    """Verification is on by default: a private CA is never trusted silently, and the message says what to do."""
    box = ImapMailbox(_config(mail, port=mail.imaps_port, security="ssl"))

    with pytest.raises(PermanentError, match="certificate could not be verified") as refused:
        box.connect()

    assert "imap.ca_file" in str(refused.value)
    assert not box.connected


def test_wrong_password_is_permanent_and_never_shown(mail: MailServers) -> None:
    """A refused login is a PermanentError naming user and server, with neither password in message or logs."""
    wrong = "clave-equivocada-123"
    with capture_logs() as logs, pytest.raises(PermanentError, match="login refused") as refused:
        ImapMailbox(_config(mail, password=wrong)).connect()

    message = str(refused.value)
    assert USER in message
    assert "AUTHENTICATIONFAILED" in message
    for secret in (wrong, mail.password):
        assert secret not in message
        assert secret not in repr(logs)
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__  # no chained traceback either


def test_unreachable_server_is_temporary(mail: MailServers) -> None:
    """Nothing listening: a TemporaryError the daemon retries with backoff."""
    (closed_port,) = _free_ports(1)
    with pytest.raises(TemporaryError, match="cannot be reached"):
        ImapMailbox(_config(mail, port=closed_port)).connect()


def test_uidvalidity_is_stable_across_reconnects(mail: MailServers) -> None:
    """A checkpoint (UIDVALIDITY, last UID) taken on one connection holds on the next."""
    _append(mail, 2)
    with ImapMailbox(_config(mail)) as box:
        first = box.select("INBOX")
    with ImapMailbox(_config(mail)) as box:
        second = box.select("INBOX")

    assert first == second
    assert isinstance(first, FolderState)
    assert first.exists == 2
    assert first.uidnext > 2


# -- finding and fetching ----------------------------------------------------------------------------------


def test_uids_after_returns_only_uids_above_the_checkpoint(mail: MailServers, mailbox: ImapMailbox) -> None:
    """Strictly greater, ascending; `UID n:*` above the highest UID (which matches the last message) gives []."""
    uids = _append(mail, 3)

    assert mailbox.uids_after("INBOX", 0) == uids
    assert mailbox.uids_after("INBOX", uids[0]) == uids[1:]
    assert mailbox.uids_after("INBOX", uids[-1]) == []
    assert mailbox.uids_after("INBOX", uids[-1] + 100) == []


def test_uids_after_searches_again_when_its_search_announces_new_mail(mail: MailServers, mailbox: ImapMailbox) -> None:
    """Dovecot searches the view it had before the command and reports a delivery made meanwhile only by an
    EXISTS after the results: the adapter searches once more instead of leaving the message for the next poll."""
    uids = _append(mail, 1)
    assert mailbox.uids_after("INBOX", 0) == uids
    later = _append(mail, 1)[-1:]

    before = mailbox.commands_sent
    assert mailbox.uids_after("INBOX", uids[-1]) == later
    assert mailbox.commands_sent - before == 2
    before = mailbox.commands_sent
    assert mailbox.uids_after("INBOX", later[-1]) == []
    assert mailbox.commands_sent - before == 1


def test_an_empty_poll_costs_the_same_on_an_empty_and_a_large_folder(mail: MailServers) -> None:
    """SELECT + one UID SEARCH (1 command when the folder is still selected), whether 0 or 600 messages are old."""
    uids = _append(mail, 600, user=OTHER)

    def poll(user: str, last_uid: int) -> tuple[int, int, list[int]]:
        with ImapMailbox(_config(mail, user=user)) as box:
            before = box.commands_sent
            found = box.uids_after("INBOX", last_uid)  # selects first
            first = box.commands_sent - before
            before = box.commands_sent
            box.select("INBOX")
            found += box.uids_after("INBOX", last_uid)
            return first, box.commands_sent - before, found

    assert poll(USER, 0) == poll(OTHER, uids[-1]) == (2, 2, [])


def test_fetch_raw_returns_the_delivered_bytes_and_leaves_them_unseen(mail: MailServers) -> None:
    """BODY.PEEK[]: the original bytes (the sent ones under Postfix's and Dovecot's headers), no \\Seen set."""
    raw = _raw("Plan de acción – Secretaría de Educación")
    mail.send(raw, OTHER, [USER])
    mail.wait_for(USER)

    with ImapMailbox(_config(mail)) as box:
        (uid,) = box.uids_after("INBOX", 0)
        ((fetched_uid, fetched),) = list(box.fetch_raw("INBOX", [uid]))

    assert fetched_uid == uid
    assert fetched.endswith(raw)
    assert fetched.startswith(b"Return-Path: ")
    assert "\\Seen" not in _flags(mail, uid)


def test_fetch_raw_batches_and_skips_a_vanished_uid(mail: MailServers) -> None:
    """Batches of 2 over 5 messages, ascending; a UID expunged by someone else meanwhile (and one never there)
    are left out while the rest arrive."""
    uids = _append(mail, 5)
    with ImapMailbox(_config(mail), fetch_batch=2) as box:
        box.select("INBOX")
        other = _client(mail)
        other.select("INBOX")
        other.uid("STORE", str(uids[2]), "+FLAGS.SILENT", "(\\Deleted)")
        other.uid("EXPUNGE", str(uids[2]))
        other.logout()

        fetched = list(box.fetch_raw("INBOX", [uids[4], 9999, *uids]))

    assert [uid for uid, _ in fetched] == [u for u in uids if u != uids[2]]
    assert all(b"Subject: mensaje" in body for _, body in fetched)


def test_fetch_files_writes_each_message_whole_a_large_one_in_pieces_and_leaves_them_unseen(
    mail: MailServers, tmp_path: Path
) -> None:
    """Small messages in one group, one over FETCH_CHUNK in `BODY.PEEK[]<offset.length>` pieces: each file holds
    exactly what `fetch_raw` returns; a UID that is not there is skipped; nothing is marked \\Seen."""
    client = _client(mail)
    try:
        client.append("INBOX", None, None, _raw("pequeño 1"))
        lines = (b"y" * 998 + b"\r\n") * (FETCH_CHUNK // 1000 + 500)  # a piece and a half
        big = _raw("grande").replace(b"\r\nAdjunto", b"\r\n" + lines + b"Adjunto", 1)
        client.append("INBOX", None, None, big)
        client.append("INBOX", None, None, _raw("pequeño 2"))
    finally:
        client.logout()
    with ImapMailbox(_config(mail)) as box:
        uids = box.uids_after("INBOX", 0)
        expected = dict(box.fetch_raw("INBOX", uids))
        files = list(box.fetch_files("INBOX", [*uids, 9999], tmp_path))

    assert [uid for uid, _ in files] == uids
    assert {uid: path.read_bytes() for uid, path in files} == expected
    assert len(expected[uids[1]]) > FETCH_CHUNK  # really more than one piece
    assert all("\\Seen" not in _flags(mail, uid) for uid in uids)


def test_parse_fetch_reads_the_uid_before_or_after_the_body_and_skips_gone_messages() -> None:
    """imaplib's FETCH data in the shapes servers send: UID first, UID last, and `BODY[] NIL` for a lost one."""
    data = [
        (b"1 (UID 7 BODY[] {3}", b"abc"),
        b")",
        (b"2 (BODY[] {3}", b"def"),
        b" UID 9)",
        b"3 (UID 11 BODY[] NIL)",
        None,
    ]

    assert parse_fetch(data) == {7: b"abc", 9: b"def"}


# -- folders and moves -------------------------------------------------------------------------------------


def test_move_creates_the_nested_folder_uses_move_and_spares_a_deleted_message(
    mail: MailServers, mailbox: ImapMailbox
) -> None:
    """UID MOVE into mailbot/procesados (created, subscribed); a message someone marked \\Deleted stays put."""
    (deleted,) = _append(mail, 1, flags="(\\Deleted)")
    (reply,) = _append(mail, 1)[1:]

    assert mailbox.ensure_folder(PROCESSED) == PROCESSED
    assert mailbox.ensure_folder(PROCESSED) == PROCESSED  # already there: nothing to do
    mailbox.move("INBOX", reply, PROCESSED)

    assert mailbox.supports_move
    assert _uids(mail, "INBOX") == [deleted]
    assert "\\Deleted" in _flags(mail, deleted)
    assert len(_uids(mail, PROCESSED)) == 1
    client = _client(mail)
    try:
        _, subscribed = client.lsub('""', '"mailbot/*"')
    finally:
        client.logout()
    assert any(PROCESSED.encode() in line for line in subscribed if isinstance(line, bytes))


def test_move_without_move_expunges_only_that_uid(mail: MailServers) -> None:
    """Without MOVE: UID COPY + UID STORE + UID EXPUNGE of one UID (never a plain EXPUNGE)."""
    (deleted,) = _append(mail, 1, flags="(\\Deleted)")
    (reply,) = _append(mail, 1)[1:]

    with ImapMailbox(_config(mail), ignore_capabilities={"MOVE"}) as box:
        assert not box.supports_move
        box.move("INBOX", reply, "mailbot/revisión")  # missing: created on the server's TRYCREATE
        assert box.uids_after("INBOX", 0) == [deleted]

    assert "\\Deleted" in _flags(mail, deleted)
    assert len(_uids(mail, "mailbot/revisi&APM-n")) == 1


@pytest.mark.parametrize("ignored", [(), ("MOVE",)], ids=["move", "copy-expunge"])
def test_move_many_moves_a_set_and_spares_the_rest(mail: MailServers, ignored: tuple[str, ...]) -> None:
    """One set (runs and gaps, a UID already gone): exactly those messages leave INBOX, all of them arrive, and a
    message marked \\Deleted by someone else stays."""
    (deleted,) = _append(mail, 1, flags="(\\Deleted)")
    uids = _append(mail, 6)[1:]
    moved = [uids[0], uids[1], uids[2], uids[4]]  # "a:c,e"
    with ImapMailbox(_config(mail), ignore_capabilities=set(ignored)) as box:
        box.ensure_folder(PROCESSED)
        box.move_many("INBOX", [*moved, max(uids) + 100], PROCESSED)
        assert box.uids_after("INBOX", 0) == [deleted, uids[3], uids[5]]
        box.move_many("INBOX", [], PROCESSED)  # nothing to move: no command
    assert len(_uids(mail, PROCESSED)) == len(moved)
    assert "\\Deleted" in _flags(mail, deleted)


# -- waiting -----------------------------------------------------------------------------------------------


def _later(seconds: float, action: Any) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


@pytest.mark.parametrize("security", ["none", "ssl"])
def test_wait_for_new_wakes_up_after_a_delivery(mail: MailServers, security: str) -> None:
    """IDLE: True soon after Postfix delivers (Dovecot tells within ~0.5 s); the next poll finds the message.

    Over TLS too, where a response can wait decrypted in the TLS layer while the socket looks idle.
    """
    port = mail.imaps_port if security == "ssl" else mail.imap_port
    with ImapMailbox(_config(mail, port=port, security=security, ca_file=mail.ca_file)) as box:
        assert box.uids_after("INBOX", 0) == []
        timer = _later(0.3, lambda: mail.send(_raw(), OTHER, [USER]))
        try:
            assert box.wait_for_new("INBOX", timeout=20) is True
        finally:
            timer.join()

        assert len(box.uids_after("INBOX", 0)) == 1


def test_wait_for_new_sees_mail_that_came_before_idle(mail: MailServers, mailbox: ImapMailbox) -> None:
    """Mail arriving between a poll and the IDLE is announced right behind "+ idling", in the same packet:
    the adapter finds it in imaplib's read buffer (imap-tools' `idle.wait` sleeps through it to its timeout)."""
    assert mailbox.uids_after("INBOX", 0) == []
    _append(mail, 1)

    assert mailbox.wait_for_new("INBOX", timeout=20) is True


def test_wait_for_new_times_out_across_idle_renewals(mail: MailServers) -> None:
    """False at the timeout, with IDLE re-issued every 0.3 s on the way; the connection stays usable."""
    with ImapMailbox(_config(mail), idle_cycle=0.3) as box:
        assert box.wait_for_new("INBOX", timeout=1.0) is False
        assert box.uids_after("INBOX", 0) == []
        _append(mail, 1)
        assert box.wait_for_new("INBOX", timeout=20) is True


def test_wait_for_new_returns_when_stop_is_set(mailbox: ImapMailbox) -> None:
    """A daemon shutting down is not held up by a long IDLE; the session is left ready for the next command."""
    stop = threading.Event()
    timer = _later(0.3, stop.set)
    try:
        assert mailbox.wait_for_new("INBOX", timeout=60, stop=stop) is False
    finally:
        timer.join()

    assert mailbox.uids_after("INBOX", 0) == []


def test_wait_without_idle_just_sleeps_until_stop(mail: MailServers) -> None:
    """IDLE disabled in the configuration: a plain interruptible wait, after which the caller polls."""
    stop = threading.Event()
    with ImapMailbox(_config(mail, idle=False)) as box:
        timer = _later(0.2, stop.set)
        try:
            assert box.wait_for_new("INBOX", timeout=60, stop=stop) is False
        finally:
            timer.join()
        assert box.wait_for_new("INBOX", timeout=0.05) is False


def test_dovecot_stopping_during_idle_raises_temporary_error_then_reconnect_works(
    mail: MailServers, mailbox: ImapMailbox
) -> None:
    """BYE then EOF during IDLE: TemporaryError at once (no hang, no busy loop of empty polls); the adapter
    refuses to go on until connect() succeeds again, which it does once Dovecot is back, same UIDVALIDITY."""
    before = mailbox.select("INBOX")
    stopper = _later(0.3, mail.stop_dovecot)
    try:
        with pytest.raises(TemporaryError, match=r"BYE|EOF|lost"):
            mailbox.wait_for_new("INBOX", timeout=60)
        stopper.join()
        assert not mailbox.connected
        with pytest.raises(TemporaryError, match="not connected"):
            mailbox.wait_for_new("INBOX", timeout=60)
        with pytest.raises(TemporaryError, match="cannot be reached"):
            mailbox.connect()
    finally:
        stopper.join()
        mail.start_dovecot()

    mailbox.connect()
    assert mailbox.select("INBOX").uidvalidity == before.uidvalidity
