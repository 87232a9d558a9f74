"""The real Dovecot + Postfix fixture delivers what mailbot depends on, byte for byte.

These tests prove the test servers themselves (tests/support/mailservers.py): if one fails,
every mail-server test of mailbot would be testing the fixture instead of mailbot.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import imaplib
import io
import smtplib
import socket
import ssl
import time
import zipfile
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from imap_tools import MailBox, MailMessage

from tests.support.mailservers import MailServers

XLSX_NAME = "Plan de acción – Secretaría de Educación 2027.xlsx"
XLSX_SUBTYPE = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BODY = "Buenos días:\n\nAdjunto el plan de acción de la Secretaría de Educación.\n\nCordialmente,\n"
SENT_AT = dt.datetime(2027, 2, 1, 9, 30, tzinfo=dt.UTC)

_SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_RELS_NS}"><Relationship Id="rId1" '
        f'Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_SPREADSHEET_NS}" xmlns:r="{_DOC_RELS}"><sheets>'
        '<sheet name="Plan" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_RELS_NS}"><Relationship Id="rId1" '
        f'Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
    "xl/worksheets/sheet1.xml": (
        f'<worksheet xmlns="{_SPREADSHEET_NS}"><sheetData><row r="1">'
        '<c r="A1" t="inlineStr"><is><t>Meta: cobertura en educación</t></is></c>'
        '<c r="B1"><v>2027</v></c></row></sheetData></worksheet>'
    ),
}


def _workbook() -> bytes:
    """A minimal valid .xlsx (a deflated zip, so binary), built without any Excel library."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in _XLSX_PARTS.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>\n' + xml)
    return buffer.getvalue()


def _message(to: str, subject: str = "Plan de acción 2027", body: str = BODY) -> EmailMessage:
    """A message with Date and Message-ID set, so Postfix has no header of its own to add."""
    msg = EmailMessage()
    msg["From"] = "Planeación <planeacion@municipio.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(SENT_AT)
    msg["Message-ID"] = make_msgid(domain="municipio.test")
    msg.set_content(body)
    return msg


def _raw(msg: EmailMessage) -> bytes:
    """The bytes as a mail client sends them: CRLF line ends, as IMAP returns them too."""
    return msg.as_bytes(policy=email.policy.SMTP)


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_accented_xlsx_attachment_arrives_byte_for_byte(mail: MailServers) -> None:
    """An .xlsx with an accented RFC 2231 name survives Postfix and Dovecot unchanged.

    The delivered message is the sent one with three kinds of header put on top and nothing
    else changed: Return-Path and Delivered-To (Dovecot LMTP) and Received (Postfix and
    Dovecot). The 8-bit UTF-8 body passes as it is (both servers speak 8BITMIME).
    """
    workbook = _workbook()
    msg = _message("educacion@municipio.test")
    msg.add_attachment(workbook, maintype="application", subtype=XLSX_SUBTYPE, filename=XLSX_NAME)
    raw = _raw(msg)
    # RFC 2231 with continuations (the name is long), not RFC 2047 encoded-words.
    assert b"filename*0*=utf-8''Plan%20de%20acci%C3%B3n" in raw
    assert b"Content-Transfer-Encoding: 8bit" in raw

    refused = mail.send(raw, "planeacion@municipio.test", ["educacion@municipio.test"])

    assert refused == {}
    (delivered,) = mail.wait_for("educacion@municipio.test")
    assert delivered.endswith(raw)
    prepended = _parse(delivered[: -len(raw)] + b"\r\n")
    assert set(prepended.keys()) == {"Return-Path", "Delivered-To", "Received"}
    assert prepended["Return-Path"] == "<planeacion@municipio.test>"
    parsed = _parse(delivered)
    (attachment,) = parsed.iter_attachments()
    assert isinstance(attachment, EmailMessage)
    assert attachment.get_filename() == XLSX_NAME
    assert attachment.get_content_type() == f"application/{XLSX_SUBTYPE}"
    assert attachment.get_content() == workbook
    assert zipfile.ZipFile(io.BytesIO(attachment.get_content())).testzip() is None
    text = parsed.get_body(("plain",))
    assert text is not None
    assert text.get_content().splitlines() == BODY.splitlines()  # CRLF on the wire
    # imap_tools, mailbot's IMAP library, reads the same name and bytes.
    (fetched,) = MailMessage.from_bytes(delivered).attachments
    assert fetched.filename == XLSX_NAME
    assert fetched.payload == workbook


def test_plus_address_lands_in_the_base_users_inbox(mail: MailServers) -> None:
    """planeacion+TOKEN@ reaches planeacion's INBOX and keeps the token in Delivered-To."""
    address = "planeacion+abc123@municipio.test"
    mail.send(_raw(_message(address)), "hacienda@municipio.test", [address])

    (delivered,) = mail.wait_for("planeacion@municipio.test")

    parsed = _parse(delivered)
    assert parsed["Delivered-To"] == address
    assert parsed["To"] == address
    with mail.mailbox("planeacion@municipio.test") as mailbox:
        assert [folder.name for folder in mailbox.folder.list()] == ["INBOX"]


def test_idle_client_hears_of_a_new_delivery(mail: MailServers) -> None:
    """A client in IDLE gets an EXISTS line soon after Postfix hands a message to Dovecot.

    `idle.start()` returns once the server has answered "+ idling", so the delivery below
    happens during IDLE (imap_tools' `idle.wait()` is start + poll + stop in one call).
    """
    with mail.mailbox("salud@municipio.test") as mailbox:
        mailbox.idle.start()  # type: ignore[no-untyped-call]  # imap_tools leaves it bare
        try:
            sent = time.monotonic()
            mail.send(
                _raw(_message("salud@municipio.test")),
                "hacienda@municipio.test",
                ["salud@municipio.test"],
            )
            responses = mailbox.idle.poll(timeout=10)
            waited = time.monotonic() - sent
        finally:
            mailbox.idle.stop()  # type: ignore[no-untyped-call]

    assert any(line.endswith(b"EXISTS") for line in responses), responses
    assert waited < 5


def test_refused_recipient_gets_550_at_rcpt_and_the_others_still_get_mail(
    mail: MailServers,
) -> None:
    """rechazado@ answers 550 5.1.1 at RCPT; a second recipient of the same mail gets it."""
    raw = _raw(_message("rechazado@municipio.test, hacienda@municipio.test"))

    recipients = ["rechazado@municipio.test", "hacienda@municipio.test"]
    refused = mail.send(raw, "planeacion@municipio.test", recipients)

    assert list(refused) == ["rechazado@municipio.test"]
    code, text = refused["rechazado@municipio.test"]
    assert code == 550
    assert text.startswith(b"5.1.1 ")
    assert len(mail.wait_for("hacienda@municipio.test")) == 1
    with pytest.raises(smtplib.SMTPRecipientsRefused) as alone:
        mail.send(raw, "planeacion@municipio.test", ["rechazado@municipio.test"])
    assert alone.value.recipients["rechazado@municipio.test"][0] == 550


def test_unknown_user_is_refused_and_add_user_makes_a_mailbox_at_once(mail: MailServers) -> None:
    """Unknown local users are refused at RCPT; add_user() makes one usable without a restart."""
    address = "contratacion@municipio.test"
    raw = _raw(_message(address))
    with pytest.raises(smtplib.SMTPRecipientsRefused) as unknown:
        mail.send(raw, "planeacion@municipio.test", [address])
    code, text = unknown.value.recipients[address]
    assert (code, b"User unknown" in text) == (550, True)

    mail.add_user(address)
    mail.send(raw, "planeacion@municipio.test", [address])

    assert len(mail.wait_for(address, timeout=5)) == 1


def test_imaps_verifies_with_the_test_ca_and_fails_without_it(mail: MailServers) -> None:
    """IMAPS presents a certificate for localhost and 127.0.0.1 signed by `ca_file` only."""
    trusting = ssl.create_default_context(cafile=mail.ca_file)
    for host in ("127.0.0.1", "localhost"):
        with MailBox(host, mail.imaps_port, timeout=10, ssl_context=trusting).login(
            "gobierno@municipio.test", mail.password
        ) as mailbox:
            assert mailbox.folder.get() == "INBOX"

    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        MailBox(mail.host, mail.imaps_port, timeout=10, ssl_context=ssl.create_default_context())


def test_smtp_offers_starttls_with_the_test_certificate(mail: MailServers) -> None:
    """Postfix offers STARTTLS, and the handshake verifies against the same CA."""
    with smtplib.SMTP(mail.host, mail.smtp_port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        code, _ = client.starttls(context=ssl.create_default_context(cafile=mail.ca_file))
        assert code == 220
        assert client.sock is not None
        assert isinstance(client.sock, ssl.SSLSocket)


def test_postfix_restarts_on_the_same_port_and_delivers_again(mail: MailServers) -> None:
    """stop_postfix() refuses connections; start_postfix() serves the same port again."""
    port = mail.smtp_port
    mail.stop_postfix()
    try:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((mail.host, port), timeout=5).close()
    finally:
        mail.start_postfix()

    assert mail.smtp_port == port
    mail.send(
        _raw(_message("hacienda@municipio.test")),
        "planeacion@municipio.test",
        ["hacienda@municipio.test"],
    )
    assert len(mail.wait_for("hacienda@municipio.test")) == 1


def test_mail_sent_while_dovecot_is_down_is_delivered_when_it_is_back(mail: MailServers) -> None:
    """Postfix queues mail while Dovecot is stopped; mail already delivered is kept."""
    mail.send(
        _raw(_message("salud@municipio.test", "antes")),
        "planeacion@municipio.test",
        ["salud@municipio.test"],
    )
    assert len(mail.wait_for("salud@municipio.test")) == 1
    mail.stop_dovecot()
    try:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((mail.host, mail.imap_port), timeout=5).close()
        mail.send(
            _raw(_message("salud@municipio.test", "durante")),
            "planeacion@municipio.test",
            ["salud@municipio.test"],
        )
    finally:
        mail.start_dovecot()

    subjects = [_parse(raw)["Subject"] for raw in mail.wait_for("salud@municipio.test", count=2)]
    assert subjects == ["antes", "durante"]


def test_clear_mailboxes_leaves_only_an_empty_inbox(mail: MailServers) -> None:
    """Messages and client-made folders (nested, accented) are gone; UIDs keep rising."""
    user = "asistente@municipio.test"
    folder = "mailbot/revisión"
    mail.send(_raw(_message(user)), "planeacion@municipio.test", [user])
    mail.wait_for(user)
    with mail.mailbox(user) as mailbox:
        mailbox.folder.create(folder)
        mailbox.copy(mailbox.uids(), folder)
        first_uid = int(mailbox.uids()[0])
    assert len(mail.wait_for(user, folder=folder)) == 1

    mail.clear_mailboxes()

    with mail.mailbox(user) as mailbox:
        assert [folder.name for folder in mailbox.folder.list()] == ["INBOX"]
        assert mailbox.uids() == []
    mail.send(_raw(_message(user)), "planeacion@municipio.test", [user])
    mail.wait_for(user)
    with mail.mailbox(user) as mailbox:
        assert int(mailbox.uids()[0]) > first_uid


def test_a_failed_login_does_not_delay_the_next_one(mail: MailServers) -> None:
    """Dovecot's auth penalty is off: after wrong passwords the right one logs in at once."""
    for _ in range(2):
        client = imaplib.IMAP4(mail.host, mail.imap_port, timeout=10)
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            client.login("gobierno@municipio.test", "not-the-password")
        client.logout()

    started = time.monotonic()
    with mail.mailbox("gobierno@municipio.test"):
        assert time.monotonic() - started < 0.5


def test_wait_for_never_marks_messages_seen(mail: MailServers) -> None:
    """wait_for() peeks: the code under test finds new mail unseen, as the sender left it."""
    mail.send(
        _raw(_message("salud@municipio.test")),
        "planeacion@municipio.test",
        ["salud@municipio.test"],
    )
    mail.wait_for("salud@municipio.test")

    with mail.mailbox("salud@municipio.test") as mailbox:
        (message,) = mailbox.fetch(mark_seen=False, headers_only=True)
    assert "\\Seen" not in message.flags


def test_a_second_instance_runs_beside_the_first(mail_servers: MailServers) -> None:
    """Two test sessions on one machine get their own folders and ports and never clash."""
    with MailServers(users=["planeacion@municipio.test"]) as other:
        assert other.root != mail_servers.root
        mine = {mail_servers.imap_port, mail_servers.imaps_port, mail_servers.smtp_port}
        assert mine.isdisjoint({other.imap_port, other.imaps_port, other.smtp_port})
        other.send(
            _raw(_message("planeacion@municipio.test")),
            "hacienda@municipio.test",
            ["planeacion@municipio.test"],
        )
        assert len(other.wait_for("planeacion@municipio.test")) == 1
        root = other.root
    assert not root.exists()
