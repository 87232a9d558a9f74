"""The `Metas` sheet: in formulación a form, one meta per row; in seguimiento the accepted plan, locked.

Both carry the contract's labels on row 5 (rule F02 checks them in every ronda).
"""

from __future__ import annotations

from typing import Final

from mailbot.adapters.workbook.cells import (
    PAPER_LEGAL,
    Formula,
    Worksheet,
    fit_height,
    fit_width,
    plain_number,
    put,
    wrapped_lines,
)
from mailbot.adapters.workbook.style import BOLD, NOTE_FONT, TOP, WRAP_TOP
from mailbot.adapters.workbook.writer.sheet import input_cell, label_row, locked_cell, number_format_of, protect, title
from mailbot.adapters.workbook.writer.spec import TemplateSpec
from mailbot.adapters.workbook.writer.validations import add_checks, metas_validations
from mailbot.domain import values
from mailbot.domain.context import CatalogueEntry
from mailbot.domain.parsed import ParsedWorkbook, Row
from mailbot.domain.workbook_format import (
    CONTENT_KEYS,
    FIRST_DATA_ROW,
    FROZEN_METAS_KEY,
    HEADER_ROW,
    METAS_BY_KEY,
    METAS_COLUMNS,
    METAS_LETTERS,
    PREFILL_KEYS,
    QUARTERS,
    TOTAL_KEYS,
    Column,
    Kind,
    Source,
    money_key,
    total_formula,
)

_TALL: Final = ("meta", "activities", "program")  # seguimiento: the columns whose text sets a row's height


def write_metas(ws: Worksheet, spec: TemplateSpec) -> None:
    _metas_heading(ws, spec, "Diligencie las celdas de color, una meta por fila. Las celdas grises se calculan solas.")
    prefills = [_prefill(e) for e in spec.catalogue]
    for row in range(FIRST_DATA_ROW, spec.last_row + 1):
        i = row - FIRST_DATA_ROW
        _write_meta_row(ws, row, prefills[i] if i < len(prefills) else {})
    add_checks(ws, metas_validations(spec), METAS_LETTERS, spec.last_row)
    _screen_and_print(ws)
    protect(ws, allow_rows=True)


def _screen_and_print(ws: Worksheet) -> None:
    """N°, code and the meta's text stay in view at any column; printed on legal landscape, one page wide."""
    ws.freeze_panes = f"{METAS_LETTERS[FROZEN_METAS_KEY]}{FIRST_DATA_ROW}"
    fit_width(ws, landscape=True, repeat_rows=f"{HEADER_ROW}:{HEADER_ROW}", paper=PAPER_LEGAL)


def _metas_heading(ws: Worksheet, spec: TemplateSpec, note: str) -> None:
    """Rows 1–4 (title, dependencia, vigencia, a note) and the contract's labels on row 5, with their widths."""
    title(ws, "A1", f"Plan de acción {spec.vigencia} – {spec.ronda.label} – Metas")
    put(ws["A2"], f"Dependencia: {spec.dependencia_code} – {spec.dependencia_name}").font = BOLD
    put(ws["A3"], f"Vigencia: {spec.vigencia}").font = BOLD
    put(ws["A4"], note).font = NOTE_FONT
    label_row(ws, METAS_COLUMNS, METAS_LETTERS)


def _auto_value(column: Column, row: int) -> object:
    """N° and the formula totals: a source's total sums its quarters; the meta's total sums the sources."""
    if column.key == "number":
        return row - FIRST_DATA_ROW + 1
    return Formula(total_formula(column.key, row))


def _prefill(entry: CatalogueEntry) -> dict[str, str]:
    """Only PREFILL_KEYS: the rules skip a row that holds nothing but these."""
    found = {
        "linea": entry.linea,
        "program_code": entry.program_code,
        "program": entry.program,
        "meta_code": entry.meta_code,
        "meta": entry.meta,
        "indicator": entry.indicator,
        "unit": entry.unit,
    }
    assert found.keys() <= PREFILL_KEYS
    return {k: v for k, v in found.items() if v}


def _write_meta_row(ws: Worksheet, row: int, prefill: dict[str, str]) -> None:
    """One meta row; a pre-filled one gets the height its catalogue text needs (empty rows grow as typed)."""
    for index, column in enumerate(METAS_COLUMNS, start=1):
        cell = ws.cell(row, index)
        cell.number_format = number_format_of(column)
        cell.alignment = WRAP_TOP if column.kind in {Kind.TEXT, Kind.LIST} else TOP
        if column.is_input:
            input_cell(cell)
            if column.key in prefill:
                put(cell, prefill[column.key])
        else:
            locked_cell(cell)
            put(cell, _auto_value(column, row))
    if prefill:
        fit_height(ws, row, max(wrapped_lines(text, METAS_BY_KEY[key].width) for key, text in prefill.items()))


# ------------------------------------------------------------------------------------------------ seguimiento


def write_accepted_metas(ws: Worksheet, spec: TemplateSpec, accepted: ParsedWorkbook) -> None:
    """The accepted plan as it was accepted, every cell locked and grey: the reference the quarter reports against.

    The labels are the formulación's; the totals are plain numbers recomputed from the quarters, since nobody
    edits this sheet any more.
    """
    _metas_heading(ws, spec, "Plan de acción aceptado, solo para consulta: no se modifica en el seguimiento.")
    for number, meta in enumerate(accepted_metas(accepted), start=1):
        row = FIRST_DATA_ROW + number - 1
        for index, column in enumerate(METAS_COLUMNS, start=1):
            cell = put(ws.cell(row, index), _accepted_value(column, meta, number))
            cell.number_format = number_format_of(column)
            cell.alignment = WRAP_TOP if column.kind in {Kind.TEXT, Kind.LIST} else TOP
            locked_cell(cell)
        fit_height(ws, row, max(wrapped_lines(values.text(meta.cell(k).value), METAS_BY_KEY[k].width) for k in _TALL))
    _screen_and_print(ws)
    protect(ws)


def accepted_metas(accepted: ParsedWorkbook) -> tuple[Row, ...]:
    """The rows of the accepted plan that are metas: the same rule as `PlanView.metas` (and so `planned_metas`)."""
    return tuple(row for row in accepted.metas if not row.is_blank(CONTENT_KEYS))


def _accepted_value(column: Column, row: Row, number: int) -> object:
    """A cell of the accepted plan, typed: pesos as ints, numbers as numbers, codes as text, the rest as written."""
    if column.key == "number":
        return number
    if column.key in TOTAL_KEYS:
        sources = tuple(Source) if column.key == "total" else (Source(column.key.removesuffix("_total")),)
        return sum(values.pesos(row.cell(money_key(s, q)).value).value or 0 for s in sources for q in QUARTERS)
    raw = row.cell(column.key).value
    if values.is_blank(raw):
        return None
    if column.kind is Kind.PESOS:
        return _or_raw(values.pesos(raw).value, raw)
    if column.kind is Kind.NUMBER:
        read = values.number(raw).value
        return _or_raw(None if read is None else plain_number(read), raw)
    if column.kind is Kind.CODE or not isinstance(raw, str):
        return values.text(raw)
    return raw


def _or_raw(value: object, raw: object) -> object:
    """An accepted plan passed the rules, so a cell that cannot be read is unexpected: show it as it was."""
    return raw if value is None else value
