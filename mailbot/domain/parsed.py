"""What the workbook reader hands the rules: cells as found, nothing interpreted yet.

The reader (an adapter) fills this from the file's bytes; the rules (pure) interpret it. Keeping the raw cell
and its formula side by side lets a rule tell a typed total from a formula (P02) and never trust a cached value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cell:
    ref: str  # "T7"
    value: object  # typed value, or the cached result of a formula (None when there is none)
    formula: str | None = None  # "=SUM(T7:W7)" when the cell holds a formula


EMPTY = Cell("", None)


@dataclass(frozen=True)
class Row:
    number: int  # worksheet row number (6 for the first meta)
    cells: Mapping[str, Cell]  # by column key of workbook_format.METAS_COLUMNS

    def cell(self, key: str) -> Cell:
        return self.cells.get(key, EMPTY)

    def is_blank(self, input_keys: frozenset[str]) -> bool:
        return all(_blank(self.cell(k).value) for k in input_keys)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


@dataclass(frozen=True)
class ParsedWorkbook:
    sheet_names: tuple[str, ...]
    #: `Encabezado`: label as written in column A (stripped) → the cell in column B.
    header: Mapping[str, Cell]
    #: `Metas` row 5, per column position: the label found there (None for an empty cell).
    metas_labels: tuple[str | None, ...]
    #: `Metas` data rows that hold anything in an input column, in sheet order.
    metas: tuple[Row, ...]
    #: `_control`: key → value as text; None when the sheet is missing.
    control: Mapping[str, str] | None
    #: `Seguimiento` row 5 labels and data rows (empty tuples in formulación workbooks).
    seguimiento_labels: tuple[str | None, ...] = ()
    seguimiento: tuple[Row, ...] = ()
    #: Reading notes that are not findings by themselves (e.g. "merged cells in Metas!B7:D7").
    notes: tuple[str, ...] = field(default=())
