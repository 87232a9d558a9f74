"""A seguimiento workbook filled and saved by LibreOffice Calc still reads back as the same reports."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mailbot.adapters.workbook.writer.comparison import comparison_letters
from mailbot.config import MailbotConfig, load_config
from mailbot.domain import control
from mailbot.domain.evaluation import evaluate_meta
from mailbot.domain.seguimiento import reports_of
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    SEGUIMIENTO_COLUMNS,
    SEGUIMIENTO_LETTERS,
    SHEET_SEGUIMIENTO,
    ControlField,
    Ronda,
)
from tests.support.configs import TEST_SECRET, write_config
from tests.support.libreoffice import needs_libreoffice, roundtrip_xlsx
from tests.support.plans import make_plan
from tests.support.seguimiento import fill_quarter, make_seguimiento, read, reports_for

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow, needs_libreoffice]


@pytest.fixture
def config(tmp_path: Path) -> MailbotConfig:
    return load_config(write_config(tmp_path), environ={})


def test_filled_seguimiento_survives_a_libreoffice_round_trip(config: MailbotConfig, tmp_path: Path) -> None:
    """T3 with T1 and T2 accepted, T3 filled: Calc keeps the values, the codes as text and the control block."""

    def zeros(metas: list[dict[str, object]]) -> None:
        metas[0].update(program_code="0101", meta_code="010101")

    plan = make_plan(config, "EDU", 6, mutate=zeros)
    case = make_seguimiento(config, "EDU", 3, plan=plan, reported={1, 2})
    answer = reports_for(case.baseline, 3)
    filled = fill_quarter(case.data, 3, answer)
    saved = roundtrip_xlsx(filled, tmp_path)

    before, after = read(filled), read(saved)
    assert after.seguimiento_labels[: len(SEGUIMIENTO_COLUMNS)] == tuple(c.label for c in SEGUIMIENTO_COLUMNS)
    assert reports_of(after, [1, 2, 3]) == reports_of(before, [1, 2, 3])
    assert reports_of(after, [3]) == {code: {3: report} for code, report in answer.items()}
    assert [r.cell("meta_code").value for r in after.seguimiento] == [m.meta_code for m in case.baseline.metas]
    assert after.seguimiento[0].cell("meta_code").value == "010101"
    assert after.control is not None
    assert after.control[ControlField.RONDA] == Ronda.SEGUIMIENTO_T3.value
    assert control.verify(after.control, TEST_SECRET)

    ws = load_workbook(io.BytesIO(saved))[SHEET_SEGUIMIENTO]
    assert ws.protection.sheet is True
    assert ws[f"{SEGUIMIENTO_LETTERS['exec_t3']}{FIRST_DATA_ROW}"].protection.locked is False
    assert ws[f"{SEGUIMIENTO_LETTERS['exec_t2']}{FIRST_DATA_ROW}"].protection.locked is True
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert {"decimal", "whole", "textLength"} <= kinds

    # the comparison block, computed by Calc: the evaluation's cumulative compliance and Comprometido's share
    computed = load_workbook(io.BytesIO(saved), data_only=True)[SHEET_SEGUIMIENTO]
    letters = comparison_letters(3)
    for row, meta in enumerate(case.baseline.metas, start=FIRST_DATA_ROW):
        reports = {q: case.baseline.reports[meta.meta_code][q] for q in (1, 2)} | {3: answer[meta.meta_code]}
        expected = evaluate_meta(meta, reports, 3)
        shown = computed[f"{letters['compliance']}{row}"].value
        if expected.cumulative_compliance is None:
            assert shown == "No programada"
        else:
            assert shown == pytest.approx(float(expected.cumulative_compliance))
        assert computed[f"{letters['budget']}{row}"].value == meta.budget_to(3)
        share = computed[f"{letters['committed']}{row}"].value
        if meta.budget_to(3):
            assert share == pytest.approx(answer[meta.meta_code].committed / meta.budget_to(3))


def test_the_unfilled_workbook_opens_in_libreoffice_unchanged(config: MailbotConfig, tmp_path: Path) -> None:
    """What planeación mails (T1, nothing reported) comes back from Calc with the plan's figures intact."""
    case = make_seguimiento(config, "HAC", 1, n=3)
    after = read(roundtrip_xlsx(case.data, tmp_path))
    rows = after.seguimiento
    assert len(rows) == 3
    for row, meta in zip(rows, case.baseline.metas, strict=True):
        assert row.cell("meta_code").value == meta.meta_code
        assert row.cell("total").value == meta.total
    assert reports_of(after, [1])[case.baseline.metas[0].meta_code][1].execution is None
