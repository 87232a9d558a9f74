"""The embedded pymap + aiosmtpd server (`mailbot demo`) against mailbot's real IMAP and SMTP adapters.

No root and no Debian packages: these run everywhere. The adapters are the production ones, built from a
configuration file like the daemon's; only the server differs from the Dovecot + Postfix tests.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import imaplib
import io
import threading
import zipfile
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from mailbot.adapters.embedded_mail import EmbeddedMailServer, RecipientRefusedError
from mailbot.adapters.imap import ImapMailbox
from mailbot.adapters.smtp import SendFailedError, SmtpConnection
from mailbot.config import MailbotConfig, load_config
from mailbot.errors import TemporaryError
from tests.support.configs import write_config

DOMAIN = "demo.test"
USER = "planeacion@demo.test"
SECRETARIO = "hacienda@demo.test"
PLUS_ADDRESS = "planeacion+tok123@demo.test"
PASSWORD = "clave-demo"
PROCESSED = "mailbot/procesados"
XLSX_NAME = "Plan de acción – Secretaría de Hacienda 2027.xlsx"
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
SENT_AT = dt.datetime(2027, 2, 1, 9, 30, tzinfo=dt.UTC)
WAIT = 10.0  # generous: the server answers in milliseconds


@pytest.fixture
def server() -> Iterator[EmbeddedMailServer]:
    with EmbeddedMailServer(domains=[DOMAIN], users=[USER, SECRETARIO], password=PASSWORD) as running:
        yield running


@pytest.fixture
def config(tmp_path: Path, server: EmbeddedMailServer) -> MailbotConfig:
    """The shipped example pointed at the embedded server, as `mailbot demo` configures it."""
    endpoint = {"host": server.host, "security": "none", "timeout": 10}
    path = write_config(
        tmp_path,
        {
            "municipality": {"domains": [DOMAIN]},
            "imap": {**endpoint, "port": server.imap_port, "user": USER, "password": PASSWORD},
            "smtp": {
                **endpoint,
                "port": server.smtp_port,
                "user": None,
                "password": None,
                "from_address": USER,
                "message_id_domain": DOMAIN,
            },
        },
    )
    return load_config(path, environ={})


@pytest.fixture
def mailbox(config: MailbotConfig) -> Iterator[ImapMailbox]:
    with ImapMailbox(config.imap) as box:
        yield box


def _workbook() -> bytes:
    """A small deflated zip standing in for an .xlsx: binary, so base64 on the wire."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet>Meta: cobertura en educación</worksheet>")
    return buffer.getvalue()


def _raw(to: str = PLUS_ADDRESS, subject: str = "Plan de acción 2027", attachment: bytes | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Secretaría de Hacienda <{SECRETARIO}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(SENT_AT)
    msg["Message-ID"] = make_msgid(domain=DOMAIN)
    msg.set_content("Buenos días:\n\nAdjunto el plan de acción.\n\nCordialmente,\n")
    if attachment is not None:
        msg.add_attachment(attachment, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=XLSX_NAME)
    return msg.as_bytes(policy=email.policy.SMTP)


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _flags(server: EmbeddedMailServer, uid: int) -> str:
    """A message's flags as another client sees them (EXAMINE changes nothing)."""
    client = imaplib.IMAP4(server.host, server.imap_port, timeout=10)
    try:
        client.login(USER, PASSWORD)
        client.select("INBOX", readonly=True)
        _, data = client.uid("FETCH", str(uid), "(FLAGS)")
        return " ".join(item.decode() for item in data if isinstance(item, bytes))
    finally:
        client.logout()


def _later(seconds: float, action: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        threading.Event().wait(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# -- start, users -------------------------------------------------------------------------------------------


def test_ports_are_picked_and_the_adapter_sees_idle_move_and_uidplus(
    server: EmbeddedMailServer, mailbox: ImapMailbox
) -> None:
    assert server.imap_port > 0
    assert server.smtp_port > 0
    assert server.imap_port != server.smtp_port
    assert mailbox.supports_idle
    assert mailbox.supports_move
    assert mailbox.supports_uidplus


def test_only_loopback_hosts_are_accepted() -> None:
    """Logins travel in clear text: the server never listens beyond this machine."""
    with pytest.raises(ValueError, match="loopback"):
        EmbeddedMailServer(host="0.0.0.0", domains=[DOMAIN], users=[USER], password=PASSWORD)  # noqa: S104


def test_a_port_in_use_fails_the_start(server: EmbeddedMailServer) -> None:
    """A bind error reaches the caller of start() instead of dying in the background thread."""
    taken = EmbeddedMailServer(imap_port=server.imap_port, domains=[DOMAIN], users=[USER], password=PASSWORD)

    with pytest.raises(OSError, match="in use"):
        taken.start()

    assert not taken.running


def test_a_user_added_after_start_logs_in_and_receives(server: EmbeddedMailServer) -> None:
    newcomer = "salud@demo.test"
    with pytest.raises(RecipientRefusedError):
        server.deliver(_raw(to=newcomer), newcomer)

    server.add_user(newcomer)
    server.deliver(_raw(to=newcomer), newcomer)

    client = imaplib.IMAP4(server.host, server.imap_port, timeout=10)
    try:
        assert client.login(newcomer, PASSWORD)[0] == "OK"
        assert client.select("INBOX", readonly=True) == ("OK", [b"1"])
    finally:
        client.logout()


# -- SMTP in, IMAP out --------------------------------------------------------------------------------------


def test_mail_sent_through_smtp_comes_back_byte_identical_unseen_and_with_the_plus_address(
    server: EmbeddedMailServer, config: MailbotConfig, mailbox: ImapMailbox
) -> None:
    """The sent bytes come back whole behind Return-Path and Delivered-To (the plus address mailbot matches on)."""
    workbook = _workbook()
    raw = _raw(attachment=workbook)
    assert b"filename*0*=utf-8''Plan%20de%20acci%C3%B3n" in raw  # RFC 2231: the accented name
    state = mailbox.select("INBOX")

    with SmtpConnection(config.smtp) as smtp:
        result = smtp.send(SECRETARIO, [PLUS_ADDRESS], raw)

    assert result.refused == {}
    (uid,) = mailbox.uids_after("INBOX", state.uidnext - 1)
    ((fetched_uid, delivered),) = list(mailbox.fetch_raw("INBOX", [uid]))
    assert fetched_uid == uid
    assert delivered.endswith(raw)
    assert delivered[: -len(raw)] == f"Return-Path: <{SECRETARIO}>\r\nDelivered-To: {PLUS_ADDRESS}\r\n".encode()
    parsed = _parse(delivered)
    assert parsed["Delivered-To"] == PLUS_ADDRESS
    (attachment,) = parsed.iter_attachments()
    assert isinstance(attachment, EmailMessage)
    assert attachment.get_filename() == XLSX_NAME
    assert attachment.get_content() == workbook
    assert "\\Seen" not in _flags(server, uid)
    assert server.messages(USER) == [delivered]


def test_a_recipient_outside_the_domains_is_refused_with_550(config: MailbotConfig) -> None:
    with SmtpConnection(config.smtp) as smtp:
        with pytest.raises(SendFailedError) as refused:
            smtp.send(USER, ["alguien@otro.test"], _raw(to="alguien@otro.test"))
        partly = smtp.send(USER, [SECRETARIO, "nadie@demo.test"], _raw(to=SECRETARIO))

    assert refused.value.code == 550
    assert refused.value.permanent
    assert set(partly.refused) == {"nadie@demo.test"}  # an unknown user of a served domain: 550 too
    assert partly.refused["nadie@demo.test"].code == 550


def test_deliver_stores_like_smtp_with_crlf_line_ends(server: EmbeddedMailServer) -> None:
    """The demo's shortcut: bare LF becomes CRLF, as smtplib would send it."""
    server.deliver(b"Subject: hola\n\nbody\n", PLUS_ADDRESS, sender=SECRETARIO)

    assert server.messages(USER) == [
        f"Return-Path: <{SECRETARIO}>\r\nDelivered-To: {PLUS_ADDRESS}\r\nSubject: hola\r\n\r\nbody\r\n".encode()
    ]
    with pytest.raises(RecipientRefusedError):
        server.deliver(b"Subject: x\r\n\r\n", "alguien@otro.test")


# -- IDLE ---------------------------------------------------------------------------------------------------


def test_wait_for_new_wakes_up_after_a_delivery_and_times_out_otherwise(
    server: EmbeddedMailServer, mailbox: ImapMailbox
) -> None:
    assert mailbox.uids_after("INBOX", 0) == []
    assert mailbox.wait_for_new("INBOX", timeout=0.3) is False

    timer = _later(0.3, lambda: server.deliver(_raw(), PLUS_ADDRESS))
    try:
        assert mailbox.wait_for_new("INBOX", timeout=WAIT) is True
    finally:
        timer.join()

    assert len(mailbox.uids_after("INBOX", 0)) == 1


def test_wait_for_new_sees_mail_that_came_before_idle(server: EmbeddedMailServer, mailbox: ImapMailbox) -> None:
    """Mail stored between a poll and IDLE is announced at once, as Dovecot does (pymap alone waits for the next)."""
    assert mailbox.uids_after("INBOX", 0) == []
    server.deliver(_raw(), PLUS_ADDRESS)

    assert mailbox.wait_for_new("INBOX", timeout=WAIT) is True
    assert len(mailbox.uids_after("INBOX", 0)) == 1


# -- folders and moves --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ignored", [(), ("MOVE",)], ids=["uid-move", "copy-store-uid-expunge"])
def test_ensure_folder_and_move(config: MailbotConfig, server: EmbeddedMailServer, ignored: tuple[str, ...]) -> None:
    """UID MOVE, and the UIDPLUS fallback for servers without MOVE; the other message stays."""
    server.deliver(_raw(subject="uno"), PLUS_ADDRESS)
    server.deliver(_raw(subject="dos"), PLUS_ADDRESS)
    with ImapMailbox(config.imap, ignore_capabilities=ignored) as box:
        first, second = box.uids_after("INBOX", 0)

        assert box.ensure_folder(PROCESSED) == PROCESSED
        assert box.ensure_folder(PROCESSED) == PROCESSED  # already there: nothing to do
        box.move("INBOX", first, PROCESSED)

        assert box.uids_after("INBOX", 0) == [second]
        assert len(box.uids_after(PROCESSED, 0)) == 1
    assert PROCESSED in server.folders(USER)
    (moved,) = server.messages(USER, PROCESSED)
    assert _parse(moved)["Subject"] == "uno"


# -- stopping -----------------------------------------------------------------------------------------------


def test_stop_during_idle_ends_the_wait_with_a_temporary_error(config: MailbotConfig) -> None:
    """stop() closes open sessions (BYE) instead of leaving them hanging; the client sees a lost connection."""
    server = EmbeddedMailServer(domains=[DOMAIN], users=[USER], password=PASSWORD)
    server.start()
    config = config.model_copy(update={"imap": config.imap.model_copy(update={"port": server.imap_port})})
    try:
        with ImapMailbox(config.imap) as box:
            stopper = _later(0.3, server.stop)
            try:
                with pytest.raises(TemporaryError):
                    box.wait_for_new("INBOX", timeout=WAIT)
            finally:
                stopper.join()
    finally:
        server.stop()

    assert not server.running
    with pytest.raises(RuntimeError, match="not running"):
        server.messages(USER)
