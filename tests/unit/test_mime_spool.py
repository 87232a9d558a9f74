"""A message parsed from its file leaves its long base64 bodies there, and reads the same as parsed in memory."""

from __future__ import annotations

import base64
import io
import random
from email import policy
from email.message import EmailMessage, MIMEPart

import pytest

from mailbot.adapters.mime import parse_message, parse_message_file
from mailbot.adapters.mime.spool import MIN_RUN, skeleton
from mailbot.domain.inbound import AttachmentPart, ParsedMessage

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _message() -> bytes:
    """A plan, a long annex, a long text body in base64, and a forwarded message, as it is and in base64."""
    inner = EmailMessage(policy=policy.SMTP)
    inner["From"] = "auxiliar@municipio.test"
    inner["Subject"] = "Plan reenviado"
    inner.set_content("Va el plan.")
    inner.add_attachment(random.Random(3).randbytes(400_000), maintype=XLSX[0], subtype=XLSX[1], filename="P.xlsx")
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "Secretaría de Hacienda <hacienda@municipio.test>"
    msg["To"] = "planeacion@municipio.test"
    msg["Subject"] = "Plan de acción"
    msg.set_content("Buenos días, adjunto el plan.\n" + "línea de texto larga\n" * 30_000, cte="base64")
    msg.add_attachment(b"PK\x03\x04" + b"\x00" * 2000, maintype=XLSX[0], subtype=XLSX[1], filename="Plan HAC.xlsx")
    annex = random.Random(5).randbytes(3 * MIN_RUN)
    msg.add_attachment(annex, maintype="application", subtype="pdf", filename="Anexo técnico.pdf")
    msg.add_attachment(inner)  # forwarded as it is: its own long base64 body is left in the file too
    encoded = MIMEPart(policy=policy.SMTP)  # forwarded in base64, as Python's EmailMessage may: kept for the walk
    encoded["Content-Type"] = "message/rfc822"
    encoded["Content-Transfer-Encoding"] = "base64"
    encoded.set_payload(base64.encodebytes(inner.as_bytes()).decode("ascii").replace("\n", "\r\n"))
    msg.attach(encoded)
    return msg.as_bytes()


def _same(a: ParsedMessage, b: ParsedMessage) -> None:
    assert (a.facts, a.text, a.defects, a.size) == (b.facts, b.text, b.defects, b.size)
    assert [_fields(p) for p in a.attachments] == [_fields(p) for p in b.attachments]


def _fields(p: AttachmentPart) -> tuple[object, ...]:
    return (p.filename, p.content_type, p.data, p.kind, p.origin, p.size, p.sha256, p.oversized)


@pytest.mark.parametrize("limit", [10 * 2**20, MIN_RUN], ids=["within the limit", "annex over the limit"])
def test_a_message_read_from_its_file_gives_what_the_whole_parse_gives(limit: int) -> None:
    raw = _message()
    whole = parse_message(raw, max_message_bytes=2**25, max_attachment_bytes=limit)
    from_file = parse_message_file(io.BytesIO(raw), len(raw), max_message_bytes=2**25, max_attachment_bytes=limit)
    _same(from_file, whole)
    names = [p.filename for p in from_file.attachments]
    assert names == ["Plan HAC.xlsx", "Anexo técnico.pdf", "P.xlsx", "P.xlsx"]  # the forwarded ones too
    assert from_file.attachments[1].oversized is (limit == MIN_RUN)
    assert from_file.text.startswith("Buenos días")


def test_the_parser_sees_a_skeleton_without_the_long_bodies() -> None:
    raw = _message()
    data, spool = skeleton(io.BytesIO(raw))
    assert len(spool.runs) == 3  # the annex, the text body, the plain forward's file; not the encoded forward
    assert len(data) < len(raw) - 3 * MIN_RUN
