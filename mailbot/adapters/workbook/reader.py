"""Reads a returned E-DE-F-010 workbook into a `ParsedWorkbook`, or says in one F01 finding why it cannot.

An attachment is untrusted input from the Internet. The defences run in this order, each before the next looks
deeper into the file:

1. size: more than `max_bytes` is refused unopened (so is a zip declaring more than `max_members` entries);
2. the type from the bytes (`sniff`): anything but an .xlsx gets an F01 that names what it is and how to fix it;
3. the zip directory, before any XML is parsed: member count, names (no absolute paths, no `..`, no duplicates),
   declared sizes (their sum, and each large member's compression ratio). zipfile enforces declared sizes and CRCs
   on read, so they can be trusted; one streaming pass then counts the markup of every member (`max_xml_tags`) and
   refuses any DTD: the shared strings and styles are read whole, so their size must be bounded first;
4. one streaming pass (`stream`: expat, no DTD, no entities) reads each sheet mailbot needs, once: every cell's
   cached value, type, number format and formula, the `<mergeCells>` and the last row holding a value (reading
   stops there: no blank-row guessing, so a meta after a gap is never lost). A value beyond `max_rows` /
   `max_columns`, or a row longer than Excel allows, is refused as it streams by; a forged `<dimension>` is never
   read. openpyxl is not used to read: the tests hold this pass to openpyxl's reading of every fixture.
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
import gc
import io
import re
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import Final, Protocol

import openpyxl

from mailbot.adapters.workbook.refusals import Problem, Refused, failure, kind_finding, megabytes, problem
from mailbot.adapters.workbook.sniff import ZIP_MAGIC, FileKind, sniff, zip_entry_bound
from mailbot.adapters.workbook.stream import Merge, Raw, SheetData, read_book, read_sheet
from mailbot.config import Limits
from mailbot.domain.espanol import numero
from mailbot.domain.findings import Finding
from mailbot.domain.parsed import Cell, ParsedWorkbook, Row
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    METAS_COLUMNS,
    METAS_INPUT_KEYS,
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
#: A `Seguimiento` row counts when anything but the row number and the total is filled: its fixed columns come
#: from the accepted plan, so a meta with no execution yet is still a row the rules must see (S01).
SEGUIMIENTO_CONTENT_KEYS: Final = frozenset(SEGUIMIENTO_KEYS) - {"number", "total"}

RATIO_FLOOR_BYTES: Final = 1 << 20  # small parts compress extremely well without being dangerous
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


def read_workbook(data: bytes, limits: ReaderLimits, source: SourceFactory | None = None) -> ParsedWorkbook | Finding:
    """The workbook's cells as found, or one F01 finding (severity E, no sheet) that says what to do. Never raises.

    `source` reads the sheets once the file has passed every check: the one streaming pass unless a test passes
    openpyxl as the reference to agree with.
    """
    try:
        with cyclic_gc_paused():
            return _read(data, limits, source or stream_source)
    except Refused as refused:
        log.info("workbook_refused", reason=refused.reason, size=len(data))
        return refused.finding
    except Exception as exc:
        return failure(exc, len(data))


class _GcPause:
    """Counts the readers in flight across threads: the first turns the collector off, the last turns it back on.

    The switch is process-wide, so a per-call "was it enabled?" would let two overlapping reads (the daemon's
    fetcher and worker threads) leave it off for good; the count under a lock cannot.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._restore = False

    def enter(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._restore = gc.isenabled()
                gc.disable()
            self._depth += 1

    def leave(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._restore:
                gc.enable()


_GC_PAUSE = _GcPause()


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Reading allocates some 100,000 small acyclic objects (cells, tuples, rows) that reference counting frees;
    the cyclic collector would walk them again and again for nothing (about a fifth of the reading time). The rules
    run under it too (`services.validation`). Nested and concurrent uses are fine: the last one out turns it on."""
    _GC_PAUSE.enter()
    try:
        yield
    finally:
        _GC_PAUSE.leave()


# ------------------------------------------------------------------------------------------------ the file


def _read(data: bytes, limits: ReaderLimits, source: SourceFactory) -> ParsedWorkbook:
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
        return _parse_sheets(source(archive, data, limits))


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
        size = megabytes(total)
        raise Refused(problem(Problem.ZIP_BOMB, size, size=size, limit=limit), "uncompressed_size")
    for info in infos:
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_compression_ratio * info.compress_size:
            value = f"{info.filename}: {megabytes(info.file_size)}"
            ratio = numero(info.file_size // max(info.compress_size, 1))
            limit_ratio = numero(limits.max_compression_ratio)
            finding = problem(Problem.COMPRESSION_RATIO, value, part=info.filename, ratio=ratio, limit=limit_ratio)
            raise Refused(finding, "compression_ratio")


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
            value = f"más de {numero(limits.max_xml_tags)} etiquetas XML"
            finding = problem(
                Problem.TOO_MANY_ELEMENTS,
                value,
                limit=numero(limits.max_xml_tags),
                rows=numero(limits.max_rows),
                columns=numero(limits.max_columns),
            )
            raise Refused(finding, "markup")


_DTD_MARKERS: Final = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))


# ------------------------------------------------------------------------------------------------ sheets


class SheetSource(Protocol):
    """Where the sheets' cells come from: the one streaming pass (`StreamSource`), or openpyxl in the tests."""

    sheet_names: tuple[str, ...]

    def sheet(self, name: str, width: int) -> SheetData | None:
        """The worksheet `name`'s cells within `width` columns; None when it is not a worksheet (a chart)."""
        ...


class StreamSource:
    """The production source: `stream.read_book` once, then one expat pass per sheet asked for."""

    def __init__(self, archive: zipfile.ZipFile, limits: ReaderLimits) -> None:
        self.archive, self.limits = archive, limits
        self.book = read_book(archive)
        self.sheet_names = self.book.sheet_names

    def sheet(self, name: str, width: int) -> SheetData | None:
        if name not in self.book.worksheets:
            return None
        return read_sheet(self.archive, self.book, name, width, self.limits.max_rows, self.limits.max_columns)


SourceFactory = Callable[[zipfile.ZipFile, bytes, ReaderLimits], SheetSource]


def stream_source(archive: zipfile.ZipFile, _data: bytes, limits: ReaderLimits) -> SheetSource:
    return StreamSource(archive, limits)


def _parse_sheets(source: SheetSource) -> ParsedWorkbook:
    names = source.sheet_names

    def sheet(wanted: str, width: int) -> SheetData | None:
        name = find_sheet(names, wanted)
        return None if name is None else source.sheet(name, width)

    header = sheet(SHEET_HEADER, 2)
    metas = _read_table(sheet(SHEET_METAS, len(METAS_KEYS)), METAS_KEYS, METAS_INPUT_KEYS)
    seguimiento = _read_table(
        sheet(SHEET_SEGUIMIENTO, len(SEGUIMIENTO_KEYS)), SEGUIMIENTO_KEYS, SEGUIMIENTO_CONTENT_KEYS
    )
    control = sheet(SHEET_CONTROL, 2)
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


# ------------------------------------------------------------------------------------------------ cells


def _cell(ref: str, raw: Raw | None) -> Cell:
    if raw is None:
        return _new_cell(ref, None, None)
    value, formula, number_format = raw
    if number_format != "General":
        value = _presented(value, number_format)
    return _new_cell(ref, value, formula)


_NO_CELLS: Final[dict[int, Raw]] = {}
_new = object.__new__


def _new_cell(ref: str, value: object, formula: str | None) -> Cell:
    """`Cell(ref, value, formula)` at half the cost: a frozen dataclass's `__init__` sets each field through
    `object.__setattr__`, and a plan has some 40 cells per meta. Equal to the constructor's cell in every way
    (a test holds it to that); valid while `Cell` has no `__post_init__` and no slots."""
    cell = _new(Cell)
    fields = cell.__dict__
    fields["ref"], fields["value"], fields["formula"] = ref, value, formula
    return cell


@cache
def _letter(col: int) -> str:
    return column_letter(col)


def _presented(value: object, number_format: str) -> object:
    """The value as the secretario sees it: a percent-formatted 0.15 is 15 (as a Decimal, never a float×100)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and _is_percent(number_format):
        return Decimal(repr(value)) * 100  # repr: 0.155 stays 0.155, not its binary expansion
    return value


@lru_cache(maxsize=256)  # keys come from senders' styles.xml: bounded
def _is_percent(number_format: str) -> bool:
    """A % outside quoted text, escapes and [colour]/[condition] brackets scales the shown number by 100."""
    bare = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", number_format)
    return "%" in bare


def _value(sheet: SheetData, number: int, col: int) -> object:
    raw = sheet.rows.get(number, {}).get(col)
    return None if raw is None else raw[0]


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


def _read_header(sheet: SheetData) -> dict[str, Cell]:
    """`Encabezado`: label in A (stripped; the first of duplicates wins) → the cell in B."""
    header: dict[str, Cell] = {}
    for number in sorted(sheet.rows):
        label = _label(_value(sheet, number, 1))
        if label is not None and label not in header:
            header[label] = _cell(f"B{number}", sheet.rows[number].get(2))
    return header


def _read_control(sheet: SheetData) -> dict[str, str]:
    """`_control`: key in A → the value in B as text ("" when empty)."""
    control: dict[str, str] = {}
    for number in sorted(sheet.rows):
        key = _label(_value(sheet, number, 1))
        if key is not None and key not in control:
            control[key] = _as_text(_value(sheet, number, 2))
    return control


@dataclass(frozen=True)
class _Table:
    labels: tuple[str | None, ...] = ()
    rows: tuple[Row, ...] = ()
    notes: tuple[str, ...] = ()


def _read_table(sheet: SheetData | None, keys: Sequence[str], content_keys: frozenset[str]) -> _Table:
    """Labels of `HEADER_ROW` as found, and the data rows that hold content, mapped to `keys` by position."""
    if sheet is None:
        return _Table()
    header = sheet.rows.get(HEADER_ROW, {}) if sheet.last_row >= HEADER_ROW else {}
    labels = [
        _label(header[col][0]) if col in header else None for col in range(1, 1 + max(len(keys), sheet.header_width))
    ]
    while labels and labels[-1] is None:
        labels.pop()
    fill = _MergeFill(sheet, len(keys))
    numbers = {n for n in sheet.rows if FIRST_DATA_ROW <= n <= sheet.last_row} | fill.rows(sheet.last_row)
    columns = [(col, key, _letter(col)) for col, key in enumerate(keys, start=1)]
    rows: list[Row] = []
    new_cell = _new_cell
    for number in sorted(numbers):
        found = sheet.rows.get(number, _NO_CELLS)
        suffix = str(number)
        cells: dict[str, Cell] = {}
        for col, key, letter in columns:  # `_cell` inline: this loop builds every cell of the plan
            raw = found.get(col)
            if raw is None:
                cells[key] = new_cell(letter + suffix, None, None)
            else:
                value, formula, number_format = raw
                if number_format != "General" and _is_percent(number_format):
                    value = _presented(value, number_format)
                cells[key] = new_cell(letter + suffix, value, formula)
        if fill.anchors:
            cells = {key: fill.cell(number, col, cells[key]) for col, key, _letter in columns}
        row = Row(number, cells)
        if not row.is_blank(content_keys):
            rows.append(row)
    return _Table(tuple(labels), tuple(rows), fill.notes())


class _MergeFill:
    """Gives every cell of a merged range in the data rows the top-left cell (value and formula), as Excel shows.

    Only ranges that start at or below `FIRST_DATA_ROW` count: titles merged above the header are the format's.
    Ranges are taken top-left first (the file's order is arbitrary; overlapping ones: the first wins), and rows
    are visited in order, so the top-left cell is always read before the cells it covers.
    """

    def __init__(self, sheet: SheetData, width: int) -> None:
        self.sheet = sheet.name
        self.anchor_of: dict[tuple[int, int], tuple[int, int]] = {}
        self.anchors: dict[tuple[int, int], Cell | None] = {}
        self.refs: dict[tuple[int, int], str] = {}
        budget = MAX_MERGED_CELLS
        for merge in sorted(sheet.merges, key=lambda m: (m.min_row, m.min_col, m.max_row, m.max_col)):
            last_row, last_col = min(merge.max_row, sheet.last_row), min(merge.max_col, width)
            area = (last_row - merge.min_row + 1) * (last_col - merge.min_col + 1)
            if merge.min_row < FIRST_DATA_ROW or merge.min_col > width or area <= 1 or area > budget:
                continue
            budget -= area
            self._add(merge, last_row, last_col)

    def _add(self, merge: Merge, last_row: int, last_col: int) -> None:
        anchor = (merge.min_row, merge.min_col)
        if anchor in self.anchors or anchor in self.anchor_of:
            return  # overlapping ranges (Excel refuses them): the first one wins
        self.anchors[anchor], self.refs[anchor] = None, merge.ref
        for r in range(merge.min_row, last_row + 1):
            for c in range(merge.min_col, last_col + 1):
                if (r, c) != anchor:
                    self.anchor_of.setdefault((r, c), anchor)

    def rows(self, last_row: int) -> set[int]:
        """The data rows a merged range reaches (they may hold no cell of their own)."""
        return {r for r, _c in (*self.anchors, *self.anchor_of) if r <= last_row}

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
