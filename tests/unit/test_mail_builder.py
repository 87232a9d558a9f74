"""The quick header folding writes exactly the bytes the standard SMTP policy writes."""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, Policy

from mailbot.adapters.mail_builder import QUICK_SMTP

_BOUNDARY = re.compile(rb"===============\d+==")


def _message(policy: Policy) -> bytes:
    """Every kind of header an answer carries, short and long, ASCII and not, with parameters and comments."""
    msg = EmailMessage(policy=policy)
    msg["From"] = Address(display_name="Planeación Municipal", addr_spec="planeacion@municipio.test")
    msg["To"] = "hacienda@municipio.test, Otro Nombre <otro@municipio.test>"
    msg["Cc"] = '"Pérez, Juan" <j@municipio.test>, "Ruiz, Ana" <a@municipio.test>'
    msg["Reply-To"] = "planeacion+0123456789abcdef@municipio.test"
    msg["Subject"] = "Re: Plan de acción 2027 [E-DE-F-010 HAC 2027]"
    msg["X-Plain-Subject"] = "Re: Plan de accion 2027 [E-DE-F-010 HAC 2027]"
    msg["Date"] = "Thu, 03 Dec 2026 12:00:00 -0500"
    msg["Message-ID"] = "<1234.5678@municipio.test>"
    msg["In-Reply-To"] = "<abc@x.test>"
    msg["References"] = " ".join(f"<mensaje-{i}-con-un-identificador-largo@municipio.test>" for i in range(4))
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Weird"] = 'a "quoted" (comment) text; x=1'
    msg["X-Encoded-Looking"] = "=?utf-8?q?hola?= mundo"
    msg.set_content("Hola ñandú. " * 40, subtype="plain", charset="utf-8")
    msg.add_alternative("<p>Hola ñandú</p>", subtype="html", charset="utf-8")
    html = msg.get_body(("html",))
    assert isinstance(html, EmailMessage)
    html.add_related(b"\x89PNG\r\n", maintype="image", subtype="png", cid="<estados@mailbot>")
    sheet = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for name in ("Correcciones E-DE-F-010 HAC 2027 v2.xlsx", "Plan de acción – Hacienda.xlsx", "a;b.xlsx"):
        msg.add_attachment(b"PK\x03\x04", maintype="application", subtype=sheet, filename=name)
    return _BOUNDARY.sub(b"BOUNDARY", msg.as_bytes())


def test_quick_folding_writes_the_same_bytes_as_the_smtp_policy() -> None:
    quick, standard = _message(QUICK_SMTP), _message(SMTP)
    assert quick == standard
    assert b"\r\nTo: hacienda@municipio.test, Otro Nombre <otro@municipio.test>\r\n" in quick
