"""The seguimiento workbook (rondas seguimiento-T1..T4): the accepted plan locked, the quarter to report open."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter

from mailbot.adapters.workbook.writer import spec_from_config, template_bytes
from mailbot.adapters.workbook.writer.comparison import comparison_columns, comparison_letters
from mailbot.config import MailbotConfig, load_config
from mailbot.domain.control import verify
from mailbot.domain.fechas import fecha_larga
from mailbot.domain.seguimiento import QuarterReport, reports_of
from mailbot.domain.summary import planned_metas
from mailbot.domain.workbook_format import (
    EXPLANATION_MAX_CHARS,
    FIRST_DATA_ROW,
    FORMULACION_SHEETS,
    HEADER_FIRST_ROW,
    HEADER_INPUTS,
    HEADER_ROW,
    METAS_COLUMNS,
    METAS_LETTERS,
    QUARTERS,
    SEGUIMIENTO_COLUMNS,
    SEGUIMIENTO_FIXED,
    SEGUIMIENTO_LETTERS,
    SEGUIMIENTO_SHEETS,
    SHEET_CONTROL,
    SHEET_HEADER,
    SHEET_INSTRUCTIONS,
    SHEET_LISTS,
    SHEET_METAS,
    SHEET_SEGUIMIENTO,
    SHEET_SUMMARY,
    ControlField,
    HeaderField,
    Ronda,
    seguimiento_key,
)
from tests.support.configs import TEST_SECRET, write_config
from tests.support.plans import make_plan
from tests.support.seguimiento import (
    SEGUIMIENTO_TOKEN,
    SeguimientoCase,
    baseline_for,
    context_of,
    deadline_of,
    edit_seguimiento,
    fill_quarter,
    make_seguimiento,
    read,
    reports_for,
    seguimiento_rows,
    seguimiento_workbook,
)
from tests.support.workbooks import edit_workbook

INPUT_RGB = "FFF2CC"
GREY_RGB = "E7E6E6"
NAMES = ("exec", "committed", "obligated", "paid", "evidence", "explanation")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MailbotConfig:
    return load_config(write_config(tmp_path_factory.mktemp("config")), environ={})


@pytest.fixture(scope="module")
def t1(config: MailbotConfig) -> SeguimientoCase:
    return make_seguimiento(config, "HAC", 1)


@pytest.fixture(scope="module")
def t3(config: MailbotConfig) -> SeguimientoCase:
    """T3 with T1 and T2 reported and accepted: their values filled in and locked."""
    return make_seguimiento(config, "HAC", 3, reported={1, 2})


def _open(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


def _cell(ws: Any, key: str, row: int = FIRST_DATA_ROW) -> Any:
    return ws[f"{SEGUIMIENTO_LETTERS[key]}{row}"]


def _tinted(cell: Any) -> bool:
    return bool(cell.fill.fgColor.rgb.endswith(INPUT_RGB))


def _grey(cell: Any) -> bool:
    return bool(cell.fill.fgColor.rgb.endswith(GREY_RGB))


def _block(q: int) -> tuple[str, ...]:
    return tuple(seguimiento_key(name, q) for name in NAMES)


def _data_rows(case: SeguimientoCase) -> range:
    return range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(case.baseline.metas))


# ------------------------------------------------------------------------------------------------ structure


def test_sheets_are_in_contract_order_with_their_visibility(t1: SeguimientoCase) -> None:
    wb = _open(t1.data)
    assert tuple(wb.sheetnames) == SEGUIMIENTO_SHEETS
    assert (*FORMULACION_SHEETS[:3], SHEET_SEGUIMIENTO, *FORMULACION_SHEETS[3:]) == SEGUIMIENTO_SHEETS
    states = {ws.title: ws.sheet_state for ws in wb}
    assert states[SHEET_LISTS] == "hidden"
    assert states[SHEET_CONTROL] == "veryHidden"
    assert {states[n] for n in SEGUIMIENTO_SHEETS[:5]} == {"visible"}
    assert wb.active.title == SHEET_INSTRUCTIONS
    for ws in wb:
        assert ws.protection.sheet is True, ws.title
        assert not ws.protection.password, ws.title


def test_seguimiento_labels_are_the_contract_and_bands_are_not_merged(t1: SeguimientoCase) -> None:
    ws = _open(t1.data)[SHEET_SEGUIMIENTO]
    contract = len(SEGUIMIENTO_COLUMNS)
    assert [c.value for c in ws[HEADER_ROW]][:contract] == [c.label for c in SEGUIMIENTO_COLUMNS]
    assert [c.value for c in ws[HEADER_ROW]][contract:] == [c.label for c in comparison_columns(1)]
    bands = {c.column_letter: c.value for c in ws[4] if c.value is not None and c.column > len(SEGUIMIENTO_FIXED)}
    assert bands == {
        "L": "Trimestre 1 (ene–mar)",
        "R": "Trimestre 2 (abr–jun)",
        "X": "Trimestre 3 (jul–sep)",
        "AD": "Trimestre 4 (oct–dic)",
        "AJ": "Comparación con lo programado a T1",
    }
    assert not ws.merged_cells.ranges
    assert ws.column_dimensions["C"].width == 36  # `Meta de producto`, from the column's width
    assert ws["A1"].value == "Plan de acción 2027 – Seguimiento del trimestre 1"
    assert "HAC – Secretaría de Hacienda" in ws["A2"].value
    assert fecha_larga(deadline_of(1)) in ws["A3"].value
    parsed = read(t1.data)
    assert parsed.seguimiento_labels[:contract] == tuple(c.label for c in SEGUIMIENTO_COLUMNS)
    assert all(len(row.cells) == contract for row in parsed.seguimiento)  # the comparison block is not read
    assert not parsed.notes


def test_fixed_columns_hold_the_accepted_plan_locked_and_grey(t3: SeguimientoCase) -> None:
    ws = _open(t3.data)[SHEET_SEGUIMIENTO]
    assert len(t3.baseline.metas) == 5
    for row, meta in zip(_data_rows(t3), t3.baseline.metas, strict=True):
        shown = {key: _cell(ws, key, row).value for key in SEGUIMIENTO_FIXED}
        assert shown["number"] == meta.number
        assert (shown["meta_code"], shown["meta"], shown["unit"], shown["meta_type"]) == (
            meta.meta_code,
            meta.meta,
            meta.unit,
            meta.meta_type,
        )
        assert Decimal(str(shown["meta_vigencia"])) == meta.meta_vigencia
        assert [Decimal(str(shown[f"phys_t{q}"])) for q in QUARTERS] == list(meta.programming)
        assert shown["total"] == meta.total > 0
        assert _cell(ws, "meta_code", row).data_type == "s"
        for key in SEGUIMIENTO_FIXED:
            cell = _cell(ws, key, row)
            assert cell.protection.locked, (key, row)
            assert _grey(cell), (key, row)
    assert ws[f"{SEGUIMIENTO_LETTERS['meta_code']}{FIRST_DATA_ROW + 5}"].value is None  # one row per meta, no more


def test_t1_opens_the_first_quarter_and_locks_the_rest(t1: SeguimientoCase) -> None:
    ws = _open(t1.data)[SHEET_SEGUIMIENTO]
    for row in _data_rows(t1):
        for key in _block(1):
            cell = _cell(ws, key, row)
            assert cell.protection.locked is False, (key, row)
            assert _tinted(cell), (key, row)
            assert cell.value is None, (key, row)
        for q in (2, 3, 4):
            for key in _block(q):
                cell = _cell(ws, key, row)
                assert cell.protection.locked, (key, row)
                assert _grey(cell), (key, row)
                assert cell.value is None, (key, row)
    assert _cell(ws, "committed_t1").number_format == '"$ "#,##0'
    assert _tinted(ws["L4"])
    assert _grey(ws["R4"])


def test_t3_shows_the_accepted_quarters_locked_and_opens_the_third(t3: SeguimientoCase) -> None:
    ws = _open(t3.data)[SHEET_SEGUIMIENTO]
    assert t3.baseline.open_quarters == (3,)
    for row, meta in zip(_data_rows(t3), t3.baseline.metas, strict=True):
        for q in (1, 2):
            report = t3.baseline.reports[meta.meta_code][q]
            shown = [_cell(ws, key, row).value for key in _block(q)]
            assert shown[1:] == [report.committed, report.obligated, report.paid, report.evidence, report.explanation]
            assert Decimal(str(shown[0])) == report.execution
            assert all(_cell(ws, key, row).protection.locked and _grey(_cell(ws, key, row)) for key in _block(q))
        assert all(_cell(ws, key, row).protection.locked is False for key in _block(3))
        assert all(_tinted(_cell(ws, key, row)) and _cell(ws, key, row).value is None for key in _block(3))
        assert all(_cell(ws, key, row).protection.locked and _cell(ws, key, row).value is None for key in _block(4))


def test_a_quarter_never_reported_stays_open_beside_the_current_one(config: MailbotConfig) -> None:
    """A dependencia that skipped T2 reports it late in the T3 workbook: both blocks are open."""
    case = make_seguimiento(config, "HAC", 3, n=2, reported={1})
    ws = _open(case.data)[SHEET_SEGUIMIENTO]
    assert case.baseline.open_quarters == (2, 3)
    assert _cell(ws, "exec_t1").protection.locked
    assert _cell(ws, "exec_t2").protection.locked is False
    assert _cell(ws, "exec_t3").protection.locked is False
    validations = {dv.type: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert validations["decimal"] == "R6:R7 X6:X7"
    texts = [str(c.value) for row in _open(case.data)[SHEET_INSTRUCTIONS].iter_rows() for c in row if c.value]
    assert any("de los trimestres 2 (abril a junio) y 3 (julio a septiembre)." in t for t in texts)


def test_open_cells_have_spanish_data_validations(t3: SeguimientoCase) -> None:
    ws = _open(t3.data)[SHEET_SEGUIMIENTO]
    by_type = {dv.type: dv for dv in ws.data_validations.dataValidation}
    assert set(by_type) == {"decimal", "whole", "textLength"}
    last = FIRST_DATA_ROW + len(t3.baseline.metas) - 1

    def span(key: str) -> str:
        letter = SEGUIMIENTO_LETTERS[key]
        return f"{letter}{FIRST_DATA_ROW}:{letter}{last}"

    assert str(by_type["decimal"].sqref) == span("exec_t3")
    assert (by_type["decimal"].operator, by_type["decimal"].formula1) == ("greaterThanOrEqual", "0")
    assert str(by_type["whole"].sqref).split() == [span(f"{n}_t3") for n in ("committed", "obligated", "paid")]
    assert (by_type["whole"].operator, by_type["whole"].formula1) == ("greaterThanOrEqual", "0")
    assert str(by_type["textLength"].sqref) == span("explanation_t3")
    assert (by_type["textLength"].operator, by_type["textLength"].formula1) == ("lessThanOrEqual", "225")
    assert EXPLANATION_MAX_CHARS == 225
    for dv in by_type.values():
        assert dv.showErrorMessage
        assert dv.errorStyle == "stop"
        assert re.search(r"Escriba|máximo", dv.error or "")


def test_control_block_names_the_seguimiento_ronda_and_verifies(t3: SeguimientoCase) -> None:
    ws = _open(t3.data)[SHEET_CONTROL]
    rows = list(ws.iter_rows(min_row=1, max_col=2))
    assert [r[0].value for r in rows] == [f.value for f in ControlField]
    values = {r[0].value: r[1].value for r in rows}
    assert values[ControlField.RONDA] == Ronda.SEGUIMIENTO_T3.value == "seguimiento-T3"
    assert values[ControlField.TOKEN] == SEGUIMIENTO_TOKEN
    assert values[ControlField.CODIGO_DEPENDENCIA] == "HAC"
    assert verify(values, TEST_SECRET)
    assert not verify({**values, ControlField.RONDA: "seguimiento-T2"}, TEST_SECRET)


# ------------------------------------------------------------------------------------------------ reading back


def test_reader_reads_back_the_accepted_quarters(t3: SeguimientoCase) -> None:
    parsed = read(t3.data)
    assert [r.number for r in parsed.seguimiento] == list(_data_rows(t3))
    expected = {m.meta_code: {q: t3.baseline.reports[m.meta_code][q] for q in (1, 2)} for m in t3.baseline.metas}
    assert reports_of(parsed, [1, 2]) == expected
    empty = QuarterReport(execution=None)
    assert reports_of(parsed, [3]) == {m.meta_code: {3: empty} for m in t3.baseline.metas}


def test_a_filled_quarter_reads_back_with_the_filled_values(t3: SeguimientoCase) -> None:
    answer = reports_for(t3.baseline, 3, share=Decimal("0.5"))
    filled = fill_quarter(t3.data, 3, answer)
    parsed = read(filled)
    assert reports_of(parsed, [3]) == {code: {3: report} for code, report in answer.items()}
    assert reports_of(parsed, [1, 2]) == reports_of(read(t3.data), [1, 2])  # the locked quarters untouched
    ws = _open(filled)[SHEET_SEGUIMIENTO]
    assert len(ws.data_validations.dataValidation) == 3  # a load-and-save keeps the standard validations
    assert ws.protection.sheet is True


def test_fill_quarter_writes_only_the_given_metas(t1: SeguimientoCase) -> None:
    first = t1.baseline.metas[0].meta_code
    report = QuarterReport(Decimal("2.5"), 300, 200, 100, "acta-01.pdf", "Avance parcial.")
    parsed = read(fill_quarter(t1.data, 1, {first: report}))
    reports = reports_of(parsed, [1])
    assert reports[first][1] == report
    assert all(r[1] == QuarterReport(execution=None) for code, r in reports.items() if code != first)


def test_edit_seguimiento_changes_any_cell_and_refuses_unknown_ones(t1: SeguimientoCase) -> None:
    code = t1.baseline.metas[1].meta_code
    edited = edit_seguimiento(t1.data, {(code, "meta_vigencia"): 999, (code, "paid_t1"): "$ 1.500.000"})
    row = read(edited).seguimiento[1]
    assert row.cell("meta_vigencia").value == 999
    assert row.cell("paid_t1").value == "$ 1.500.000"
    with pytest.raises(ValueError, match="unknown Seguimiento column key"):
        edit_seguimiento(t1.data, {(code, "bogus"): 1})
    with pytest.raises(ValueError, match="no Seguimiento row"):
        edit_seguimiento(t1.data, {("000000", "exec_t1"): 1})


def test_the_correct_answer_passes_the_seguimiento_rules(config: MailbotConfig, t3: SeguimientoCase) -> None:
    """The generated workbook and the rules agree on the contract: a correct T3 report has no finding at all."""
    from mailbot.domain.rules import validate
    from mailbot.services.validation import build_context

    context = dataclasses.replace(
        build_context(config, "HAC", vigencia=2027, ronda=Ronda.SEGUIMIENTO_T3, expected_token=SEGUIMIENTO_TOKEN),
        baseline=t3.baseline,
    )
    filled = fill_quarter(t3.data, 3, reports_for(t3.baseline, 3))
    assert validate(read(filled), context) == []
    unfilled = {f.code for f in validate(read(t3.data), context)}
    assert unfilled == {"S01", "S04"}


def test_comparison_shows_the_accepted_plan_programmed_to_the_cut_off(t3: SeguimientoCase) -> None:
    """Beside what is reported: programming and budget from T1 to T3, summed from the accepted plan's own cells."""
    ws = _open(t3.data)[SHEET_SEGUIMIENTO]
    letters = comparison_letters(3)
    assert letters["planned"] == "AJ"  # right after the contract's last column (AI), which the reader ignores
    plan = read(t3.plan)
    rows = [row for row in plan.metas if row.cell("meta_code").value]
    assert len(rows) == len(t3.baseline.metas) == 5
    for row_number, plan_row in enumerate(rows, start=FIRST_DATA_ROW):
        assert ws[f"{SEGUIMIENTO_LETTERS['meta_code']}{row_number}"].value == plan_row.cell("meta_code").value
        physical = [Decimal(str(plan_row.cell(f"phys_t{q}").value)) for q in QUARTERS]
        kind = plan_row.cell("meta_type").value
        planned = physical[2] if kind == "Mantenimiento" else sum(physical[:3], Decimal(0))
        assert Decimal(str(ws[f"{letters['planned']}{row_number}"].value)) == planned
        money = sum(
            int(plan_row.cell(f"{s}_t{q}").value or 0)
            for s in ("poai", "funcionamiento", "cofinanciacion")
            for q in (1, 2, 3)
        )
        assert ws[f"{letters['budget']}{row_number}"].value == money
        assert ws[f"{letters['planned']}{row_number}"].protection.locked
    assert {k for k in letters if str(ws[f"{letters[k]}{FIRST_DATA_ROW}"].value).startswith("=")} == {
        "executed",
        "compliance",
        "committed",
    }
    executed = ws[f"{letters['executed']}{FIRST_DATA_ROW}"].value
    assert all(f"{SEGUIMIENTO_LETTERS[f'exec_t{q}']}{FIRST_DATA_ROW}" in executed for q in (1, 2, 3))
    assert "AD" not in executed  # T4 is not to date at the T3 cut-off
    warned = {str(r.sqref) for r in ws.conditional_formatting}
    assert f"{SEGUIMIENTO_LETTERS['committed_t3']}{FIRST_DATA_ROW}:{SEGUIMIENTO_LETTERS['committed_t3']}10" in warned


def test_seguimiento_keeps_the_meta_in_view_and_folds_the_quarters_to_come(t1: SeguimientoCase) -> None:
    """N°, code and meta frozen; T2–T4 folded so the comparison stands beside T1; printed one page wide."""
    ws = _open(t1.data)[SHEET_SEGUIMIENTO]
    assert ws.freeze_panes == f"D{FIRST_DATA_ROW}"
    later = range(column_index_from_string("R"), column_index_from_string("AI") + 1)
    assert all(ws.column_dimensions[get_column_letter(c)].hidden for c in later)
    assert {ws.column_dimensions[get_column_letter(c)].outline_level for c in later} == {1}
    assert not ws.column_dimensions["L"].hidden
    assert not ws.column_dimensions["AJ"].hidden
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$4:$5"


# ------------------------------------------------------------------------------------------------ Metas, Encabezado


def test_metas_sheet_is_the_accepted_plan_locked(t3: SeguimientoCase) -> None:
    """Re-reading the seguimiento's `Metas` gives the same planned metas as the accepted plan did."""
    wb = _open(t3.data)
    ws = wb[SHEET_METAS]
    assert [c.value for c in ws[HEADER_ROW]] == [c.label for c in METAS_COLUMNS]
    assert all(c.protection.locked and _grey(c) for row in ws.iter_rows(min_row=FIRST_DATA_ROW) for c in row)
    assert ws.max_row == FIRST_DATA_ROW + len(t3.baseline.metas) - 1
    parsed = read(t3.data)
    assert planned_metas(parsed, context_of(parsed)) == t3.baseline.metas
    accepted = _open(t3.plan)[SHEET_METAS]
    for column in METAS_COLUMNS:
        ref = f"{METAS_LETTERS[column.key]}{FIRST_DATA_ROW}"
        if column.is_input:
            assert ws[ref].value == accepted[ref].value, column.key
    assert ws[f"{METAS_LETTERS['total']}{FIRST_DATA_ROW}"].value == t3.baseline.metas[0].total
    assert ws[f"{METAS_LETTERS['meta_code']}{FIRST_DATA_ROW}"].data_type == "s"


def test_header_takes_the_secretario_from_the_accepted_plan(config: MailbotConfig) -> None:
    """Name, cargo, correo and oficio come from the accepted plan and stay editable; the date starts empty."""
    given: dict[str, str] = {
        HeaderField.SECRETARIO: "Carlos Andrés Ríos Mejía",
        HeaderField.CARGO: "Secretario de Hacienda (e)",
        HeaderField.CORREO: "carlos.rios@villaesperanza.gov.co",
        HeaderField.OFICIO: "PL-2027-014",
    }
    plan = make_plan(config, "HAC", 2, header=given)
    ws = _open(seguimiento_workbook(config, "HAC", 2, plan=plan))[SHEET_HEADER]
    rows: dict[str, int] = {field: HEADER_FIRST_ROW + i for i, field in enumerate(HeaderField)}
    assert [ws.cell(rows[f], 1).value for f in HeaderField] == [f.value for f in HeaderField]
    for field, value in given.items():
        assert ws.cell(rows[field], 2).value == value
    assert ws.cell(rows[HeaderField.FECHA], 2).value is None
    assert ws.cell(rows[HeaderField.MUNICIPIO], 2).value == "Municipio de Villa Esperanza"
    assert ws.cell(rows[HeaderField.VIGENCIA], 2).value == 2027
    for field in HeaderField:
        assert ws.cell(rows[field], 2).protection.locked is (field not in HEADER_INPUTS), field


def test_leading_zero_codes_survive(config: MailbotConfig) -> None:
    def zeros(metas: list[dict[str, object]]) -> None:
        metas[0].update(program_code="0101", meta_code="010101")
        metas[1].update(program_code="0102", meta_code="010201")

    case = make_seguimiento(config, "HAC", 1, n=2, plan=make_plan(config, "HAC", 2, mutate=zeros))
    assert [m.meta_code for m in case.baseline.metas] == ["010101", "010201"]
    wb = _open(case.data)
    assert _cell(wb[SHEET_SEGUIMIENTO], "meta_code").value == "010101"
    assert wb[SHEET_METAS][f"{METAS_LETTERS['meta_code']}{FIRST_DATA_ROW}"].value == "010101"
    assert wb[SHEET_METAS][f"{METAS_LETTERS['program_code']}{FIRST_DATA_ROW}"].value == "0101"
    assert seguimiento_rows(wb) == {"010101": FIRST_DATA_ROW, "010201": FIRST_DATA_ROW + 1}
    filled = fill_quarter(case.data, 1, reports_for(case.baseline, 1))
    assert set(reports_of(read(filled), [1])) == {"010101", "010201"}


def test_formula_looking_text_from_the_accepted_plan_stays_text(config: MailbotConfig) -> None:
    """Text a secretario typed as text (`'=HYPERLINK(...)`) is shown as written, never turned into a formula."""
    hostile = '=HYPERLINK("http://evil.example","clic")'

    def as_text(workbook: Any) -> None:
        cell = workbook[SHEET_METAS][f"{METAS_LETTERS['meta']}{FIRST_DATA_ROW}"]
        cell.value = hostile
        cell.data_type = "s"  # what a quote prefix in Excel stores
        header = workbook[SHEET_HEADER].cell(HEADER_FIRST_ROW + list(HeaderField).index(HeaderField.CARGO), 2)
        header.value, header.data_type = "=cmd|' /C calc'!A0", "s"

    plan = edit_workbook(make_plan(config, "HAC", 2), as_text)
    case = make_seguimiento(config, "HAC", 1, plan=plan)
    assert case.baseline.metas[0].meta == hostile
    wb = _open(case.data)
    for cell in (
        _cell(wb[SHEET_SEGUIMIENTO], "meta"),
        wb[SHEET_METAS][f"{METAS_LETTERS['meta']}{FIRST_DATA_ROW}"],
        wb[SHEET_HEADER].cell(HEADER_FIRST_ROW + list(HeaderField).index(HeaderField.CARGO), 2),
    ):
        assert cell.data_type == "s", cell.coordinate
        assert cell.quotePrefix, cell.coordinate
    assert _cell(wb[SHEET_SEGUIMIENTO], "meta").value == hostile
    with zipfile.ZipFile(io.BytesIO(case.data)) as zf:
        sheets = b"".join(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))
    formulas = re.findall(rb"<f>([^<]*)</f>", sheets)
    assert formulas  # Resumen's sums
    assert not [f for f in formulas if b"HYPERLINK" in f or b"calc" in f]
    assert read(case.data).seguimiento[0].cell("meta").value == hostile


# ------------------------------------------------------------------------------------------------ Instrucciones


def test_instructions_explain_the_quarter_the_deadline_and_the_rules(t3: SeguimientoCase) -> None:
    ws = _open(t3.data)[SHEET_INSTRUCTIONS]
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert {"E-DE-F-010", "Direccionamiento Estratégico", "Ronda: Seguimiento del trimestre 3"} <= set(texts)
    assert fecha_larga(deadline_of(3)) in texts
    codes = [t for t in texts if len(t) == 3 and t[0] in "FHMPRS" and t[1:].isdigit()]
    assert codes == ["F01", "F02", "F03", "F04", "F05", "H01", "H02", "S01", "S02", "S03", "S04", "S05"]
    joined = " ".join(texts)
    for phrase in ("ACUMULADOS", "Comprometido", "Obligado", "Pagado", "Evidencia", "225 caracteres", "grises"):
        assert phrase in joined, phrase
    assert "Diligencie las celdas de color del trimestre 3 (julio a septiembre)." in joined
    assert "respuesta al correo" in joined


def test_summary_shows_the_planned_budget_and_sums_the_reported_amounts(t3: SeguimientoCase) -> None:
    ws = _open(t3.data)[SHEET_SUMMARY]
    planned = [sum(m.budget[q - 1] for m in t3.baseline.metas) for q in QUARTERS]
    assert [ws.cell(5, c).value for c in range(2, 7)] == [*planned, sum(planned)]
    assert [ws.cell(6, c).value for c in range(2, 6)] == [sum(planned[:q]) for q in QUARTERS]
    assert [ws.cell(r, 1).value for r in (9, 10, 11)] == ["T1 (ene–mar)", "T2 (abr–jun)", "T3 (jul–sep)"]
    assert ws["C11"].value == "=SUM(Seguimiento!$Y$6:$Y$10)" == f"=SUM(Seguimiento!$Y$6:$Y${FIRST_DATA_ROW + 4})"
    assert SEGUIMIENTO_LETTERS["committed_t3"] == "Y"
    assert ws["G11"].value == "Por reportar ahora"
    assert ws["G9"].value == "Reportado"
    assert all(c.protection.locked for row in ws.iter_rows() for c in row)


# ------------------------------------------------------------------------------------------------ test support


def test_baseline_for_fills_the_reported_quarters_with_the_correct_answer(t3: SeguimientoCase) -> None:
    baseline, accepted = baseline_for(t3.plan, 2, reported={1})
    assert baseline.metas == t3.baseline.metas
    assert accepted.metas == t3.accepted.metas
    assert (baseline.quarter, baseline.reported, baseline.open_quarters) == (2, frozenset({1}), (2,))
    assert {code: set(by_q) for code, by_q in baseline.reports.items()} == {m.meta_code: {1} for m in baseline.metas}
    for meta in baseline.metas:
        report = baseline.reports[meta.meta_code][1]
        assert report.execution == meta.planned(1)
        assert meta.budget_to(1) >= report.committed >= report.obligated >= report.paid > 0
        assert report.evidence
        assert 0 < len(report.explanation) <= EXPLANATION_MAX_CHARS
    given = {m.meta_code: {1: QuarterReport(Decimal(0))} for m in baseline.metas}
    assert baseline_for(t3.plan, 2, given, {1})[0].reports == given


# ------------------------------------------------------------------------------------------------ the spec


def test_a_seguimiento_spec_needs_its_baseline_and_accepted_plan(config: MailbotConfig, t3: SeguimientoCase) -> None:
    kwargs: dict[str, Any] = {
        "vigencia": 2027,
        "deadline": deadline_of(3),
        "token": "t",
        "catalogue": None,
    }
    with pytest.raises(ValueError, match="seguimiento-T3"):
        spec_from_config(config, "HAC", ronda=Ronda.SEGUIMIENTO_T3, **kwargs)
    with pytest.raises(ValueError, match="baseline= and accepted="):
        spec_from_config(config, "HAC", ronda=Ronda.SEGUIMIENTO_T3, baseline=t3.baseline, **kwargs)
    with pytest.raises(ValueError, match="quarter 3, not for 'seguimiento-T2'"):
        spec_from_config(
            config, "HAC", ronda=Ronda.SEGUIMIENTO_T2, baseline=t3.baseline, accepted=t3.accepted, **kwargs
        )
    with pytest.raises(ValueError, match="seguimiento-T1"):
        dataclasses.replace(t3.spec, ronda=Ronda.SEGUIMIENTO_T1, baseline=None)


def test_formulacion_ignores_a_baseline_and_stays_the_formulacion_workbook(
    config: MailbotConfig, t3: SeguimientoCase
) -> None:
    kwargs: dict[str, Any] = {"vigencia": 2027, "deadline": deadline_of(1), "token": "t", "catalogue": None}
    plain = spec_from_config(config, "HAC", ronda=Ronda.FORMULACION, **kwargs)
    given = spec_from_config(
        config, "HAC", ronda=Ronda.FORMULACION, baseline=t3.baseline, accepted=t3.accepted, **kwargs
    )
    first, second = _open(template_bytes(plain)), _open(template_bytes(given))
    assert tuple(second.sheetnames) == FORMULACION_SHEETS
    for name in FORMULACION_SHEETS:
        cells = [[c.value for c in row] for row in first[name].iter_rows()]
        assert cells == [[c.value for c in row] for row in second[name].iter_rows()], name


def test_every_quarter_can_be_generated(config: MailbotConfig) -> None:
    """T4's deadline falls in the next year; the T4 workbook opens only the fourth block."""
    plan = make_plan(config, "EDU", 3)
    for quarter in QUARTERS:
        case = make_seguimiento(config, "EDU", quarter, plan=plan, reported=set(range(1, quarter)))
        ws = _open(case.data)[SHEET_SEGUIMIENTO]
        unlocked = {q for q in QUARTERS if _cell(ws, seguimiento_key("exec", q)).protection.locked is False}
        assert unlocked == {quarter}
    assert deadline_of(4).year == 2028
