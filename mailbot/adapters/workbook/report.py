"""The look shared by the workbooks planeación receives (the consolidated plan, a quarter's evaluation).

Both are reports, not forms: a title, a subtitle, a table with a dark header row, figures written as numbers.
Every text goes through `put_text`, which is `cells.put` (a typed `=HYPERLINK(...)` stays text) after removing
the control characters a spreadsheet file cannot hold. The palette is the form's (`style`).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from mailbot.adapters.workbook.cells import Worksheet, column_width, fit_width, put
from mailbot.adapters.workbook.style import (
    BOLD,
    DATETIME_FORMAT,
    HEADER_ALIGN,
    HEADER_FILL,
    HEADER_FONT,
    NOTE_FONT,
    TEXT_FORMAT,
    TITLE_FONT,
)
from mailbot.domain.workbook_format import QUARTER_SHORT, QUARTERS

Value = str | int | float | dt.date | None

TABLE_HEADER_ROW: Final = 4  # title, subtitle, a blank row, then the table
QUARTER_LABELS: Final = {q: f"T{q} ({QUARTER_SHORT[q]})" for q in QUARTERS}


@dataclass(frozen=True)
class Heading:
    """What a report's title block says: whose plan, which round, when, and how many dependencias it covers."""

    municipality: str
    plan_name: str
    vigencia: int
    round_label: str  # "Formulación", or a quarter's "T2 (abr–jun)"
    generated_at: dt.datetime
    covered: int  # dependencias in the report
    expected: int  # dependencias configured

    def block(self, round_name: str, covered_name: str) -> list[tuple[str, Value, str]]:
        """(label, value, number format) rows of the title block; the round and the count named per report."""
        return [
            ("Municipio", self.municipality, "General"),
            ("Plan de desarrollo", self.plan_name, "General"),
            ("Vigencia", self.vigencia, "0"),
            (round_name, self.round_label, "General"),
            ("Fecha de generación", self.generated_at.replace(tzinfo=None), DATETIME_FORMAT),
            (covered_name, f"{self.covered} de {self.expected}", "General"),
        ]


def save(wb: Any, title: str) -> bytes:
    """The report's file: titled (control characters removed), credited to mailbot."""
    wb.properties.title = clean(title)
    wb.properties.creator = "mailbot"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def put_text(cell: Any, value: Value) -> Any:
    """`writer.put`, after removing the control characters a spreadsheet file cannot hold."""
    return put(cell, clean(value) if isinstance(value, str) else value)


def clean(text: str) -> str:
    return str(ILLEGAL_CHARACTERS_RE.sub("", text))


def put_block(
    ws: Worksheet, row: int, block: Sequence[tuple[str, Value, str]], *, column: int, alignment: Alignment
) -> int:
    """Label in A (bold), value in `column` with its number format; returns the row after the block."""
    for offset, (label, value, number_format) in enumerate(block):
        put_text(ws.cell(row + offset, 1), label).font = BOLD
        cell = put_text(ws.cell(row + offset, column), value)
        cell.number_format = number_format
        cell.alignment = alignment
    return row + len(block)


def title(ws: Worksheet, text: str) -> None:
    put_text(ws.cell(1, 1), text).font = TITLE_FONT


def header(ws: Worksheet, row: int, columns: Sequence[tuple[str, int]], *, tall: bool = True) -> None:
    """A table's header row; a width of 0 keeps the column's width (tables that share columns)."""
    for col, (label, width) in enumerate(columns, start=1):
        cell = put_text(ws.cell(row, col), label)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN
        if width:
            ws.column_dimensions[get_column_letter(col)].width = column_width(label, width)
    if tall:  # room for the wrapped labels of the wide tables
        ws.row_dimensions[row].height = 45


def local(moment: dt.datetime, reference: dt.datetime) -> dt.datetime:
    """`moment` on the clock of `reference` (the municipality's), without a zone: spreadsheets store none."""
    if moment.tzinfo is not None and reference.tzinfo is not None:
        moment = moment.astimezone(reference.tzinfo)
    return moment.replace(tzinfo=None)


def write_missing(ws: Worksheet, heading: str, missing: Sequence[tuple[str, str]], *, note: str, none: str) -> None:
    """The `Pendientes` sheet: the dependencias a report leaves out (code, name), or `none` when there are none."""
    title(ws, heading)
    put_text(ws.cell(2, 1), note).font = NOTE_FONT
    header(ws, TABLE_HEADER_ROW, [("Código dependencia", 14), ("Dependencia", 50)])
    for row, (code, name) in enumerate(missing, start=TABLE_HEADER_ROW + 1):
        put_text(ws.cell(row, 1), code).number_format = TEXT_FORMAT
        put_text(ws.cell(row, 2), name)
    if not missing:
        put_text(ws.cell(TABLE_HEADER_ROW + 1, 1), none).font = NOTE_FONT
    fit_width(ws)
