"""The committee's evaluation workbook: the domain's figures, rounded as shown, as numbers with formats; no formula.

The expected figures are literals worked out by hand in the comments of `FIGURES` (the domain's own tests check
the formulas; here the point is that each figure lands in the right cell, as the right type and format).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from mailbot.adapters.workbook.evaluation import (
    NOT_PROGRAMMED,
    SHEET_DEPENDENCIAS,
    SHEET_METAS,
    SHEET_MISSING,
    SHEET_MUNICIPALITY,
    evaluation_workbook,
)
from mailbot.adapters.workbook.report import TABLE_HEADER_ROW
from mailbot.domain.evaluation import MunicipalityEvaluation, evaluate_dependencia, evaluate_municipality
from mailbot.domain.seguimiento import PlannedMeta, QuarterReport
from tests.support.seguimiento import planned_meta

D = Decimal
M = 1_000_000
GENERATED = dt.datetime(2027, 7, 20, 9, 30, tzinfo=ZoneInfo("America/Bogota"))
EVIDENCE = '=HYPERLINK("http://x","acta")'
EXPLANATION = "+57 300 000 0000 llamar al contratista"
MISSING = (("SAL", "Secretaría de Salud"), ("JUR", "=1+1 Oficina Asesora Jurídica"))
PESOS = '"$ "#,##0'
PERCENT = "0.0%"


def meta(code: str, kind: str, programming: tuple[int, ...], vigencia: int, budget: tuple[int, ...]) -> PlannedMeta:
    return planned_meta(code, programming, vigencia, kind=kind, budget=budget, number=int(code[-1]))


def result() -> MunicipalityEvaluation:
    """At T2.

    HAC H1 Incremento P = 10,20,… E = 5, 7: quarter 7/20 = 35.0 %; PA 30, A 12 → 40.0 % Bajo, Rezagada;
        year 12/100 = 12.0 %; budget 1 M + 2 M = 3 M, committed 2.4 M → 80.0 %.
    HAC H2 Reducción P = 0,0,4,4: nothing programmed → "No programada", no grade; no money.
    EDU E1 Incremento P = 10000,0,…, E1 = 7996: quarter not programmed; 79.96 % shown 80.0 % Sobresaliente,
        En ejecución; budget 2 M, committed 1 M → 50.0 %.
    EDU E2 Mantenimiento P = 50 each, E2 = 60: 60/50 = 120.0 % raw, 100.0 % capped, Sobreejecutada;
        budget 1 M + 1 M, committed 3 M → 150.0 %.
    HAC score 40.0 % Bajo; EDU (0.7996 + 1) / 2 = 0.8998 → 90.0 % Sobresaliente; municipality
    (0.4 + 0.7996 + 1) / 3 = 0.7332 → 73.3 % Satisfactorio; money 6.4 M of 7 M → 91.4 %.
    """
    h1 = meta("H1", "Incremento", (10, 20, 30, 40), 100, (M, 2 * M, 3 * M, 4 * M))
    h2 = meta("H2", "Reducción", (0, 0, 4, 4), 8, (0, 0, 0, 0))
    e1 = meta("E1", "Incremento", (10000, 0, 0, 0), 10000, (2 * M, 0, 0, 0))
    e2 = meta("E2", "Mantenimiento", (50, 50, 50, 50), 50, (M, M, M, M))
    hac = evaluate_dependencia(
        "HAC",
        "Secretaría de Hacienda",
        [h1, h2],
        {
            "H1": {
                1: QuarterReport(D(5), committed=500_000),
                2: QuarterReport(D(7), 2_400_000, 1_500_000, 900_000, EVIDENCE, EXPLANATION),
            }
        },
        2,
    )
    edu = evaluate_dependencia(
        "EDU",
        "Secretaría de Educación",
        [e1, e2],
        {
            "E1": {1: QuarterReport(D(7996)), 2: QuarterReport(None, committed=M)},
            "E2": {2: QuarterReport(D(60), committed=3 * M)},
        },
        2,
    )
    return evaluate_municipality([hac, edu])


def export(missing: tuple[tuple[str, str], ...] = MISSING, evaluation: MunicipalityEvaluation | None = None) -> bytes:
    return evaluation_workbook(
        municipality="Municipio de Villa Esperanza",
        plan_name="Villa Esperanza avanza 2024-2027",
        vigencia=2027,
        quarter=2,
        result=evaluation or result(),
        missing=missing,
        generated_at=GENERATED,
    )


@pytest.fixture(scope="module")
def book() -> Any:
    return openpyxl.load_workbook(io.BytesIO(export()))


def table(ws: Any, header_row: int = TABLE_HEADER_ROW) -> list[dict[str, Any]]:
    """The rows under `header_row` as {label: cell}, up to the first empty row."""
    labels = [c.value for c in ws[header_row]]
    rows = []
    for cells in ws.iter_rows(min_row=header_row + 1):
        if all(c.value is None for c in cells):
            break
        rows.append(dict(zip(labels, cells, strict=False)))
    return rows


def block(ws: Any) -> dict[str, Any]:
    """`Municipio`: label in A → the cell in B (every label of the sheet appears once)."""
    labels = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert len(set(filter(None, labels))) == len(list(filter(None, labels))), labels
    return {label: ws.cell(r, 2) for r, label in enumerate(labels, start=1) if label}


def fill(cell: Any) -> str:
    return str(cell.fill.fgColor.rgb)[-6:]


def all_cells(wb: Any) -> Iterator[Any]:
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


# ------------------------------------------------------------------------------------------------ Municipio


def test_sheets_in_order(book: Any) -> None:
    assert book.sheetnames == [SHEET_MUNICIPALITY, SHEET_DEPENDENCIAS, SHEET_METAS, SHEET_MISSING]


def test_municipality_block(book: Any) -> None:
    cells = block(book[SHEET_MUNICIPALITY])
    assert "2027" in book[SHEET_MUNICIPALITY]["A1"].value
    assert "T2" in book[SHEET_MUNICIPALITY]["A1"].value
    assert cells["Municipio"].value == "Municipio de Villa Esperanza"
    assert cells["Vigencia"].value == 2027
    assert cells["Trimestre"].value == "T2 (abr–jun)"
    assert cells["Fecha de generación"].value == dt.datetime(2027, 7, 20, 9, 30)  # noqa: DTZ001 (spreadsheets hold no zone)
    assert cells["Dependencias evaluadas"].value == "2 de 4"
    assert (cells["Metas"].value, cells["Metas programadas a la fecha"].value) == (4, 3)
    score = cells["Cumplimiento del municipio"]
    assert (score.value, score.number_format) == (0.733, PERCENT)
    grade = cells["Calificación"]
    assert (grade.value, fill(grade)) == ("Satisfactorio", "92D050")
    assert (cells["Presupuesto programado a la fecha"].value, cells["Comprometido"].value) == (7 * M, 6_400_000)
    assert cells["Comprometido"].number_format == PESOS
    assert (cells["Ejecución financiera"].value, cells["Ejecución financiera"].number_format) == (0.914, PERCENT)


def test_municipality_counts_and_scale(book: Any) -> None:
    cells = block(book[SHEET_MUNICIPALITY])
    counts = {state: cells[state].value for state in ("No programada", "Sin iniciar", "En ejecución", "Rezagada")}
    assert counts == {"No programada": 1, "Sin iniciar": 0, "En ejecución": 1, "Rezagada": 1}
    assert (cells["Cumplida"].value, cells["Sobreejecutada"].value) == (0, 1)
    scale = {name: cells[name] for name in ("Sobresaliente", "Medio", "Crítico")}
    assert [(c.value, c.number_format) for c in scale.values()] == [(0.8, PERCENT), (0.6, PERCENT), (0.0, PERCENT)]
    ws = book[SHEET_MUNICIPALITY]
    legend = [ws.cell(r, 1) for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Crítico"]
    assert fill(legend[0]) == "C00000"
    assert cells["Rezagada por debajo de"].value == 0.6


# ------------------------------------------------------------------------------------------------ Por dependencia


def test_one_row_per_dependencia_and_the_total(book: Any) -> None:
    hac, edu, total = table(book[SHEET_DEPENDENCIAS])
    assert [r["Código dependencia"].value for r in (hac, edu, total)] == ["HAC", "EDU", "Total municipio"]
    assert [(r["Metas"].value, r["Metas programadas"].value) for r in (hac, edu, total)] == [(2, 1), (2, 2), (4, 3)]
    assert [r["Cumplimiento"].value for r in (hac, edu, total)] == [0.4, 0.9, 0.733]
    assert all(r["Cumplimiento"].number_format == PERCENT for r in (hac, edu, total))
    assert [(r["Calificación"].value, fill(r["Calificación"])) for r in (hac, edu, total)] == [
        ("Bajo", "ED7D31"),
        ("Sobresaliente", "00B050"),
        ("Satisfactorio", "92D050"),
    ]
    assert [r["Rezagada"].value for r in (hac, edu, total)] == [1, 0, 1]
    assert [r["Sobreejecutada"].value for r in (hac, edu, total)] == [0, 1, 1]
    assert [r["No programada"].value for r in (hac, edu, total)] == [1, 0, 1]
    assert [r["Presupuesto programado a la fecha"].value for r in (hac, edu, total)] == [3 * M, 4 * M, 7 * M]
    assert [r["Comprometido"].value for r in (hac, edu, total)] == [2_400_000, 4 * M, 6_400_000]
    assert hac["Comprometido"].number_format == PESOS
    assert [r["Ejecución financiera"].value for r in (hac, edu, total)] == [0.8, 1.0, 0.914]


def test_dark_grades_get_white_letters(book: Any) -> None:
    hac, edu, _ = table(book[SHEET_DEPENDENCIAS])
    assert str(edu["Calificación"].font.color.rgb).endswith("FFFFFF")  # on green 00B050
    assert str(hac["Calificación"].font.color.rgb).endswith("000000")  # on orange ED7D31


def test_frozen_panes_keep_the_dependencia_in_view(book: Any) -> None:
    assert book[SHEET_DEPENDENCIAS].freeze_panes == f"C{TABLE_HEADER_ROW + 1}"
    assert book[SHEET_METAS].freeze_panes == f"C{TABLE_HEADER_ROW + 1}"
    assert book[SHEET_METAS].auto_filter.ref == f"A{TABLE_HEADER_ROW}:Y{TABLE_HEADER_ROW + 4}"


# ------------------------------------------------------------------------------------------------ Por meta


def test_one_row_per_meta_in_the_plans_order(book: Any) -> None:
    rows = table(book[SHEET_METAS])
    assert [(r["Código dependencia"].value, r["Código meta producto"].value) for r in rows] == [
        ("HAC", "H1"),
        ("HAC", "H2"),
        ("EDU", "E1"),
        ("EDU", "E2"),
    ]
    assert [r["Estado"].value for r in rows] == ["Rezagada", "No programada", "En ejecución", "Sobreejecutada"]


def test_meta_figures(book: Any) -> None:
    h1, *_ = table(book[SHEET_METAS])
    figures = {
        "N°": 1,
        "Tipo de meta": "Incremento",
        "Meta vigencia": 100,
        "Programación física T2": 20,
        "Ejecución física T2": 7,
        "Cumplimiento T2": 0.35,
        "Programación a la fecha": 30,
        "Ejecución a la fecha": 12,
        "Cumplimiento acumulado": 0.4,
        "Cumplimiento acumulado sin tope": None,  # not over-executed: nothing to add
        "Avance de la meta vigencia": 0.12,
        "Presupuesto programado a la fecha": 3 * M,
        "Comprometido": 2_400_000,
        "Obligado": 1_500_000,
        "Pagado": 900_000,
        "Ejecución financiera": 0.8,
        "Calificación": "Bajo",
        "Evidencia T2": EVIDENCE,
        "Explicación T2": EXPLANATION,
    }
    assert {label: h1[label].value for label in figures} == figures
    assert type(h1["Meta vigencia"].value) is int
    assert h1["Cumplimiento T2"].number_format == PERCENT
    assert all(h1[k].number_format == PESOS for k in ("Comprometido", "Obligado", "Pagado"))
    assert fill(h1["Calificación"]) == "ED7D31"


def test_shown_percentages_are_the_rounded_ones(book: Any) -> None:
    """7996/10000 = 79.96 % is stored as 0.8 (80.0 %), the figure the grade Sobresaliente was read from."""
    e1 = table(book[SHEET_METAS])[2]
    assert e1["Cumplimiento acumulado"].value == 0.8
    assert e1["Avance de la meta vigencia"].value == 0.8
    assert e1["Calificación"].value == "Sobresaliente"
    assert e1["Cumplimiento T2"].value == NOT_PROGRAMMED  # P_2 = 0
    assert e1["Ejecución física T2"].value == 0  # the empty T2 cell counts as nothing


def test_not_programmed_ratios_are_said_in_words(book: Any) -> None:
    h2 = table(book[SHEET_METAS])[1]
    for label in ("Cumplimiento T2", "Cumplimiento acumulado", "Ejecución financiera"):
        assert h2[label].value == NOT_PROGRAMMED, label
    assert h2["Avance de la meta vigencia"].value == 0
    assert h2["Calificación"].value is None


def test_over_execution_shows_the_raw_figure_beside_the_capped_one(book: Any) -> None:
    e2 = table(book[SHEET_METAS])[3]
    assert e2["Cumplimiento acumulado"].value == 1
    assert e2["Cumplimiento acumulado sin tope"].value == 1.2
    assert e2["Cumplimiento acumulado sin tope"].number_format == PERCENT
    assert e2["Ejecución financiera"].value == 1.5  # 3 M of 2 M: not capped


# ------------------------------------------------------------------------------------------------ Pendientes and safety


def test_missing_dependencias_are_listed(book: Any) -> None:
    rows = table(book[SHEET_MISSING])
    assert [(r["Código dependencia"].value, r["Dependencia"].value) for r in rows] == list(MISSING)


def test_everyone_reported_says_so() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(export(missing=())))
    assert "Ninguna" in str(wb[SHEET_MISSING].cell(TABLE_HEADER_ROW + 1, 1).value)


def test_no_formula_and_formula_looking_text_stays_text(book: Any) -> None:
    assert not [c.coordinate for c in all_cells(book) if c.data_type == "f"]
    cells = [c for c in all_cells(book) if c.value in {EVIDENCE, EXPLANATION, MISSING[1][1]}]
    assert len(cells) == 3
    assert all(c.data_type == "s" for c in cells)


def test_nothing_evaluated_yet() -> None:
    """Before any report is accepted the workbook still opens: no score, everyone pending."""
    wb = openpyxl.load_workbook(io.BytesIO(export(evaluation=evaluate_municipality([]))))
    cells = block(wb[SHEET_MUNICIPALITY])
    assert cells["Cumplimiento del municipio"].value == NOT_PROGRAMMED
    assert cells["Calificación"].value is None
    assert [r["Código dependencia"].value for r in table(wb[SHEET_DEPENDENCIAS])] == ["Total municipio"]
    assert table(wb[SHEET_METAS]) == []


def test_an_evaluation_of_another_quarter_is_refused() -> None:
    t3 = evaluate_municipality([evaluate_dependencia("HAC", "Hacienda", [], {}, 3)])
    with pytest.raises(ValueError, match="HAC"):
        export(evaluation=t3)
