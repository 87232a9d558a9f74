"""The `Resumen` sheet of either ronda: totals against the budget, computed by the spreadsheet, never read back."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from mailbot.adapters.workbook.cells import Formula, Worksheet, fit_width, put, sheet_ref
from mailbot.adapters.workbook.style import BOLD, NOTE_FONT, PERCENT_FORMAT, PESOS_FORMAT
from mailbot.adapters.workbook.writer.seguimiento import REPORT_NAMES, Block, block_of
from mailbot.adapters.workbook.writer.sheet import (
    BUDGET_FIELDS,
    header_cell,
    header_ref,
    locked_cell,
    metas_range,
    protect,
    title,
)
from mailbot.adapters.workbook.writer.spec import TemplateSpec
from mailbot.domain.seguimiento import Baseline
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    QUARTER_SHORT,
    QUARTERS,
    SEGUIMIENTO_LETTERS,
    SHEET_HEADER,
    SHEET_SEGUIMIENTO,
    Source,
    money_key,
    seguimiento_key,
)

_SUMMARY_COLUMNS: Final = (
    ("Fuente", 22),
    *((f"T{q} ({QUARTER_SHORT[q]})", 18) for q in QUARTERS),
    ("Total programado", 20),
    ("Presupuesto disponible", 20),
    ("Diferencia (disponible − programado)", 22),
    ("% asignado", 12),
    ("Estado", 32),
)
_SUMMARY_HEAD: Final = 4
_EXECUTION_HEAD: Final = (
    ("Corte", 44),  # column A also holds the longest labels ("Metas con ejecución diligenciada en el T3")
    ("Programado acumulado", 18),
    ("Comprometido", 18),
    ("Obligado", 18),
    ("Pagado", 18),
    ("% comprometido", 20),
    ("Estado", 20),
)


def write_summary(ws: Worksheet, spec: TemplateSpec) -> None:
    """Formulación: totals by source and quarter against the available budget, all formulas."""
    title(ws, "A1", f"Resumen del plan de acción {spec.vigencia} – {spec.dependencia_name}")
    put(ws["A2"], "Esta hoja se calcula sola con las hojas «Metas» y «Encabezado»; no necesita diligenciarla.")
    ws["A2"].font = NOTE_FONT
    for col, (label, width) in enumerate(_SUMMARY_COLUMNS, start=1):
        cell = put(ws.cell(_SUMMARY_HEAD, col), label)
        header_cell(cell)
        ws.column_dimensions[cell.column_letter].width = width
    first = _SUMMARY_HEAD + 1
    for row, (source, field) in enumerate(zip(Source, BUDGET_FIELDS, strict=True), start=first):
        sums = [Formula(f"=SUM({metas_range(spec, money_key(source, q))})") for q in QUARTERS]
        available = Formula(f"={sheet_ref(SHEET_HEADER)}!{header_ref(field)}")
        _summary_row(ws, row, source.label, sums, available)
    total_row = first + len(Source)
    sums = [Formula(f"=SUM({col}{first}:{col}{total_row - 1})") for col in "BCDE"]
    _summary_row(ws, total_row, "Total", sums, Formula(f"=SUM(G{first}:G{total_row - 1})"))
    _write_counts(ws, spec, total_row + 2)
    fit_width(ws, landscape=True)
    protect(ws)


def _summary_row(ws: Worksheet, row: int, label: str, quarter_sums: list[Formula], available: Formula) -> None:
    cells: list[object] = [
        label,
        *quarter_sums,
        Formula(f"=SUM(B{row}:E{row})"),
        available,
        Formula(f"=G{row}-F{row}"),
        Formula(f"=IF(G{row}>0,F{row}/G{row},0)"),
        Formula(
            f'=IF(F{row}>G{row},"Supera el disponible",IF(G{row}=0,"Sin presupuesto disponible",'
            f'IF(F{row}<0.9*G{row},"Queda más del 10 % sin asignar","Correcto")))'
        ),
    ]
    _locked_row(ws, row, cells, pesos=range(2, 9), percent=9)


def _write_counts(ws: Worksheet, spec: TemplateSpec, row: int) -> None:
    codes = metas_range(spec, "meta_code")
    counts = (
        ("Metas registradas", Formula(f"=COUNTA({codes})")),
        ("Metas sin recursos", Formula(f'=COUNTIFS({codes},"<>",{metas_range(spec, "total")},0)')),
    )
    _label_values(ws, row, counts)


# ------------------------------------------------------------------------------------------------ seguimiento


def write_seguimiento_summary(ws: Worksheet, spec: TemplateSpec, baseline: Baseline) -> None:
    """The planned budget by quarter (plain numbers) and the reported amounts (formulas)."""
    title(ws, "A1", f"Resumen del seguimiento {spec.vigencia} – {spec.dependencia_name}")
    put(ws["A2"], "Esta hoja se calcula sola con la hoja «Seguimiento»; no necesita diligenciarla.").font = NOTE_FONT
    for col, (_label, width) in enumerate(_EXECUTION_HEAD, start=1):
        ws.column_dimensions[ws.cell(1, col).column_letter].width = width
    planned = [sum(m.budget[q - 1] for m in baseline.metas) for q in QUARTERS]
    _header_labels(ws, 4, ("Presupuesto programado", *(f"T{q} ({QUARTER_SHORT[q]})" for q in QUARTERS), "Total"))
    _plain_row(ws, 5, "Programado en el trimestre", [*planned, sum(planned)])
    _plain_row(ws, 6, "Programado acumulado", [sum(planned[:q]) for q in QUARTERS])
    _header_labels(ws, 8, tuple(label for label, _width in _EXECUTION_HEAD))
    shown = [q for q in QUARTERS if q <= baseline.quarter or q in baseline.reported]
    for row, q in enumerate(shown, start=9):
        _execution_row(ws, row, q, sum(planned[:q]), baseline)
    _seguimiento_counts(ws, baseline, 9 + len(shown) + 1)
    fit_width(ws, landscape=True)
    protect(ws)


def _header_labels(ws: Worksheet, row: int, labels: Iterable[str]) -> None:
    for col, label in enumerate(labels, start=1):
        header_cell(put(ws.cell(row, col), label))
    ws.row_dimensions[row].height = 32  # two lines of a wrapped label


def _plain_row(ws: Worksheet, row: int, label: str, amounts: list[int]) -> None:
    put(ws.cell(row, 1), label).font = BOLD
    for col, amount in enumerate(amounts, start=2):
        cell = put(ws.cell(row, col), amount)
        cell.number_format = PESOS_FORMAT
        locked_cell(cell, grey=False)


def _seguimiento_range(baseline: Baseline, key: str) -> str:
    letter, last = SEGUIMIENTO_LETTERS[key], FIRST_DATA_ROW + max(len(baseline.metas), 1) - 1
    return f"{sheet_ref(SHEET_SEGUIMIENTO)}!${letter}${FIRST_DATA_ROW}:${letter}${last}"


def _execution_row(ws: Worksheet, row: int, q: int, planned_to: int, baseline: Baseline) -> None:
    state = {Block.REPORTED: "Reportado", Block.OPEN: "Por reportar ahora", Block.LATER: "Aún no se reporta"}
    cells: list[object] = [
        f"T{q} ({QUARTER_SHORT[q]})",
        planned_to,
        *(Formula(f"=SUM({_seguimiento_range(baseline, seguimiento_key(n, q))})") for n in REPORT_NAMES[1:4]),
        Formula(f"=IF(B{row}>0,C{row}/B{row},0)"),
        state[block_of(baseline, q)],
    ]
    _locked_row(ws, row, cells, pesos=range(2, 6), percent=6)


def _seguimiento_counts(ws: Worksheet, baseline: Baseline, row: int) -> None:
    q = baseline.quarter
    counts: list[tuple[str, object]] = [
        ("Metas del plan aceptado", len(baseline.metas)),
        (f"Metas programadas en el T{q}", sum(m.planned(q) > 0 for m in baseline.metas)),
    ]
    counts += [
        (
            f"Metas con ejecución diligenciada en el T{o}",
            Formula(f"=COUNT({_seguimiento_range(baseline, seguimiento_key('exec', o))})"),
        )
        for o in baseline.open_quarters
    ]
    _label_values(ws, row, counts)


# ------------------------------------------------------------------------------------------------ cells


def _locked_row(ws: Worksheet, row: int, cells: list[object], *, pesos: range, percent: int) -> None:
    """A bold label, then locked (white) cells: pesos in the `pesos` columns, a percentage in `percent`."""
    for col, value in enumerate(cells, start=1):
        cell = put(ws.cell(row, col), value)
        cell.number_format = PESOS_FORMAT if col in pesos else PERCENT_FORMAT if col == percent else "General"
        locked_cell(cell, grey=False)
    ws.cell(row, 1).font = BOLD


def _label_values(ws: Worksheet, row: int, pairs: Iterable[tuple[str, object]]) -> None:
    """Label in A (bold), value in B, one pair a row."""
    for offset, (label, value) in enumerate(pairs):
        put(ws.cell(row + offset, 1), label).font = BOLD
        put(ws.cell(row + offset, 2), value)
