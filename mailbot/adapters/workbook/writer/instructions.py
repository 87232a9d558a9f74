"""The `Instrucciones` sheet, the one that opens first: the quality header, the steps, the colours, the rules.

The layout is here; the words are in templates/workbook/instrucciones.yaml (`texts`), filled in for one spec.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from mailbot.adapters.workbook.cells import Worksheet, fit_height, fit_width, put, wrapped_lines
from mailbot.adapters.workbook.style import (
    BOLD,
    BORDER,
    DEADLINE_FONT,
    INPUT_FILL,
    LOCKED_FILL,
    TITLE_FONT,
    TOP,
    WRAP_TOP,
)
from mailbot.adapters.workbook.writer.sheet import protect, title, widths
from mailbot.adapters.workbook.writer.spec import TemplateSpec
from mailbot.adapters.workbook.writer.texts import RoundText, render
from mailbot.domain.fechas import fecha_larga
from mailbot.domain.seguimiento import Baseline
from mailbot.domain.workbook_format import (
    EXPLANATION_MAX_CHARS,
    FIRST_DATA_ROW,
    FORMAT_CODE,
    FORMAT_TITLE,
    FORMAT_VERSION,
    PROCESS_NAME,
    QUARTER_MONTHS,
)

FORMAT_DATE: Final = dt.date(2026, 11, 29)  # date of FORMAT_VERSION 1, shown in the quality header
TEXT_WIDTH: Final = 100  # column B


@dataclass(frozen=True)
class Guide:
    """What `Instrucciones` explains for one ronda: the steps, what a finding does, the rules, the grey cells."""

    steps: list[str]
    effects: str
    rules: tuple[tuple[str, str, str], ...]
    grey: str


def guide(spec: TemplateSpec) -> Guide:
    """The ronda's part of the text, with every placeholder filled in for this workbook."""
    seguimiento = spec.baseline is not None and spec.ronda.quarter is not None
    part: RoundText = spec.text.seguimiento if seguimiento else spec.text.formulacion
    values = _values(spec)
    steps = [render(step, values) for step in part.steps]
    if not seguimiento and spec.catalogue and part.prefilled_step:
        steps.insert(3, render(part.prefilled_step, values))
    rules = tuple((code, effect, render(text, values)) for code, effect, text in map(spec.text.rule, part.rules))
    return Guide(steps, render(part.effects, values), rules, render(part.grey, values))


def _values(spec: TemplateSpec) -> dict[str, object]:
    """Every placeholder the text may use (`texts.PLACEHOLDERS`)."""
    return {
        "vigencia": spec.vigencia,
        "dependencia": spec.dependencia_name,
        "ronda": spec.ronda.label,
        "fecha_limite": fecha_larga(spec.deadline),
        "primera_fila": FIRST_DATA_ROW,
        "listas": _dropdown_names(spec),
        "bloques": _open_blocks(spec.baseline) if spec.baseline is not None else "",
        "max_caracteres": EXPLANATION_MAX_CHARS,
    }


def _dropdown_names(spec: TemplateSpec) -> str:
    names = ["la línea estratégica"] if spec.lineas else []
    names += ["el código de la meta"] if spec.catalogue else []
    names += ["la unidad de medida", "el tipo de meta"]
    return ", ".join(names[:-1]) + " y " + names[-1]


def _open_blocks(baseline: Baseline) -> str:
    """Which blocks to fill: "del trimestre 3 (julio a septiembre)", or all the open ones when one came late."""
    quarters = [f"{q} ({QUARTER_MONTHS[q]})" for q in baseline.open_quarters or (baseline.quarter,)]
    if len(quarters) == 1:
        return f"del trimestre {quarters[0]}"
    return "de los trimestres " + ", ".join(quarters[:-1]) + " y " + quarters[-1]


def write_instructions(ws: Worksheet, spec: TemplateSpec) -> None:
    titles, values = spec.text.titles, _values(spec)
    quality = (
        ("Proceso", PROCESS_NAME),
        ("Formato", FORMAT_TITLE),
        ("Código", FORMAT_CODE),
        ("Versión", str(FORMAT_VERSION)),
        ("Fecha", FORMAT_DATE.strftime("%d/%m/%Y")),
    )
    for row, (label, value) in enumerate(quality, start=1):
        put(ws.cell(row, 1), label).font = BOLD
        put(ws.cell(row, 2), value)
        for col in (1, 2):
            ws.cell(row, col).border = BORDER
    row = len(quality) + 2
    title(ws, f"A{row}", spec.municipality)
    put(ws.cell(row + 1, 1), render(titles["plan"], values)).font = BOLD
    put(ws.cell(row + 2, 1), render(titles["ronda"], values))
    put(ws.cell(row + 4, 1), render(titles["fecha_limite"], values)).font = BOLD
    put(ws.cell(row + 4, 2), fecha_larga(spec.deadline)).font = DEADLINE_FONT
    found = guide(spec)
    steps = ((str(i), s) for i, s in enumerate(found.steps, start=1))
    row = _write_block(ws, row + 6, render(titles["pasos"], values), steps)
    row = _write_legend(ws, row + 1, render(titles["colores"], values), render(spec.text.coloured, values), found.grey)
    put(ws.cell(row + 1, 1), render(titles["reglas"], values)).font = TITLE_FONT
    _paragraph(ws, row + 2, found.effects)
    for i, (code, effect, text) in enumerate(found.rules, start=row + 3):
        code_cell = put(ws.cell(i, 1), code)
        code_cell.font, code_cell.alignment = BOLD, TOP
        _paragraph(ws, i, text)
        put(ws.cell(i, 3), effect).alignment = TOP
    widths(ws, {"A": 26, "B": TEXT_WIDTH, "C": 20})
    fit_width(ws)
    protect(ws)


def _write_block(ws: Worksheet, row: int, heading: str, lines: Iterable[tuple[str, str]]) -> int:
    """A titled list (number, text); returns the first free row."""
    put(ws.cell(row, 1), heading).font = TITLE_FONT
    for offset, (mark, text) in enumerate(lines, start=1):
        put(ws.cell(row + offset, 1), mark).alignment = TOP
        _paragraph(ws, row + offset, text)
    return int(ws.max_row) + 1


def _paragraph(ws: Worksheet, row: int, text: str) -> None:
    """Wrapped text in column B, with a row height that shows all of it."""
    put(ws.cell(row, 2), text).alignment = WRAP_TOP
    fit_height(ws, row, wrapped_lines(text, TEXT_WIDTH))


def _write_legend(ws: Worksheet, row: int, heading: str, coloured: str, grey: str) -> int:
    put(ws.cell(row, 1), heading).font = TITLE_FONT
    sample = ws.cell(row + 1, 1)
    sample.fill, sample.border = INPUT_FILL, BORDER
    put(ws.cell(row + 1, 2), coloured)
    sample = ws.cell(row + 2, 1)
    sample.fill, sample.border = LOCKED_FILL, BORDER
    if len(grey) > TEXT_WIDTH:
        _paragraph(ws, row + 2, grey)  # wrapped, with the height it needs
    else:
        put(ws.cell(row + 2, 2), grey)
    return row + 3
