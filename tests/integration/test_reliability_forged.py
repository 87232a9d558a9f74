"""Issue 9, item 4: forged and misdirected replies are never accepted, and no plan ever reaches another dependencia."""

from __future__ import annotations

import io
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from mailbot.adapters.db.models import OutboxMail
from mailbot.app import App
from mailbot.domain.workbook_format import SHEET_CONTROL, ControlField
from mailbot.services import digest
from tests.integration.test_daemon import prepared
from tests.integration.test_inbox_cycle import by_id, filled, mailing_of, poll
from tests.support.configs import SERVER_DEPENDENCIAS
from tests.support.mailservers import MailServers
from tests.support.replies import parse, reply, workbook_of
from tests.support.settle import all_delivered, exactly

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

PLANEACION = "planeacion@municipio.test"
OUTSIDER = "outsider@externo.test"
TRUSTED = "mx.municipio.test"


def control_of(workbook: bytes) -> dict[str, str]:
    ws = load_workbook(io.BytesIO(workbook))[SHEET_CONTROL]
    return {str(ws.cell(r, 1).value): str(ws.cell(r, 2).value) for r in range(1, ws.max_row + 1)}


def edit_control(workbook: bytes, field: str, value: str) -> bytes:
    wb = load_workbook(io.BytesIO(workbook))
    ws = wb[SHEET_CONTROL]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == field)
    ws.cell(row, 2).value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def message_id(raw: bytes) -> str:
    return str(parse(raw)["Message-ID"]).strip("<>")


def workbooks_in(message: EmailMessage) -> list[bytes]:
    found = []
    for part in message.walk():
        if str(part.get_filename() or "").lower().endswith(".xlsx"):
            data = part.get_content()
            assert isinstance(data, bytes)
            found.append(data)
    return found


def assert_no_plan_reaches_another_dependencia(app: App, mail: MailServers) -> None:
    """Every delivered mail and every queued one: its workbooks are signed for the dependencia that receives it."""
    owner = {address: code for code, address in SERVER_DEPENDENCIAS.items()}
    for code, address in SERVER_DEPENDENCIAS.items():
        for raw in mail.wait_for(address, count=1, timeout=30):
            for workbook in workbooks_in(parse(raw)):
                assert control_of(workbook)[ControlField.CODIGO_DEPENDENCIA] == code, f"{address} got another's plan"
    with app.sessions() as session:
        for row in session.scalars(select(OutboxMail)):
            codes = {owner[r] for r in row.recipients if r in owner}
            assert len(codes) <= 1, f"one mail to several dependencias: {row.recipients}"
            assert all(r in owner or r == PLANEACION or r.endswith("@municipio.test") for r in row.recipients)
            for workbook in workbooks_in(parse(row.raw)):
                assert {control_of(workbook)[ControlField.CODIGO_DEPENDENCIA]} == codes, row.recipients


def test_forged_and_misdirected_replies_are_held_for_planeacion_and_never_accepted(
    tmp_path: Path, mail: MailServers
) -> None:
    app, _ = prepared(tmp_path, mail, {"sender_policy": {"trusted_authserv_ids": [TRUSTED]}})
    hac, edu, sal = mailing_of(mail, "HAC"), mailing_of(mail, "EDU"), mailing_of(mail, "SAL")
    hac_plan = filled(app, workbook_of(hac), "HAC")
    edu_plan = filled(app, workbook_of(edu), "EDU")
    hac_token = control_of(workbook_of(hac))[ControlField.TOKEN]
    assert hac_token in str(hac["Reply-To"]), "the mailing's Reply-To carries the plus-address token"

    cases = {
        # Educación's own plan, its _control edited to say Hacienda: the signature fails.
        "edited_control": (
            reply(
                edu,
                sender=SERVER_DEPENDENCIAS["EDU"],
                attachments=[("Plan.xlsx", edit_control(edu_plan, ControlField.CODIGO_DEPENDENCIA, "HAC"))],
            ),
            SERVER_DEPENDENCIAS["EDU"],
        ),
        # A new message from Educación's address to Hacienda's plus address (the token of another dependencia).
        "other_token": (
            reply(
                None,
                sender=SERVER_DEPENDENCIAS["EDU"],
                to=f"planeacion+{hac_token}@municipio.test",
                body="Adjunto el plan.",
            ),
            SERVER_DEPENDENCIAS["EDU"],
        ),
        # Someone outside the municipality replying in Hacienda's thread with Hacienda's valid, signed plan.
        "outsider": (reply(hac, sender=OUTSIDER, attachments=[("Plan.xlsx", hac_plan)]), OUTSIDER),
        # Salud's address, but the municipality's receiving server says the From fails DMARC.
        "dmarc_fail": (
            reply(
                sal,
                sender=SERVER_DEPENDENCIAS["SAL"],
                attachments=[("Plan.xlsx", filled(app, workbook_of(sal), "SAL"))],
                headers={"Authentication-Results": f"{TRUSTED}; spf=fail smtp.mailfrom=municipio.test; dmarc=fail"},
            ),
            SERVER_DEPENDENCIAS["SAL"],
        ),
        # The same claim written by a server nobody configured is ignored: Hacienda's genuine reply is accepted.
        "untrusted_header": (
            reply(
                hac,
                sender=SERVER_DEPENDENCIAS["HAC"],
                attachments=[("Plan.xlsx", hac_plan)],
                headers={"Authentication-Results": "mx.attacker.test; spf=fail; dmarc=fail"},
            ),
            SERVER_DEPENDENCIAS["HAC"],
        ),
    }
    for raw, sender in cases.values():
        mail.send(raw, sender, [PLANEACION])
    mail.wait_for(PLANEACION, count=len(cases), timeout=30)

    assert poll(app) == {"quarantined": 3, "rejected_sender": 1, "accepted": 1}
    rows = by_id(app)
    outcome = {name: rows[message_id(raw)] for name, (raw, _) in cases.items()}
    assert outcome["edited_control"]["outcome"] == "quarantined"
    assert "signature" in outcome["edited_control"]["reason"]
    assert outcome["other_token"]["outcome"] == "quarantined"
    assert "plus_address=HAC" in outcome["other_token"]["reason"]
    assert "sender=EDU" in outcome["other_token"]["reason"]
    assert outcome["outsider"]["outcome"] == "rejected_sender"
    assert outcome["dmarc_fail"]["outcome"] == "quarantined"
    assert "dmarc=fail" in outcome["dmarc_fail"]["reason"]
    assert outcome["untrusted_header"]["outcome"] == "accepted"
    assert outcome["untrusted_header"]["radicado"] == "PA-2027-HAC-0001"
    assert not [r for r in rows.values() if r["radicado"] and r["dependencia"] != "HAC"]

    all_delivered(app, mail)  # the pass returned: anything it sent, wrongly or not, is delivered now
    with mail.mailbox(OUTSIDER) as box:
        assert list(box.uids()) == [], "never an answer to an outsider"
    sal_box = mail.wait_for(SERVER_DEPENDENCIAS["SAL"], count=1, timeout=10)
    assert len(sal_box) == 1, "a From the server calls forged is never answered (the answer would reach the victim)"
    # Educación: its mailing and two neutral notices (edited workbook, wrong token), none carrying a plan.
    edu_box = [parse(raw) for raw in exactly(mail, SERVER_DEPENDENCIAS["EDU"], 3)]
    for notice in edu_box[1:]:
        assert "una persona de Planeación lo revisará" in notice.get_body(("plain",)).get_content()
        assert workbooks_in(notice) == []
    assert_no_plan_reaches_another_dependencia(app, mail)

    # Planeación's digest lists every one of them in its attention section.
    result = digest.send(app, dry_run=tmp_path / "digest", force=True)
    html = result.written[1].read_text(encoding="utf-8")
    for name in ("edited_control", "other_token", "outsider", "dmarc_fail"):
        assert re.search(rf"Mensaje #{outcome[name]['id']}\b", html), f"{name} missing from the digest's attention list"
