"""The quick header folding and the header cache write exactly the bytes the standard SMTP policy writes."""

from __future__ import annotations

import datetime as dt
import random
import re
from email import message_from_bytes
from email.generator import Generator
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy, Policy, default

from mailbot.adapters.mail_builder import QUICK_SMTP, _Generator, build_message, message_bytes
from mailbot.domain.outgoing import AutoSubmitted, OutgoingAttachment, OutgoingMail, thread_references

_BOUNDARY = re.compile(rb"===============\d+==")


def _compose(policy: Policy) -> EmailMessage:
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
        msg.add_attachment(b"PK\x03\x04" * 5000, maintype="application", subtype=sheet, filename=name)
    return msg


def _message(policy: Policy) -> bytes:
    return _BOUNDARY.sub(b"BOUNDARY", _compose(policy).as_bytes())


def test_quick_folding_writes_the_same_bytes_as_the_smtp_policy() -> None:
    quick, standard = _message(QUICK_SMTP), _message(SMTP)
    assert quick == standard
    assert b"\r\nTo: hacienda@municipio.test, Otro Nombre <otro@municipio.test>\r\n" in quick


def test_headers_seen_before_are_written_the_same_way() -> None:
    """The second message reuses the first one's header objects and folded text: still the SMTP policy's bytes."""
    first, second, standard = _message(QUICK_SMTP), _message(QUICK_SMTP), _message(SMTP)
    assert first == second == standard


def test_values_that_decode_alike_keep_their_own_bytes() -> None:
    """A header cached by its text must not lend its folding to another text that decodes to the same words."""
    for value in ("=?utf-8?q?hola?= mundo", "hola mundo", "=?utf-8?q?acci=C3=B3n?= plan", "acción plan"):
        quick, standard = (EmailMessage(policy=p) for p in (QUICK_SMTP, SMTP))
        for msg in (quick, standard):
            msg["Subject"] = value
            msg["X-Other"] = value
        assert quick.as_bytes() == standard.as_bytes()


def _answer(i: int) -> OutgoingMail:
    """An answer with the tricky values: accents, a long subject, many recipients, a long thread."""
    many = tuple(f"funcionario.{n}.secretaria@dependencia-{n}.municipio.test" for n in range(12))
    return OutgoingMail(
        kind="correction",
        to=("jefe.oficina@municipio.test",),
        cc=many,
        reply_to="planeacion+0123456789abcdef0123@municipio.test",
        subject="RE: [E-DE-F-010 GOB 2027] Formulación del plan de acción 2027 – Secretaría de Gobierno y "
        f"Convivencia Ciudadana (versión {i}, revisión según observaciones)",
        text="Buenos días.\n\nEl plan de acción tiene correcciones pendientes: «Metas», fila 12.\n",
        html="<p>Buenos días.</p><p>El plan de acción tiene correcciones pendientes: «Metas», fila 12.</p>",
        auto_submitted=AutoSubmitted.REPLIED,
        in_reply_to=f"CAFx{i}.respuesta@correo.municipio.test",
        references=thread_references(
            f"CAFx{i}.respuesta@correo.municipio.test",
            tuple(f"{n}.20261203.mensaje-anterior-del-hilo@planeacion.municipio.test" for n in range(14)),
        ),
        attachments=(OutgoingAttachment(f"Correcciones E-DE-F-010 GOB 2027 v{i} – revisión.xlsx", b"PK\x03\x04"),),
    )


def _build(mail: OutgoingMail, policy: EmailPolicy) -> bytes:
    return build_message(
        mail,
        message_id="20261203.1.answer@planeacion.municipio.test",
        from_address="planeacion@municipio.test",
        from_name="Secretaría de Planeación – Plan de acción",
        loop_value="planeacion@municipio.test",
        now=dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC),
        policy=policy,
    )


def test_an_answer_has_the_bytes_and_header_values_of_the_smtp_policy() -> None:
    for i in (1, 1, 2):  # the same answer twice (everything seen before), then one with other values
        mail = _answer(i)
        quick, standard = _build(mail, QUICK_SMTP), _build(mail, SMTP)
        assert _BOUNDARY.sub(b"BOUNDARY", quick) == _BOUNDARY.sub(b"BOUNDARY", standard)
        # RFC 5322: lines of at most 78 characters where there is a place to fold, never over 998
        long = [line for line in quick.split(b"\r\n") if len(line) > 78]
        assert all(len(line) <= 998 and len(line.split(b" ")) <= 2 for line in long), long
        read = message_from_bytes(quick, policy=default)
        assert read["Content-Language"] == "es-CO"
        assert read["Subject"] == mail.subject
        # CPython's default-policy parser shows a stray space between two folded encoded words ("acci ón"): the
        # stdlib's RFC 2047 decoder (like mail clients) reads the name as written
        raw_from = dict(read.raw_items())["From"]
        assert str(make_header(decode_header(raw_from))) == (
            "Secretaría de Planeación – Plan de acción <planeacion@municipio.test>"
        )
        assert [a.addr_spec for a in read["Cc"].addresses] == list(mail.cc)
        assert read["In-Reply-To"] == f"<{mail.in_reply_to}>"
        assert read["References"].split() == [f"<{ref}>" for ref in mail.references]
        assert len(mail.references) == 10
        attachment = next(iter(read.iter_attachments()))
        assert attachment.get_filename() == mail.attachments[0].filename


def test_the_generator_writes_what_the_stdlib_generator_writes() -> None:
    msg = _compose(SMTP)
    ours = message_bytes(msg)  # chooses the boundaries, which the message keeps
    assert ours == msg.as_bytes()
    assert ours.count(b"\r\n") > 300  # the attachment's base64 lines, each ended as the policy says
    assert b"\n" not in ours.replace(b"\r\n", b"")


def test_a_boundary_found_in_the_text_is_replaced_by_the_stdlib_check() -> None:
    random.seed(19)
    first = Generator._make_boundary()  # type: ignore[attr-defined]
    random.seed(19)
    text = f"hola\r\n--{first}\r\nmundo".encode()
    chosen = _Generator._make_boundary(text)
    assert chosen != first
    assert f"--{chosen}\r\n".encode() not in text
