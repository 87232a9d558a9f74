"""openpyxl as the reference the one-pass reader must agree with (issue 19).

`OpenpyxlSource` hands the reader the same `SheetData` the streaming pass builds, taken from openpyxl in normal
mode instead: formulas from one load, cached values from a `data_only` load, number formats, merged ranges and
the extent from openpyxl's own cell map. Plugged into `read_workbook(..., source=openpyxl_source)`, it goes
through the same checks before (zip, markup, DTD) and the same table building after, so a difference in the
result is a difference in how a cell was read. Only for tests: normal mode builds every cell in memory.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from mailbot.adapters.workbook.reader import ReaderLimits, SheetSource
from mailbot.adapters.workbook.refusals import sheet_too_big
from mailbot.adapters.workbook.stream import MAX_MERGES, Merge, SheetData
from mailbot.domain.workbook_format import HEADER_ROW, column_letter


class OpenpyxlSource:
    def __init__(self, data: bytes, limits: ReaderLimits) -> None:
        self.limits = limits
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # features openpyxl drops are not the reader's business
            self.formulas = openpyxl.load_workbook(io.BytesIO(data), data_only=False, keep_links=False)
            self.values = openpyxl.load_workbook(io.BytesIO(data), data_only=True, keep_links=False)
        self.sheet_names = tuple(str(name) for name in self.formulas.sheetnames)

    def sheet(self, name: str, width: int) -> SheetData | None:
        formulas, values = self.formulas[name], self.values[name]
        if not isinstance(formulas, Worksheet):
            return None  # a chart sheet
        data = SheetData(name)
        limits = self.limits
        for (row, col), cell in sorted(formulas._cells.items()):
            value = values._cells[(row, col)].value if (row, col) in values._cells else None
            formula = _formula(cell)
            if value is None and formula is None:
                continue
            if row > limits.max_rows or col > limits.max_columns:
                where = f"la celda {column_letter(col)}{row}"
                raise sheet_too_big(name, where, limits.max_rows, limits.max_columns)
            data.last_row = max(data.last_row, row)
            if row == HEADER_ROW:
                data.header_width = max(data.header_width, col)
            if col <= width or row == HEADER_ROW:
                data.rows.setdefault(row, {})[col] = (value, formula, _number_format(cell))
        for merged in list(formulas.merged_cells.ranges)[:MAX_MERGES]:
            data.merges.append(Merge(merged.coord, merged.min_row, merged.min_col, merged.max_row, merged.max_col))
        return data


def _number_format(cell: Any) -> str:
    try:
        return str(cell.number_format)
    except (IndexError, KeyError):  # a format id the stylesheet does not define: shown plainly, as Excel does
        return "General"


def _formula(cell: Any) -> str | None:
    if cell.data_type != "f":
        return None
    value = cell.value
    if isinstance(value, str):
        return value
    text = getattr(value, "text", None)  # an ArrayFormula
    return text if isinstance(text, str) else "=TABLE()"  # a what-if data table has no formula text


def openpyxl_source(_archive: zipfile.ZipFile, data: bytes, limits: ReaderLimits) -> SheetSource:
    return OpenpyxlSource(data, limits)
