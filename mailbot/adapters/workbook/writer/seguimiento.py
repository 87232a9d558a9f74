"""The `Seguimiento` sheet: one row per accepted meta, the plan's figures locked, then a block per quarter."""

from __future__ import annotations

from enum import Enum
from typing import Final

from mailbot.adapters.workbook.cells import (
    PAPER_LEGAL,
    Worksheet,
    fit_height,
    fit_width,
    plain_number,
    put,
    wrapped_lines,
)
from mailbot.adapters.workbook.style import BOLD, BORDER, INPUT_FILL, LOCKED_FILL, NOTE_FONT, TOP, WRAP_TOP
from mailbot.adapters.workbook.writer.comparison import write_comparison
from mailbot.adapters.workbook.writer.sheet import input_cell, label_row, locked_cell, number_format_of, protect, title
from mailbot.adapters.workbook.writer.spec import TemplateSpec
from mailbot.adapters.workbook.writer.validations import add_checks, seguimiento_validations
from mailbot.domain.fechas import fecha_larga
from mailbot.domain.seguimiento import Baseline, PlannedMeta, QuarterReport
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    FROZEN_SEGUIMIENTO_KEY,
    HEADER_ROW,
    METAS_BY_KEY,
    QUARTER_SHORT,
    QUARTERS,
    SEGUIMIENTO_BY_KEY,
    SEGUIMIENTO_COLUMNS,
    SEGUIMIENTO_FIXED,
    SEGUIMIENTO_LETTERS,
    physical_key,
    seguimiento_key,
)


class Block(Enum):
    """What a quarter's block of columns is in this ronda's workbook."""

    REPORTED = "reported"  # accepted in an earlier ronda: its values are shown, locked
    OPEN = "open"  # to report now (the current quarter, or an earlier one never reported)
    LATER = "later"  # not reported yet: locked and empty


def block_of(baseline: Baseline, q: int) -> Block:
    if q in baseline.reported:
        return Block.REPORTED
    return Block.OPEN if q in baseline.open_quarters else Block.LATER


REPORT_NAMES: Final = ("exec", "committed", "obligated", "paid", "evidence", "explanation")
_TEXT_KEYS: Final = frozenset(
    {"meta", "unit", "meta_type"} | {seguimiento_key(n, q) for n in ("evidence", "explanation") for q in QUARTERS}
)


def write_seguimiento(ws: Worksheet, spec: TemplateSpec, baseline: Baseline) -> None:
    """One row per accepted meta: the plan's figures locked, then a block of six columns per quarter."""
    _seguimiento_heading(ws, spec, baseline)
    label_row(ws, SEGUIMIENTO_COLUMNS, SEGUIMIENTO_LETTERS)
    for row, meta in enumerate(baseline.metas, start=FIRST_DATA_ROW):
        _write_seguimiento_row(ws, row, meta, baseline)
    if baseline.metas:
        last = FIRST_DATA_ROW + len(baseline.metas) - 1
        add_checks(ws, seguimiento_validations(baseline.open_quarters), SEGUIMIENTO_LETTERS, last)
    write_comparison(ws, baseline, spec.lag_below_percent)
    _fold_later_quarters(ws, baseline)
    ws.freeze_panes = f"{SEGUIMIENTO_LETTERS[FROZEN_SEGUIMIENTO_KEY]}{FIRST_DATA_ROW}"
    fit_width(ws, landscape=True, repeat_rows=f"{HEADER_ROW - 1}:{HEADER_ROW}", paper=PAPER_LEGAL)
    protect(ws)


def _fold_later_quarters(ws: Worksheet, baseline: Baseline) -> None:
    """The quarters still to come are empty and locked: folded (an outline group, one click to open), so the
    comparison block stands right after the quarter being reported."""
    for q in QUARTERS:
        if block_of(baseline, q) is Block.LATER:
            for name in REPORT_NAMES:  # one by one: a grouped range would take its first column's width
                dimension = ws.column_dimensions[SEGUIMIENTO_LETTERS[seguimiento_key(name, q)]]
                dimension.hidden, dimension.outline_level = True, 1


def _seguimiento_heading(ws: Worksheet, spec: TemplateSpec, baseline: Baseline) -> None:
    """Rows 1–4: title and context, then each quarter's band title over its first column (never merged)."""
    title(ws, "A1", f"Plan de acción {spec.vigencia} – {spec.ronda.label}")
    put(ws["A2"], f"Dependencia: {spec.dependencia_code} – {spec.dependencia_name}").font = BOLD
    deadline = fecha_larga(spec.deadline)
    put(ws["A3"], f"Vigencia: {spec.vigencia}. Corte: trimestre {baseline.quarter}. Fecha límite: {deadline}.")
    ws["A3"].font = BOLD
    put(ws["A4"], "Plan aceptado (no se modifica). Montos acumulados del 1 de enero al corte.").font = NOTE_FONT
    for q in QUARTERS:
        band = put(ws[f"{SEGUIMIENTO_LETTERS[seguimiento_key('exec', q)]}4"], f"Trimestre {q} ({QUARTER_SHORT[q]})")
        band.font, band.border = BOLD, BORDER
        band.fill = INPUT_FILL if block_of(baseline, q) is Block.OPEN else LOCKED_FILL


def _write_seguimiento_row(ws: Worksheet, row: int, meta: PlannedMeta, baseline: Baseline) -> None:
    """The fixed cells and the four blocks: (key, value, is it an input?) — only an open block's cells are."""
    cells = [(key, value, False) for key, value in _fixed_values(meta).items()]
    for q in QUARTERS:
        block = block_of(baseline, q)
        report = baseline.earlier(meta.meta_code, q) if block is Block.REPORTED else None
        cells += [(key, value, block is Block.OPEN) for key, value in _report_values(report, q).items()]
    for key, value, is_input in cells:
        cell = put(ws[f"{SEGUIMIENTO_LETTERS[key]}{row}"], value)
        cell.number_format = number_format_of(METAS_BY_KEY.get(key) or SEGUIMIENTO_BY_KEY[key])
        cell.alignment = WRAP_TOP if key in _TEXT_KEYS else TOP
        (input_cell if is_input else locked_cell)(cell)
    texts = [(str(value), SEGUIMIENTO_BY_KEY[key].width) for key, value, _ in cells if key in _TEXT_KEYS and value]
    fit_height(ws, row, max((wrapped_lines(text, width) for text, width in texts), default=1))


def _fixed_values(meta: PlannedMeta) -> dict[str, object]:
    """The accepted plan's figures, in `SEGUIMIENTO_FIXED` order (the rule S05 compares them)."""
    fixed: dict[str, object] = {
        "number": meta.number,
        "meta_code": meta.meta_code,
        "meta": meta.meta,
        "unit": meta.unit,
        "meta_type": meta.meta_type,
        "meta_vigencia": plain_number(meta.meta_vigencia),
        **{physical_key(q): plain_number(meta.planned(q)) for q in QUARTERS},
        "total": meta.total,
    }
    assert tuple(fixed) == SEGUIMIENTO_FIXED
    return fixed


def _report_values(report: QuarterReport | None, q: int) -> dict[str, object]:
    """One quarter's six cells: an accepted report's values, or all empty."""
    if report is None:
        return {seguimiento_key(name, q): None for name in REPORT_NAMES}
    shown = (
        None if report.execution is None else plain_number(report.execution),
        report.committed,
        report.obligated,
        report.paid,
        report.evidence or None,
        report.explanation or None,
    )
    return {seguimiento_key(name, q): value for name, value in zip(REPORT_NAMES, shown, strict=True)}
