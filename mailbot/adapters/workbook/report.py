"""The look shared by the workbooks planeación receives (the consolidated plan, a quarter's evaluation).

Both are reports, not forms: a title, a subtitle, a table with a dark header row, figures written as numbers.
Every text goes through `put_text`, which is `writer.put` (a typed `=HYPERLINK(...)` stays text) after removing
the control characters a spreadsheet file cannot hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from mailbot.adapters.workbook.writer import put
from mailbot.domain.workbook_format import QUARTER_SHORT, QUARTERS

Worksheet = Any  # openpyxl ships no type information
Value = str | int | float | dt.date | None

TABLE_HEADER_ROW: Final = 4  # title, subtitle, a blank row, then the table
DATETIME_FORMAT: Final = "DD/MM/YYYY HH:MM"
QUARTER_LABELS: Final = {q: f"T{q} ({QUARTER_SHORT[q]})" for q in QUARTERS}

TITLE_FONT: Final = Font(bold=True, size=14)
BOLD: Final = Font(bold=True)
NOTE_FONT: Final = Font(italic=True, color="595959")
HEADER_FONT: Final = Font(bold=True, color="FFFFFF")
HEADER_FILL: Final = PatternFill("solid", fgColor="1F4E78")
TOTAL_FILL: Final = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGN: Final = Alignment(wrap_text=True, horizontal="center", vertical="center")
TOP: Final = Alignment(vertical="top")
WRAP_TOP: Final = Alignment(wrap_text=True, vertical="top")


def put_text(cell: Any, value: Value) -> Any:
    """`writer.put`, after removing the control characters a spreadsheet file cannot hold."""
    return put(cell, clean(value) if isinstance(value, str) else value)


def clean(text: str) -> str:
    return str(ILLEGAL_CHARACTERS_RE.sub("", text))


def title(ws: Worksheet, text: str) -> None:
    put_text(ws.cell(1, 1), text).font = TITLE_FONT


def header(ws: Worksheet, row: int, columns: Sequence[tuple[str, int]], *, tall: bool = True) -> None:
    """A table's header row; a width of 0 keeps the column's width (tables that share columns)."""
    for col, (label, width) in enumerate(columns, start=1):
        cell = put_text(ws.cell(row, col), label)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN
        if width:
            ws.column_dimensions[get_column_letter(col)].width = width
    if tall:  # room for the wrapped labels of the wide tables
        ws.row_dimensions[row].height = 45


def local(moment: dt.datetime, reference: dt.datetime) -> dt.datetime:
    """`moment` on the clock of `reference` (the municipality's), without a zone: spreadsheets store none."""
    if moment.tzinfo is not None and reference.tzinfo is not None:
        moment = moment.astimezone(reference.tzinfo)
    return moment.replace(tzinfo=None)
