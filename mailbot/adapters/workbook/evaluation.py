"""The quarter's evaluation workbook for the management committee (comité de gestión y desempeño).

Four sheets: `Municipio` (the municipality's score, grade, metas per state, financial execution and the grade
scale), `Por dependencia`, `Por meta` and `Pendientes` (dependencias with no accepted report for the quarter).
As in the consolidated plan:
- every figure is computed by `mailbot.domain.evaluation` and written as a number, never as a formula, so the
  file shows the same figures in any program, even one that does not compute;
- percentages are written already rounded to one decimal (the value the grade was read from), with the `0.0%`
  format, so the cell can never show 80.0 % beside a grade computed from 79.96 %; a ratio with nothing planned
  is the text "No programada";
- every text goes through `cells.put`: an evidence typed as `=HYPERLINK(...)` is shown as typed, never run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from mailbot.adapters.workbook.cells import Worksheet, fit_height, fit_width, plain_number, wrapped_lines
from mailbot.adapters.workbook.report import (
    QUARTER_LABELS,
    TABLE_HEADER_ROW,
    Heading,
    Value,
    header,
    put_block,
    put_text,
    save,
    title,
    write_missing,
)
from mailbot.adapters.workbook.style import (
    BOLD,
    NOTE_FONT,
    PERCENT_FORMAT,
    PESOS_FORMAT,
    TEXT_FORMAT,
    TOP,
    TOTAL_FILL,
    WRAP_TOP,
)
from mailbot.domain.evaluation import (
    DependenciaEvaluation,
    Grade,
    MetaEvaluation,
    MetaState,
    MunicipalityEvaluation,
    percent,
)
from mailbot.domain.seguimiento import Quarter

SHEET_MUNICIPALITY: Final = "Municipio"
SHEET_DEPENDENCIAS: Final = "Por dependencia"
SHEET_METAS: Final = "Por meta"
SHEET_MISSING: Final = "Pendientes"

NOT_PROGRAMMED: Final = "No programada"
TOTAL_LABEL: Final = "Total municipio"
FROZEN_COLUMNS: Final = 2  # code and name of the dependencia stay in view when scrolling
_GRADE_COLUMN: Final = 6  # `Por dependencia`: the cell filled with the grade's colour
_MUNICIPALITY_WIDTHS: Final = {"A": 42, "B": 22, "C": 16}  # label, value, and the note spanning both
METHOD_NOTE: Final = (
    "Cumplimiento: promedio del cumplimiento acumulado (máximo 100 %) de las metas programadas a la fecha; "
    "las metas sin programación a la fecha no se cuentan. Incremento y Reducción acumulan de T1 al trimestre; "
    "Mantenimiento compara el nivel del trimestre. Ejecución financiera: comprometido sobre el presupuesto "
    "programado a la fecha (todas las fuentes)."
)

_MISSING_NOTE: Final = "No tienen un reporte aceptado para el trimestre."
_NONE_MISSING: Final = "Ninguna: todas las dependencias reportaron el trimestre."
_LEFT: Final = Alignment(horizontal="left", vertical="top")
_DARK_BELOW: Final = 140  # perceived brightness (0–255) under which a grade's fill gets white text


def evaluation_workbook(
    *,
    municipality: str,
    plan_name: str,
    vigencia: int,
    quarter: Quarter,
    result: MunicipalityEvaluation,
    missing: Sequence[tuple[str, str]],
    generated_at: dt.datetime,
) -> bytes:
    """The .xlsx for the committee: `Municipio`, `Por dependencia`, `Por meta` and `Pendientes`.

    `result.dependencias` in the order they should appear; `missing`: (code, name) of the dependencias with no
    accepted report for `quarter`; `generated_at` in the municipality's time zone.
    """
    _require_quarter(result, quarter)
    wb = openpyxl.Workbook()
    summary = wb.active
    summary.title = SHEET_MUNICIPALITY
    evaluated = len(result.dependencias)
    label = _label(quarter)
    heading = Heading(municipality, plan_name, vigencia, label, generated_at, evaluated, evaluated + len(missing))
    _write_municipality(summary, result, heading)
    _write_dependencias(wb.create_sheet(SHEET_DEPENDENCIAS), result, heading)
    _write_metas(wb.create_sheet(SHEET_METAS), result, heading, quarter)
    heading_missing = f"Dependencias sin seguimiento {label} aceptado – vigencia {vigencia}"
    write_missing(wb.create_sheet(SHEET_MISSING), heading_missing, missing, note=_MISSING_NOTE, none=_NONE_MISSING)
    return save(wb, f"Evaluación del plan de acción {vigencia} {label} – {municipality}")


def _require_quarter(result: MunicipalityEvaluation, quarter: Quarter) -> None:
    """A workbook titled T2 must not show a dependencia evaluated at another cut-off."""
    other = sorted({d.code for d in result.dependencias if d.quarter != quarter})
    if other:
        raise ValueError(f"evaluations of another quarter than T{quarter}: {', '.join(other)}")


def _label(quarter: Quarter) -> str:
    return QUARTER_LABELS[quarter]


def _period(heading: Heading) -> str:
    return f"vigencia {heading.vigencia}, seguimiento {heading.round_label}"


# ------------------------------------------------------------------------------------------------ Municipio


def _write_municipality(ws: Worksheet, result: MunicipalityEvaluation, heading: Heading) -> None:
    """The title block with the municipality's figures, then metas per state, the grade scale and the method."""
    title(ws, f"Evaluación del plan de acción {heading.vigencia} – {heading.round_label}")
    row = _write_figures(ws, result, heading)
    row = _write_counts(ws, row + 1, result.counts)
    row = _write_scale(ws, row + 1, result)
    _write_note(ws, row + 1)
    for letter, width in _MUNICIPALITY_WIDTHS.items():
        ws.column_dimensions[letter].width = width
    fit_width(ws)


def _write_figures(ws: Worksheet, result: MunicipalityEvaluation, heading: Heading) -> int:
    """Label in A, value in B: what is evaluated, the score and its grade, the money; returns the next row."""
    block = [
        *heading.block("Trimestre", "Dependencias evaluadas"),
        ("Metas", len(result.metas), "0"),
        ("Metas programadas a la fecha", result.programmed, "0"),
    ]
    row = _write_block(ws, 2, block)
    _label_cell(ws, row, "Cumplimiento del municipio")
    _ratio_cell(ws.cell(row, 2), result.score).alignment = _LEFT
    _label_cell(ws, row + 1, "Calificación")
    _grade_cell(ws.cell(row + 1, 2), result.grade)
    money: list[tuple[str, Value, str]] = [
        ("Presupuesto programado a la fecha", result.budget_to_date, PESOS_FORMAT),
        ("Comprometido", result.committed, PESOS_FORMAT),
    ]
    row = _write_block(ws, row + 2, money)
    _label_cell(ws, row, "Ejecución financiera")
    _ratio_cell(ws.cell(row, 2), result.financial_execution).alignment = _LEFT
    return row + 1


def _write_note(ws: Worksheet, row: int) -> None:
    """How the figures are computed, in one paragraph across the sheet's columns."""
    cell = put_text(ws.cell(row, 1), METHOD_NOTE)
    cell.font, cell.alignment = NOTE_FONT, WRAP_TOP
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(_MUNICIPALITY_WIDTHS))
    fit_height(ws, row, wrapped_lines(METHOD_NOTE, sum(_MUNICIPALITY_WIDTHS.values())))


def _write_block(ws: Worksheet, row: int, block: Sequence[tuple[str, Value, str]]) -> int:
    """Label in A, value in B (left-aligned); returns the row after the block."""
    return put_block(ws, row, block, column=2, alignment=_LEFT)


def _write_counts(ws: Worksheet, row: int, counts: dict[MetaState, int]) -> int:
    header(ws, row, [("Estado de las metas", 0), ("Metas", 0)], tall=False)
    for offset, (state, count) in enumerate(counts.items(), start=1):
        put_text(ws.cell(row + offset, 1), state.value)
        put_text(ws.cell(row + offset, 2), count).number_format = "0"
    return row + len(counts) + 1


def _write_scale(ws: Worksheet, row: int, result: MunicipalityEvaluation) -> int:
    """The grade bands in force, each in its colour, and the lag threshold: the legend of the other sheets."""
    header(ws, row, [("Escala de calificación", 0), ("Desde", 0)], tall=False)
    grades = result.rules.grades
    for offset, grade in enumerate(grades, start=1):
        _grade_cell(ws.cell(row + offset, 1), grade)
        _percent_cell(ws.cell(row + offset, 2), grade.min_percent)
    last = row + len(grades) + 1
    _label_cell(ws, last, "Rezagada por debajo de")
    _percent_cell(ws.cell(last, 2), result.rules.lag_below_percent)
    return last + 1


# ------------------------------------------------------------------------------------------------ Por dependencia


def _dependencia_headers() -> list[tuple[str, int]]:
    headers = [
        ("Código dependencia", 12),
        ("Dependencia", 34),
        ("Metas", 8),
        ("Metas programadas", 12),
        ("Cumplimiento", 13),
        ("Calificación", 15),
    ]
    headers += [(state.value, 14) for state in MetaState]
    headers += [("Presupuesto programado a la fecha", 19), ("Comprometido", 19), ("Ejecución financiera", 12)]
    return headers


def _write_dependencias(ws: Worksheet, result: MunicipalityEvaluation, heading: Heading) -> None:
    """One row per dependencia and the municipality's row below them (same figures as `Municipio`)."""
    title(ws, f"Evaluación por dependencia – {_period(heading)}")
    put_text(ws.cell(2, 1), heading.municipality).font = BOLD
    header(ws, TABLE_HEADER_ROW, _dependencia_headers())
    row = TABLE_HEADER_ROW
    for dependencia in result.dependencias:
        row += 1
        _write_dependencia(ws, row, dependencia, dependencia.code, dependencia.name)
        fit_height(ws, row, wrapped_lines(dependencia.name, 34))
    row += 1
    _write_dependencia(ws, row, result, TOTAL_LABEL, None)
    for col in range(1, len(_dependencia_headers()) + 1):
        cell = ws.cell(row, col)
        cell.font = BOLD
        if col != _GRADE_COLUMN:
            cell.fill = TOTAL_FILL
    ws.freeze_panes = ws.cell(TABLE_HEADER_ROW + 1, FROZEN_COLUMNS + 1)
    fit_width(ws, landscape=True)


def _write_dependencia(
    ws: Worksheet, row: int, item: DependenciaEvaluation | MunicipalityEvaluation, code: str, name: str | None
) -> None:
    put_text(ws.cell(row, 1), code).number_format = TEXT_FORMAT
    put_text(ws.cell(row, 2), name).alignment = WRAP_TOP
    put_text(ws.cell(row, 3), len(item.metas)).number_format = "0"
    put_text(ws.cell(row, 4), item.programmed).number_format = "0"
    _ratio_cell(ws.cell(row, 5), item.score)
    _grade_cell(ws.cell(row, _GRADE_COLUMN), item.grade)
    for col, count in enumerate(item.counts.values(), start=_GRADE_COLUMN + 1):
        put_text(ws.cell(row, col), count).number_format = "0"
    money = _GRADE_COLUMN + len(MetaState) + 1
    put_text(ws.cell(row, money), item.budget_to_date).number_format = PESOS_FORMAT
    put_text(ws.cell(row, money + 1), item.committed).number_format = PESOS_FORMAT
    _ratio_cell(ws.cell(row, money + 2), item.financial_execution)
    for col in (1, 3, 4):
        ws.cell(row, col).alignment = TOP


# ------------------------------------------------------------------------------------------------ Por meta


def _meta_headers(quarter: Quarter) -> list[tuple[str, int]]:
    return [
        ("Código dependencia", 12),
        ("Dependencia", 26),
        ("N°", 6),
        ("Código meta producto", 14),
        ("Meta de producto", 45),
        ("Unidad de medida", 14),
        ("Tipo de meta", 14),
        ("Meta vigencia", 11),
        (f"Programación física T{quarter}", 12),
        (f"Ejecución física T{quarter}", 12),
        (f"Cumplimiento T{quarter}", 13),
        ("Programación a la fecha", 12),
        ("Ejecución a la fecha", 12),
        ("Cumplimiento acumulado", 13),
        ("Cumplimiento acumulado sin tope", 13),
        ("Avance de la meta vigencia", 12),
        ("Presupuesto programado a la fecha", 19),
        ("Comprometido", 19),
        ("Obligado", 19),
        ("Pagado", 19),
        ("Ejecución financiera", 12),
        ("Estado", 15),
        ("Calificación", 15),
        (f"Evidencia T{quarter}", 35),
        (f"Explicación T{quarter}", 50),
    ]


def _write_metas(ws: Worksheet, result: MunicipalityEvaluation, heading: Heading, quarter: Quarter) -> None:
    """One row per meta of every evaluated dependencia, with a filter on every column."""
    title(ws, f"Evaluación por meta – {_period(heading)}")
    note = "Incremento y Reducción: acumulado de T1 al trimestre. Mantenimiento: el nivel del trimestre."
    put_text(ws.cell(2, 1), note).font = NOTE_FONT
    headers = _meta_headers(quarter)
    header(ws, TABLE_HEADER_ROW, headers)
    row = TABLE_HEADER_ROW
    for dependencia in result.dependencias:
        for meta in dependencia.metas:
            row += 1
            _write_meta(ws, row, dependencia, meta)
            texts = [(dependencia.name, 26), (meta.meta.meta, 45), (meta.evidence, 35), (meta.explanation, 50)]
            fit_height(ws, row, max(wrapped_lines(text, width) for text, width in texts))
    ws.auto_filter.ref = f"A{TABLE_HEADER_ROW}:{get_column_letter(len(headers))}{max(row, TABLE_HEADER_ROW + 1)}"
    ws.freeze_panes = ws.cell(TABLE_HEADER_ROW + 1, FROZEN_COLUMNS + 1)
    ws.print_title_rows = f"{TABLE_HEADER_ROW}:{TABLE_HEADER_ROW}"  # every printed page names its columns
    fit_width(ws, landscape=True)


def _write_meta(ws: Worksheet, row: int, dependencia: DependenciaEvaluation, item: MetaEvaluation) -> None:
    meta = item.meta
    texts: list[Value] = [dependencia.code, dependencia.name, meta.number, meta.meta_code, meta.meta, meta.unit]
    values: list[Value] = [*texts, meta.meta_type, plain_number(meta.meta_vigencia)]
    values += [plain_number(item.planned_q), plain_number(item.executed_q)]
    for col, value in enumerate(values, start=1):
        cell = put_text(ws.cell(row, col), value)
        cell.alignment = WRAP_TOP if col in {2, 5} else TOP
    for col in (1, 4):
        ws.cell(row, col).number_format = TEXT_FORMAT
    _ratio_cell(ws.cell(row, 11), item.quarter_compliance)
    put_text(ws.cell(row, 12), plain_number(item.planned_to_date))
    put_text(ws.cell(row, 13), plain_number(item.executed_to_date))
    _ratio_cell(ws.cell(row, 14), item.cumulative_compliance)
    if item.over_executed:
        _ratio_cell(ws.cell(row, 15), item.cumulative_raw)
    _ratio_cell(ws.cell(row, 16), item.year_progress)
    for col, amount in enumerate((item.budget_to_date, item.committed, item.obligated, item.paid), start=17):
        put_text(ws.cell(row, col), amount).number_format = PESOS_FORMAT
    _ratio_cell(ws.cell(row, 21), item.financial_execution)
    put_text(ws.cell(row, 22), item.state.value)
    _grade_cell(ws.cell(row, 23), item.grade)
    put_text(ws.cell(row, 24), item.evidence or None).alignment = WRAP_TOP
    put_text(ws.cell(row, 25), item.explanation or None).alignment = WRAP_TOP


# ------------------------------------------------------------------------------------------------ cells


def _ratio_cell(cell: Any, ratio: Decimal | None) -> Any:
    """A ratio as the percentage shown (rounded as the grade was read), or "No programada" when there is none."""
    if ratio is None:
        return put_text(cell, NOT_PROGRAMMED)
    return _percent_cell(cell, percent(ratio))


def _percent_cell(cell: Any, shown_percent: Decimal) -> Any:
    """80.0 → 0.8 with the `0.0%` format: the stored number is exactly the figure shown."""
    put_text(cell, float(shown_percent / 100))
    cell.number_format = PERCENT_FORMAT
    return cell


def _grade_cell(cell: Any, grade: Grade | None) -> None:
    """The grade's name on its colour; white letters on a dark colour so the name stays readable."""
    if grade is None:
        return
    put_text(cell, grade.name)
    cell.fill = PatternFill("solid", fgColor=grade.colour)
    cell.font = Font(bold=True, color="FFFFFF" if _dark(grade.colour) else "000000")
    cell.alignment = Alignment(horizontal="center", vertical="top")


def _dark(colour: str) -> bool:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return 0.299 * red + 0.587 * green + 0.114 * blue < _DARK_BELOW


def _label_cell(ws: Worksheet, row: int, label: str) -> None:
    put_text(ws.cell(row, 1), label).font = BOLD
