"""One streaming pass over the parts of an .xlsx that mailbot reads: each cell's value, type and formula.

The reader used to let a SAX pass find merges and the true extent, then openpyxl (read-only) parse the same sheets
twice, once for formulas and once for cached values: three passes, four times the cost of merely loading the file.
Here expat reads each wanted sheet once and keeps, per cell, the cached value converted exactly as openpyxl
converts it (shared and inline strings, booleans, errors, numbers, dates by the cell's number format) and the
formula as openpyxl shows it (shared formulas translated from their anchor, array formulas, data tables).
openpyxl stays the writer and, in the tests, the reference this must agree with on every fixture.

Hostile input: expat is driven directly (C speed), with the handlers defusedxml installs: a DTD, an entity
declaration or an external reference raises defusedxml's own exceptions, so the reader answers them as it
answers any forbidden XML. The caller has already checked the zip's sizes, ratio, member count and markup budget;
here every value beyond `max_rows` / `max_columns` and any row longer than Excel allows is refused as streamed.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, Any, Final
from xml.parsers import expat

from defusedxml.common import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from openpyxl.formula.translate import Translator
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601

from mailbot.adapters.workbook.refusals import sheet_too_big
from mailbot.domain.workbook_format import HEADER_ROW, column_letter

EXCEL_MAX_ROWS: Final = 1_048_576
EXCEL_MAX_COLUMNS: Final = 16_384
MAX_MERGES: Final = 10_000  # merged ranges kept per sheet; more are ignored

# Relationship types, by the last segment of their URI (transitional and strict OOXML name them alike).
_CHARTSHEET: Final = "chartsheet"
_OFFICE_DOCUMENT: Final = "officeDocument"
_SHARED_STRINGS: Final = "sharedStrings"
_STYLES: Final = "styles"
_CHUNK: Final = 1 << 16
_DIGITS: Final = "0123456789"

#: A cell as read: (cached value as openpyxl gives it, formula text or None, number format).
Raw = tuple[object, str | None, str]


@dataclass(frozen=True)
class Merge:
    ref: str  # "B7:B9"
    min_row: int
    min_col: int
    max_row: int
    max_col: int


@dataclass
class SheetData:
    """What one pass learnt of a sheet: its cells (within the width asked, the header row whole) and extent."""

    name: str
    rows: dict[int, dict[int, Raw]] = field(default_factory=dict)
    last_row: int = 0  # the last row holding any value (0 for an empty sheet)
    header_width: int = 0  # the last column holding a value on `HEADER_ROW`
    merges: list[Merge] = field(default_factory=list)


@dataclass(frozen=True)
class Book:
    """The workbook's sheet names in order (chart sheets too) and the parts needed to read any worksheet."""

    sheet_names: tuple[str, ...]
    worksheets: Mapping[str, str]  # name → part path, worksheets only
    shared_strings: tuple[str, ...]
    formats: tuple[str, ...]  # number format by cell style index
    dates: frozenset[int]  # style indexes whose format shows a date or time
    timedeltas: frozenset[int]  # style indexes whose format shows a duration
    epoch: Any  # datetime of serial 0 (1900 or 1904 system)


# ------------------------------------------------------------------------------------------------ expat


def _forbid_dtd(*_args: object) -> None:
    raise DTDForbidden(None, None, None)


def _forbid_entity(*args: Any) -> None:
    raise EntitiesForbidden(*(list(args) + [None] * 6)[:6])


def _forbid_external(*args: Any) -> int:
    raise ExternalReferenceForbidden(*(list(args) + [None] * 4)[:4])


def _parser() -> Any:
    """An expat parser that refuses DTDs, entity declarations and external references, as defusedxml does."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = _CHUNK
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_entity
    parser.ExternalEntityRefHandler = _forbid_external
    return parser


def _feed(parser: Any, source: IO[bytes]) -> None:
    while chunk := source.read(_CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _events(archive: zipfile.ZipFile, path: str, start: Callable[[str, dict[str, str]], None]) -> None:
    parser = _parser()
    parser.StartElementHandler = lambda name, attrs: start(_local(name), attrs)
    with archive.open(path) as source:
        _feed(parser, source)


# ------------------------------------------------------------------------------------------------ the book


def read_book(archive: zipfile.ZipFile) -> Book:
    """Sheet names and parts from the package's relationships; shared strings and number formats read whole."""
    names = set(archive.namelist())
    main = _targets(archive, "_rels/.rels", "").get(_OFFICE_DOCUMENT, ["xl/workbook.xml"])[0]
    folder = posixpath.dirname(main)
    rels = _relationships(archive, posixpath.join(folder, "_rels", posixpath.basename(main) + ".rels"), folder)
    sheets: list[tuple[str, str]] = []
    settings: dict[str, str] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "sheet":
            rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
            sheets.append((attrs.get("name", ""), rid))
        elif tag == "workbookPr":
            settings.update(attrs)

    _events(archive, main, start)
    sheet_names: list[str] = []
    worksheets: dict[str, str] = {}
    for name, rid in sheets:
        kind, target = rels.get(rid, ("", ""))
        if target not in names:
            continue  # openpyxl skips a sheet whose part is missing
        sheet_names.append(name)
        if kind.rpartition("/")[2] != _CHARTSHEET:
            worksheets.setdefault(name, target)
    by_kind = {kind.rpartition("/")[2]: target for kind, target in rels.values() if target in names}
    formats, dates, timedeltas = _styles(archive, by_kind.get(_STYLES))
    return Book(
        sheet_names=tuple(sheet_names),
        worksheets=worksheets,
        shared_strings=_shared_strings(archive, by_kind.get(_SHARED_STRINGS)),
        formats=formats,
        dates=dates,
        timedeltas=timedeltas,
        epoch=CALENDAR_MAC_1904 if settings.get("date1904", "").lower() in ("1", "true") else CALENDAR_WINDOWS_1900,
    )


def _relationships(archive: zipfile.ZipFile, path: str, folder: str) -> dict[str, tuple[str, str]]:
    """Id → (type, resolved part path) of one .rels part (empty when it is missing)."""
    found: dict[str, tuple[str, str]] = {}
    if path not in archive.namelist():
        return found

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(resolved))

    _events(archive, path, start)
    return found


def _targets(archive: zipfile.ZipFile, path: str, folder: str) -> dict[str, list[str]]:
    by_type: dict[str, list[str]] = {}
    for kind, target in _relationships(archive, path, folder).values():
        by_type.setdefault(kind.rpartition("/")[2], []).append(target)
    return by_type


def _shared_strings(archive: zipfile.ZipFile, path: str | None) -> tuple[str, ...]:
    """Each `<si>`'s text as openpyxl reads it: its plain `<t>`, then its runs' `<t>` (phonetic runs left out)."""
    if path is None:
        return ()
    strings: list[str] = []
    plain: list[str] = []
    runs: list[str] = []
    state = {"in_t": False, "in_run": False, "in_phonetic": False}
    parser = _parser()

    def start(name: str, _attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag == "si":
            plain.clear()
            runs.clear()
        elif tag == "r":
            state["in_run"] = True
        elif tag == "rPh":
            state["in_phonetic"] = True
        elif tag == "t" and not state["in_phonetic"]:
            state["in_t"] = True

    def end(name: str) -> None:
        tag = _local(name)
        if tag == "si":
            strings.append(("".join(plain) + "".join(runs)).replace("x005F_", ""))
        elif tag == "r":
            state["in_run"] = False
        elif tag == "rPh":
            state["in_phonetic"] = False
        elif tag == "t":
            state["in_t"] = False

    def text(content: str) -> None:
        if state["in_t"]:
            (runs if state["in_run"] else plain).append(content)

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    with archive.open(path) as source:
        _feed(parser, source)
    return tuple(strings)


def _styles(archive: zipfile.ZipFile, path: str | None) -> tuple[tuple[str, ...], frozenset[int], frozenset[int]]:
    """The number format of every cell style (`cellXfs`), and which of them show dates or durations."""
    custom: dict[int, str] = {}
    ids: list[int] = []
    in_cell_xfs = [False]
    if path is not None:
        parser = _parser()

        def start(name: str, attrs: dict[str, str]) -> None:
            tag = _local(name)
            if tag == "numFmt":
                custom[_number(attrs.get("numFmtId"))] = attrs.get("formatCode", "")
            elif tag == "cellXfs":
                in_cell_xfs[0] = True
            elif tag == "xf" and in_cell_xfs[0]:
                ids.append(_number(attrs.get("numFmtId")))

        def end(name: str) -> None:
            if _local(name) == "cellXfs":
                in_cell_xfs[0] = False

        parser.StartElementHandler, parser.EndElementHandler = start, end
        with archive.open(path) as source:
            _feed(parser, source)
    formats = tuple(custom[i] if i in custom else BUILTIN_FORMATS.get(i, "General") for i in ids)
    codes = [custom[i] if i in custom else BUILTIN_FORMATS.get(i) for i in ids]
    dates = frozenset(n for n, code in enumerate(codes) if code is not None and is_date_format(code))
    timedeltas = frozenset(n for n, code in enumerate(codes) if code is not None and is_timedelta_format(code))
    return formats, dates, timedeltas


def _number(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


# ------------------------------------------------------------------------------------------------ a sheet


@lru_cache(maxsize=4096)  # keys come from senders' files: bounded
def _column(letters: str) -> int:
    col = 0
    for letter in letters.upper():
        if not "A" <= letter <= "Z":
            return 0
        col = col * 26 + ord(letter) - 64
    return col


#: Column letters → number ("A" … "XFD", upper case), filled as met: the one-pass reader's lookup per cell.
_COLUMNS: Final[dict[str, int]] = {}


def _position(ref: str) -> tuple[int, int] | None:
    """A cell's (row, column) off the fast path: a new column, other digits, lower case, "$", spaces."""
    letters = ref.rstrip(_DIGITS)
    col = _column(letters) if len(letters) <= 3 else 0
    digits = ref[len(letters) :]
    if col and 0 < len(digits) <= 7:
        if col <= EXCEL_MAX_COLUMNS and letters.isupper():
            _COLUMNS[letters] = col
        return int(digits), col
    return parse_ref(ref)


def parse_ref(ref: str) -> tuple[int, int] | None:
    """A reference like "B7" (or "$B$7") → (7, 2); None when it is not one."""
    text = ref.strip().replace("$", "")
    letters = text.rstrip("0123456789")
    digits = text[len(letters) :]
    col = _column(letters) if 1 <= len(letters) <= 3 else 0
    if not col or not digits or len(digits) > 7:
        return None
    return int(digits), col


def _cast_number(value: str) -> int | float:
    """openpyxl's rule: a "." or an exponent makes a float, anything else an int."""
    if "." in value or "E" in value or "e" in value:
        return float(value)
    return int(value)


class _SheetPass:
    """The expat handlers for one sheet: cells kept within `width` (every column on the header row).

    The handlers run once per element of the largest part of the file (some 100,000 calls for 1,000 metas): they
    are written for speed. Slots; a `<c>`'s reference split with cached column letters and its row taken from the
    `<row>` when the digits are the same; the style looked up once by its attribute text (format and whether it is
    a date); the common cells (a plain number, a shared string, an inline string) converted inline at `</c>`.
    """

    __slots__ = (
        "book",
        "cell_row",
        "cells_in_row",
        "col",
        "data",
        "date_style",
        "formula",
        "formula_attrs",
        "in_phonetic",
        "in_value",
        "inline",
        "kind",
        "max_columns",
        "max_rows",
        "number_format",
        "pieces",
        "raw",
        "row",
        "row_text",
        "shared",
        "style",
        "styles",
        "text",
        "width",
    )

    def __init__(self, book: Book, name: str, width: int, max_rows: int, max_columns: int) -> None:
        self.book, self.width, self.max_rows, self.max_columns = book, width, max_rows, max_columns
        self.styles: dict[str | None, tuple[int, str, bool]] = {}
        self.data = SheetData(name)
        self.row = self.col = self.cells_in_row = self.cell_row = 0
        self.row_text = ""
        self.kind = "n"
        self.style = 0
        self.number_format = "General"
        self.date_style = False
        self.raw = ""  # the `<v>`'s text: nearly every cell has one, in one piece (no list to build and join)
        self.pieces: list[str] = []  # the rest of a `<v>` that came in more than one piece
        self.inline: list[str] | None = None
        self.formula: list[str] | None = None
        self.formula_attrs: dict[str, str] = {}
        # Where character data goes now: `raw` while `in_value`, else `text` (one of the lists, or None).
        self.text: list[str] | None = None
        self.in_value = False
        self.in_phonetic = False
        self.shared: dict[str, Translator] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name if ":" not in name else _local(name)
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                # The fast path: "AB123" on the row "123", as Excel, LibreOffice and openpyxl write it.
                row_text = self.row_text
                letters = ref[: -len(row_text)] if row_text and ref.endswith(row_text) else ""
                col = _COLUMNS.get(letters, 0) if letters else 0
                if col:
                    self.cell_row, self.col = self.row, col
                else:
                    self.cell_row, self.col = _position(ref) or (self.row, self.col + 1)
            else:
                self.cell_row, self.col = self.row, self.col + 1
            self.cells_in_row += 1
            if self.cells_in_row > EXCEL_MAX_COLUMNS or self.col > EXCEL_MAX_COLUMNS:
                self._refuse(f"la fila {self.row} (más de {EXCEL_MAX_COLUMNS} celdas)")
            self.kind = attrs.get("t", "n")
            style = attrs.get("s")
            info = self.styles.get(style)
            if info is None:
                info = self.styles[style] = self._style(style)
            self.style, self.number_format, self.date_style = info
            self.raw = ""
            if self.pieces:
                self.pieces.clear()
            self.inline = self.formula = self.text = None
            self.in_value = False
        elif tag == "v":
            self.in_value, self.text = True, None
        elif tag == "row":
            row = attrs.get("r")
            self.row = int(row) if row and row.isdigit() else self.row + 1
            self.row_text = str(self.row)  # ASCII digits: what a cell's reference on this row ends with
            self.col = self.cells_in_row = 0
            if self.row > EXCEL_MAX_ROWS:
                self._refuse(f"la fila {self.row}")
        elif tag == "f":
            self.formula, self.formula_attrs = [], attrs
            self.text, self.in_value = self.formula, False
        elif tag == "is":
            self.inline = []
        elif tag == "t" and self.inline is not None and not self.in_phonetic:
            self.text, self.in_value = self.inline, False
        elif tag == "rPh":
            self.in_phonetic = True
        elif tag == "mergeCell":
            self._add_merge(attrs.get("ref"))

    def _style(self, style: str | None) -> tuple[int, str, bool]:
        """A style attribute's index, number format and whether the format shows a date."""
        index = int(style) if style else 0
        formats = self.book.formats
        number_format = formats[index] if 0 <= index < len(formats) else "General"
        return index, number_format, index in self.book.dates

    def characters(self, content: str) -> None:
        if self.in_value:
            if self.raw:
                self.pieces.append(content)  # a `<v>` cut by a chunk's end (never `+=`: quadratic on a long one)
            else:
                self.raw = content
        elif self.text is not None:
            self.text.append(content)

    def end(self, name: str) -> None:
        if name == "c":
            self._end_cell()
        elif name == "v" or name == "t" or name == "f":
            self.text, self.in_value = None, False
        elif ":" in name:
            self.end(_local(name))
        elif name == "rPh":
            self.in_phonetic = False

    def _end_cell(self) -> None:
        row, col, formula, inline, raw = self.cell_row, self.col, self.formula, self.inline, self.raw
        if self.pieces:
            raw += "".join(self.pieces)
            self.pieces.clear()
        if formula is not None or inline is not None or raw.strip():
            if row > self.max_rows or col > self.max_columns:
                self._refuse(f"la celda {column_letter(col)}{row}")
            data = self.data
            if row > data.last_row:
                data.last_row = row
            if row == HEADER_ROW and col > data.header_width:
                data.header_width = col
        elif not raw:
            return  # a styled empty cell: nothing to keep
        if col > self.width and row != HEADER_ROW:
            return
        kind = self.kind
        if kind == "n" and raw and not self.date_style:
            value: object = _cast_number(raw)
        elif kind == "s" and raw:
            value = self.book.shared_strings[int(raw)]
        elif kind == "inlineStr":
            value = "".join(inline) if inline is not None else None
        else:
            value = self._cached(raw, inline)
        text = self._formula(row, col) if formula is not None else None
        if value is None and text is None:
            return
        rows = self.data.rows
        cells = rows.get(row)
        if cells is None:
            cells = rows[row] = {}
        cells[col] = (value, text, self.number_format)

    def _cached(self, raw: str, inline: list[str] | None) -> object:
        """The cached value as openpyxl's `data_only` reading converts it."""
        kind = self.kind
        if kind == "inlineStr":
            return "".join(inline) if inline is not None else None
        if not raw:
            return None
        if kind == "n":
            number = _cast_number(raw)
            book = self.book
            if self.style in book.dates:
                try:
                    return from_excel(number, book.epoch, timedelta=self.style in book.timedeltas)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return number
        if kind == "s":
            return self.book.shared_strings[int(raw)]
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            return from_ISO8601(raw)
        return raw  # "str", "e" and anything unknown: the text as stored

    def _formula(self, row: int, col: int) -> str:
        """The formula as openpyxl shows it: "=" + text; a shared one translated from its anchor."""
        attrs = self.formula_attrs
        value = "=" + "".join(self.formula or ())
        kind = attrs.get("t")
        if kind == "shared":
            index = attrs.get("si", "")
            if index in self.shared:
                return str(self.shared[index].translate_formula(f"{column_letter(col)}{row}"))
            if value != "=":
                self.shared[index] = Translator(value, f"{column_letter(col)}{row}")
        elif kind == "dataTable":
            return "=TABLE()"  # a what-if data table has no formula text
        return value

    def _add_merge(self, ref: str | None) -> None:
        merges = self.data.merges
        corners = [parse_ref(part) for part in (ref or "").split(":")]
        if len(corners) != 2 or len(merges) >= MAX_MERGES:
            return  # unusable, or beyond any real sheet: those cells read as if unmerged
        (r1, c1), (r2, c2) = (c or (0, 0) for c in corners)
        if min(r1, c1, r2, c2) > 0:
            merges.append(Merge(str(ref), min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))

    def _refuse(self, where: str) -> None:
        raise sheet_too_big(self.data.name, where, self.max_rows, self.max_columns)


def read_sheet(
    archive: zipfile.ZipFile, book: Book, name: str, width: int, max_rows: int, max_columns: int
) -> SheetData:
    """One worksheet's cells in one pass; refuses (F01) a value beyond the caps as soon as it streams by."""
    handler = _SheetPass(book, name, width, max_rows, max_columns)
    parser = _parser()
    parser.StartElementHandler, parser.EndElementHandler = handler.start, handler.end
    parser.CharacterDataHandler = handler.characters
    with archive.open(book.worksheets[name]) as source:
        _feed(parser, source)
    return handler.data
