"""The one streaming pass and openpyxl read every test workbook to the same result, or refuse it with the same F01.

The reader reads each sheet once with expat (`adapters/workbook/stream.py`); openpyxl, which used to read it
twice, is kept here as the reference (`tests/support/openpyxl_reader.py`). Values are compared with their types
(an int is not a float, a date not a datetime), since `==` alone would call 1000 and 1000.0 the same.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook
from mailbot.config import Limits, load_config
from mailbot.domain.findings import Finding
from mailbot.domain.parsed import Cell, ParsedWorkbook, Row
from mailbot.domain.workbook_format import HEADER_ROW, METAS_COLUMNS, SHEET_CONTROL, SHEET_HEADER, SHEET_METAS
from tests.support import hostile
from tests.support.configs import write_config
from tests.support.libreoffice import needs_libreoffice, roundtrip_xlsx
from tests.support.openpyxl_reader import openpyxl_source
from tests.support.plans import make_plan
from tests.support.seguimiento import fill_quarter, make_seguimiento, reports_for
from tests.support.workbooks import edit_workbook

LIMITS = ReaderLimits.from_config(Limits())


def _typed(value: object) -> tuple[str, object]:
    return type(value).__name__, value


def _cell(cell: Cell) -> tuple[object, ...]:
    return cell.ref, _typed(cell.value), cell.formula


def _rows(rows: tuple[Row, ...]) -> list[tuple[int, dict[str, tuple[object, ...]]]]:
    return [(row.number, {key: _cell(cell) for key, cell in row.cells.items()}) for row in rows]


def fingerprint(result: ParsedWorkbook | Finding) -> object:
    """Everything the rules see, with each value's type."""
    if isinstance(result, Finding):
        return result
    return (
        result.sheet_names,
        {label: _cell(cell) for label, cell in result.header.items()},
        result.metas_labels,
        _rows(result.metas),
        result.control,
        result.seguimiento_labels,
        _rows(result.seguimiento),
        result.notes,
    )


def assert_agree(data: bytes, limits: ReaderLimits = LIMITS) -> ParsedWorkbook | Finding:
    one_pass = read_workbook(data, limits)
    reference = read_workbook(data, limits, source=openpyxl_source)
    assert fingerprint(one_pass) == fingerprint(reference)
    return one_pass


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_config(write_config(tmp_path_factory.mktemp("agreement")), environ={})


# ------------------------------------------------------------------------------------------------ generated


def test_a_generated_plan(config: Any) -> None:
    parsed = assert_agree(make_plan(config, n=12))
    assert isinstance(parsed, ParsedWorkbook)
    assert len(parsed.metas) == 12


def test_a_seguimiento_workbook_with_a_reported_quarter(config: Any) -> None:
    case = make_seguimiento(config, quarter=2, reported=[1])
    data = fill_quarter(case.data, 2, reports_for(case.baseline, 2))
    parsed = assert_agree(data)
    assert isinstance(parsed, ParsedWorkbook)
    assert parsed.seguimiento


def _typed_workbook() -> bytes:
    """Every kind of cell openpyxl writes: text, ints, floats, booleans, dates, percents, formulas, merges."""
    book = Workbook()
    book.active.title = SHEET_HEADER
    header = book[SHEET_HEADER]
    header["A3"], header["B3"] = "Vigencia", 2027
    header["A4"], header["B4"] = "Fecha", dt.datetime(2027, 1, 15, 10, 30)  # noqa: DTZ001 - a spreadsheet has no time zone
    header["A5"], header["B5"] = " Día ", dt.date(2027, 2, 1)
    header["A6"], header["B6"] = "Hora", dt.time(8, 15)
    metas = book.create_sheet(SHEET_METAS)
    for col, column in enumerate(METAS_COLUMNS, start=1):
        metas.cell(HEADER_ROW, col, column.label)
    metas.cell(HEADER_ROW, len(METAS_COLUMNS) + 2, "Columna añadida")
    metas["B6"], metas["E6"], metas["L6"] = "Educación  y  cultura", "010101", 0.155
    metas["L6"].number_format = "0.0%"
    metas["M6"], metas["N6"] = True, 2.5
    metas["T6"], metas["U6"], metas["X6"] = 1000, 2000.0, "=SUM(T6:W6)"
    metas["B7"], metas["E7"], metas["T7"] = "Salud", "020202", '"quoted" & <marked>'
    metas.merge_cells("B7:B9")
    metas.merge_cells("C8:D8")
    metas["E8"], metas["E9"], metas["C8"] = "020203", "020204", "merged text"
    metas["A1"] = "Título"
    metas.merge_cells("A1:H1")
    metas["E12"] = "x"
    metas["T12"] = "=1/0"
    control = book.create_sheet(SHEET_CONTROL)
    control["A1"], control["B1"] = "vigencia", 2027.0
    control["A2"], control["B2"] = "fecha", dt.date(2027, 3, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_every_kind_of_cell_openpyxl_writes() -> None:
    parsed = assert_agree(_typed_workbook())
    assert isinstance(parsed, ParsedWorkbook)
    assert [row.number for row in parsed.metas] == [6, 7, 8, 9, 12]
    assert parsed.notes  # the merged ranges of the data rows were met


# ------------------------------------------------------------------------------------------------ hand-written XML

_SHARED = (
    f'<sst xmlns="{hostile.MAIN_NS}" count="4" uniqueCount="4">'
    "<si><t>Meta plana</t></si>"
    '<si><r><rPr><b/></rPr><t>Rica </t></r><r><t xml:space="preserve">en  partes</t></r>'
    '<rPh sb="0" eb="1"><t>フリガナ</t></rPh></si>'
    "<si><t>_x005F_x000D_ escapado</t></si>"
    "<si><t/></si></sst>"
).encode()

_STYLES = (
    f'<styleSheet xmlns="{hostile.MAIN_NS}"><numFmts count="2">'
    '<numFmt numFmtId="164" formatCode="dd/mm/yyyy"/><numFmt numFmtId="165" formatCode="0.00&quot;%&quot;"/>'
    '</numFmts><fonts count="1"><font/></fonts><fills count="1"><fill><patternFill patternType="none"/></fill>'
    '</fills><borders count="1"><border/>'
    '</borders><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><cellXfs count="6"><xf numFmtId="0"/>'
    '<xf numFmtId="164"/><xf numFmtId="9"/><xf numFmtId="165"/><xf numFmtId="46"/><xf numFmtId="170"/>'
    "</cellXfs></styleSheet>"
).encode()


def _with_parts(sheets: dict[str, bytes]) -> bytes:
    """A workbook of raw sheets plus a shared-strings table and a stylesheet with date and percent formats."""
    members = []
    for part in hostile.xlsx_members(sheets):
        if part.name == "xl/styles.xml":
            part = hostile.member(part.name, _STYLES)
        elif part.name == "[Content_Types].xml":
            shared = (
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
            )
            part = hostile.member(part.name, _text(part).replace("</Types>", shared).encode())
        elif part.name == "xl/_rels/workbook.xml.rels":
            rel = f'<Relationship Id="rIdS" Type="{hostile.REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
            part = hostile.member(part.name, _text(part).replace("</Relationships>", rel + "</Relationships>").encode())
        members.append(part)
    members.append(hostile.member("xl/sharedStrings.xml", _SHARED))
    return hostile.raw_zip(members)


def _text(part: hostile.RawMember) -> str:
    return zlib.decompress(part.payload, -15).decode()


_CELLS = (
    '<row r="5"><c r="A5" t="s"><v>0</v></c><c r="B5" t="s"><v>1</v></c></row>'
    '<row r="6"><c r="B6" t="s"><v>2</v></c><c r="C6" t="s"><v>3</v></c>'
    '<c r="E6" t="inlineStr"><is><t>010101</t></is></c>'
    '<c r="F6" t="inlineStr"><is><r><t>en </t></r><r><t>runs</t></r></is></c>'
    '<c r="L6" s="2"><v>0.25</v></c><c r="M6" s="3"><v>12.5</v></c><c r="N6" s="1"><v>46388</v></c>'
    '<c r="O6" s="4"><v>1.5</v></c><c r="P6" s="5"><v>7</v></c><c r="Q6" t="b"><v>1</v></c>'
    '<c r="R6" t="e"><v>#N/A</v></c><c r="S6" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>'
    '<c r="T6"><v>1E3</v></c><c r="U6"><f t="shared" ref="U6:U8" si="0">T6*2</f><v>2000</v></c>'
    '<c r="V6"><f t="array" ref="V6">SUM(T6:U6*1)</f><v>3000</v></c><c r="W6" t="d"><v>2027-04-01T00:00:00</v></c>'
    '<c r="X6"><f>SUM(T6:W6)</f></c><c r="Y6"><v></v></c><c r="Z6" s="1"/></row>'
    '<row r="7"><c r="E7" t="inlineStr"><is><t>020202</t></is></c><c r="T7"><v>5</v></c>'
    '<c r="U7"><f t="shared" si="0"/><v>10</v></c></row>'
    '<row r="8"><c r="E8" t="inlineStr"><is><t>020203</t></is></c><c r="T8"><v>-2.5</v></c>'
    '<c r="U8"><f t="shared" si="0"/><v>-5</v></c></row>'
    '<row><c t="inlineStr"><is><t>sin referencia</t></is></c><c t="inlineStr"><is><t>B9</t></is></c></row>'
)


def test_every_kind_of_cell_excel_writes() -> None:
    """Shared and rich strings, styles for dates and percents, booleans, errors, shared and array formulas."""
    sheet = f'<worksheet xmlns="{hostile.MAIN_NS}"><sheetData>{_CELLS}</sheetData></worksheet>'.encode()
    parsed = assert_agree(_with_parts({SHEET_METAS: sheet}))
    assert isinstance(parsed, ParsedWorkbook)
    row6 = parsed.metas[0]
    assert row6.cell("linea").value == "_x000D_ escapado"
    assert parsed.metas_labels[:2] == ("Meta plana", "Rica en  partes")
    assert parsed.metas[1].cells["poai_t2"].formula == "=T7*2"  # translated from U6's shared formula


def test_a_prefixed_namespace_and_a_1904_workbook() -> None:
    sheet = (
        f'<x:worksheet xmlns:x="{hostile.MAIN_NS}"><x:sheetData><x:row r="6">'
        '<x:c r="E6" t="inlineStr"><x:is><x:t>010101</x:t></x:is></x:c><x:c r="N6" s="1"><x:v>1</x:v></x:c>'
        "</x:row></x:sheetData></x:worksheet>"
    ).encode()
    members = []
    for part in hostile.xlsx_members({SHEET_METAS: sheet}):
        if part.name == "xl/workbook.xml":
            part = hostile.member(
                part.name, _text(part).replace("<sheets>", '<workbookPr date1904="1"/><sheets>').encode()
            )
        elif part.name == "xl/styles.xml":
            part = hostile.member(part.name, _STYLES)
        members.append(part)
    assert_agree(hostile.raw_zip(members))


# ------------------------------------------------------------------------------------------------ hostile

HOSTILE: dict[str, Callable[[], bytes]] = {
    "zip_bomb": hostile.zip_bomb,
    "xml_bomb": hostile.xml_bomb,
    "xxe": hostile.xxe,
    "xml_bomb_in_workbook_part": hostile.xml_bomb_in_workbook_part,
    "encrypted": hostile.encrypted_xlsx,
    "legacy_xls": hostile.legacy_xls,
    "ods": hostile.ods,
    "csv_renamed": hostile.csv_renamed,
    "xlsm": hostile.xlsm,
    "empty": hostile.empty,
    "truncated": hostile.truncated,
    "lying_sizes": hostile.lying_sizes,
    "path_traversal": hostile.path_traversal,
    "too_long": lambda: hostile.too_long(LIMITS.max_rows),
    "too_wide": lambda: hostile.too_wide(LIMITS.max_columns),
    "too_many_members": hostile.too_many_members,
    "forged_entry_count": hostile.forged_entry_count,
    "forged_dimension": hostile.forged_dimension,
    "zip_with_password": hostile.zip_with_password,
    "docx": hostile.docx,
    "docm": hostile.docm,
    "pdf": hostile.pdf,
    "png": hostile.png,
    "word_doc": hostile.word_doc,
    "xlsm_by_vba_only": hostile.xlsx_with_vba_only,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_file(name: str) -> None:
    result = assert_agree(HOSTILE[name]())
    if name != "forged_dimension":
        assert isinstance(result, Finding)
        assert result.code == "F01"


def test_an_edited_plan_with_formulas_typed_over(config: Any) -> None:
    """A secretario types a value over a total and writes text in a money cell."""

    def change(book: Workbook) -> None:
        book[SHEET_METAS]["X6"] = 123
        book[SHEET_METAS]["T7"] = "1.500.000"
        book[SHEET_METAS]["L6"].number_format = "0%"

    assert_agree(edit_workbook(make_plan(config, n=3), change))


@pytest.mark.slow
@pytest.mark.libreoffice
@needs_libreoffice
def test_plans_saved_again_by_libreoffice(config: Any, tmp_path: Path) -> None:
    """LibreOffice writes shared strings, shared formulas with cached values and its own styles."""
    (tmp_path / "plan").mkdir()
    (tmp_path / "typed").mkdir()
    plan = roundtrip_xlsx(make_plan(config, n=6), tmp_path / "plan")
    typed = roundtrip_xlsx(_typed_workbook(), tmp_path / "typed")
    for data in (plan, typed):
        parsed = assert_agree(data)
        assert isinstance(parsed, ParsedWorkbook)


# ------------------------------------------------------------------------------------------------ random workbooks

_FORMATS = ("General", "0", "0.00", "0%", "0.0%", '#,##0 "%"', "dd/mm/yyyy", "[h]:mm", "@", "$ #,##0")


def _random_value(rng: random.Random) -> object:
    kind = rng.randrange(10)
    if kind == 0:
        return rng.randint(-(10**12), 10**12)
    if kind == 1:
        return rng.uniform(-1e6, 1e6)
    if kind == 2:
        return rng.choice([True, False])
    if kind == 3:
        return dt.date(2027, rng.randint(1, 12), rng.randint(1, 28))
    if kind == 4:
        return f"=SUM(T{rng.randint(6, 30)}:W{rng.randint(6, 30)})"
    if kind == 5:
        return rng.choice(["#N/A", "#DIV/0!", " ", "", "  dos  espacios ", "ñandú & <b>", "a\nb", "1.500.000"])
    return "".join(rng.choice("abcdeáéñ 0123456789-") for _ in range(rng.randint(1, 30)))


def _random_workbook(seed: int) -> bytes:
    rng = random.Random(seed)
    book = Workbook()
    book.active.title = SHEET_HEADER
    for row in range(1, rng.randint(2, 15)):
        book[SHEET_HEADER].cell(row, 1, f"Campo {rng.randint(1, 9)}")
        book[SHEET_HEADER].cell(row, 2, _random_value(rng))
    metas = book.create_sheet(rng.choice([SHEET_METAS, "metas ", "METAS"]))
    for col in range(1, rng.randint(2, 50)):
        metas.cell(HEADER_ROW, col, rng.choice([None, _random_value(rng)]))
    for _ in range(rng.randint(0, 200)):
        cell = metas.cell(rng.randint(1, 60), rng.randint(1, 50), _random_value(rng))
        cell.number_format = rng.choice(_FORMATS)
    for _ in range(rng.randint(0, 4)):
        top, left = rng.randint(4, 40), rng.randint(1, 40)
        metas.merge_cells(start_row=top, start_column=left, end_row=top + rng.randint(0, 3), end_column=left + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("seed", range(25))
def test_random_workbooks(seed: int) -> None:
    """Random values, formats, formulas and merged ranges, written by openpyxl: read alike both ways."""
    assert_agree(_random_workbook(seed))


# ------------------------------------------------------------------------------------------------ shortcuts

_ODD_REFERENCES = (
    '<row r="5"><c r="A5" t="inlineStr"><is><t>Número</t></is></c></row>'
    '<row r="6"><c r="E6" t="inlineStr"><is><t>010101</t></is></c><c r="T6" s="01"><v>0.5</v></c>'
    '<c r="U6" s="2"><v>0.5</v></c><c r="V6"><v>7</v></c></row>'
    # a cell whose reference names another row, one whose row digits end like the row's, lower case, "$"
    '<row r="3"><c r="E13" t="inlineStr"><is><t>fila 13</t></is></c></row>'
    '<row r="7"><c r="E17" t="inlineStr"><is><t>fila 17</t></is></c><c r="T7"><v>1</v></c></row>'
    '<row r="14"><c r="e14" t="inlineStr"><is><t>minúscula</t></is></c><c r="t14"><v>2</v></c></row>'
    '<row r="15"><c r="E15" t="inlineStr"><is><t>sin columna</t></is></c><c><v>3</v></c>'
    '<c r="AA15"><v>4</v></c><c><v>5</v></c></row>'
)


def test_cell_references_off_the_fast_path() -> None:
    """The pass takes a cell's row from its `<row>` when the reference ends with it, and caches column letters:
    references naming another row, lower case, or missing are read as openpyxl reads them; so is a style written
    "01" (cached by its text) beside the same style written "1"."""
    sheet = f'<worksheet xmlns="{hostile.MAIN_NS}"><sheetData>{_ODD_REFERENCES}</sheetData></worksheet>'.encode()
    parsed = assert_agree(_with_parts({SHEET_METAS: sheet}))
    assert isinstance(parsed, ParsedWorkbook)
    codes = {row.number: row.cell("meta_code").value for row in parsed.metas}
    assert codes[13] == "fila 13"
    assert codes[17] == "fila 17"
    assert codes[14] == "minúscula"


def test_the_fast_cell_is_the_constructors_cell() -> None:
    """`reader._new_cell` skips the frozen dataclass's `__init__`: the cell must be the same in every way."""
    from dataclasses import FrozenInstanceError

    from mailbot.adapters.workbook.reader import _new_cell

    fast, built = _new_cell("T7", 1.5, "=SUM(T6:W6)"), Cell("T7", 1.5, "=SUM(T6:W6)")
    assert fast == built
    assert hash(fast) == hash(built)
    assert repr(fast) == repr(built)
    assert (fast.ref, fast.value, fast.formula) == ("T7", 1.5, "=SUM(T6:W6)")
    with pytest.raises(FrozenInstanceError):
        fast.value = 2  # type: ignore[misc]


def test_a_value_longer_than_a_chunk() -> None:
    """A `<v>` that expat hands over in pieces (it crosses a 64 KiB chunk) is read whole."""
    long_text = "ab" * 50_000
    sheet = (
        f'<worksheet xmlns="{hostile.MAIN_NS}"><sheetData><row r="6">'
        f'<c r="E6" t="inlineStr"><is><t>010101</t></is></c><c r="F6" t="str"><f>REPT("ab",50000)</f>'
        f'<v>{long_text}</v></c><c r="T6"><v>{"0" * 70_000}12.5</v></c></row></sheetData></worksheet>'
    ).encode()
    parsed = assert_agree(_with_parts({SHEET_METAS: sheet}))
    assert isinstance(parsed, ParsedWorkbook)
    assert parsed.metas[0].cell("meta").value == long_text
    assert parsed.metas[0].cell("poai_t1").value == 12.5
