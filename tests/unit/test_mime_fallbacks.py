"""Every fallback of the MIME parser keeps what it can and records a defect saying which part and what failed.

One test per fallback (issue 20): a reply whose structure is broken must never lose its workbook without a trace.
"""

from __future__ import annotations

import base64
import struct

from structlog.testing import capture_logs

from mailbot.adapters.mime import MAX_PARTS, parse_message
from mailbot.adapters.mime.bounds import MAX_RECOVERIES
from mailbot.adapters.workbook.sniff import FileKind
from mailbot.domain.inbound import MAX_DEFECTS_NOTE, MessageFacts, ParsedMessage
from tests.support.hostile import minimal_xlsx

LIMITS = {"max_message_bytes": 25 * 2**20, "max_attachment_bytes": 15 * 2**20}
HEAD = b"From: Secretaria de Hacienda <hacienda@alcaldia.gov.co>\r\nSubject: Re: plan\r\nMIME-Version: 1.0\r\n"


def parse(raw: bytes) -> ParsedMessage:
    return parse_message(raw, **LIMITS)


def workbook_part(name: bytes = b"plan.xlsx") -> bytes:
    return (
        b"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="' + name + b'"\r\n\r\n' + base64.encodebytes(minimal_xlsx())
    )


def body_with(boundary: bytes, *parts: bytes) -> bytes:
    delimited = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return delimited + b"--" + boundary + b"--\r\n"


TEXT_PART = b"Content-Type: text/plain; charset=utf-8\r\n\r\nAdjunto el plan.\r\n"


# ------------------------------------------------------------------------------------------------ broken multiparts


def test_a_multipart_whose_declared_boundary_is_not_in_its_body_keeps_its_workbook() -> None:
    """A mailer declared one boundary and used another: the parts are recovered from the delimiters it used."""
    raw = (
        HEAD
        + b'Content-Type: multipart/mixed; boundary="declared"\r\n\r\n'
        + body_with(b"used", TEXT_PART, workbook_part())
    )
    parsed = parse(raw)
    assert [(a.filename, a.kind, a.data) for a in parsed.attachments] == [("plan.xlsx", FileKind.XLSX, minimal_xlsx())]
    assert parsed.text == "Adjunto el plan."
    assert "multipart/mixed part without a usable boundary: 2 parts recovered from its delimiters" in parsed.defects


def test_a_multipart_without_a_boundary_parameter_keeps_its_workbook() -> None:
    raw = HEAD + b"Content-Type: multipart/mixed\r\n\r\n" + body_with(b"b1", workbook_part())
    parsed = parse(raw)
    assert [a.filename for a in parsed.attachments] == ["plan.xlsx"]
    assert "multipart/mixed part without a usable boundary: 1 part recovered from its delimiters" in parsed.defects


def test_a_nested_broken_multipart_keeps_the_workbook_inside_it() -> None:
    inner = b'Content-Type: multipart/mixed; boundary="wrong"\r\n\r\n' + body_with(b"right", workbook_part())
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n' + body_with(b"outer", TEXT_PART, inner)
    assert [a.filename for a in parse(raw).attachments] == ["plan.xlsx"]


def test_a_multipart_without_any_delimiter_line_says_its_contents_were_not_read() -> None:
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\nUEsDBBQAAAAIA plan en base64 sin partes\r\n'
    parsed = parse(raw)
    assert parsed.attachments == ()
    assert parsed.defects == (
        "start boundary not found",  # the stdlib's own two defects
        "multipart invariant violation",
        "multipart/mixed part without a usable boundary: its contents not read",
    )


def test_broken_multiparts_are_recovered_at_most_five_times() -> None:
    """Each recovery parses its body again: a bound keeps the work proportional to the message."""
    broken = [
        b'Content-Type: multipart/mixed; boundary="wrong"\r\n\r\n' + body_with(b"used", workbook_part(b"f%d.xlsx" % n))
        for n in range(MAX_RECOVERIES + 1)
    ]
    parsed = parse(HEAD + b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n' + body_with(b"outer", *broken))
    assert [a.filename for a in parsed.attachments] == [f"f{n}.xlsx" for n in range(MAX_RECOVERIES)]
    assert "multipart/mixed part without a usable boundary: not read, 5 recovered already" in parsed.defects


def test_an_empty_multipart_is_a_defect_of_its_own() -> None:
    inner = b'Content-Type: multipart/alternative; boundary="empty"\r\n\r\n'
    raw = (
        HEAD + b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n' + body_with(b"outer", inner, workbook_part())
    )
    parsed = parse(raw)
    assert [a.filename for a in parsed.attachments] == ["plan.xlsx"]
    assert "multipart/alternative part is empty" in parsed.defects


def test_a_broken_multipart_nested_too_deep_for_the_parser_is_reported() -> None:
    """The recovered body is parsed again; a body the stdlib cannot parse (it recurses once a level) is a defect."""
    levels = 1_500
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i) for i in range(levels)
    )
    closing = b"".join(b"\r\n--n%d--" % i for i in reversed(range(levels)))
    body = b"--first\r\n" + opening + workbook_part() + closing + b"\r\n--first--\r\n"
    parsed = parse(HEAD + b'Content-Type: multipart/mixed; boundary="declared"\r\n\r\n' + body)
    assert parsed.facts.subject == "Re: plan"
    assert "multipart/mixed part not read: nested too deep for the parser" in parsed.defects


# ------------------------------------------------------------------------------------------------ parts and headers


def test_an_attached_message_in_broken_base64_is_reported() -> None:
    raw = (
        HEAD
        + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        + body_with(
            b"b1", TEXT_PART, b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nabcde\r\n"
        )
    )
    parsed = parse(raw)
    assert "attached message in base64 could not be decoded (invalid base64): not read" in parsed.defects
    assert parsed.text == "Adjunto el plan."


def test_a_file_name_in_mixed_rfc2231_sections_falls_back_to_the_type_name() -> None:
    """filename*0= and filename*= together make the stdlib fail; Content-Type's name= still names the file."""
    part = (
        b'Content-Type: application/octet-stream; name="plan.xlsx"\r\nContent-Transfer-Encoding: base64\r\n'
        b'Content-Disposition: attachment; filename*0="plan"; filename*="otro.xlsx"\r\n\r\n'
        + base64.encodebytes(minimal_xlsx())
    )
    parsed = parse(HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n' + body_with(b"b1", part))
    assert [(a.filename, a.kind) for a in parsed.attachments] == [("plan.xlsx", FileKind.XLSX)]
    assert "content-disposition filename parameter not readable (mixed RFC 2231 sections): ignored" in parsed.defects


def test_addresses_nested_too_deep_for_the_stdlib_are_ignored_and_reported() -> None:
    """Python 3.11's getaddresses recurses once per group: thousands of "a:" exhaust the stack."""
    parsed = parse(HEAD + b"To: " + b"a:" * 3_000 + b"planeacion@alcaldia.gov.co;\r\n\r\nhola\r\n")
    assert parsed.facts.to == ()
    assert parsed.facts.from_address == "hacienda@alcaldia.gov.co"
    assert "To addresses nested too deep to read: ignored" in parsed.defects


def test_a_date_out_of_any_range_is_reported() -> None:
    """A year past C's long raises OverflowError in the stdlib, an impossible day ValueError: both are defects."""
    for date in (b"1 Jan 99999999999999999999 00:00:00 +0000", b"31 Feb 2027 09:00:00 -0500"):
        parsed = parse(HEAD + b"Date: " + date + b"\r\n\r\nhola\r\n")
        assert (parsed.facts.date, parsed.defects) == (None, ("Date header not readable",))


def test_a_delivery_status_block_the_stdlib_cannot_decode_keeps_the_other_recipients() -> None:
    """8-bit text in a status block with an RFC 2231 charset makes the stdlib decode with a tuple as codec."""
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n'
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\nContent-Type: text/plain; charset*=utf-8''x\r\n"
        b"Diagn\xf3stico sin campo\r\n\r\n"
        b"Final-Recipient: rfc822; ana@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--R--\r\n"
    )
    parsed = parse(raw)
    assert parsed.report is not None
    assert [(r.address, r.action, r.status) for r in parsed.report.recipients] == [
        ("ana@example.net", "failed", "5.1.1")
    ]
    assert "delivery-status block with 8-bit text and an RFC 2231 charset: its text not read" in parsed.defects


def test_a_delivery_status_block_declared_base64_that_is_not_is_read_as_text() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n'
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\nContent-Transfer-Encoding: base64\r\nabcde\r\n\r\n"
        b"Final-Recipient: rfc822; ana@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--R--\r\n"
    )
    parsed = parse(raw)
    assert parsed.report is not None
    assert [r.address for r in parsed.report.recipients] == ["ana@example.net"]
    assert "delivery-status block declared base64 but is not: read as text" in parsed.defects


# ------------------------------------------------------------------------------------------------ TNEF


def tnef_stream(*objects: tuple[int, int, bytes]) -> bytes:
    """A TNEF stream from (level, attribute id, value) objects; checksums are not checked by the reader."""
    chunks = [
        struct.pack("<BHHI", level, attribute, 0, len(value)) + value + b"\x00\x00"
        for level, attribute, value in objects
    ]
    return struct.pack("<IH", 0x223E9F78, 1) + b"".join(chunks)


def winmail(tnef: bytes) -> bytes:
    part = (
        b'Content-Type: application/ms-tnef; name="winmail.dat"\r\nContent-Transfer-Encoding: base64\r\n'
        b'Content-Disposition: attachment; filename="winmail.dat"\r\n\r\n' + base64.encodebytes(tnef)
    )
    return HEAD + b'Content-Type: multipart/mixed; boundary="w"\r\n\r\n' + body_with(b"w", TEXT_PART, part)


PLAN_IN_TNEF = ((2, 0x9002, b"\x01\x00"), (2, 0x8010, b"plan.xlsx\x00"), (2, 0x800F, minimal_xlsx()))


def test_a_winmail_dat_cut_short_keeps_the_files_before_the_cut() -> None:
    stream = tnef_stream(*PLAN_IN_TNEF, (2, 0x9002, b"\x01\x00"))
    parsed = parse(winmail(stream[:-1]))  # the last object lacks a byte of its checksum
    assert [(a.filename, a.origin) for a in parsed.attachments] == [("plan.xlsx", "tnef")]
    assert "winmail.dat (TNEF) cut short: what came before the cut kept" in parsed.defects


def test_damaged_attachment_properties_in_a_winmail_dat_keep_the_file_under_its_short_name() -> None:
    huge_count = struct.pack("<IHHI", 1, 0x0102, 0x3701, 0xFFFFFFFF)  # a binary property with 4 billion values
    parsed = parse(winmail(tnef_stream(*PLAN_IN_TNEF, (2, 0x9005, huge_count))))
    assert [(a.filename, a.kind) for a in parsed.attachments] == [("plan.xlsx", FileKind.XLSX)]
    assert (
        "winmail.dat (TNEF) attachment properties damaged: the rest of them not read (a long name may be missing)"
        in parsed.defects
    )


def test_an_embedded_message_in_a_winmail_dat_that_is_not_tnef_is_kept_as_a_file() -> None:
    value = bytes.fromhex("0703020000000000c000000000000046") + b"not a TNEF stream"
    data_obj = struct.pack("<IHHII", 1, 0x000D, 0x3701, 1, len(value)) + value + b"\x00" * (-len(value) % 4)
    parsed = parse(winmail(tnef_stream((2, 0x9002, b"\x01\x00"), (2, 0x9005, data_obj))))
    assert [a.data for a in parsed.attachments] == [b"not a TNEF stream"]
    assert "winmail.dat (TNEF) holds an embedded message that is not TNEF: kept as a file" in parsed.defects


def test_a_winmail_dat_of_countless_attachments_says_the_rest_were_not_read() -> None:
    stream = tnef_stream(*[(2, 0x9002, b"\x01\x00")] * (MAX_PARTS + 1))
    assert (
        f"winmail.dat (TNEF) holds more than {MAX_PARTS} attachments: the rest not read"
        in parse(winmail(stream)).defects
    )


# ------------------------------------------------------------------------------------------------ the safety net


class _Exploding(bytes):
    """Bytes on which every method the parser calls fails: a bug in the whole parse and in the headers fallback."""

    def removeprefix(self, prefix: bytes, /) -> bytes:
        raise RuntimeError("boom")

    def __getitem__(self, key: object) -> bytes:  # type: ignore[override]
        raise RuntimeError("boom")


def test_a_bug_in_both_the_parse_and_its_fallback_still_returns_a_message() -> None:
    with capture_logs() as logs:
        parsed = parse(_Exploding(b"From: a@b.co\r\nSubject: hola\r\n\r\ncuerpo"))
    assert parsed.facts.from_address is None
    assert parsed.defects == (
        "message could not be parsed (RuntimeError)",
        "headers could not be read either (RuntimeError)",
    )
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("mime.parse_failed", "warning"),
        ("mime.parse_failed", "warning"),
    ]


def test_the_defects_of_a_message_are_logged_once_in_english() -> None:
    raw = (
        HEAD
        + b"Message-ID: <r-1@alcaldia.gov.co>\r\nContent-Type: multipart/mixed\r\n\r\n"
        + body_with(b"b1", workbook_part())
    )
    with capture_logs() as logs:
        parse(raw)
    (entry,) = [e for e in logs if e["event"] == "mime.defects"]
    assert entry["log_level"] == "info"
    assert entry["message_id"] == "r-1@alcaldia.gov.co"
    assert "multipart/mixed part without a usable boundary: 1 part recovered from its delimiters" in entry["defects"]


def test_a_message_without_defects_logs_nothing() -> None:
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n' + body_with(b"b1", TEXT_PART, workbook_part())
    with capture_logs() as logs:
        parsed = parse(raw)
    assert (parsed.defects, logs) == ((), [])


# ------------------------------------------------------------------------------------------------ the outcome's reason


def test_the_reason_of_a_message_without_defects_is_unchanged() -> None:
    assert ParsedMessage(facts=MessageFacts()).reason_with_defects("no workbook attached") == "no workbook attached"


def test_the_reason_names_the_defects_as_printable_text() -> None:
    parsed = ParsedMessage(facts=MessageFacts(), defects=("x\udce9\x00y header longer than 65536 characters: cut", "b"))
    assert parsed.reason_with_defects("no workbook attached") == (
        "no workbook attached; MIME defects: x? y header longer than 65536 characters: cut; b"
    )


def test_a_long_list_of_defects_is_cut_in_the_reason() -> None:
    parsed = ParsedMessage(facts=MessageFacts(), defects=tuple(f"defect number {n}" for n in range(50)))
    reason = parsed.reason_with_defects("accepted with 0 warning(s)")
    assert reason.startswith("accepted with 0 warning(s); MIME defects: defect number 0; defect number 1; ")
    assert reason.endswith("…")
    assert len(reason) == len("accepted with 0 warning(s); MIME defects: ") + MAX_DEFECTS_NOTE
