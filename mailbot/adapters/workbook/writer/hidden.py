"""The two hidden sheets: `Listas` (the dropdowns' closed lists) and `_control` (the signed mailing block)."""

from __future__ import annotations

from typing import Any

from openpyxl.workbook.defined_name import DefinedName

from mailbot.adapters.workbook.cells import Worksheet, put, sheet_ref
from mailbot.adapters.workbook.style import BOLD, TEXT_FORMAT
from mailbot.adapters.workbook.writer.sheet import LIST_LINEAS, LIST_METAS, LIST_TYPES, LIST_UNITS, protect
from mailbot.adapters.workbook.writer.spec import TemplateSpec
from mailbot.domain.workbook_format import META_TYPES, SHEET_LISTS, UNITS, ControlField

Workbook = Any  # openpyxl ships no type information


def write_lists(wb: Workbook, ws: Worksheet, spec: TemplateSpec) -> None:
    """The closed lists and this dependencia's PDM subset, each under a workbook-level name for the dropdowns."""
    columns: list[tuple[str, str | None, tuple[str, ...]]] = [
        ("Unidad de medida", LIST_UNITS, UNITS),
        ("Tipo de meta", LIST_TYPES, META_TYPES),
        ("Línea estratégica", LIST_LINEAS, spec.lineas),
        ("Código meta producto", LIST_METAS, tuple(e.meta_code for e in spec.catalogue)),
        ("Meta de producto", None, tuple(e.meta for e in spec.catalogue)),
    ]
    for col, (label, name, items) in enumerate(columns, start=1):
        put(ws.cell(1, col), label).font = BOLD
        for row, value in enumerate(items, start=2):
            put(ws.cell(row, col), value).number_format = TEXT_FORMAT
        letter = ws.cell(1, col).column_letter
        ws.column_dimensions[letter].width = 30
        if name and items:
            ref = f"{sheet_ref(SHEET_LISTS)}!${letter}$2:${letter}${len(items) + 1}"
            wb.defined_names[name] = DefinedName(name, attr_text=ref)
    ws.sheet_state = "hidden"
    protect(ws)


def write_control(ws: Worksheet, spec: TemplateSpec) -> None:
    """Label in A, value in B, every value text: a token `0012` or a vigencia must come back exactly."""
    for row, field in enumerate(ControlField, start=1):
        if field.value not in spec.control:
            raise ValueError(f"the control block lacks '{field.value}': build it with ControlBlock.signed(secret)")
        put(ws.cell(row, 1), field.value)
        cell = put(ws.cell(row, 2), str(spec.control[field.value]))
        cell.number_format = TEXT_FORMAT
    ws.sheet_state = "veryHidden"
    protect(ws)
