"""parse_message: any bytes in, a ParsedMessage out, never an exception; workbooks found wherever mailers put them."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
import struct
from email.message import EmailMessage
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from mailbot.adapters.mime import (
    MAX_DEPTH,
    MAX_NESTING_COST,
    MAX_PARTS,
    MAX_SUBJECT_CHARS,
    TEXT_CAP,
    TnefError,
    codec_for,
    decode_bytes,
    decode_rfc2047,
    nesting_cost,
    parse_message,
    read_tnef,
)
from mailbot.adapters.workbook.sniff import FileKind
from mailbot.domain.inbound import ParsedMessage, find_cloud_links
from tests.support.corpus import CORPUS, TNEF_DIR, needs_corpus
from tests.support.hostile import minimal_xlsx

LIMITS = {"max_message_bytes": 25 * 2**20, "max_attachment_bytes": 15 * 2**20}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def parse(raw: bytes, **limits: int) -> ParsedMessage:
    return parse_message(raw, **{**LIMITS, **limits})


def reply_with(*attachments: tuple[str, bytes, str], text: str = "Adjunto el plan.") -> bytes:
    """A reply as a mail program writes it: text body plus attachments with RFC 2231 names where needed."""
    msg = EmailMessage()
    msg["From"] = "Secretaria de Hacienda <hacienda@alcaldia.gov.co>"
    msg["To"] = "planeacion+TOKEN@alcaldia.gov.co"
    msg["Subject"] = "Re: [E-DE-F-010 HAC 2027] Plan de acción"
    msg["Message-ID"] = "<reply-1@alcaldia.gov.co>"
    msg.set_content(text)
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def raw_message(headers: str, body: str = "hola\r\n") -> bytes:
    return (headers.strip("\n").replace("\n", "\r\n") + "\r\n\r\n" + body).encode("latin-1")


def multipart(parts: list[bytes], boundary: str = "b0", headers: str = "From: a@b.co\r\nSubject: x\r\n") -> bytes:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    head = f'{headers}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    return head.encode() + body + b"--" + boundary.encode() + b"--\r\n"


def attachment_part(name_params: bytes, data: bytes, ctype: bytes = b"application/octet-stream") -> bytes:
    return (
        b"Content-Type: " + ctype + b"\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; " + name_params + b"\r\n\r\n" + base64.encodebytes(data)
    )


# ------------------------------------------------------------------------------------------------ file names


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (b"filename*=UTF-8''Plan%20de%20acci%C3%B3n%202027.xlsx", "Plan de acción 2027.xlsx"),
        (b"filename*0*=ISO-8859-1''Plan%20de%20acci; filename*1*=%F3n.xlsx", "Plan de acción.xlsx"),
        (b'filename="=?UTF-8?B?UGxhbiBkZSBhY2Npw7NuLnhsc3g=?="', "Plan de acción.xlsx"),
        (b'filename="=?iso-8859-1?Q?Ejecuci=F3n_F=EDsica.xlsx?="', "Ejecución Física.xlsx"),
        (b'filename="Plan de acci\xf3n.xlsx"', "Plan de acción.xlsx"),  # raw Latin-1 bytes (FIELD-NOTES)
        (b'filename="Plan de acci\xc3\xb3n.xlsx"', "Plan de acción.xlsx"),  # raw UTF-8 bytes
        (b'filename="C:\\\\Documents and Settings\\\\ana\\\\plan.xlsx"', "plan.xlsx"),  # old Outlook: a full path
    ],
)
def test_attachment_names_are_decoded_without_replacement_characters(params: bytes, expected: str) -> None:
    """RFC 2231 (with continuations), RFC 2047 and raw 8-bit names all decode to the name the secretario typed."""
    parsed = parse(multipart([attachment_part(params, minimal_xlsx())]))
    assert [a.filename for a in parsed.attachments] == [expected]
    assert parsed.attachments[0].kind == FileKind.XLSX


def test_accented_names_written_by_the_stdlib_survive() -> None:
    """What Python's own EmailMessage writes (RFC 2231 for non-ASCII) reads back unchanged."""
    parsed = parse(reply_with(("Plan de Acción Educación 2027.xlsx", minimal_xlsx(), XLSX_TYPE)))
    (part,) = parsed.attachments
    assert (part.filename, part.origin, part.kind, part.size) == (
        "Plan de Acción Educación 2027.xlsx",
        "direct",
        FileKind.XLSX,
        len(minimal_xlsx()),
    )
    assert part.data == minimal_xlsx()
    assert part.content_type == XLSX_TYPE


def test_decomposed_accents_are_composed() -> None:
    """macOS writes names in NFD; the display name is NFC so that it compares equal to what people type."""
    name = "Plan de accio\u0301n.xlsx"
    parsed = parse(reply_with((name, minimal_xlsx(), XLSX_TYPE)))
    assert parsed.attachments[0].filename == "Plan de acción.xlsx"


def test_traversal_and_control_characters_are_removed_from_names() -> None:
    """The name is display text only: no directories, no control or bidi-override characters."""
    params = b'filename="../../etc/pa\x01ss\x1bwd\xe2\x80\xae.xlsx"'
    (part,) = parse(multipart([attachment_part(params, b"data")])).attachments
    assert part.filename == "passwd.xlsx"
    assert part.filename is not None
    assert all(ch.isprintable() for ch in part.filename)


@pytest.mark.parametrize("params", [b'filename="../"', b'filename=".."', b'filename="\x01\x02"'])
def test_names_with_nothing_left_become_none(params: bytes) -> None:
    (part,) = parse(multipart([attachment_part(params, b"data")])).attachments
    assert part.filename is None


def test_very_long_names_keep_their_extension() -> None:
    params = b'filename="' + b"a" * 400 + b'.xlsx"'
    (part,) = parse(multipart([attachment_part(params, b"data")])).attachments
    assert part.filename is not None
    assert len(part.filename) == 255
    assert part.filename.endswith(".xlsx")


# ------------------------------------------------------------------------------------------------ kinds


def test_kind_comes_from_the_bytes_never_the_name() -> None:
    """An executable named .xlsx is not a workbook; a workbook named .jpg is one."""
    executable = b"MZ\x90\x00" + bytes(200)
    parsed = parse(reply_with(("plan.xlsx", executable, XLSX_TYPE), ("foto.jpg", minimal_xlsx(), "image/jpeg")))
    kinds = {a.filename: a.kind for a in parsed.attachments}
    assert kinds == {"plan.xlsx": FileKind.UNKNOWN, "foto.jpg": FileKind.XLSX}


def test_octet_stream_without_name_or_disposition_is_an_attachment() -> None:
    part = b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    parsed = parse(multipart([part + base64.encodebytes(minimal_xlsx())]))
    assert [(a.filename, a.kind) for a in parsed.attachments] == [(None, FileKind.XLSX)]


def test_inline_images_without_names_are_not_attachments() -> None:
    """Signature logos referenced by cid: are part of the HTML, not files the secretario attached."""
    image = b"Content-Type: image/png\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n"
    assert parse(multipart([image])).attachments == ()


def test_attachment_digest_is_of_the_decoded_bytes() -> None:
    (part,) = parse(reply_with(("plan.xlsx", minimal_xlsx(), XLSX_TYPE))).attachments
    assert part.sha256 == hashlib.sha256(minimal_xlsx()).hexdigest()


# ------------------------------------------------------------------------------------------------ forwards


def forwarded(inner: bytes) -> bytes:
    outer = EmailMessage()
    outer["From"] = "asistente@alcaldia.gov.co"
    outer["To"] = "planeacion@alcaldia.gov.co"
    outer["Subject"] = "Fwd: plan"
    outer.set_content("Le reenvío el plan del secretario.")
    outer.add_attachment(inner, maintype="message", subtype="rfc822")
    return outer.as_bytes()


def test_workbook_inside_a_forwarded_message_is_found() -> None:
    """Forward as attachment: the .xlsx sits inside a message/rfc822 part and is found with its origin."""
    parsed = parse(forwarded(reply_with(("Plan de acción.xlsx", minimal_xlsx(), XLSX_TYPE))))
    (part,) = parsed.attachments
    assert (part.filename, part.origin, part.kind) == ("Plan de acción.xlsx", "attached_message", FileKind.XLSX)
    assert parsed.text == "Le reenvío el plan del secretario."  # the inner message's text is not the body


def test_forward_inside_a_forward_keeps_attached_message_origin() -> None:
    parsed = parse(forwarded(forwarded(reply_with(("plan.xlsx", minimal_xlsx(), XLSX_TYPE)))))
    assert [(a.filename, a.origin) for a in parsed.attachments] == [("plan.xlsx", "attached_message")]


# ------------------------------------------------------------------------------------------------ TNEF


def winmail(tnef: bytes, ctype: bytes = b"application/ms-tnef") -> bytes:
    return multipart([attachment_part(b'filename="winmail.dat"', tnef, ctype)])


@needs_corpus
def test_tnef_attachments_are_extracted_from_winmail_dat() -> None:
    """Outlook's winmail.dat is opened and its files come out with origin "tnef"; winmail.dat itself is not kept."""
    parsed = parse(winmail((TNEF_DIR / "two-files.tnef").read_bytes()))
    assert [(a.filename, a.origin) for a in parsed.attachments] == [("AUTHORS", "tnef"), ("README", "tnef")]
    assert parsed.defects == ()


def tnef_stream(*objects: tuple[int, int, bytes]) -> bytes:
    """A TNEF stream from (level, attribute id, value) objects; checksums are not checked by the reader."""
    chunks = [
        struct.pack("<BHHI", level, attribute, 0, len(value)) + value + b"\x00\x00"
        for level, attribute, value in objects
    ]
    return struct.pack("<IH", 0x223E9F78, 1) + b"".join(chunks)


def mapi_long_filename(name: str) -> bytes:
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    padding = b"\x00" * (-len(encoded) % 4)
    return struct.pack("<IHHII", 1, 0x001F, 0x3707, 1, len(encoded)) + encoded + padding


def test_a_workbook_in_tnef_keeps_its_long_unicode_name() -> None:
    stream = tnef_stream(
        (2, 0x9002, b"\x01\x00"),  # attAttachRendData: a new attachment
        (2, 0x8010, b"PLANDE~1.XLS\x00"),  # attAttachTitle: the 8.3 name
        (2, 0x800F, minimal_xlsx()),  # attAttachData
        (2, 0x9005, mapi_long_filename("Plan de acción 2027.xlsx")),
    )
    (part,) = parse(winmail(stream, b"application/vnd.ms-tnef")).attachments
    assert (part.filename, part.kind, part.origin) == ("Plan de acción 2027.xlsx", FileKind.XLSX, "tnef")


@pytest.mark.parametrize(
    "mapi",
    [
        struct.pack("<I", 0xFFFFFFFF),  # 4 billion properties in 4 bytes: tnefparse 1.4 never returns on this
        struct.pack("<IHHI", 1, 0x1002, 0x0001, 0xFFFFFFFF),  # a multi-valued short with 4 billion values
        struct.pack("<IHHI", 1, 0x0102, 0x3701, 0xFFFFFFFF),  # a binary with 4 billion values
        struct.pack("<IHHII", 1, 0x0102, 0x3701, 1, 0xFFFFFFF0),  # one value longer than the stream
        struct.pack("<IHH", 1, 0x0102, 0x8001) + b"\x00" * 20 + struct.pack("<I", 0xFFFFFFFF),  # named, huge name
    ],
)
def test_hostile_tnef_counts_cost_nothing(mapi: bytes) -> None:
    """Counts read from the file are checked against the bytes left (the bug class of ytnef's CVE-2017-9473)."""
    stream = tnef_stream((2, 0x9002, b"\x01\x00"), (2, 0x800F, b"data"), (2, 0x9005, mapi), (1, 0x9003, mapi))
    assert read_tnef(stream) == [(None, b"data")]


def test_an_unreadable_winmail_dat_is_kept_and_reported() -> None:
    parsed = parse(winmail(b"not tnef at all"))
    (part,) = parsed.attachments
    assert (part.filename, part.origin) == ("winmail.dat", "direct")
    assert any("winmail.dat" in d for d in parsed.defects)


def test_read_tnef_refuses_what_is_not_tnef() -> None:
    with pytest.raises(TnefError):
        read_tnef(b"PK\x03\x04")


def test_embedded_messages_in_tnef_are_opened() -> None:
    inner = tnef_stream((2, 0x9002, b"\x01\x00"), (2, 0x8010, b"plan.xlsx\x00"), (2, 0x800F, minimal_xlsx()))
    iid = bytes.fromhex("0703020000000000c000000000000046")
    value = iid + inner
    data_obj = struct.pack("<IHHII", 1, 0x000D, 0x3701, 1, len(value)) + value + b"\x00" * (-len(value) % 4)
    outer = tnef_stream((2, 0x9002, b"\x01\x00"), (2, 0x9005, data_obj))
    assert read_tnef(outer) == [("plan.xlsx", minimal_xlsx())]


# ------------------------------------------------------------------------------------------------ cloud links


def test_drive_and_onedrive_links_are_found_in_text_and_html() -> None:
    msg = EmailMessage()
    msg["From"] = "educacion@alcaldia.gov.co"
    msg["Subject"] = "Plan"
    msg.set_content("Le comparto el archivo: https://drive.google.com/file/d/1AbC/view?usp=sharing.")
    msg.add_alternative(
        '<p>O aquí: <a href="https://1drv.ms/x/s!AbCd?e=xyz&amp;a=1">OneDrive</a> y '
        '<a href="https://alcaldia-my.sharepoint.com/:x:/g/personal/ana/EaBc">SharePoint</a></p>',
        subtype="html",
    )
    parsed = parse(msg.as_bytes())
    assert parsed.cloud_links == (
        "https://drive.google.com/file/d/1AbC/view?usp=sharing",
        "https://1drv.ms/x/s!AbCd?e=xyz&a=1",
        "https://alcaldia-my.sharepoint.com/:x:/g/personal/ana/EaBc",
    )
    assert parsed.text.startswith("Le comparto el archivo")
    assert parsed.attachments == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ver https://www.dropbox.com/s/abc/plan.xlsx?dl=0).", ("https://www.dropbox.com/s/abc/plan.xlsx?dl=0",)),
        ("enlace: drive.google.com/open?id=1x, gracias", ("https://drive.google.com/open?id=1x",)),
        (
            "https://we.tl/t-AbC y https://wetransfer.com/downloads/1",
            ("https://we.tl/t-AbC", "https://wetransfer.com/downloads/1"),
        ),
        ("https://docs.google.com/spreadsheets/d/1AbC/edit", ("https://docs.google.com/spreadsheets/d/1AbC/edit",)),
        (
            "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2F1drv.ms%2Fx%2Fs%21Ab&data=1",
            ("https://1drv.ms/x/s!Ab",),
        ),
        ("https://onedrive.live.com/?id=1 https://onedrive.live.com/?id=1", ("https://onedrive.live.com/?id=1",)),
    ],
)
def test_find_cloud_links(text: str, expected: tuple[str, ...]) -> None:
    assert find_cloud_links(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://www.google.com/search?q=plan",
        "https://evil.example/drive.google.com/file",
        "https://drive.google.com.evil.example/file",
        "mi correo ana@drive.google.com",
        "https://[::1/drive",
        "http://sharepoint.company.example/x",
    ],
)
def test_not_cloud_links(text: str) -> None:
    assert find_cloud_links(text) == ()


# ------------------------------------------------------------------------------------------------ bodies


def test_html_only_body_becomes_text_without_tags_or_scripts() -> None:
    raw = raw_message(
        "From: a@b.co\nContent-Type: text/html; charset=utf-8",
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head>"
        "<body><p>Buenos d&iacute;as,</p><div>adjunto&nbsp;el plan</div></body></html>",
    )
    assert parse(raw).text == "Buenos días,\n\nadjunto el plan"


def test_text_is_capped() -> None:
    raw = raw_message("From: a@b.co\nContent-Type: text/plain", "palabra " * 10_000)
    assert len(parse(raw).text) == TEXT_CAP


@pytest.mark.parametrize("charset", ["x-unknown", "zlib", "unicode_escape", "\x00", "a" * 300, "utf-8'es'"])
def test_invalid_charsets_fall_back_to_utf8_then_windows_1252(charset: str) -> None:
    body = "Aprobación \\u0041 ñ".encode()
    raw = f'From: a@b.co\r\nContent-Type: text/plain; charset="{charset}"\r\n\r\n'.encode("latin-1") + body
    assert parse(raw).text == "Aprobación \\u0041 ñ"


def test_declared_latin1_that_is_really_utf8_reads_as_utf8() -> None:
    raw = b"From: a@b.co\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nAcci\xc3\xb3n"
    assert parse(raw).text == "Acción"


def test_windows_1252_bytes_without_a_charset() -> None:
    raw = b"From: a@b.co\r\n\r\n\x93Acci\xf3n\x94"
    assert parse(raw).text == "“Acción”"


@pytest.mark.parametrize(
    ("charset", "expected"),
    [("iso-8859-1", "cp1252"), ("us-ascii", "utf-8"), ("ks_c_5601-1987", "euc_kr"), ("rot13", None), (None, None)],
)
def test_codec_for_maps_labels_to_safe_codecs(charset: str | None, expected: str | None) -> None:
    assert codec_for(charset) == expected


def test_decode_bytes_never_fails() -> None:
    assert decode_bytes(bytes(range(256)), "utf-8").startswith("\x00\x01")


# ------------------------------------------------------------------------------------------------ headers


def test_facts_are_decoded_and_normalised() -> None:
    long_id = "CAF" + "x" * 90 + "@mail.gmail.com"
    raw = raw_message(
        f"""From: =?utf-8?Q?Jos=C3=A9_P=C3=A9rez?= <Jose.Perez@Alcaldia.GOV.co>
To: "Planeación" <planeacion+ABC123@alcaldia.gov.co>, not an address
Cc: otro@alcaldia.gov.co
Reply-To: asistente@alcaldia.gov.co
Delivered-To: planeacion+abc123@alcaldia.gov.co
X-Original-To: planeacion+abc123@alcaldia.gov.co
Subject: =?utf-8?B?UmU6IFtFLURFLUYtMDEwIEhBQyAyMDI3XSBQbGFuIGRlIGFjY2nDs24=?=
Message-ID:
 <{long_id[:40]}
 {long_id[40:]}>
In-Reply-To: <mb-1@mailbot.alcaldia.gov.co>
References: <root@x.co> <mb-1@mailbot.alcaldia.gov.co>
 <third@y.co>
Date: Tue, 3 Mar 2026 09:15:00 -0500
Return-Path: < >
Authentication-Results: mx.alcaldia.gov.co; dmarc=pass
Content-Type: text/plain; charset=utf-8"""
    )
    facts = parse(raw).facts
    assert facts.from_address == "jose.perez@alcaldia.gov.co"
    assert facts.from_name == "José Pérez"
    assert facts.to == ("planeacion+abc123@alcaldia.gov.co",)
    assert (facts.cc, facts.reply_to) == (("otro@alcaldia.gov.co",), ("asistente@alcaldia.gov.co",))
    assert facts.delivered_to == facts.x_original_to == ("planeacion+abc123@alcaldia.gov.co",)
    assert facts.subject == "Re: [E-DE-F-010 HAC 2027] Plan de acción"
    assert facts.message_id == long_id  # folded inside the brackets: whitespace removed
    assert facts.in_reply_to == ("mb-1@mailbot.alcaldia.gov.co",)
    assert facts.references == ("root@x.co", "mb-1@mailbot.alcaldia.gov.co", "third@y.co")
    assert facts.date == dt.datetime(2026, 3, 3, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert facts.return_path == "<>"
    assert facts.authentication_results == ("mx.alcaldia.gov.co; dmarc=pass",)
    assert facts.auto_submitted is None


def test_automatic_markers_keep_their_raw_values() -> None:
    raw = raw_message(
        """From: a@b.co
Auto-Submitted: auto-replied
Precedence: bulk
X-Autoreply: yes
X-Autorespond: 1
X-Auto-Response-Suppress: All
List-Id: <lista.example.org>
List-Unsubscribe:
X-MS-Exchange-Inbox-Rules-Loop: jefe@alcaldia.gov.co
X-Mailbot-Loop: alcaldia"""
    )
    facts = parse(raw).facts
    assert (facts.auto_submitted, facts.precedence, facts.x_autoreply, facts.x_autorespond) == (
        "auto-replied",
        "bulk",
        "yes",
        "1",
    )
    assert (facts.x_auto_response_suppress, facts.list_id, facts.list_unsubscribe) == ("All", "<lista.example.org>", "")
    assert facts.x_ms_exchange_inbox_rules_loop == "jefe@alcaldia.gov.co"
    assert facts.x_mailbot_loop == "alcaldia"


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Tue, 3 Mar 2026 09:15:00 -0000", dt.datetime(2026, 3, 3, 9, 15, tzinfo=dt.UTC)),
        ("yesterday at noon", None),
        ("Tue, 3 Mar 99999 09:15:00 +0000", None),
    ],
)
def test_dates_are_aware_or_none(date: str, expected: dt.datetime | None) -> None:
    assert parse(raw_message(f"From: a@b.co\nDate: {date}")).facts.date == expected


def test_raw_8bit_subject_in_the_body_charset() -> None:
    raw = b"From: a@b.co\r\nSubject: Aprobaci\xf3n\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nx"
    assert parse(raw).facts.subject == "Aprobación"


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        ("=?utf-8?Q?caf=C3=A9?= =?utf-8?Q?_con_leche?=", "café con leche"),
        ("=?utf-8?B?w6E=?= =?utf-8?B?w6k=?=", "áé"),
        ("=?utf-8?B?w6HD?= =?utf-8?B?qQ==?=", "áé"),  # a character split across two words
        ("=?bogus?Q?caf=E9?=", "café"),
        ("=?utf-8?B?!!!?= tail", "=?utf-8?B?!!!?= tail"),
        ("plain =?iso-8859-1?q?acci=F3n?= text", "plain acción text"),
        ("=?utf-8*es?Q?a?=", "a"),
    ],
)
def test_rfc2047_decoding(encoded: str, expected: str) -> None:
    assert decode_rfc2047(encoded) == expected


def test_a_from_with_an_unquoted_at_in_its_name_still_gives_the_address() -> None:
    raw = raw_message("From: ana@alcaldia <ana.perez@alcaldia.gov.co>")
    assert parse(raw).facts.from_address == "ana.perez@alcaldia.gov.co"


def test_mbox_from_line_and_byte_order_mark_are_skipped() -> None:
    raw = b"\xef\xbb\xbfFrom someone@example.com Mon Jan  1 00:00:00 2026\r\nFrom: a@b.co\r\nSubject: ok\r\n\r\nx"
    assert parse(raw).facts.subject == "ok"


# ------------------------------------------------------------------------------------------------ reports


DSN = b"""From: Mail Delivery System <MAILER-DAEMON@mx.alcaldia.gov.co>
To: planeacion@alcaldia.gov.co
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R"

--R
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--R
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.alcaldia.gov.co
Original-Envelope-Id: mb-envid+40mailbot.alcaldia.gov.co

Final-Recipient: rfc822; <Hacienda@Alcaldia.gov.co>
Original-Recipient: rfc822;hacienda@alcaldia.gov.co
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <hacienda@alcaldia.gov.co>:
    Recipient address rejected: User unknown

Final-Recipient: rfc822; educacion@alcaldia.gov.co
Action: delayed
Status: 4.4.1

--R
Content-Type: text/rfc822-headers

From: planeacion@alcaldia.gov.co
Message-ID: <mb-42@mailbot.alcaldia.gov.co>
Subject: Plan

--R--
""".replace(b"\n", b"\r\n")


def test_delivery_status_notification_is_read() -> None:
    parsed = parse(DSN)
    assert (parsed.facts.is_report, parsed.facts.report_type) == (True, "delivery-status")
    report = parsed.report
    assert report is not None
    assert (report.original_message_id, report.action, report.standard) == (
        "mb-42@mailbot.alcaldia.gov.co",
        "failed",
        True,
    )
    failed, delayed = report.recipients
    assert (failed.address, failed.action, failed.status) == ("hacienda@alcaldia.gov.co", "failed", "5.1.1")
    assert failed.diagnostic == "550 5.1.1 <hacienda@alcaldia.gov.co>: Recipient address rejected: User unknown"
    assert (delayed.address, delayed.action, delayed.status, delayed.failed) == (
        "educacion@alcaldia.gov.co",
        "delayed",
        "4.4.1",
        False,
    )


def test_dsn_without_returned_headers_uses_the_envelope_id() -> None:
    without_headers = DSN.split(b"--R\r\nContent-Type: text/rfc822-headers")[0] + b"--R--\r\n"
    report = parse(without_headers).report
    assert report is not None
    assert report.original_message_id == "mb-envid@mailbot.alcaldia.gov.co"


QMAIL_BOUNCE = b"""From: MAILER-DAEMON@mail.example.net
To: planeacion@alcaldia.gov.co
Subject: failure notice

Hi. This is the qmail-send program at mail.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<ana@example.net>:
user does not exist (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <planeacion@alcaldia.gov.co>
Message-ID: <mb-7@mailbot.alcaldia.gov.co>
Subject: Plan

cuerpo
""".replace(b"\n", b"\r\n")


def test_text_bounce_from_qmail_names_the_original_message() -> None:
    report = parse(QMAIL_BOUNCE).report
    assert report is not None
    assert (report.original_message_id, report.action, report.standard) == (
        "mb-7@mailbot.alcaldia.gov.co",
        "failed",
        False,
    )
    assert [(r.address, r.status) for r in report.recipients] == [("ana@example.net", "5.1.1")]


def test_text_bounce_with_the_original_attached() -> None:
    """Old Exim returns the message as an attachment without RFC 3464 fields."""
    original = reply_with()
    outer = EmailMessage()
    outer["From"] = "Mail Delivery System <Mailer-Daemon@mx.example.net>"
    outer["Subject"] = "Mail delivery failed: returning message to sender"
    outer.set_content("A message that you sent could not be delivered.\n\n  ana@example.net\n    Unknown user\n")
    outer.add_attachment(original, maintype="message", subtype="rfc822")
    report = parse(outer.as_bytes()).report
    assert report is not None
    assert report.original_message_id == "reply-1@alcaldia.gov.co"
    assert [(r.address, r.diagnostic) for r in report.recipients] == [("ana@example.net", "Unknown user")]


def test_text_delay_warning_is_not_a_failure() -> None:
    warning = QMAIL_BOUNCE.replace(b"Subject: failure notice", b"Subject: Warning: message 1abc delayed 24 hours")
    warning = warning.replace(b"This is a permanent error; I've given up.", b"Delivery attempts will continue.")
    report = parse(warning).report
    assert report is not None
    assert (report.original_message_id, report.action, report.is_failure) == (
        "mb-7@mailbot.alcaldia.gov.co",
        "delayed",
        False,
    )


def test_a_tnef_stream_of_countless_attachments_is_capped() -> None:
    stream = tnef_stream(*[(2, 0x9002, b"")] * 100_000)
    assert read_tnef(stream) == []


def test_ordinary_mail_has_no_report() -> None:
    assert parse(reply_with()).report is None


# ------------------------------------------------------------------------------------------------ limits


def test_message_over_the_limit_is_not_parsed_beyond_its_headers() -> None:
    """A 50 MB attachment: the message is over the limit, so only its headers are read (subject, sender, ids)."""
    raw = reply_with(("grande.xlsx", bytes(50 * 2**20), XLSX_TYPE))
    parsed = parse(raw)
    assert parsed.oversized
    assert parsed.attachments == ()
    assert parsed.text == ""
    assert parsed.facts.from_address == "hacienda@alcaldia.gov.co"
    assert parsed.facts.subject == "Re: [E-DE-F-010 HAC 2027] Plan de acción"
    assert parsed.size == len(raw)
    assert "only headers read" in parsed.defects[0]


def test_attachment_over_its_limit_is_marked_and_not_kept() -> None:
    big = minimal_xlsx() + bytes(4096)
    (part,) = parse(reply_with(("plan.xlsx", big, XLSX_TYPE)), max_attachment_bytes=2048).attachments
    assert (part.oversized, part.size, part.data, part.kind) == (True, len(big), b"", FileKind.XLSX)


def test_two_hundred_attachments_are_all_found() -> None:
    files = [(f"anexo-{n:03}.xlsx", minimal_xlsx(), XLSX_TYPE) for n in range(200)]
    parsed = parse(reply_with(*files))
    assert len(parsed.attachments) == 200
    assert parsed.attachments[-1].filename == "anexo-199.xlsx"


def test_parts_beyond_the_cap_are_not_read() -> None:
    parts = [attachment_part(f'filename="f{n}.bin"'.encode(), b"x") for n in range(MAX_PARTS + 100)]
    parsed = parse(multipart(parts))
    assert len(parsed.attachments) == MAX_PARTS - 1  # the root multipart counts as a part
    assert any(f"more than {MAX_PARTS} parts" in d for d in parsed.defects)


def nested(levels: int, leaf: bytes) -> bytes:
    head = b"From: a@b.co\r\nSubject: nested\r\nMIME-Version: 1.0\r\n"
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i) for i in range(levels)
    )
    closing = b"".join(b"\r\n--n%d--" % i for i in reversed(range(levels)))
    return head + opening + leaf + closing + b"\r\n"


def test_hundred_levels_of_nesting_are_walked_to_the_depth_cap() -> None:
    leaf = attachment_part(b'filename="deep.xlsx"', minimal_xlsx())
    assert [a.filename for a in parse(nested(MAX_DEPTH - 1, leaf)).attachments] == ["deep.xlsx"]
    parsed = parse(nested(100, leaf))
    assert parsed.attachments == ()
    assert any(f"deeper than {MAX_DEPTH}" in d for d in parsed.defects)
    assert parsed.facts.subject == "nested"


@pytest.mark.parametrize(
    ("levels", "lines", "cause"),
    [
        (1_500, 1, "for the parser"),  # the stdlib parser recurses once per level: RecursionError near 1,000
        (400, 100_000, "for its size"),  # every line is checked against every open boundary: seconds, then minutes
        (5_000, 1, "for its size"),
    ],
)
def test_nesting_too_deep_for_the_stdlib_parser_keeps_the_headers(levels: int, lines: int, cause: str) -> None:
    parsed = parse(nested(levels, b"Content-Type: text/plain\r\n\r\n" + b"x\r\n" * lines))
    assert parsed.facts.subject == "nested"
    assert parsed.attachments == ()
    assert any("nested too deep " + cause in d for d in parsed.defects)


def test_nesting_cost_of_ordinary_mail_is_small() -> None:
    raw = forwarded(reply_with(*[(f"anexo-{n}.xlsx", minimal_xlsx(), XLSX_TYPE) for n in range(50)]))
    assert nesting_cost(raw) < MAX_NESTING_COST // 100


def test_one_megabyte_header_line() -> None:
    raw = b"From: a@b.co\r\nSubject: " + b"x" * 2**20 + b"\r\nX-Other: " + b"=?utf-8?q?a?= " * 80_000 + b"\r\n\r\nx"
    parsed = parse(raw)
    assert len(parsed.facts.subject) == MAX_SUBJECT_CHARS
    assert parsed.facts.from_address == "a@b.co"


def test_thousands_of_recipients_and_references_are_capped() -> None:
    to = ", ".join(f"p{n}@alcaldia.gov.co" for n in range(1_000))
    refs = " ".join(f"<r{n}@x.co>" for n in range(1_000))
    facts = parse(raw_message(f"From: a@b.co\nTo: {to}\nReferences: {refs}")).facts
    assert len(facts.to) == 200
    assert len(facts.references) == 100
    assert facts.references[0] == "r0@x.co"
    assert facts.references[-1] == "r999@x.co"


# ------------------------------------------------------------------------------------------------ never raises


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00" * 1000,
        b"\r\n\r\n\r\n",
        b"garbage without any header",
        bytes(range(256)) * 64,
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary at all",
        b"Content-Type: message/rfc822\r\n\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n"
        b"Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n--x--",
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n=====abc=",
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n!!!\r\nend",
        b"Content-Type: application/ms-tnef\r\n\r\n" + struct.pack("<I", 0x223E9F78) + b"\xff" * 50,
        b"From: =?utf-8?B?\xff\xfe?= <\xff@\xfe>\r\nDate: \xff\r\nMessage-ID: <<<>>>\r\n\r\n",
        b"Content-Type: text/html\r\n\r\n<![CDATA[<!--<script>" + b"<a href='" * 1000,
        b"Content-Type: text/html\r\n\r\n" + b"<a href='" * 110_000,  # quadratic for html.parser on 3.11
        b"From: MAILER-DAEMON@x.co\r\n\r\n  " + b"a@" * 500_000 + b"\n    x\n",  # backtracking bounce regexes
        b"From: MAILER-DAEMON@x.co\r\n\r\n<" + b"a@" * 500_000 + b">:\nx\n",
        b"From: <" + b"a@" * 30_000 + b"\r\n\r\n",
        b'Content-Type: multipart/mixed; boundary="x"; a="' + b";" * 200_000 + b"\r\n\r\n--x--",  # quadratic params
        b'Content-Type: text/plain\r\nContent-Disposition: attachment; filename="' + b";" * 60_000 + b"\r\n\r\n",
    ],
    ids=lambda raw: repr(raw[:40]),
)
def test_hostile_bytes_never_raise(raw: bytes) -> None:
    assert isinstance(parse(raw), ParsedMessage)


def corpus_messages() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".eml", ".txt"))


@needs_corpus
def test_mutated_corpus_messages_never_raise() -> None:
    """A seeded fuzz: real messages cut, spliced and with bytes flipped still parse to a ParsedMessage."""
    rng = random.Random(20270101)
    messages = [p.read_bytes() for p in corpus_messages()]
    for _ in range(600):
        data = bytearray(rng.choice(messages))
        for _ in range(rng.randint(1, 20)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3 and data:
            data = data[: rng.randrange(len(data))]
        if rng.random() < 0.3:
            data += rng.choice(messages)[rng.randrange(200) :]
        assert isinstance(parse(bytes(data)), ParsedMessage)


class _Exploding(bytes):
    """Bytes whose first method call inside the parser fails: an unexpected bug, injected without patching."""

    def removeprefix(self, prefix: bytes, /) -> bytes:
        raise RuntimeError("boom")


def test_an_unexpected_failure_is_logged_and_still_gives_the_headers() -> None:
    raw = _Exploding(b"From: a@b.co\r\nSubject: hola\r\n\r\ncuerpo")
    with capture_logs() as logs:
        parsed = parse(raw)
    assert parsed.facts.subject == "hola"
    assert parsed.defects == ("message could not be parsed (RuntimeError)",)
    assert [(e["event"], e["log_level"], e.get("error")) for e in logs] == [
        ("mime.parse_failed", "warning", "RuntimeError"),
        ("mime.defects", "info", None),
    ]
    assert logs[1]["defects"] == ["message could not be parsed (RuntimeError)"]


def test_long_content_type_fields_read_only_headers() -> None:
    """The stdlib parser's parameter parser costs semicolons × length on each multipart's Content-Type."""
    raw = b'From: a@b.co\r\nSubject: params\r\nContent-Type: multipart/mixed; boundary="x"; a="' + b";" * 100_000
    parsed = parse(raw + b"\r\n\r\n--x\r\n\r\nhola\r\n--x--\r\n")
    assert parsed.facts.subject == "params"
    assert parsed.defects == ("Content-Type headers too long: only headers read",)


def test_too_many_lines_reads_only_headers() -> None:
    parsed = parse(b"From: a@b.co\r\nSubject: lines\r\n\r\n" + b"\n" * 3_000_001)
    assert parsed.facts.subject == "lines"
    assert parsed.defects == ("more than 3000000 lines: only headers read",)
