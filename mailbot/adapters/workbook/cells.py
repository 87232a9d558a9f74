"""Writing cells and laying out sheets, the same way in every workbook mailbot generates.

`put` is the one door a value goes through (only a `Formula` becomes a formula); `plain_number` is how a Decimal
becomes a spreadsheet number; the row heights are estimated here because spreadsheets do not grow a row for
wrapped text they did not lay out themselves (LibreOffice shows the lines overlapping).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Final

Worksheet = Any  # openpyxl ships no type information
Cell = Any

MAX_LINES: Final = 8  # a row never grows past this many lines: the rest stays readable in the cell
_FORMULA_TRIGGERS: Final = ("=", "+", "-", "@")


class Formula(str):
    """A formula the generator writes on purpose; every other string is written as literal text."""


def put(cell: Cell, value: object) -> Cell:
    """Write a value; only a `Formula` becomes a formula. Text starting with = + - @ stays literal text.

    Configuration and catalogue text is not ours; `=HYPERLINK(...)` in a program name must show as written, and
    the quote prefix keeps it text even after the secretario edits the cell in Excel.
    """
    cell.value = str(value) if isinstance(value, Formula) else value
    if isinstance(value, str) and not isinstance(value, Formula) and value.startswith(_FORMULA_TRIGGERS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def plain_number(value: Decimal) -> int | float:
    """A Decimal as a spreadsheet number: an int when whole (100, not 100.0), else the nearest float."""
    return int(value) if value == value.to_integral_value() else float(value)


def wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column: about 1.1 characters per unit of width (Calibri 11)."""
    return sum(max(1, math.ceil(len(part) / (width * 1.1))) for part in text.split("\n"))


def fit_height(ws: Worksheet, row: int, lines: int) -> None:
    """A row tall enough for `lines` wrapped lines (up to `MAX_LINES`); a one-line row keeps the default."""
    if lines > 1:
        ws.row_dimensions[row].height = 15 * min(lines, MAX_LINES)


def fit_width(
    ws: Worksheet, *, landscape: bool = False, repeat_rows: str | None = None, paper: int | None = None
) -> None:
    """Printed on pages one sheet wide: secretarios print the instructions and the summary to sign them.

    `repeat_rows` ("5:5", "4:5") prints a table's header rows on every page; `paper` is openpyxl's paper size
    code (`PAPER_LEGAL`, `PAPER_A3`) for the wide tables, else the printer's default (carta in Colombia).
    """
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    if repeat_rows:
        ws.print_title_rows = repeat_rows
    if paper is not None:
        ws.page_setup.paperSize = paper


PAPER_LEGAL: Final = 5  # oficio, 8.5 × 14 in (ECMA-376 paper size codes)
PAPER_A3: Final = 8

#: Characters of a bold header word per unit of column width, measured on LibreOffice's fallback for Calibri
#: (no Carlito on a server): a label's longest word must fit its column whole, or it is broken mid-word.
_HEADER_CHARS_PER_UNIT: Final = 0.8


def column_width(label: str, width: float) -> float:
    """`width`, widened when needed so that the label's longest word fits on one line of a wrapped header."""
    longest = max((len(word) for word in label.split()), default=0)
    return max(width, math.ceil(longest / _HEADER_CHARS_PER_UNIT) + 1)


def sheet_ref(name: str) -> str:
    """A sheet name as formulas write it: bare when it is a plain word (all of the contract's are)."""
    return name if name.replace("_", "").isalnum() else "'" + name.replace("'", "''") + "'"
