"""Every mail template renders, for every round, with realistic data and the daemon's own context functions.

The templates are found from the folder: a new file is rendered here without a new test (its sample data goes in
mailbot/services/mail_samples.py, which `mailbot config check` uses too).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailbot.adapters.mail_templates import check, environment, mail_name
from mailbot.config import MailbotConfig
from mailbot.domain.workbook_format import Ronda
from mailbot.services import mail_samples
from tests.support.mail_samples import NOT_TO_A_SECRETARIO, TEMPLATES, contexts, example_config, template_files

CONFIG = example_config()
MARKERS = ("{{", "}}", "{%", "%}", "{#")
LEAKS = re.compile(r"\bNone\b|\[\]|\bundefined\b")
SHORTCUTS = re.compile(r"\(s\)|\(a\)|\(es\)")  # "punto(s)", "Apreciado(a)": agreement is written out


def render_all(config: MailbotConfig, filename: str, ronda: Ronda) -> list[str]:
    template = environment(None).get_template(filename)
    return [template.render(context) for context in contexts(config, filename, ronda)]


@pytest.mark.parametrize("ronda", list(Ronda), ids=str)
@pytest.mark.parametrize("path", template_files(), ids=lambda p: p.name)
def test_every_template_renders_in_every_round_without_markers_or_leaks(path: Path, ronda: Ronda) -> None:
    """No Jinja left in the output, no Python values ("None", "[]"), no "(s)" / "(a)" agreement shortcuts."""
    rendered = render_all(CONFIG, path.name, ronda)
    if not rendered:
        every = [r for r in Ronda if contexts(CONFIG, path.name, r)]
        assert every, f"{path.name} is rendered in no round"
        pytest.skip(f"{mail_name(path.name)} is not sent in {ronda}")
    for text in rendered:
        assert text.strip() or path.name.startswith("_"), path.name
        for marker in MARKERS:
            assert marker not in text, f"{path.name}: {marker!r} left in the output"
        leak = LEAKS.search(text)
        assert leak is None, f"{path.name}: {leak.group(0)!r} in {text[max(0, leak.start() - 80) : leak.end() + 40]!r}"
        shortcut = SHORTCUTS.search(text)  # planeación's digest too: it is read at a public office
        assert shortcut is None, f"{path.name}: {text[max(0, shortcut.start() - 80) : shortcut.end() + 40]!r}"


@pytest.mark.parametrize("path", [p for p in template_files() if not p.name.startswith("_")], ids=lambda p: p.name)
def test_every_mail_to_a_secretario_shows_planeacions_contact(path: Path) -> None:
    """The contact (name, phone, address) comes from the base frame / text base, not from each template."""
    if mail_name(path.name) in NOT_TO_A_SECRETARIO:
        pytest.skip("planeación's own digest")
    contact = CONFIG.effective_contact
    for ronda in Ronda:
        for text in render_all(CONFIG, path.name, ronda):
            assert contact.name in text
            assert contact.email in text
            assert contact.phone is not None
            assert contact.phone in text


def test_without_a_contact_section_the_mails_name_planeacions_mailbox() -> None:
    config = CONFIG.model_copy(update={"contact": None})
    (text, *_) = render_all(config, "sin_adjunto.txt.j2", Ronda.FORMULACION)
    assert f"Escriba a la {config.smtp.from_name}" in text  # "Secretaría de Planeación – Plan de acción"
    assert f"Correo: {config.smtp.from_address}" in text
    assert "Teléfono" not in text


def test_several_attachments_lists_them_and_asks_for_the_one_workbook() -> None:
    """The template that did not render at all (a Jinja expression broken across lines) now names each file."""
    for name in ("varios_adjuntos.txt.j2", "varios_adjuntos.html.j2"):
        (text,) = render_all(CONFIG, name, Ronda.FORMULACION)
        dep = mail_samples.sample_dependencia(CONFIG)
        assert f"Plan de acción 2027 – {dep.name}.xlsx" in text
        assert f"Plan de acción 2027 – {dep.name} (2).xlsx" in text
        assert "solo el archivo del formato E-DE-F-010" in text


@pytest.mark.parametrize("name", ["recordatorio", "aviso_vencido"])
def test_reminders_speak_of_the_round_at_hand(name: str) -> None:
    """Formulación: the laws and 31 January. Seguimiento: the plan is accepted; the quarter's report is missing."""
    for text in render_all(CONFIG, f"{name}.txt.j2", Ronda.FORMULACION):
        assert "Ley 1474 de 2011" in text
        assert "Ley 152 de 1994" in text
        assert "31 de enero de 2027" in text
    for ronda, cutoff in ((Ronda.SEGUIMIENTO_T1, "31 de marzo de 2027"), (Ronda.SEGUIMIENTO_T3, "30 de septiembre")):
        for text in render_all(CONFIG, f"{name}.txt.j2", ronda):
            assert "Ley 1474" not in text
            assert "31 de enero" not in text
            assert "plan de acción aceptado" not in text  # the plan IS accepted in a seguimiento round
            assert "está aceptado (radicado PA-2027-" in text
            assert f"corte al {cutoff}" in text
            assert "consejo de gobierno" in text


def test_reminders_agree_in_number_and_name_the_attached_workbook() -> None:
    days_left, with_findings, today = render_all(CONFIG, "recordatorio.txt.j2", Ronda.FORMULACION)
    assert "(faltan 3 días hábiles)" in days_left
    assert "Le adjuntamos de nuevo el formato («E-DE-F-010 Plan de acción 2027" in days_left
    assert "(falta 1 día hábil)" in with_findings
    assert "3 puntos por corregir" in with_findings
    assert "(es hoy)" in today


def test_acceptance_says_what_follows_and_keeps_archive_paths_and_hashes_out() -> None:
    for ronda in Ronda:
        for name in ("aceptacion.txt.j2", "aceptacion.html.j2"):
            for text in render_all(CONFIG, name, ronda):
                assert "SHA-256" not in text
                assert "ab" * 32 not in text
                assert "planes/2027/" not in text
                assert "consejo de gobierno" in text
    (formulacion, _) = render_all(CONFIG, "aceptacion.txt.j2", Ronda.FORMULACION)
    assert "a más tardar el 31 de enero de 2027 (Ley 1474 de 2011, artículo 74)" in formulacion
    assert "31 de marzo, 30 de junio, 30 de septiembre y 31 de diciembre de 2027" in formulacion
    (t1, _) = render_all(CONFIG, "aceptacion.txt.j2", Ronda.SEGUIMIENTO_T1)
    assert "El próximo corte es el 30 de junio de 2027" in t1
    assert "1 meta está rezagada" in t1
    assert "ponerla al día" in t1


def test_salutation_uses_the_configured_form_of_address_without_repeating_the_title() -> None:
    (registered, assistant) = render_all(CONFIG, "aceptacion.txt.j2", Ronda.FORMULACION)
    dep = mail_samples.sample_dependencia(CONFIG)
    assert dep.head.form_of_address
    assert registered.startswith(f"{dep.head.form_of_address} {dep.head.name}\n{dep.head.title}\n")
    assert assistant.startswith("Marta Lucía Ríos\n\nReciba un cordial saludo.")
    for ronda in Ronda:
        for path in template_files():
            for text in render_all(CONFIG, path.name, ronda):
                assert "Apreciado" not in text
                assert "de Secretaría" not in text
                assert "de Despacho" not in text
                assert "de Oficina" not in text


def test_mails_to_secretarios_have_no_wide_tables() -> None:
    """On a phone the acceptance summary, the 9-column seguimiento table and the findings are stacked cards."""
    for path in template_files():
        if not path.name.endswith(".html.j2") or mail_name(path.name) in NOT_TO_A_SECRETARIO:
            continue
        for ronda in Ronda:
            for html in render_all(CONFIG, path.name, ronda):
                assert "<th" not in html, path.name
                for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S):
                    assert row.count("<td") <= 2, f"{path.name}: {row[:120]}"
    (html, _) = render_all(CONFIG, "aceptacion.html.j2", Ronda.SEGUIMIENTO_T2)
    assert html.count('role="presentation" width="100%"') >= 3 + 1  # a card per meta, and the contact


def test_a_mistake_in_an_overridden_frame_is_reported_once_with_its_line(tmp_path: Path) -> None:
    """Every mail extends `_base.txt.j2`: an unknown variable there is one problem at the frame's line."""
    shipped = (TEMPLATES / "_base.txt.j2").read_text("utf-8")
    (tmp_path / "_base.txt.j2").write_text(shipped.replace("{{ remitente }}", "{{ remitente_nombre }}"), "utf-8")
    line = 1 + shipped.splitlines().index("{{ remitente }}")
    problems = check(tmp_path, lambda name: mail_samples.contexts(CONFIG, name))
    assert problems == [f"{tmp_path / '_base.txt.j2'}:{line}: 'remitente_nombre' is undefined"]


def test_the_shipped_templates_have_no_problem() -> None:
    assert check(None, lambda name: mail_samples.contexts(CONFIG, name)) == []
