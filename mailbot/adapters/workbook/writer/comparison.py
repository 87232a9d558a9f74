"""`Seguimiento`'s comparison block: what the accepted plan programmed to the cut-off, beside what is reported.

The contract's columns end at `Explicación T4` (AI); the reader reads no further and the rules never look here,
so these columns are for the eye only: locked, computed, never read back (S05 compares the fixed columns with the
accepted plan, not with this). Programmed figures are plain numbers from the baseline; the executed-to-date and
the two percentages are formulas over the open quarter's cells, so a secretario sees a lagging meta or a
commitment above the programmed budget (S03) while typing, before sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from openpyxl.formatting.rule import FormulaRule

from mailbot.adapters.workbook.cells import Formula, Worksheet, column_width, plain_number, put
from mailbot.adapters.workbook.style import BOLD, BORDER, LOCKED_FILL, PERCENT_FORMAT, PESOS_FORMAT, TOP, WARN_FILL
from mailbot.adapters.workbook.writer.sheet import header_cell, locked_cell
from mailbot.domain.seguimiento import Baseline, PlannedMeta
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    QUARTERS,
    SEGUIMIENTO_COLUMNS,
    SEGUIMIENTO_LETTERS,
    column_letter,
    seguimiento_key,
)

#: The first column after the contract's (AJ): nothing the reader or the rules see.
FIRST_COMPARISON_COLUMN: Final = len(SEGUIMIENTO_COLUMNS) + 1
NOT_PROGRAMMED: Final = "No programada"
NO_BUDGET: Final = "Sin presupuesto programado"


@dataclass(frozen=True)
class ComparisonColumn:
    key: str
    label: str
    width: int
    number_format: str


def comparison_columns(quarter: int) -> tuple[ComparisonColumn, ...]:
    """The block's columns for the cut-off of `quarter`, in order (labels name the quarter: "a T2")."""
    return (
        ComparisonColumn("planned", f"Programación física acumulada a T{quarter}", 16, "General"),
        ComparisonColumn("executed", f"Ejecución física acumulada a T{quarter}", 16, "General"),
        ComparisonColumn("compliance", f"Cumplimiento físico a T{quarter}", 14, PERCENT_FORMAT),
        ComparisonColumn("budget", f"Presupuesto programado acumulado a T{quarter}", 18, PESOS_FORMAT),
        ComparisonColumn("committed", f"Comprometido frente a lo programado a T{quarter}", 16, PERCENT_FORMAT),
    )


def comparison_letters(quarter: int) -> dict[str, str]:
    columns = comparison_columns(quarter)
    return {c.key: column_letter(FIRST_COMPARISON_COLUMN + i) for i, c in enumerate(columns)}


def write_comparison(ws: Worksheet, baseline: Baseline, lag_below_percent: Decimal) -> None:
    """The band title on row 4, the labels on row 5, one row per meta, and the warnings as conditional fills."""
    q = baseline.quarter
    columns, letters = comparison_columns(q), comparison_letters(q)
    band = put(ws.cell(HEADER_ROW - 1, FIRST_COMPARISON_COLUMN), f"Comparación con lo programado a T{q}")
    band.font, band.border, band.fill = BOLD, BORDER, LOCKED_FILL
    for offset, column in enumerate(columns):
        header_cell(put(ws.cell(HEADER_ROW, FIRST_COMPARISON_COLUMN + offset), column.label))
        letter = column_letter(FIRST_COMPARISON_COLUMN + offset)
        ws.column_dimensions[letter].width = column_width(column.label, column.width)
    for row, meta in enumerate(baseline.metas, start=FIRST_DATA_ROW):
        values = _row_values(meta, row, q, letters)
        for offset, column in enumerate(columns):
            cell = put(ws.cell(row, FIRST_COMPARISON_COLUMN + offset), values[column.key])
            cell.number_format, cell.alignment = column.number_format, TOP
            locked_cell(cell)
    if baseline.metas:
        _warnings(ws, FIRST_DATA_ROW + len(baseline.metas) - 1, q, letters, lag_below_percent)


def _row_values(meta: PlannedMeta, row: int, q: int, letters: dict[str, str]) -> dict[str, object]:
    """Planned figures from the accepted plan; executed and percentages as formulas over the reported cells."""
    exec_cells = [f"{SEGUIMIENTO_LETTERS[seguimiento_key('exec', k)]}{row}" for k in QUARTERS if k <= q]
    executed = f"=SUM({','.join(exec_cells)})" if meta.accumulates else f"=N({exec_cells[-1]})"
    planned, done, budget = (f"{letters[k]}{row}" for k in ("planned", "executed", "budget"))
    committed = f"N({SEGUIMIENTO_LETTERS[seguimiento_key('committed', q)]}{row})"
    return {
        "planned": plain_number(meta.planned_to(q)),
        "executed": Formula(executed),
        "compliance": Formula(f'=IF({planned}>0,MIN({done}/{planned},1),"{NOT_PROGRAMMED}")'),
        "budget": meta.budget_to(q),
        "committed": Formula(f'=IF({budget}>0,{committed}/{budget},IF({committed}>0,"{NO_BUDGET}",""))'),
    }


def _warnings(ws: Worksheet, last: int, q: int, letters: dict[str, str], lag_below_percent: Decimal) -> None:
    """Amber where the evaluation would say Rezagada, and where Comprometido passes the programmed budget (S03)."""
    first = FIRST_DATA_ROW
    compliance, committed = letters["compliance"], letters["committed"]
    lag = plain_number(lag_below_percent / 100)
    ws.conditional_formatting.add(
        f"{compliance}{first}:{compliance}{last}",
        FormulaRule(formula=[f"AND(ISNUMBER({compliance}{first}),{compliance}{first}<{lag})"], fill=WARN_FILL),
    )
    ws.conditional_formatting.add(
        f"{committed}{first}:{committed}{last}",
        FormulaRule(
            formula=[f'OR(AND(ISNUMBER({committed}{first}),{committed}{first}>1),{committed}{first}="{NO_BUDGET}")'],
            fill=WARN_FILL,
        ),
    )
    source = SEGUIMIENTO_LETTERS[seguimiento_key("committed", q)]
    budget = letters["budget"]
    ws.conditional_formatting.add(
        f"{source}{first}:{source}{last}",
        FormulaRule(formula=[f"N({source}{first})>{budget}{first}"], fill=WARN_FILL),
    )
