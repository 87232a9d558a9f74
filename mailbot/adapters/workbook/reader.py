"""Reads a returned E-DE-F-010 workbook into a `ParsedWorkbook`, or says in one F01 finding why it cannot.

An attachment is untrusted input from the Internet. The defences run in this order, each before the next looks
deeper into the file:

1. size: more than `max_bytes` is refused unopened (so is a zip declaring more than `max_members` entries);
2. the type from the bytes (`sniff`): anything but an .xlsx gets an F01 that names what it is and how to fix it;
3. the zip directory, before any XML is parsed: member count, names (no absolute paths, no `..`, no duplicates),
   declared sizes (their sum, and each large member's compression ratio). zipfile enforces declared sizes and CRCs
   on read, so they can be trusted; one streaming pass then counts the markup of every member (`max_xml_tags`):
   openpyxl reads the shared strings and styles whole, so their size must be bounded before it starts;
4. each sheet mailbot reads is scanned with defusedxml's SAX parser (no DTD, no entities, constant memory):
   values beyond `max_rows` / `max_columns` are refused, rows longer than Excel allows too (openpyxl builds a
   whole row in memory); the last row holding a value is noted (reading stops there: no blank-row guessing, so a
   meta after a gap is never lost) and the `<mergeCells>` that read-only openpyxl does not expose are collected;
5. openpyxl, read-only, twice (formulas, then cached values), each sheet with `reset_dimensions()` and explicit
   row and column bounds so that a forged `<dimension>` cannot make it allocate.
python-calamine is never used here: a zip bomb makes it abort the whole process.

Row keys. `Metas`: the keys of `METAS_COLUMNS`, by position (A = `number`, B = `linea`, …). `Seguimiento`: by
position, the `SEGUIMIENTO_FIXED` keys (`number`, `meta_code`, `meta`, `unit`, `meta_type`, `meta_vigencia`,
`phys_t1`…`phys_t4`, `total`), then for each quarter q in 1..4 the six keys `exec_tq`, `committed_tq`,
`obligated_tq`, `paid_tq`, `evidence_tq`, `explanation_tq` (labels "Ejecución física Tq" … "Explicación Tq").

Tolerance (the contract's "reading is tolerant"): a number shown with a percent format is presented ×100 as a
Decimal (the secretario typed 15 %, Excel stored 0.15); every cell of a merged range in the data rows of `Metas` or
`Seguimiento` gets the top-left cell (Excel shows only that one), with a note; labels are stripped; a sheet name
matches exactly, else after `fold()` ("metas " finds `Metas`). A missing sheet is not the reader's business: the
rules report F02 (F04 for `_control`).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, Final
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl

import openpyxl
from defusedxml import expatreader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from mailbot.adapters.workbook.refusals import Problem, Refused, failure, kind_finding, megabytes, problem
from mailbot.adapters.workbook.sniff import ZIP_MAGIC, FileKind, sniff, zip_entry_bound
from mailbot.config import Limits
from mailbot.domain.findings import Finding
from mailbot.domain.parsed import Cell, ParsedWorkbook, Row
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    METAS_COLUMNS,
    SEGUIMIENTO_COLUMNS,
    SHEET_CONTROL,
    SHEET_HEADER,
    SHEET_METAS,
    SHEET_SEGUIMIENTO,
    column_letter,
    fold,
)
from mailbot.log import get_logger

log = get_logger(__name__)

SEGUIMIENTO_KEYS: Final = tuple(c.key for c in SEGUIMIENTO_COLUMNS)
METAS_KEYS: Final = tuple(c.key for c in METAS_COLUMNS)
METAS_INPUT_KEYS: Final = frozenset(c.key for c in METAS_COLUMNS if c.is_input)
#: A `Seguimiento` row counts when anything but the row number and the total is filled: its fixed columns come
#: from the accepted plan, so a meta with no execution yet is still a row the rules must see (S01).
SEGUIMIENTO_CONTENT_KEYS: Final = frozenset(SEGUIMIENTO_KEYS) - {"number", "total"}

RATIO_FLOOR_BYTES: Final = 1 << 20  # small parts compress extremely well without being dangerous
EXCEL_MAX_ROWS: Final = 1_048_576
EXCEL_MAX_COLUMNS: Final = 16_384
MAX_MERGES: Final = 10_000  # merged ranges kept per sheet; more are ignored
MAX_MERGED_CELLS: Final = 100_000  # cells filled from merged ranges, per sheet
MAX_NOTES_PER_SHEET: Final = 20


@dataclass(frozen=True)
class ReaderLimits:
    """Caps on one attachment; `from_config` takes them from the configuration's `limits` section."""

    max_bytes: int
    max_uncompressed_bytes: int
    max_compression_ratio: int
    max_rows: int
    max_columns: int
    max_members: int = 1000

    def __post_init__(self) -> None:
        widest = max(len(METAS_KEYS), len(SEGUIMIENTO_KEYS))
        if self.max_columns < widest:
            raise ValueError(f"max_columns must be at least {widest}: the format's sheets are that wide")
        if self.max_rows < FIRST_DATA_ROW:
            raise ValueError(f"max_rows must be at least {FIRST_DATA_ROW}")

    @classmethod
    def from_config(cls, limits: Limits) -> ReaderLimits:
        return cls(
            max_bytes=limits.max_attachment_bytes,
            max_uncompressed_bytes=limits.max_workbook_uncompressed_bytes,
            max_compression_ratio=limits.max_compression_ratio,
            max_rows=limits.max_workbook_rows,
            max_columns=limits.max_workbook_columns,
        )

    @property
    def max_xml_tags(self) -> int:
        """`<` characters allowed in the whole file (an element costs one or two): a full sheet's worth."""
        return self.max_rows * self.max_columns


def read_workbook(data: bytes, limits: ReaderLimits) -> ParsedWorkbook | Finding:
    """The workbook's cells as found, or one F01 finding (severity E, no sheet) that says what to do. Never raises."""
    try:
        return _read(data, limits)
    except Refused as refused:
        log.info("workbook_refused", reason=refused.reason, size=len(data))
        return refused.finding
    except Exception as exc:
        return failure(exc, len(data))


# ------------------------------------------------------------------------------------------------ the file


def _read(data: bytes, limits: ReaderLimits) -> ParsedWorkbook:
    if not openpyxl.DEFUSEDXML:  # a security invariant, not a user error: logged as a failure
        raise RuntimeError("openpyxl is not using defusedxml (is OPENPYXL_DEFUSEDXML set to False?)")
    if len(data) > limits.max_bytes:
        size, limit = megabytes(len(data)), megabytes(limits.max_bytes)
        raise Refused(problem(Problem.TOO_LARGE, size, size=size, limit=limit), "too_large")
    if data.startswith(ZIP_MAGIC) and (zip_entry_bound(data) or 0) > limits.max_members:
        value = f"más de {limits.max_members} partes"  # the bound may be above the real number
        raise Refused(problem(Problem.TOO_MANY_PARTS, value, limit=limits.max_members), "too_many_parts")
    kind = sniff(data)
    if kind is not FileKind.XLSX:
        raise Refused(kind_finding(kind), f"kind_{kind}")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        _check_archive(archive, limits)
        _check_markup(archive, limits)
        return _parse(data, archive, limits)


def _check_archive(archive: zipfile.ZipFile, limits: ReaderLimits) -> None:
    """Refuse from the zip directory alone, before anything is decompressed."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        value = f"{len(infos)} partes"
        raise Refused(problem(Problem.TOO_MANY_PARTS, value, limit=limits.max_members), "too_many_parts")
    counts = Counter(info.filename for info in infos)
    unsafe = [name for name, n in counts.items() if n > 1 or _unsafe_name(name)]
    if unsafe:
        raise Refused(problem(Problem.UNSAFE_NAMES, unsafe[0]), "unsafe_names")
    if any(info.flag_bits & 0x1 for info in infos):  # a zip encrypted with a password (e.g. by 7-Zip)
        raise Refused(kind_finding(FileKind.ENCRYPTED), "encrypted_members")
    limit, total = megabytes(limits.max_uncompressed_bytes), sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise Refused(problem(Problem.ZIP_BOMB, megabytes(total), limit=limit), "uncompressed_size")
    for info in infos:
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_compression_ratio * info.compress_size:
            value = f"{info.filename}: {megabytes(info.file_size)}"
            raise Refused(problem(Problem.ZIP_BOMB, value, limit=limit), "compression_ratio")


def _unsafe_name(name: str) -> bool:
    parts = re.split(r"[/\\]", name)
    return name.startswith(("/", "\\")) or bool(re.match(r"[A-Za-z]:", name)) or ".." in parts or "\x00" in name


def _check_markup(archive: zipfile.ZipFile, limits: ReaderLimits) -> None:
    """Stream every member once (which also verifies every CRC) before openpyxl parses any of them.

    Counts the tags: openpyxl keeps the whole shared-strings table and stylesheet in memory, so their size is
    bounded here, by a budget far above any real E-DE-F-010 workbook. Every member counts, whatever its name: a
    part's role comes from the relationships, not from its extension. Also refuses a DTD in an XML part (Excel
    never writes one; billion laughs and XXE need one); the XML parsers forbid them again behind this check.
    """
    tags = 0
    for info in archive.infolist():
        is_xml = info.filename.lower().endswith((".xml", ".rels"))
        tail = b""
        with archive.open(info) as part:
            while chunk := part.read(1 << 20):
                tags += chunk.count(b"<")
                if is_xml and any(marker in tail + chunk for marker in _DTD_MARKERS):
                    raise Refused(problem(Problem.FORBIDDEN_XML, "DTD/entidades XML"), "forbidden_xml")
                tail = chunk[-32:]
        if tags > limits.max_xml_tags:
            value = f"más de {limits.max_xml_tags} etiquetas XML"
            raise Refused(problem(Problem.ZIP_BOMB, value, limit=megabytes(limits.max_uncompressed_bytes)), "markup")


_DTD_MARKERS: Final = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))


# ------------------------------------------------------------------------------------------------ sheets


@dataclass(frozen=True)
class _Merge:
    ref: str  # "B7:B9"
    min_row: int
    min_col: int
    max_row: int
    max_col: int


@dataclass(frozen=True)
class _Sheet:
    """One sheet as the two openpyxl passes see it, with what the scan learnt of it."""

    name: str
    formulas: Any  # openpyxl ReadOnlyWorksheet (untyped) opened with data_only=False
    values: Any  # the same sheet opened with data_only=True: the cached results
    last_row: int  # the last row holding any value (0 for an empty sheet): reading stops there
    header_width: int  # the last column holding a value on `HEADER_ROW`
    merges: tuple[_Merge, ...]


@dataclass(frozen=True)
class _Books:
    formulas: Any
    values: Any
    archive: zipfile.ZipFile


def _parse(data: bytes, archive: zipfile.ZipFile, limits: ReaderLimits) -> ParsedWorkbook:
    with warnings.catch_warnings(record=True) as caught, ExitStack() as stack:
        warnings.simplefilter("always")  # openpyxl warns about features it drops; they are not the user's errors
        books = _Books(
            formulas=stack.enter_context(closing(_load(data, data_only=False))),
            values=stack.enter_context(closing(_load(data, data_only=True))),
            archive=archive,
        )
        parsed = _parse_books(books, limits)
    for message in sorted({str(w.message) for w in caught})[:10]:
        log.debug("openpyxl_warning", message=message)
    return parsed


def _load(data: bytes, *, data_only: bool) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only, keep_links=False)


def _parse_books(books: _Books, limits: ReaderLimits) -> ParsedWorkbook:
    names = tuple(str(name) for name in books.formulas.sheetnames)
    header = _open_sheet(books, names, SHEET_HEADER, limits)
    metas = _read_table(_open_sheet(books, names, SHEET_METAS, limits), METAS_KEYS, METAS_INPUT_KEYS, limits)
    seguimiento = _read_table(
        _open_sheet(books, names, SHEET_SEGUIMIENTO, limits), SEGUIMIENTO_KEYS, SEGUIMIENTO_CONTENT_KEYS, limits
    )
    control = _open_sheet(books, names, SHEET_CONTROL, limits)
    return ParsedWorkbook(
        sheet_names=names,
        header=_read_header(header) if header else {},
        metas_labels=metas.labels,
        metas=metas.rows,
        control=_read_control(control) if control else None,
        seguimiento_labels=seguimiento.labels,
        seguimiento=seguimiento.rows,
        notes=metas.notes + seguimiento.notes,
    )


def find_sheet(names: Sequence[str], wanted: str) -> str | None:
    """The sheet called `wanted`: exactly, else after folding case, accents and spaces ("metas " → "Metas")."""
    if wanted in names:
        return wanted
    return next((name for name in names if fold(name) == fold(wanted)), None)


def _open_sheet(books: _Books, names: Sequence[str], wanted: str, limits: ReaderLimits) -> _Sheet | None:
    name = find_sheet(names, wanted)
    if name is None:
        return None
    formulas, values = books.formulas[name], books.values[name]
    if not isinstance(formulas, ReadOnlyWorksheet) or not isinstance(values, ReadOnlyWorksheet):
        return None  # a chart sheet under the expected name: as good as missing
    path = formulas._worksheet_path  # openpyxl has no public accessor for a sheet's part name
    scan = _scan_sheet(books.archive, path, name, limits)
    for sheet in (formulas, values):
        sheet.reset_dimensions()  # never trust the file's <dimension>: bounds are given on every read
    return _Sheet(name, formulas, values, scan.last_row, scan.header_width, tuple(scan.merges))


# ------------------------------------------------------------------------------------------------ the scan


class _SheetScan(ContentHandler):
    """SAX handler for one sheet: bounds checked as tags stream by; merges and extent kept, nothing else."""

    def __init__(self, sheet: str, limits: ReaderLimits) -> None:
        super().__init__()
        self.sheet, self.limits = sheet, limits
        self.row = self.col = self.cells_in_row = self.cell_row = 0
        self.has_value = self.in_value = False
        self.last_row = self.header_width = 0
        self.merges: list[_Merge] = []

    def startElement(self, name: str, attrs: AttributesImpl) -> None:  # the SAX API's names
        tag = name.rpartition(":")[2]
        if tag == "row":
            self.row = _int(attrs.get("r")) or self.row + 1
            self.col = self.cells_in_row = 0
            if self.row > EXCEL_MAX_ROWS:
                self._refuse(f"la fila {self.row}")
        elif tag == "c":
            self._start_cell(attrs.get("r"))
        elif tag in ("is", "f"):  # an inline string or a formula (a shared one may have no text)
            self.has_value = True
        elif tag == "v":
            self.in_value = True
        elif tag == "mergeCell":
            self._add_merge(attrs.get("ref"))

    def characters(self, content: str) -> None:
        if self.in_value and content.strip():
            self.has_value = True

    def endElement(self, name: str) -> None:
        tag = name.rpartition(":")[2]
        if tag == "v":
            self.in_value = False
        elif tag == "c" and self.has_value:
            self._end_cell_with_value()

    def _start_cell(self, ref: str | None) -> None:
        position = _parse_ref(ref) if ref else None
        self.cell_row, self.col = position or (self.row, self.col + 1)
        self.cells_in_row += 1
        self.has_value = False
        if self.cells_in_row > EXCEL_MAX_COLUMNS or self.col > EXCEL_MAX_COLUMNS:
            self._refuse(f"la fila {self.row} (más de {EXCEL_MAX_COLUMNS} celdas)")

    def _end_cell_with_value(self) -> None:
        if self.cell_row > self.limits.max_rows or self.col > self.limits.max_columns:
            self._refuse(f"la celda {column_letter(self.col)}{self.cell_row}")
        self.last_row = max(self.last_row, self.cell_row)
        if self.cell_row == HEADER_ROW:
            self.header_width = max(self.header_width, self.col)

    def _add_merge(self, ref: str | None) -> None:
        corners = [_parse_ref(part) for part in (ref or "").split(":")]
        if len(corners) != 2 or len(self.merges) >= MAX_MERGES:
            return  # unusable, or beyond any real sheet: those cells read as if unmerged
        (r1, c1), (r2, c2) = (c or (0, 0) for c in corners)
        if min(r1, c1, r2, c2) > 0:
            self.merges.append(_Merge(str(ref), min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))

    def _refuse(self, where: str) -> None:
        limits = self.limits
        finding = problem(
            Problem.SHEET_TOO_BIG,
            f"{self.sheet}: {where}",
            sheet=self.sheet,
            where=where,
            rows=limits.max_rows,
            columns=limits.max_columns,
        )
        raise Refused(finding, "sheet_too_big")


def _scan_sheet(archive: zipfile.ZipFile, path: str, sheet: str, limits: ReaderLimits) -> _SheetScan:
    scan = _SheetScan(sheet, limits)
    parser = expatreader.create_parser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setContentHandler(scan)
    with archive.open(path) as source:
        parser.parse(source)
    return scan


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def _parse_ref(ref: str) -> tuple[int, int] | None:
    """A reference like "B7" → (7, 2); None when it is not one."""
    match = _REF.fullmatch(ref.strip())
    if match is None:
        return None
    col = 0
    for letter in match.group(1).upper():
        col = col * 26 + ord(letter) - 64
    return int(match.group(2)), col


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


# ------------------------------------------------------------------------------------------------ rows and cells


def _rows(sheet: _Sheet, width: int) -> Iterator[tuple[int, Sequence[Any], Sequence[Any]]]:
    """(row number, formula-pass cells, value-pass cells) for columns 1..width, up to the last row with a value.

    The scan already refused any value beyond `max_rows`, so this is bounded; rows come in order, empty ones too.
    """
    if sheet.last_row == 0:
        return
    bounds = {"min_row": 1, "max_row": sheet.last_row, "min_col": 1, "max_col": width}
    with closing(sheet.formulas.iter_rows(**bounds)) as formulas, closing(sheet.values.iter_rows(**bounds)) as values:
        for number, (f_row, v_row) in enumerate(zip(formulas, values, strict=True), start=1):
            yield number, f_row, v_row


def _cell(number: int, col: int, formula_cell: Any, value_cell: Any) -> Cell:
    ref = f"{_letter(col)}{number}"
    if formula_cell.value is None and value_cell.value is None:
        return Cell(ref, None)
    return Cell(ref, _presented(value_cell), _formula(formula_cell))


@cache
def _letter(col: int) -> str:
    return column_letter(col)


def _formula(cell: Any) -> str | None:
    if cell.data_type != "f":
        return None
    value = cell.value
    if isinstance(value, str):
        return value
    text = getattr(value, "text", None)  # an ArrayFormula
    return text if isinstance(text, str) else "=TABLE()"  # a what-if data table has no formula text


def _presented(cell: Any) -> object:
    """The value as the secretario sees it: a percent-formatted 0.15 is 15 (as a Decimal, never a float×100)."""
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool) and _is_percent(_number_format(cell)):
        return Decimal(repr(value)) * 100  # repr: 0.155 stays 0.155, not its binary expansion
    return value


def _number_format(cell: Any) -> str:
    try:
        fmt = cell.number_format
    except (IndexError, KeyError):  # a style index beyond the stylesheet (a hand-made file): show it plainly
        return "General"
    return fmt if isinstance(fmt, str) else "General"


@cache
def _is_percent(number_format: str) -> bool:
    """A % outside quoted text, escapes and [colour]/[condition] brackets scales the shown number by 100."""
    bare = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", number_format)
    return "%" in bare


def _label(value: object) -> str | None:
    """A label or key as written, stripped; None for a blank cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value).strip()


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 1.0 → "1": a version or a year typed as a number
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


# ------------------------------------------------------------------------------------------------ the sheets


def _read_header(sheet: _Sheet) -> dict[str, Cell]:
    """`Encabezado`: label in A (stripped; the first of duplicates wins) → the cell in B."""
    header: dict[str, Cell] = {}
    for number, f_row, v_row in _rows(sheet, 2):
        label = _label(v_row[0].value)
        if label is not None and label not in header:
            header[label] = _cell(number, 2, f_row[1], v_row[1])
    return header


def _read_control(sheet: _Sheet) -> dict[str, str]:
    """`_control`: key in A → the value in B as text ("" when empty)."""
    control: dict[str, str] = {}
    for _number, _f_row, v_row in _rows(sheet, 2):
        key = _label(v_row[0].value)
        if key is not None and key not in control:
            control[key] = _as_text(v_row[1].value)
    return control


@dataclass(frozen=True)
class _Table:
    labels: tuple[str | None, ...] = ()
    rows: tuple[Row, ...] = ()
    notes: tuple[str, ...] = ()


def _read_table(
    sheet: _Sheet | None, keys: Sequence[str], content_keys: frozenset[str], limits: ReaderLimits
) -> _Table:
    """Labels of `HEADER_ROW` as found, and the data rows that hold content, mapped to `keys` by position."""
    if sheet is None:
        return _Table()
    labels: tuple[str | None, ...] = ()
    rows: list[Row] = []
    fill = _MergeFill(sheet, len(keys), limits)
    for number, f_row, v_row in _rows(sheet, max(len(keys), sheet.header_width)):
        if number == HEADER_ROW:
            labels = _labels(v_row)
        if number < FIRST_DATA_ROW:
            continue
        cells = {
            key: fill.cell(number, col, _cell(number, col, f_row[col - 1], v_row[col - 1]))
            for col, key in enumerate(keys, start=1)
        }
        row = Row(number, cells)
        if not row.is_blank(content_keys):
            rows.append(row)
    return _Table(labels, tuple(rows), fill.notes())


def _labels(cells: Sequence[Any]) -> tuple[str | None, ...]:
    labels = [_label(cell.value) for cell in cells]
    while labels and labels[-1] is None:
        labels.pop()
    return tuple(labels)


class _MergeFill:
    """Gives every cell of a merged range in the data rows the top-left cell (value and formula), as Excel shows.

    Only ranges that start at or below `FIRST_DATA_ROW` count: titles merged above the header are the format's.
    The top-left cell is always read before the cells it covers (rows come in order), so one pass suffices.
    """

    def __init__(self, sheet: _Sheet, width: int, limits: ReaderLimits) -> None:
        self.sheet = sheet.name
        self.anchor_of: dict[tuple[int, int], tuple[int, int]] = {}
        self.anchors: dict[tuple[int, int], Cell | None] = {}
        self.refs: dict[tuple[int, int], str] = {}
        budget = MAX_MERGED_CELLS
        for merge in sheet.merges:
            last_row, last_col = min(merge.max_row, limits.max_rows), min(merge.max_col, width)
            area = (last_row - merge.min_row + 1) * (last_col - merge.min_col + 1)
            if merge.min_row < FIRST_DATA_ROW or merge.min_col > width or area <= 1 or area > budget:
                continue
            budget -= area
            self._add(merge, last_row, last_col)

    def _add(self, merge: _Merge, last_row: int, last_col: int) -> None:
        anchor = (merge.min_row, merge.min_col)
        if anchor in self.anchors or anchor in self.anchor_of:
            return  # overlapping ranges (Excel refuses them): the first one wins
        self.anchors[anchor], self.refs[anchor] = None, merge.ref
        for r in range(merge.min_row, last_row + 1):
            for c in range(merge.min_col, last_col + 1):
                if (r, c) != anchor:
                    self.anchor_of.setdefault((r, c), anchor)

    def cell(self, number: int, col: int, cell: Cell) -> Cell:
        key = (number, col)
        if key in self.anchors:
            self.anchors[key] = cell
            return cell
        anchor = self.anchor_of.get(key)
        top = self.anchors.get(anchor) if anchor else None
        return Cell(cell.ref, top.value, top.formula) if top else cell

    def notes(self) -> tuple[str, ...]:
        """One note per merged range met in the rows read (the first `MAX_NOTES_PER_SHEET`, then a count)."""
        met = [(self.refs[anchor], top.ref) for anchor, top in self.anchors.items() if top is not None]
        notes = [f"{self.sheet}!{ref} combinadas (se leyó el valor de {top} en todas)" for ref, top in met]
        if len(notes) > MAX_NOTES_PER_SHEET:
            extra = len(notes) - MAX_NOTES_PER_SHEET
            notes = [*notes[:MAX_NOTES_PER_SHEET], f"{self.sheet}: {extra} rangos combinados más"]
        return tuple(notes)
