"""What every sheet of the form does alike: input and locked cells, protection, titles, the contract's label row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from mailbot.adapters.workbook.cells import Cell, Worksheet, column_width, put, sheet_ref
from mailbot.adapters.workbook.style import (
    BORDER,
    HEADER_ALIGN,
    HEADER_FILL,
    HEADER_FONT,
    INPUT_FILL,
    LOCKED,
    LOCKED_FILL,
    PESOS_FORMAT,
    TEXT_FORMAT,
    TITLE_FONT,
    UNLOCKED,
)
from mailbot.adapters.workbook.writer.spec import TemplateSpec
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    HEADER_FIRST_ROW,
    HEADER_ROW,
    METAS_LETTERS,
    SHEET_METAS,
    Column,
    HeaderField,
    Kind,
)

#: The workbook-level names of the dropdowns' lists (sheet `Listas`).
LIST_UNITS: Final = "lista_unidades"
LIST_TYPES: Final = "lista_tipos"
LIST_LINEAS: Final = "lista_lineas"
LIST_METAS: Final = "lista_metas"

#: The `Encabezado` fields that hold the available budget, in source order.
BUDGET_FIELDS: Final = (
    HeaderField.DISPONIBLE_POAI,
    HeaderField.DISPONIBLE_FUNCIONAMIENTO,
    HeaderField.DISPONIBLE_COFINANCIACION,
)


def input_cell(cell: Cell) -> None:
    cell.protection = UNLOCKED
    cell.fill = INPUT_FILL
    cell.border = BORDER


def locked_cell(cell: Cell, *, grey: bool = True) -> None:
    cell.protection = LOCKED
    if grey:
        cell.fill = LOCKED_FILL
    cell.border = BORDER


def protect(ws: Worksheet, *, allow_rows: bool = False) -> None:
    """Protection without a password: it prevents accidents, not attacks (the validator re-checks all)."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # False = allowed: widening a column is harmless
    ws.protection.formatRows = False
    if allow_rows:
        ws.protection.insertRows = False


def title(ws: Worksheet, ref: str, text: str) -> None:
    put(ws[ref], text).font = TITLE_FONT


def widths(ws: Worksheet, by_letter: dict[str, float]) -> None:
    for letter, width in by_letter.items():
        ws.column_dimensions[letter].width = width


def header_cell(cell: Cell) -> None:
    """A label of a table's header row: white on dark blue, wrapped and centred."""
    cell.font, cell.fill, cell.alignment, cell.border = HEADER_FONT, HEADER_FILL, HEADER_ALIGN, BORDER


def label_row(ws: Worksheet, columns: Iterable[Column], letters: Mapping[str, str]) -> None:
    """The contract's labels on `HEADER_ROW`, with their widths (rule F02 checks them in every ronda)."""
    for index, column in enumerate(columns, start=1):
        header_cell(put(ws.cell(HEADER_ROW, index), column.label))
        ws.column_dimensions[letters[column.key]].width = column_width(column.label, column.width)
    ws.row_dimensions[HEADER_ROW].height = 48


def number_format_of(column: Column) -> str:
    if column.kind is Kind.PESOS or column.key == "total":
        return PESOS_FORMAT
    if column.kind is Kind.CODE:
        return TEXT_FORMAT
    return "General"


def header_ref(field: HeaderField) -> str:
    """`Encabezado` value cell of a field, e.g. `$B$13`."""
    return f"$B${HEADER_FIRST_ROW + list(HeaderField).index(field)}"


def metas_range(spec: TemplateSpec, key: str) -> str:
    letter = METAS_LETTERS[key]
    return f"{sheet_ref(SHEET_METAS)}!${letter}${FIRST_DATA_ROW}:${letter}${spec.last_row}"
