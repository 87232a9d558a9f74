"""`mailbot demo` end to end, non-interactively: the README's first command must always work, and end where the
scenario says, which this file writes out by hand rather than reading it from the code under test.

Worked out from the scenario (`mailbot/services/demo.py`, the sample metas of `mailbot/services/sample_metas.py`):

Formulación: Hacienda and Desarrollo Social send correct plans (accepted, version 1). Educación goes over its POAI,
one meta raised by a tenth of it (P03: correction), then sends the plan within budget (accepted as version 2). Salud
leaves two metas without responsables (R01, R02: correction, nothing more sent). Gobierno's out-of-office is
automatic mail (no answer, still pending). Infraestructura forgets the attachment (answered sin_adjunto), then
answers that with a question instead of the plan (placa huella in square or linear metres): outcome question, the
question forwarded to planeación's contact (laura.gomez, consulta_reenviada, Reply-To the secretario) and the
secretario told a person will answer (consulta_recibida); still pending. Agricultura y Medio Ambiente attaches the
filled plan and the blank format (several_attachments, answered; no version is filed), then sends the plan alone:
accepted as version 1.

Seguimiento T1 goes to the four accepted plans, which report exactly what they programmed, but for Educación's
first meta (100 programmed, 40 reported: 40 %). A meta with nothing programmed in T1 is left out of the score.
    HAC  T1 programming 100, 100, 1.5, 70, 1, 0 → 5 metas at 100 %           → 100,0 %
    EDU  T1 programming 100, 100, 1.5, 3, 1800, 0 → (0.4 + 4 × 1) / 5         →  88,0 %
    SOC  T1 programming 1200, 850, 10, 1, 100 → 5 metas at 100 %               → 100,0 %
    AMB  T1 programming 50, 0, 0, 1 → 2 metas at 100 %                         → 100,0 %
    Municipality: the mean over the 17 programmed metas, (17 − 0.6) / 17 = 96.47 % → 96,5 % (all Sobresaliente, ≥ 80),
    standing on the 4 reports of the 7 dependencias: "4 de 7 dependencias reportaron".

Needs a person at the end (the attention queue, oldest first): Gobierno's out-of-office from its registered address
(away, until the 15 de enero it gives; nobody of Gobierno writes again, which would close it) and Infraestructura's
question (a person answers it: nothing automatic closes it). Salud's correction, Infraestructura's forgotten
attachment and Agricultura's two workbooks are answered automatically and open nothing; every acceptance closes
nothing because nothing of those dependencias is open.

Mails each secretaría receives: the formulación mailing, one answer per reply but the automatic one, and the T1
mailing and its acceptance when its plan was accepted. Planeación's contact receives the forwarded question.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from email import policy
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from mailbot.cli import cli

pytestmark = pytest.mark.sqlite_only  # the one-command demo keeps its own SQLite file, whatever the test run's engine

VIGENCIA = dt.datetime.now(ZoneInfo("America/Bogota")).year + 1  # the demo formulates next year's plan
SCORE = "Sobresaliente"
#: name → formulación state, radicado, T1 score, outcome of each reply (the closing table, blanks left out).
TABLE = {
    "Secretaría de Hacienda": ["accepted", f"PA-{VIGENCIA}-HAC-0001", f"100,0 % {SCORE}", "accepted, accepted"],
    "Secretaría de Educación": [
        "accepted",
        f"PA-{VIGENCIA}-EDU-0002",
        f"88,0 % {SCORE}",
        "correction_requested, accepted, accepted",
    ],
    "Secretaría de Salud": ["correction_requested", "correction_requested"],
    "Secretaría de Gobierno y Convivencia Ciudadana": ["pending", "automatic"],
    "Secretaría de Infraestructura": ["pending", "no_attachment, question"],
    "Secretaría de Desarrollo Social": [
        "accepted",
        f"PA-{VIGENCIA}-SOC-0001",
        f"100,0 % {SCORE}",
        "accepted, accepted",
    ],
    "Secretaría de Agricultura y Medio Ambiente": [
        "accepted",
        f"PA-{VIGENCIA}-AMB-0001",
        f"100,0 % {SCORE}",
        "several_attachments, accepted, accepted",
    ],
    "municipio": [f"96,5 % {SCORE}", "4 de 7 dependencias reportaron"],
}
#: mailbox → the kinds of mail it was sent, in order.
MAILS = {
    "hacienda": ["mailing", "aceptacion", "mailing", "aceptacion"],
    "educacion": ["mailing", "correccion", "aceptacion", "mailing", "aceptacion"],
    "salud": ["mailing", "correccion"],
    "gobierno": ["mailing"],
    "infraestructura": ["mailing", "sin_adjunto", "consulta_recibida"],
    "social": ["mailing", "aceptacion", "mailing", "aceptacion"],
    "ambiente": ["mailing", "varios_adjuntos", "aceptacion", "mailing", "aceptacion"],
    "laura.gomez": ["consulta_reenviada"],
}
#: The attention queue at the end, oldest first: (dependencia, kind).
NEEDS_A_PERSON = [("GOB", "away"), ("INF", "question")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One run of the command for the whole file: its output and the folder it kept."""
    keep = tmp_path_factory.mktemp("demo") / "kept"
    run = CliRunner().invoke(cli, ["demo", "--keep", str(keep)])
    assert run.exit_code == 0, run.output
    return run.stdout, keep


def test_the_closing_table_is_the_one_worked_out_by_hand(demo: tuple[str, Path]) -> None:
    out, _ = demo
    assert "every dependencia is where the scenario expects" in out
    rows = {}
    for line in out.splitlines():
        name = next((n for n in TABLE if line.startswith(f"{n} ")), None)
        if name is not None:
            rows[name] = " ".join(line[len(name) :].split())
    assert rows == {name: " ".join(fields) for name, fields in TABLE.items()}


def test_the_first_quarter_is_filed_for_the_four_accepted_plans(demo: tuple[str, Path]) -> None:
    out, _ = demo
    filed = sorted(set(re.findall(rf"SPA-{VIGENCIA}-T1-([A-Z]+)-0001", out)))
    assert filed == ["AMB", "EDU", "HAC", "SOC"]


def test_every_reply_but_the_automatic_one_is_answered(demo: tuple[str, Path]) -> None:
    """Read from the kept database through `mailbot outbox list`: what left, to whom, all of it sent."""
    _, keep = demo
    run = CliRunner().invoke(
        cli, ["--config", str(keep / "mailbot.yaml"), "outbox", "list", "--json", "--limit", "500"]
    )
    assert run.exit_code == 0, run.output
    rows = sorted(json.loads(run.stdout), key=lambda r: r["id"])
    assert {r["status"] for r in rows} == {"sent"}
    sent: dict[str, list[str]] = {}
    for row in rows:
        for address in row["recipients"]:
            sent.setdefault(address.split("@")[0], []).append(row["kind"])
    assert sent == MAILS


def test_the_kept_files_show_the_cycle(demo: tuple[str, Path]) -> None:
    """The digest leads with the quarter and its lagging meta; the workbooks and the archive are there."""
    _, keep = demo
    html = next(keep.glob("resumen/*.html")).read_text(encoding="utf-8")
    assert "Resumen del plan de acción" in html
    assert "cid:" in html
    assert "Seguimiento del trimestre 1" in html
    assert "Metas rezagadas" in html
    assert "EDU – " in html
    consolidated = load_workbook(keep / f"plan-de-accion-consolidado-{VIGENCIA}.xlsx")
    assert consolidated.sheetnames[0] == "Plan de acción"
    evaluation = load_workbook(keep / f"evaluacion-T1-{VIGENCIA}.xlsx")
    assert evaluation.sheetnames == ["Municipio", "Por dependencia", "Por meta", "Pendientes"]
    filed = sorted(p.parent.parent.name for p in (keep / "archivo" / "planes").rglob("v*-accepted-*.xlsx"))
    assert filed == ["AMB", "AMB", "EDU", "EDU", "HAC", "HAC", "SOC", "SOC"]


def _kept(keep: Path, *args: str) -> str:
    run = CliRunner().invoke(cli, ["--config", str(keep / "mailbot.yaml"), *args])
    assert run.exit_code == 0, run.output
    return run.stdout


def test_the_question_reached_the_contact_with_the_secretario_to_answer(demo: tuple[str, Path]) -> None:
    """The forwarded mail itself, read from the kept outbox: to the contact, the question quoted, «Responder» goes
    to Infraestructura's secretario, threaded to his message."""
    _, keep = demo
    rows = json.loads(_kept(keep, "outbox", "list", "--json", "--limit", "500"))
    (forward,) = [r for r in rows if r["kind"] == "consulta_reenviada"]
    with sqlite3.connect(keep / "mailbot.db") as db:
        (raw,) = db.execute("SELECT raw FROM outbox WHERE id = ?", (forward["id"],)).fetchone()
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    assert mail["To"] == "laura.gomez@villaesperanza.gov.co"
    assert mail["Reply-To"] == "infraestructura@villaesperanza.gov.co"
    assert mail["In-Reply-To"]
    assert "Secretaría de Infraestructura" in str(mail["Subject"])
    text = mail.get_body(("plain",)).get_content()
    assert "placa huella" in text
    assert "¿cómo convertimos los 4.000 m² del cuatrienio?" in " ".join(text.replace("> ", "").split())


def test_the_attention_queue_lists_what_needs_a_person(demo: tuple[str, Path]) -> None:
    """`mailbot attention list --json` on the kept database, and the same items after the closing table."""
    out, keep = demo
    items = json.loads(_kept(keep, "attention", "list", "--json"))
    assert [(i["dependencia"], i["kind"]) for i in items] == NEEDS_A_PERSON
    away, question = items
    assert (
        "Carlos Alberto Muñoz Ortiz (Secretaría de Gobierno y Convivencia Ciudadana) está ausente hasta el"
        in away["summary"]
    )
    assert "15 de enero" in away["summary"]
    assert "se reenvió a Laura Gómez Ruiz" in question["summary"]
    shown = out.split("needs a person", 1)[1]
    assert "2 open" in shown.splitlines()[0]
    for item in items:
        assert f"#{item['id']}" in shown
        assert item["summary"] in shown
