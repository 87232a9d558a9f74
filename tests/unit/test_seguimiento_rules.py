"""S01–S05 on generated seguimiento workbooks: each test changes one thing and asserts exactly what is found.

Every workbook starts as the real seguimiento template built on a valid accepted plan, filled with the correct
answer (`reports_for`): no findings at all. Each test then does what a responsable might do wrong.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from mailbot.config import MailbotConfig, load_config
from mailbot.domain.findings import Finding
from mailbot.domain.rules import validate
from mailbot.domain.seguimiento import QuarterReport
from mailbot.domain.workbook_format import EXPLANATION_MAX_CHARS, SEGUIMIENTO_LETTERS, SHEET_SEGUIMIENTO
from mailbot.services.validation import build_context
from tests.support.configs import write_config
from tests.support.plans import make_plan
from tests.support.seguimiento import (
    SeguimientoCase,
    edit_seguimiento,
    fill_quarter,
    make_seguimiento,
    read,
    reports_for,
    ronda_of,
)
from tests.support.workbooks import edit_workbook


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MailbotConfig:
    return load_config(write_config(tmp_path_factory.mktemp("cfg")), environ={})


@pytest.fixture(scope="module")
def t1(config: MailbotConfig) -> SeguimientoCase:
    return make_seguimiento(config, "HAC", 1, n=5)


@pytest.fixture(scope="module")
def t3(config: MailbotConfig) -> SeguimientoCase:
    """T3 with T1 and T2 accepted before: their values are in the file, locked."""
    return make_seguimiento(config, "HAC", 3, n=5, reported={1, 2})


def check(config: MailbotConfig, case: SeguimientoCase, data: bytes) -> list[Finding]:
    context = build_context(config, "HAC", vigencia=2027, ronda=ronda_of(case.baseline.quarter), baseline=case.baseline)
    return validate(read(data), context)


def codes(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.code, f.severity.value) for f in findings}


def answered(case: SeguimientoCase) -> bytes:
    """The correct answer for every open quarter."""
    data = case.data
    for q in case.baseline.open_quarters:
        data = fill_quarter(data, q, reports_for(case.baseline, q))
    return data


def code_of(case: SeguimientoCase, index: int = 0) -> str:
    return case.baseline.metas[index].meta_code


def first_programmed(case: SeguimientoCase, q: int) -> str:
    return next(m.meta_code for m in case.baseline.metas if m.planned(q) > 0)


def test_the_correct_answer_has_no_findings(config: MailbotConfig, t1: SeguimientoCase, t3: SeguimientoCase) -> None:
    assert check(config, t1, answered(t1)) == []
    assert check(config, t3, answered(t3)) == []


def test_the_blank_workbook_asks_for_every_programmed_execution(config: MailbotConfig, t1: SeguimientoCase) -> None:
    findings = check(config, t1, t1.data)
    s01 = [f for f in findings if f.code == "S01"]
    programmed = [m for m in t1.baseline.metas if m.planned(1) > 0]
    assert len(s01) == len(programmed) > 0
    assert all(
        f.sheet == SHEET_SEGUIMIENTO and f.cell and f.cell.startswith(SEGUIMIENTO_LETTERS["exec_t1"]) for f in s01
    )


def test_s01_missing_execution_of_a_programmed_meta(config: MailbotConfig, t1: SeguimientoCase) -> None:
    code = first_programmed(t1, 1)
    data = edit_seguimiento(answered(t1), {(code, "exec_t1"): None})
    findings = check(config, t1, data)
    assert codes(findings) == {("S01", "E")}
    assert "programada" in findings[0].message


def test_s01_execution_that_is_not_a_number(config: MailbotConfig, t1: SeguimientoCase) -> None:
    data = edit_seguimiento(answered(t1), {(code_of(t1), "exec_t1"): "casi todo"})
    findings = check(config, t1, data)
    assert codes(findings) == {("S01", "E")}
    assert findings[0].value == "casi todo"


def test_s01_not_required_where_nothing_was_programmed(config: MailbotConfig) -> None:
    """A meta with nothing programmed in the quarter may leave its execution empty (and needs no explanation)."""

    def start_in_t2(metas: list[dict[str, object]]) -> None:
        incremento = next(m for m in metas if m["meta_type"] == "Incremento")
        incremento["phys_t2"] = Decimal(str(incremento["phys_t1"])) + Decimal(str(incremento["phys_t2"]))
        incremento["phys_t1"] = 0

    plan = make_plan(config, "HAC", 5, mutate=start_in_t2)
    case = make_seguimiento(config, "HAC", 1, plan=plan)
    idle = [m for m in case.baseline.metas if m.planned(1) == 0]
    assert len(idle) == 1
    data = edit_seguimiento(
        answered(case), {(idle[0].meta_code, k): None for k in ("exec_t1", "evidence_t1", "explanation_t1")}
    )
    assert check(config, case, data) == []


def test_s02_obligated_above_committed(config: MailbotConfig, t1: SeguimientoCase) -> None:
    data = edit_seguimiento(answered(t1), {(code_of(t1), "committed_t1"): 100, (code_of(t1), "obligated_t1"): 200})
    findings = check(config, t1, data)
    assert ("S02", "E") in codes(findings)
    assert codes(findings) <= {("S02", "E"), ("S03", "W")}
    assert any(f.cell == f"{SEGUIMIENTO_LETTERS['obligated_t1']}6" for f in findings)


def test_s02_paid_above_obligated(config: MailbotConfig, t1: SeguimientoCase) -> None:
    data = edit_seguimiento(
        answered(t1),
        {(code_of(t1), "committed_t1"): 300, (code_of(t1), "obligated_t1"): 200, (code_of(t1), "paid_t1"): 250},
    )
    findings = check(config, t1, data)
    assert {f.cell for f in findings if f.code == "S02"} == {f"{SEGUIMIENTO_LETTERS['paid_t1']}6"}


def test_s02_negative_and_text_amounts(config: MailbotConfig, t1: SeguimientoCase) -> None:
    data = edit_seguimiento(answered(t1), {(code_of(t1), "paid_t1"): -5, (code_of(t1, 1), "obligated_t1"): "mucho"})
    findings = [f for f in check(config, t1, data) if f.code == "S02"]
    assert {f.cell for f in findings} == {
        f"{SEGUIMIENTO_LETTERS['paid_t1']}6",
        f"{SEGUIMIENTO_LETTERS['obligated_t1']}7",
    }
    assert all(f.severity.value == "E" for f in findings)


def test_s02_warns_when_an_amount_was_typed_as_text_with_currency(config: MailbotConfig, t1: SeguimientoCase) -> None:
    report = reports_for(t1.baseline, 1)[code_of(t1)]
    data = edit_seguimiento(answered(t1), {(code_of(t1), "paid_t1"): f"$ {report.paid:,}".replace(",", ".")})
    assert codes(check(config, t1, data)) == {("S02", "W")}


def test_s03_committed_above_the_budget_to_date(config: MailbotConfig, t1: SeguimientoCase) -> None:
    meta = t1.baseline.metas[0]
    over = meta.budget_to(1) + 1_000_000
    data = edit_seguimiento(answered(t1), {(meta.meta_code, "committed_t1"): over})
    findings = check(config, t1, data)
    assert codes(findings) == {("S03", "W")}
    assert findings[0].cell == f"{SEGUIMIENTO_LETTERS['committed_t1']}6"


def test_s04_execution_without_evidence(config: MailbotConfig, t1: SeguimientoCase) -> None:
    code = first_programmed(t1, 1)
    data = edit_seguimiento(answered(t1), {(code, "evidence_t1"): None})
    findings = check(config, t1, data)
    assert codes(findings) == {("S04", "E")}
    assert "evidencia" in findings[0].message.lower() or "soporta" in findings[0].message


def test_s04_missing_and_too_long_explanation(config: MailbotConfig, t1: SeguimientoCase) -> None:
    code = first_programmed(t1, 1)
    other = next(m.meta_code for m in t1.baseline.metas if m.meta_code != code)
    data = edit_seguimiento(
        answered(t1), {(code, "explanation_t1"): None, (other, "explanation_t1"): "x" * (EXPLANATION_MAX_CHARS + 1)}
    )
    findings = check(config, t1, data)
    assert codes(findings) == {("S04", "E")}
    assert len(findings) == 2
    assert any(str(EXPLANATION_MAX_CHARS + 1) in f.message for f in findings)


def test_s04_explanation_of_exactly_the_limit_is_fine(config: MailbotConfig, t1: SeguimientoCase) -> None:
    data = edit_seguimiento(answered(t1), {(code_of(t1), "explanation_t1"): "x" * EXPLANATION_MAX_CHARS})
    assert check(config, t1, data) == []


def test_s05_a_fixed_column_changed(config: MailbotConfig, t1: SeguimientoCase) -> None:
    meta = t1.baseline.metas[0]
    data = edit_seguimiento(answered(t1), {(meta.meta_code, "meta_vigencia"): float(meta.meta_vigencia) + 1})
    findings = check(config, t1, data)
    assert codes(findings) == {("S05", "E")}
    assert findings[0].cell == f"{SEGUIMIENTO_LETTERS['meta_vigencia']}6"


def test_s05_an_earlier_quarter_changed(config: MailbotConfig, t3: SeguimientoCase) -> None:
    code = first_programmed(t3, 1)
    data = edit_seguimiento(answered(t3), {(code, "exec_t1"): 999})
    findings = check(config, t3, data)
    assert codes(findings) == {("S05", "E")}
    assert "trimestre 1" in findings[0].message


def test_only_open_quarters_are_checked_for_completeness(config: MailbotConfig, t3: SeguimientoCase) -> None:
    """T3 with T1–T2 accepted: only T3 is asked for; answering T4 too is not required (nor checked)."""
    data = answered(t3)
    assert check(config, t3, data) == []
    blank_t3 = edit_seguimiento(data, {(first_programmed(t3, 3), "exec_t3"): None})
    assert codes(check(config, t3, blank_t3)) == {("S01", "E")}


def test_a_skipped_quarter_stays_open_and_is_required(config: MailbotConfig) -> None:
    """T2 never reported (only T1 accepted): the T3 workbook asks for T2 and T3."""
    case = make_seguimiento(config, "HAC", 3, n=5, reported={1})
    assert case.baseline.open_quarters == (2, 3)
    only_t3 = fill_quarter(case.data, 3, reports_for(case.baseline, 3))
    s01 = {f.cell for f in check(config, case, only_t3) if f.code == "S01"}
    assert s01
    assert all((c or "").startswith(SEGUIMIENTO_LETTERS["exec_t2"]) for c in s01)
    assert check(config, case, answered(case)) == []


def test_s05_a_row_deleted(config: MailbotConfig, t1: SeguimientoCase) -> None:
    def clear_last_row(workbook: object) -> None:
        ws = workbook[SHEET_SEGUIMIENTO]  # type: ignore[index]
        last = 5 + len(t1.baseline.metas)
        for letter in SEGUIMIENTO_LETTERS.values():
            ws[f"{letter}{last}"].value = None

    data = edit_workbook(answered(t1), clear_last_row)
    findings = check(config, t1, data)
    assert codes(findings) == {("S05", "E")}
    assert t1.baseline.metas[-1].meta_code in (findings[0].message or "")


def test_formulacion_rules_do_not_run_on_seguimiento(config: MailbotConfig, t1: SeguimientoCase) -> None:
    """The Metas sheet is the accepted plan, locked: M/P/R rules are formulación's only."""
    found = {f.code[0] for f in check(config, t1, t1.data)}
    assert found <= {"S"}


def test_report_values_read_back(t1: SeguimientoCase) -> None:
    from mailbot.domain.seguimiento import reports_of

    want = reports_for(t1.baseline, 1)
    got = reports_of(read(answered(t1)), [1])
    assert {c: r[1] for c, r in got.items()} == want
    assert all(isinstance(r.execution, Decimal) for r in want.values() if r.execution is not None)
    assert QuarterReport.from_json(want[code_of(t1)].to_json()) == want[code_of(t1)]


def test_the_annotated_copy_marks_seguimiento_cells(config: MailbotConfig, t1: SeguimientoCase) -> None:
    """The correction mail's copy: the S finding on its `Seguimiento` cell, listed first in `Correcciones`."""
    from openpyxl import load_workbook

    from mailbot.adapters.workbook.annotate import ERROR_FILL, annotated_copy
    from mailbot.domain.workbook_format import SHEET_CORRECTIONS

    code = first_programmed(t1, 1)
    data = edit_seguimiento(answered(t1), {(code, "evidence_t1"): None})
    findings = check(config, t1, data)
    workbook = load_workbook(io.BytesIO(annotated_copy(data, findings)))
    assert workbook.sheetnames[0] == SHEET_CORRECTIONS
    cell = workbook[SHEET_SEGUIMIENTO][findings[0].cell or ""]
    assert cell.fill.fgColor.rgb.endswith(ERROR_FILL.fgColor.rgb)
    assert cell.comment is not None
    assert "[S04]" in cell.comment.text


def test_validate_without_a_database_checks_the_file_alone(
    config: MailbotConfig, t1: SeguimientoCase, tmp_path: Path
) -> None:
    """`mailbot validate` of a seguimiento where no storage exists: S01–S04 still run, nothing is created."""
    from click.testing import CliRunner

    from mailbot.cli import cli

    path = write_config(tmp_path)
    database = tmp_path / "state" / "mailbot.db"
    bad = tmp_path / "t1.xlsx"
    bad.write_bytes(edit_seguimiento(answered(t1), {(first_programmed(t1, 1), "evidence_t1"): None}))
    result = CliRunner().invoke(cli, ["--config", str(path), "validate", str(bad), "--json"])
    assert result.exit_code == 1
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["S04"]
    assert "S03 and S05" in result.stderr
    assert not database.exists()
