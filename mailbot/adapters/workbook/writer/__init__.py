"""Generating the E-DE-F-010 workbook that planeación mails to each dependencia.

The file is the only interface a secretario sees, so it does the explaining: plain Spanish instructions, tinted
cells for what to fill, dropdowns for every closed list, totals that compute themselves, everything else locked.
Writing is strict (exact contract labels, codes as text, no value ever turned into a formula); reading, elsewhere,
is tolerant. One module a concern: `spec` (what a workbook shows), `texts` (the instructions' words, from
templates/workbook/instrucciones.yaml), then one module per sheet, `validations` and the shared `sheet` helpers.
"""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from mailbot.adapters.workbook.cells import Formula, fit_height, fit_width, plain_number, put, wrapped_lines
from mailbot.adapters.workbook.style import DATE_FORMAT, PERCENT_FORMAT, PESOS_FORMAT, TEXT_FORMAT
from mailbot.adapters.workbook.writer.header import write_header
from mailbot.adapters.workbook.writer.hidden import write_control, write_lists
from mailbot.adapters.workbook.writer.instructions import write_instructions
from mailbot.adapters.workbook.writer.metas import accepted_metas, write_accepted_metas, write_metas
from mailbot.adapters.workbook.writer.seguimiento import Block, block_of, write_seguimiento
from mailbot.adapters.workbook.writer.sheet import LIST_LINEAS, LIST_METAS, LIST_TYPES, LIST_UNITS, number_format_of
from mailbot.adapters.workbook.writer.spec import DEFAULT_ROWS, EXTRA_ROWS, TemplateSpec, spec_from_config
from mailbot.adapters.workbook.writer.summary import write_seguimiento_summary, write_summary
from mailbot.adapters.workbook.writer.texts import InstructionText, instruction_text
from mailbot.domain.workbook_format import (
    FORMAT_CODE,
    FORMAT_TITLE,
    FORMULACION_SHEETS,
    SEGUIMIENTO_SHEETS,
    SHEET_CONTROL,
    SHEET_HEADER,
    SHEET_INSTRUCTIONS,
    SHEET_LISTS,
    SHEET_METAS,
    SHEET_SEGUIMIENTO,
    SHEET_SUMMARY,
)

__all__ = [
    "DATE_FORMAT",
    "DEFAULT_ROWS",
    "EXTRA_ROWS",
    "LIST_LINEAS",
    "LIST_METAS",
    "LIST_TYPES",
    "LIST_UNITS",
    "PERCENT_FORMAT",
    "PESOS_FORMAT",
    "TEXT_FORMAT",
    "Block",
    "Formula",
    "InstructionText",
    "TemplateSpec",
    "accepted_metas",
    "block_of",
    "build_template",
    "fit_height",
    "fit_width",
    "instruction_text",
    "number_format_of",
    "plain_number",
    "put",
    "spec_from_config",
    "template_bytes",
    "wrapped_lines",
]

Workbook = Any  # openpyxl ships no type information


def build_template(spec: TemplateSpec) -> Workbook:
    """The workbook, sheets in contract order; `Instrucciones` is the one that opens first."""
    wb = openpyxl.Workbook()
    titles = FORMULACION_SHEETS if spec.ronda.quarter is None else SEGUIMIENTO_SHEETS
    sheets = dict(zip(titles, [wb.active] + [wb.create_sheet() for _ in titles[1:]], strict=True))
    for title, ws in sheets.items():
        ws.title = title
    write_instructions(sheets[SHEET_INSTRUCTIONS], spec)
    write_header(sheets[SHEET_HEADER], spec)
    if spec.baseline is not None and spec.accepted is not None and spec.ronda.quarter is not None:
        write_accepted_metas(sheets[SHEET_METAS], spec, spec.accepted)
        write_seguimiento(sheets[SHEET_SEGUIMIENTO], spec, spec.baseline)
        write_seguimiento_summary(sheets[SHEET_SUMMARY], spec, spec.baseline)
    else:
        write_metas(sheets[SHEET_METAS], spec)
        write_summary(sheets[SHEET_SUMMARY], spec)
    write_lists(wb, sheets[SHEET_LISTS], spec)
    write_control(sheets[SHEET_CONTROL], spec)
    wb.properties.title = f"{FORMAT_CODE} {FORMAT_TITLE}"
    wb.properties.creator = "mailbot"
    wb.calculation.fullCalcOnLoad = True  # openpyxl stores no cached results: let the spreadsheet compute them
    return wb


def template_bytes(spec: TemplateSpec) -> bytes:
    """The .xlsx file as bytes, ready to attach."""
    buffer = io.BytesIO()
    build_template(spec).save(buffer)
    return buffer.getvalue()
