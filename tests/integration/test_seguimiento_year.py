"""A whole vigencia on the real servers: formulación accepted, four quarters reported (one after a correction),
and the scores and grades every mail and the committee's workbook show equal a table computed by hand.

The plan (sample metas of `valid_metas`, programming per quarter in brackets):
    M1 Incremento    meta 600   [100, 200, 200, 100]
    M2 Mantenimiento meta 100   [100, 100, 100, 100]   (a level: A_q = E_q, PA_q = P_q)
    M3 Reducción     meta 5     [1.5, 1, 1.5, 1]
    M4 Incremento    meta 12    [0, 4, 4, 4]           (EDU only: nothing programmed in T1)

Reported execution per quarter, and the cumulative compliance min(A_q / PA_q, 1) worked out by hand:
    HAC M1 [80, 150, 250, 200]  T1 80/100 = 80 %, T2 230/300 = 76.7 %, T3 480/500 = 96 %, T4 680/600 → 100 % (113.3 %)
    HAC M2 [90, 100, 50, 100]   T1 90 %, T2 100 %, T3 50 % (Rezagada), T4 100 %
    HAC M3 [0, 0.5, 1, 2]       T1 0/1.5 = 0 % (Sin iniciar), T2 0.5/2.5 = 20 %, T3 1.5/4 = 37.5 %, T4 3.5/5 = 70 %
    EDU M1–M3 exactly as programmed: 100 % every quarter
    EDU M4 [—, 2, 4, 6]         T1 No programada, T2 2/4 = 50 %, T3 6/8 = 75 %, T4 12/12 = 100 %
Scores (mean over programmed metas):
    HAC  T1 (0.8+0.9+0)/3 = 56.7 % Bajo;  T2 (0.7667+1+0.2)/3 = 65.6 % Medio;  T3 (0.96+0.5+0.375)/3 = 61.2 % Medio;
         T4 (1+1+0.7)/3 = 90.0 % Sobresaliente
    EDU  T1 3/3 = 100 % (M4 left out, not a zero: 75 % if it were);  T2 3.5/4 = 87.5 %;  T3 3.75/4 = 93.8 %;  T4 100 %
    Municipality (mean over all programmed metas, not of the two scores):
         T1 4.7/6 = 78.3 % Satisfactorio;  T4 (2.7+4)/7 = 95.7 % Sobresaliente
Committed is half the planned pesos to date for every meta, so financial execution is 50,0 % everywhere.
EDU's T2 first comes back without the evidence of M4 (rule S04) and is accepted as version 2.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from mailbot.app import App
from mailbot.cli import cli
from mailbot.config import load_config
from mailbot.domain import rounds
from mailbot.domain.context import AvailableBudget
from mailbot.domain.espanol import trimestre
from mailbot.domain.seguimiento import QuarterReport
from mailbot.domain.workbook_format import SHEET_SEGUIMIENTO, Ronda
from mailbot.services import campaign, digest, outbox, seguimiento, setup
from mailbot.services.daemon import Watcher
from tests.support.configs import SERVER_DEPENDENCIAS, server_config
from tests.support.digest_html import cards
from tests.support.libreoffice import needs_libreoffice, roundtrip_xlsx
from tests.support.mailservers import MailServers
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of
from tests.support.seguimiento import edit_seguimiento, fill_quarter, read

pytestmark = [pytest.mark.slow, pytest.mark.storage]

VIGENCIA = 2027
PLANEACION = "planeacion@municipio.test"
EXECUTION = {
    "HAC": [[80, 150, 250, 200], [90, 100, 50, 100], ["0", "0.5", "1", "2"]],
    "EDU": [[100, 200, 200, 100], [100, 100, 100, 100], ["1.5", "1", "1.5", "1"], [None, 2, 4, 6]],
}
SCORES = {  # dependencia → quarter → (shown score, grade)
    "HAC": {1: ("56,7 %", "Bajo"), 2: ("65,6 %", "Medio"), 3: ("61,2 %", "Medio"), 4: ("90,0 %", "Sobresaliente")},
    "EDU": {
        1: ("100,0 %", "Sobresaliente"),
        2: ("87,5 %", "Sobresaliente"),
        3: ("93,8 %", "Sobresaliente"),
        4: ("100,0 %", "Sobresaliente"),
    },
}
CUMULATIVE = {  # (dependencia, meta index) → quarter → (shown cumulative compliance, state)
    ("HAC", 0): {1: ("80,0 %", "En ejecución"), 4: ("100,0 %", "Sobreejecutada")},
    ("HAC", 1): {2: ("100,0 %", "Cumplida"), 3: ("50,0 %", "Rezagada")},
    ("HAC", 2): {1: ("0,0 %", "Sin iniciar"), 2: ("20,0 %", "Rezagada"), 3: ("37,5 %", "Rezagada")},
    ("EDU", 3): {1: ("No programada", "No programada"), 2: ("50,0 %", "Rezagada"), 3: ("75,0 %", "En ejecución")},
}


class Year:
    """The municipality's mailboxes and mailbot, one quarter at a time."""

    def __init__(self, app: App, path: Path, mail: MailServers) -> None:
        self.app, self.path, self.mail = app, path, mail
        self.seen = {code: 0 for code in SERVER_DEPENDENCIAS}
        self.metas: dict[str, list[dict[str, Any]]] = {}
        self.last_sent: dict[str, bytes] = {}

    def next_mail(self, code: str) -> Any:
        self.seen[code] += 1
        found = self.mail.wait_for(SERVER_DEPENDENCIAS[code], count=self.seen[code], timeout=30)
        return parse(found[self.seen[code] - 1])

    def answer(self, sent: dict[str, bytes], originals: dict[str, Any]) -> dict[str, str]:
        """Each secretario replies with their file; mailbot processes the mailbox; returns each answer's text."""
        for code, data in sent.items():
            address = SERVER_DEPENDENCIAS[code]
            message = reply(originals[code], sender=address, attachments=[("Seguimiento.xlsx", data)])
            self.mail.send(message, address, [PLANEACION])
        self.mail.wait_for(PLANEACION, count=len(sent), timeout=30)
        watcher = Watcher(self.app, threading.Event())
        try:
            report = watcher.once()
        finally:
            watcher.close()
        assert report.fetched == len(sent)
        outbox.flush(self.app.sessions, self.app.senders, self.app.clock.now)
        return {code: self.next_mail(code).get_body(("plain",)).get_content() for code in sent}


@pytest.fixture
def year(tmp_path: Path, mail: MailServers) -> Iterator[Year]:
    path = server_config(tmp_path, mail)
    app = App(load_config(path, environ={}))
    setup.upgrade_storage(app)
    yield Year(app, path, mail)
    app.close()


def formulate(year: Year) -> None:
    campaign.start(year.app, VIGENCIA)
    outbox.flush(year.app.sessions, year.app.senders, year.app.clock.now)
    originals, sent = {}, {}
    for code in EXECUTION:
        originals[code] = year.next_mail(code)
        dep = year.app.config.dependencia(code)
        budget = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
        metas = valid_metas(len(EXECUTION[code]), budget, dependencia=code)
        if code == "EDU":
            metas[3].update(phys_t1=0, phys_t2=4, phys_t3=4, phys_t4=4)
        year.metas[code] = metas
        sent[code] = fill_plan(workbook_of(originals[code]), metas)
    for code, text in year.answer(sent, originals).items():
        assert f"PA-{VIGENCIA}-{code}-0001" in text, text


def quarter_reports(year: Year, code: str, data: bytes, q: int) -> dict[str, QuarterReport]:
    """The responsable's figures for quarter q: the execution of the table, half the pesos planned to date."""
    parsed = read(data)
    baseline_rows = {row.number: row for row in parsed.seguimiento}
    out = {}
    for index, meta in enumerate(year.metas[code]):
        executed = EXECUTION[code][index][q - 1]
        row = baseline_rows[6 + index]
        assert str(row.cell("meta_code").value) == meta["meta_code"]
        budget_to_date = sum(
            int(meta[f"{source}_t{k}"])
            for source in ("poai", "funcionamiento", "cofinanciacion")
            for k in range(1, q + 1)
        )
        committed = budget_to_date // 2
        out[meta["meta_code"]] = QuarterReport(
            execution=None if executed is None else Decimal(str(executed)),
            committed=committed,
            obligated=committed // 2,
            paid=committed // 4,
            evidence=f"https://municipio.test/evidencias/{code}/{meta['meta_code']}/T{q}.pdf",
            explanation=f"Avance del trimestre {q} con soportes en el enlace.",
        )
    return out


def run_quarter(year: Year, q: int, *, spoil_edu: bool = False) -> dict[str, str]:
    ronda = Ronda(f"seguimiento-T{q}")
    if q == 1:  # the scheduled start on the cut-off day, as the daemon runs it; a second run sends nothing
        cutoff = rounds.cutoff(year.app.config.rounds.days(), ronda, VIGENCIA)
        assert campaign.start_due(year.app, cutoff) == [f"seguimiento-T1 {VIGENCIA}: HAC, EDU"]
        assert campaign.start_due(year.app, cutoff) == []
    else:
        report = campaign.start(year.app, VIGENCIA, ronda=ronda)
        assert sorted(report.queued) == ["EDU", "HAC"]
        assert sorted(report.no_plan) == ["GOB", "SAL"], "only dependencias with an accepted plan are followed up"
    outbox.flush(year.app.sessions, year.app.senders, year.app.clock.now)
    originals, sent = {}, {}
    for code in EXECUTION:
        originals[code] = year.next_mail(code)
        assert f"trimestre {q}" in originals[code]["Subject"]
        workbook = workbook_of(originals[code])
        assert_earlier_quarters_locked(workbook, q)
        reports = quarter_reports(year, code, workbook, q)
        sent[code] = fill_quarter(workbook, q, reports)
    year.last_sent = dict(sent)
    if spoil_edu:
        edu = quarter_reports(year, "EDU", workbook_of(originals["EDU"]), q)
        m4 = year.metas["EDU"][3]["meta_code"]
        edu[m4] = QuarterReport(**{**edu[m4].__dict__, "evidence": ""})
        first = year.answer({"EDU": fill_quarter(workbook_of(originals["EDU"]), q, edu)}, originals)
        assert "S04" in first["EDU"]
        assert "evidencia" in first["EDU"].lower() or "soporta" in first["EDU"]
    return year.answer(sent, originals)


def assert_earlier_quarters_locked(workbook: bytes, q: int) -> None:
    """Earlier quarters come filled in and locked; the current quarter's cells are open."""
    ws = load_workbook(io.BytesIO(workbook))[SHEET_SEGUIMIENTO]
    labels = {str(c.value): c.column_letter for c in ws[5] if c.value}
    current = ws[f"{labels[f'Ejecución física T{q}']}6"]
    assert current.protection.locked is False
    if q > 1:
        earlier = ws[f"{labels[f'Ejecución física T{q - 1}']}6"]
        assert earlier.protection.locked is True
        assert earlier.value is not None, "the accepted execution of the previous quarter is filled in"


@pytest.mark.libreoffice
@needs_libreoffice
def test_a_whole_year_matches_the_hand_computed_table(year: Year, tmp_path: Path) -> None:
    formulate(year)
    for q in (1, 2, 3, 4):
        answers = run_quarter(year, q, spoil_edu=q == 2)
        for code, text in answers.items():
            version = 2 if (code == "EDU" and q == 2) else 1
            assert f"SPA-{VIGENCIA}-T{q}-{code}-{version:04d}" in text, text
            score, grade = SCORES[code][q]
            assert f"al corte del {trimestre(q)}: {score} – {grade}" in text, text
            for (dep, index), by_quarter in CUMULATIVE.items():
                if dep != code or q not in by_quarter:
                    continue
                shown, state = by_quarter[q]
                block = meta_block(text, str(year.metas[code][index]["meta_code"]))
                assert f"Cumplimiento acumulado: {shown}" in block, block
                assert f"Estado: {state}\n" in block, block
            assert "Ejecución financiera: 50,0 %" in text or "Ejecución financiera: —" in text
        if q == 1:
            check_validate_command(year, tmp_path)
            t1 = seguimiento.quarter_result(year.app, VIGENCIA, Ronda.SEGUIMIENTO_T1).evaluation
            assert t1.score is not None
            assert f"{t1.score * 100:.1f}" == "78.3"
            assert t1.grade is not None
            assert t1.grade.name == "Satisfactorio"

    hac_t4 = meta_block(answers["HAC"], str(year.metas["HAC"][0]["meta_code"]))
    assert "(reportado 113,3 %)" in hac_t4, "execution above the meta is shown, though capped for the score"

    out = tmp_path / "evaluacion-T4.xlsx"
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(year.path),
            "export",
            "--vigencia",
            str(VIGENCIA),
            "--ronda",
            "seguimiento-T4",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 accepted report(s), 2 dependencia(s) missing; municipality score 95.7 %" in result.output
    figures = evaluation_figures(out.read_bytes())
    assert figures["HAC"] == (Decimal("0.9"), "Sobresaliente")
    assert figures["EDU"] == (Decimal("1"), "Sobresaliente")
    (tmp_path / "lo").mkdir()
    reopened = evaluation_figures(roundtrip_xlsx(out.read_bytes(), tmp_path / "lo"))
    assert reopened == figures, "LibreOffice shows the same figures"

    digest_result = digest.send(year.app, dry_run=tmp_path / "digest", force=True)
    text = digest_result.written[0].read_bytes().decode("utf-8", "replace")
    section = digest_result.context["seguimiento"]
    assert section["trimestre"] == 4
    assert section["municipio_puntaje"] == "95,7 %"
    assert section["cobertura"] == "2 de 4 dependencias reportaron", "the score says how much it stands on"
    assert "95,7 %" in digest_result.written[1].read_text(encoding="utf-8").split("2 de 4 dependencias reportaron")[0]
    rows = {r["codigo"]: (r["puntaje"], r["calificacion"]) for r in section["filas"]}
    assert rows["HAC"] == ("90,0 %", "Sobresaliente")
    assert rows["SAL"] == ("Sin reporte aceptado", "")
    assert "cumplimiento@mailbot" in text
    # On a phone each dependencia's quarter is one card: code, score, grade and radicado together.
    found = cards(digest_result.written[1].read_text(encoding="utf-8"), "Seguimiento del trimestre 4")
    assert set(found) == {d.code for d in year.app.config.dependencias}
    hac = next(r for r in section["filas"] if r["codigo"] == "HAC")
    assert found["HAC"].endswith(f"Cumplimiento: 90,0 % Sobresaliente Radicado: {hac['radicado']}")
    assert hac["radicado"].startswith("SPA-")
    assert found["SAL"].endswith("Cumplimiento: Sin reporte aceptado")


def meta_block(text: str, meta_code: str) -> str:
    """The acceptance's lines about one meta: from its code to the next blank line."""
    lines = text.replace("\r\n", "\n").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{meta_code} "))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return "\n".join(lines[start:end]) + "\n"


def check_validate_command(year: Year, tmp_path: Path) -> None:
    """`mailbot validate` checks a seguimiento against the accepted plan in storage, so S05 is caught by hand too."""
    good = tmp_path / "hac-t1.xlsx"
    good.write_bytes(year.last_sent["HAC"])
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(year.path), "validate", str(good), "--json"])
    assert result.exit_code == 0, result.output
    first = year.metas["HAC"][0]["meta_code"]
    bad = tmp_path / "hac-t1-changed.xlsx"
    bad.write_bytes(edit_seguimiento(year.last_sent["HAC"], {(first, "meta_vigencia"): 1}))
    result = runner.invoke(cli, ["--config", str(year.path), "validate", str(bad), "--json"])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["cell"]) for f in findings] == [("S05", "F6")]


def evaluation_figures(data: bytes) -> dict[str, tuple[Decimal, str]]:
    """`Por dependencia`: code → (score as a fraction, grade), read by header label."""
    ws = load_workbook(io.BytesIO(data), data_only=True)["Por dependencia"]
    rows = list(ws.iter_rows(values_only=True))
    header_index = next(i for i, r in enumerate(rows) if "Código dependencia" in r)
    header = [str(c) if c is not None else "" for c in rows[header_index]]
    code_col = header.index("Código dependencia")
    score_col = header.index("Cumplimiento")
    grade_col = header.index("Calificación")
    out = {}
    for row in rows[header_index + 1 :]:
        if row[code_col] in EXECUTION:
            out[str(row[code_col])] = (
                Decimal(str(row[score_col])).quantize(Decimal("0.001")).normalize(),
                str(row[grade_col]),
            )
    return out
