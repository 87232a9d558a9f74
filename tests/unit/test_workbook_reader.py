"""The workbook reader: every wrong or hostile attachment becomes one F01 that says which case it is; a real
workbook reads back as the secretario sees it (formulas, percent cells, merged ranges, tolerant sheet names)."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import structlog
from defusedxml import DefusedXmlException
from openpyxl import Workbook
from structlog.testing import capture_logs

from mailbot.adapters.workbook import stream
from mailbot.adapters.workbook.reader import ReaderLimits, find_sheet, read_workbook
from mailbot.adapters.workbook.sniff import FileKind, sniff
from mailbot.config import Limits, load_config
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.workbook_format import (
    HEADER_FIRST_ROW,
    HEADER_ROW,
    METAS_COLUMNS,
    METAS_LETTERS,
    SEGUIMIENTO_FIXED,
    SEGUIMIENTO_QUARTER_LABELS,
    SHEET_CONTROL,
    SHEET_HEADER,
    SHEET_INSTRUCTIONS,
    SHEET_SEGUIMIENTO,
    ControlField,
    HeaderField,
    column_letter,
)
from tests.support import hostile
from tests.support.configs import write_config
from tests.support.plans import make_plan

LIMITS = ReaderLimits.from_config(Limits())

# ------------------------------------------------------------------------------------------------ hostile files

#: name → (builder, words its message must hold). The first thirteen are the brief's set, each answered with a
#: message of its own; the rest are other ways in, some answered like one of the first (same case for the user).
HOSTILE: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {
    "zip_bomb": (hostile.zip_bomb, ("descomprimido", "anormalmente grande")),
    "xml_bomb": (hostile.xml_bomb, ("DTD", "entidades")),
    "encrypted": (hostile.encrypted_xlsx, ("contraseña (cifrado)", "Cifrar con contraseña")),
    "legacy_xls": (hostile.legacy_xls, ("Excel 97-2003 (.xls)",)),
    "ods": (hostile.ods, (".ods de LibreOffice/OpenOffice", "Excel 2007-365 (.xlsx)")),
    "csv_renamed": (hostile.csv_renamed, ("texto/CSV con extensión cambiada",)),
    "xlsm": (hostile.xlsm, ("con macros (.xlsm)",)),
    "empty": (hostile.empty, ("vacío",)),
    "truncated": (hostile.truncated, ("dañado o incompleto (no se puede abrir)",)),
    "pdf": (hostile.pdf, ("un PDF",)),
    "path_traversal": (hostile.path_traversal, ("rutas internas no permitidas",)),
    "too_long": (lambda: hostile.too_long(LIMITS.max_rows), ("B5001", "5000 filas")),
    "too_wide": (lambda: hostile.too_wide(LIMITS.max_columns), ("GS6", "200 columnas")),
    # same case as one above, another way in
    "xxe": (hostile.xxe, ("DTD",)),
    "xml_bomb_in_workbook_part": (hostile.xml_bomb_in_workbook_part, ("DTD",)),
    "lying_sizes": (hostile.lying_sizes, ("dañado o incompleto",)),
    "zip_with_password": (hostile.zip_with_password, ("contraseña (cifrado)",)),
    "xlsm_by_vba_only": (hostile.xlsx_with_vba_only, ("con macros (.xlsm)",)),
    "too_many_members": (hostile.too_many_members, ("demasiadas partes internas",)),
    "forged_entry_count": (hostile.forged_entry_count, ("demasiadas partes internas",)),
    "docx": (hostile.docx, ("carpeta comprimida (.zip) u otro documento",)),
    "png": (hostile.png, ("otro tipo de archivo",)),
    "word_doc": (hostile.word_doc, ("otro tipo de archivo",)),
}
BRIEF_SET = list(HOSTILE)[:13]


@pytest.fixture(scope="session")
def hostile_files() -> dict[str, bytes]:
    """Every hostile file built once (the zip bomb takes about half a second)."""
    return {name: build() for name, (build, _words) in HOSTILE.items()}


@pytest.fixture
def logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """The test's log entries, at every level, whatever an earlier test configured (then restored)."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs() as entries:
            yield entries
    finally:
        structlog.configure(**saved)


def _refusal(data: bytes, limits: ReaderLimits = LIMITS) -> Finding:
    result = read_workbook(data, limits)
    assert isinstance(result, Finding), result
    return result


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_file_is_one_f01_that_names_its_case(name: str, hostile_files: Mapping[str, bytes]) -> None:
    """Wrong or hostile attachments never raise: one F01 error for the whole file, with its own Spanish words."""
    finding = _refusal(hostile_files[name])
    assert (finding.code, finding.severity, finding.sheet, finding.cell) == ("F01", Severity.ERROR, None, None)
    for words in HOSTILE[name][1]:
        assert words in finding.message
    assert "por favor" in finding.message
    assert "Libro de Excel (.xlsx)" in finding.message


def test_the_briefs_cases_each_have_a_different_message(hostile_files: Mapping[str, bytes]) -> None:
    """The secretario is told which case it is, so no two of these answers read alike."""
    messages = [_refusal(hostile_files[name]).message for name in BRIEF_SET]
    assert len(set(messages)) == len(messages)


def test_too_large_attachment_refused_before_anything_else() -> None:
    """Size is the first check: even a valid workbook over the limit is refused unopened."""
    data = hostile.minimal_xlsx()
    small = ReaderLimits(len(data) - 1, 10**8, 100, 5000, 200)
    finding = _refusal(data, small)
    assert "supera el máximo" in finding.message
    assert (finding.value or "").endswith("MB")


def test_a_compression_ratio_above_the_limit_is_a_bomb_even_when_small_in_total() -> None:
    """One member inflating 1000:1 is refused from the zip directory alone, under the total limit."""
    sheet = hostile.sheet_xml({6: {"B": "x"}}) + b" " * (3 << 20)
    finding = _refusal(hostile.minimal_xlsx({"Metas": sheet}))
    assert "comprimida de forma anómala" in finding.message
    assert "no pasa de 100 veces" in finding.message  # the limit, and the ratio found beside it
    assert "(xl/worksheets/sheet1.xml)" in finding.message
    assert "sheet1.xml" in (finding.value or "")


def test_markup_beyond_the_budget_is_refused_before_openpyxl_reads_shared_strings() -> None:
    """A sheet with more tags than rows × columns allows (e.g. a huge shared-strings table) is a bomb too."""
    tight = ReaderLimits(15 << 20, 100 << 20, 100, 100, 50)  # 5 000 tags
    rows = {n: {"B": n} for n in range(6, 2000)}
    finding = _refusal(hostile.minimal_xlsx({"Metas": hostile.sheet_xml(rows)}), tight)
    assert "etiquetas XML" in (finding.value or "")
    assert "más de 5.000 elementos internos" in finding.message
    assert "hasta 100 filas y 50 columnas" in finding.message


def test_each_size_refusal_says_its_own_reason_and_limit() -> None:
    """A workbook with too many elements is not told it is too big uncompressed, nor the other way round."""
    tight = ReaderLimits(15 << 20, 100 << 20, 100, 100, 50)
    elements = _refusal(
        hostile.minimal_xlsx({"Metas": hostile.sheet_xml({n: {"B": n} for n in range(6, 2000)})}), tight
    )
    ratio = _refusal(hostile.minimal_xlsx({"Metas": hostile.sheet_xml({6: {"B": "x"}}) + b" " * (3 << 20)}))
    uncompressed = _refusal(hostile.zip_bomb())
    big = _refusal(hostile.minimal_xlsx(), ReaderLimits(100, 10**8, 100, 5000, 200))
    parts = _refusal(hostile.too_many_members())
    messages = {
        "elements": elements.message,
        "ratio": ratio.message,
        "uncompressed": uncompressed.message,
        "big": big.message,
        "parts": parts.message,
    }
    assert len(set(messages.values())) == len(messages)
    assert "descomprimido" not in elements.message + ratio.message
    assert "elementos" not in uncompressed.message + ratio.message
    assert "ocupa 2048,0 MB" in uncompressed.message
    assert "hasta 100,0 MB" in uncompressed.message
    assert "máximo de 0,0 MB" in big.message
    assert "más de 1000" in parts.message


def test_forged_dimension_does_not_matter() -> None:
    """A <dimension> claiming 17 billion cells is ignored: the two real cells are read."""
    parsed = read_workbook(hostile.forged_dimension(), LIMITS)
    assert isinstance(parsed, ParsedWorkbook)
    assert [row.cell("linea").value for row in parsed.metas] == ["x"]


@pytest.mark.parametrize("build", [hostile.xml_bomb, hostile.xxe, hostile.xml_bomb_in_workbook_part])
def test_the_streaming_pass_itself_refuses_dtds(build: Callable[[], bytes]) -> None:
    """Defence in depth: behind the markup check that refuses any DTD, the pass's own parser refuses one too."""
    with zipfile.ZipFile(io.BytesIO(build())) as archive, pytest.raises(DefusedXmlException):
        stream.read_sheet(archive, stream.read_book(archive), "Metas", 46, 5000, 200)


def test_openpyxl_itself_refuses_xml_bombs_with_defusedxml() -> None:
    """Defence in depth: behind the reader's own DTD check, openpyxl parses sheets with defusedxml."""
    assert openpyxl.DEFUSEDXML
    book = openpyxl.load_workbook(io.BytesIO(hostile.minimal_xlsx()), read_only=True)
    book.close()
    with pytest.raises(ValueError, match="Unable to read workbook") as raised:  # openpyxl wraps the refusal
        openpyxl.load_workbook(io.BytesIO(hostile.xml_bomb()), read_only=True)
    chain = [raised.value, raised.value.__cause__, raised.value.__context__]
    assert any(isinstance(exc, DefusedXmlException) for exc in chain)


def test_an_unexpected_failure_is_logged_and_answered_as_unreadable(logs: list[MutableMapping[str, Any]]) -> None:
    """openpyxl failing in a way nobody foresaw (a shared string that does not exist) is an F01 and an error log."""
    sheet = f'<worksheet xmlns="{hostile.MAIN_NS}"><sheetData><row r="6"><c r="B6" t="s"><v>99</v></c></row>'
    data = hostile.minimal_xlsx({"Metas": (sheet + "</sheetData></worksheet>").encode()})
    finding = _refusal(data)
    assert "no se pudo leer como libro de Excel" in finding.message
    assert [(e["event"], e["log_level"]) for e in logs] == [("workbook_read_failed", "error")]
    assert isinstance(logs[0]["exc_info"], IndexError)


def test_refusals_are_logged_in_english_with_their_reason(
    hostile_files: Mapping[str, bytes], logs: list[MutableMapping[str, Any]]
) -> None:
    read_workbook(hostile_files["zip_bomb"], LIMITS)
    (entry,) = logs
    assert (entry["event"], entry["log_level"], entry["reason"]) == ("workbook_refused", "info", "uncompressed_size")


# ------------------------------------------------------------------------------------------------ sniffing


@pytest.mark.parametrize(
    ("build", "kind"),
    [
        (hostile.minimal_xlsx, FileKind.XLSX),
        (hostile.xlsm, FileKind.XLSM),
        (hostile.xlsx_with_vba_only, FileKind.XLSM),
        (hostile.legacy_xls, FileKind.XLS),
        (hostile.encrypted_xlsx, FileKind.ENCRYPTED),
        (hostile.ods, FileKind.ODS),
        (hostile.docx, FileKind.ZIP_OTHER),
        (hostile.docm, FileKind.ZIP_OTHER),
        (hostile.zip_with_password, FileKind.ENCRYPTED),
        (hostile.truncated, FileKind.CORRUPT_ZIP),
        (hostile.forged_entry_count, FileKind.ZIP_OTHER),
        (hostile.pdf, FileKind.PDF),
        (hostile.csv_renamed, FileKind.CSV_TEXT),
        (lambda: "a,b\n1,2\n".encode("utf-16"), FileKind.CSV_TEXT),
        (lambda: b"<html><table><tr><td>1</td></tr></table></html>", FileKind.CSV_TEXT),
        (hostile.empty, FileKind.EMPTY),
        (lambda: b"\x00" * 512, FileKind.EMPTY),
        (hostile.png, FileKind.UNKNOWN),
        (hostile.word_doc, FileKind.UNKNOWN),
        (lambda: b"just words without any separator\n", FileKind.UNKNOWN),
    ],
)
def test_sniff_tells_the_kind_from_the_bytes(build: Callable[[], bytes], kind: FileKind) -> None:
    assert sniff(build()) is kind


def test_sniff_tells_a_binary_workbook() -> None:
    xlsb_type = "application/vnd.ms-excel.sheet.binary.macroEnabled.main"
    data = hostile.raw_zip(hostile.xlsx_members({"Metas": b""}, main_type=xlsb_type))
    assert sniff(data) is FileKind.XLSB


def test_sniff_reads_an_ole_directory_and_falls_back_to_a_byte_search() -> None:
    """An OLE file whose directory cannot be walked is still recognised by its stream names."""
    damaged = bytearray(hostile.encrypted_xlsx())
    damaged[48:52] = b"\xff\xff\xff\x7f"  # the first directory sector points nowhere
    assert sniff(bytes(damaged)) is FileKind.ENCRYPTED


# ------------------------------------------------------------------------------------------------ limits


def test_limits_come_from_the_configuration() -> None:
    limits = ReaderLimits.from_config(Limits(max_attachment_bytes=2**20, max_workbook_rows=300))
    assert (limits.max_bytes, limits.max_rows, limits.max_columns, limits.max_members) == (2**20, 300, 200, 1000)


def test_limits_narrower_than_the_format_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="max_columns"):
        ReaderLimits(15 << 20, 100 << 20, 100, 5000, 20)


# ------------------------------------------------------------------------------------------------ a real workbook


def _meta(ws: object, row: int, values: Mapping[str, object]) -> None:
    for key, value in values.items():
        ws[f"{METAS_LETTERS[key]}{row}"] = value  # type: ignore[index]


def _workbook(*, metas_title: str | None = "Metas", control: bool = True, seguimiento: bool = False) -> bytes:
    """A filled E-DE-F-010 as a secretario returns it, built with the contract's exact labels."""
    book = Workbook()
    book.active.title = SHEET_INSTRUCTIONS
    header = book.create_sheet(SHEET_HEADER)
    answers = {HeaderField.VIGENCIA: 2026, HeaderField.DEPENDENCIA: "Secretaría de Educación"}
    for row, field in enumerate(HeaderField, start=HEADER_FIRST_ROW):
        header.cell(row, 1, f" {field.value}  ")  # stray spaces around a label are tolerated
        header.cell(row, 2, answers.get(field))
    if metas_title is not None:
        metas = book.create_sheet(metas_title)
        metas["A1"] = "Formulación del plan de acción"
        metas.merge_cells("A1:H1")  # the format's own title: not a note
        for col, column in enumerate(METAS_COLUMNS, start=1):
            metas.cell(HEADER_ROW, col, column.label)
        _meta(metas, 6, {"linea": "Educación", "meta_code": "010101", "unit": "Porcentaje", "meta_vigencia": 0.15})
        metas["L6"].number_format = "0%"
        metas["T6"], metas["U6"], metas["X6"] = 1000, 2000, "=SUM(T6:W6)"
        _meta(metas, 7, {"linea": "Salud", "meta_code": "020202"})
        _meta(metas, 8, {"meta_code": "020203"})
        _meta(metas, 9, {"meta_code": "020204"})
        metas.merge_cells("B7:B9")
        metas["A10"] = "=ROW()-5"  # an auto column only: not a meta
        _meta(metas, 13, {"meta_code": "030303", "resp_email": "ana@x.gov.co"})
    if seguimiento:
        seg = book.create_sheet(SHEET_SEGUIMIENTO)
        labels = ["N°", "Código meta producto"] + [f"{label} T1" for label in SEGUIMIENTO_QUARTER_LABELS]
        for col, label in enumerate(labels, start=1):
            seg.cell(HEADER_ROW, col, label)
        seg["B6"], seg["L6"], seg["M6"] = "010101", 4, 1500
    if control:
        ctl = book.create_sheet(SHEET_CONTROL)
        for row, (key, value) in enumerate(
            [(ControlField.FORMATO, "E-DE-F-010"), (ControlField.VERSION_FORMATO, 1), (ControlField.VIGENCIA, 2026.0)],
            start=1,
        ):
            ctl.cell(row, 1, key.value)
            ctl.cell(row, 2, value)
        ctl.sheet_state = "veryHidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _parsed(data: bytes) -> ParsedWorkbook:
    result = read_workbook(data, LIMITS)
    assert isinstance(result, ParsedWorkbook), result
    return result


@pytest.fixture(scope="module")
def parsed() -> ParsedWorkbook:
    return _parsed(_workbook())


def test_sheet_names_as_found(parsed: ParsedWorkbook) -> None:
    assert parsed.sheet_names == (SHEET_INSTRUCTIONS, SHEET_HEADER, "Metas", SHEET_CONTROL)


def test_header_labels_stripped_and_values_from_column_b(parsed: ParsedWorkbook) -> None:
    assert parsed.header[HeaderField.VIGENCIA].value == 2026
    assert parsed.header[HeaderField.VIGENCIA].ref == "B7"
    assert parsed.header[HeaderField.DEPENDENCIA].value == "Secretaría de Educación"
    assert parsed.header[HeaderField.SECRETARIO].value is None
    assert set(HeaderField) <= set(parsed.header)


def test_metas_labels_as_found_on_the_header_row(parsed: ParsedWorkbook) -> None:
    assert parsed.metas_labels == tuple(c.label for c in METAS_COLUMNS)


def test_rows_mapped_by_position_and_blank_rows_skipped(parsed: ParsedWorkbook) -> None:
    """Rows 10-12 hold no input (row 10 only an auto formula): they are not metas; row 13 still is."""
    assert [row.number for row in parsed.metas] == [6, 7, 8, 9, 13]
    first = parsed.metas[0]
    assert first.cell("meta_code").value == "010101"
    assert first.cell("meta_code").ref == "E6"
    assert first.cell("resp_email").ref == "AM6"
    assert parsed.metas[-1].cell("resp_email").value == "ana@x.gov.co"


def test_formula_cells_carry_their_formula(parsed: ParsedWorkbook) -> None:
    total = parsed.metas[0].cell("poai_total")
    assert total.formula == "=SUM(T6:W6)"
    assert total.value is None  # openpyxl saved no cached value: never trusted anyway
    assert parsed.metas[0].cell("poai_t1").formula is None


def test_percent_formatted_number_is_read_as_shown(parsed: ParsedWorkbook) -> None:
    value = parsed.metas[0].cell("meta_vigencia").value
    assert isinstance(value, Decimal)
    assert value == Decimal(15)


def test_merged_range_gives_every_cell_the_top_left_value_and_is_noted(parsed: ParsedWorkbook) -> None:
    rows = {row.number: row for row in parsed.metas}
    assert [rows[n].cell("linea").value for n in (7, 8, 9)] == ["Salud"] * 3
    assert rows[8].cell("linea").ref == "B8"
    assert parsed.notes == ("Metas!B7:B9 combinadas (se leyó el valor de B7 en todas)",)


def test_control_values_as_text(parsed: ParsedWorkbook) -> None:
    assert parsed.control == {"formato": "E-DE-F-010", "version_formato": "1", "vigencia": "2026"}


def test_missing_control_sheet_is_none() -> None:
    assert _parsed(_workbook(control=False)).control is None


def test_missing_metas_sheet_still_parses_for_the_rules_to_report() -> None:
    result = _parsed(_workbook(metas_title=None))
    assert (result.metas, result.metas_labels) == ((), ())
    assert result.header[HeaderField.VIGENCIA].value == 2026


@pytest.mark.parametrize("title", ["Metas ", "METAS", " metas"])
def test_sheet_name_matched_after_folding(title: str) -> None:
    result = _parsed(_workbook(metas_title=title))
    assert title in result.sheet_names
    assert len(result.metas) == 5


def test_find_sheet_prefers_the_exact_name() -> None:
    assert find_sheet(["metas", "Metas"], "Metas") == "Metas"
    assert find_sheet(["Métas "], "Metas") == "Métas "
    assert find_sheet(["Resumen"], "Metas") is None


def test_seguimiento_rows_keyed_by_quarter() -> None:
    result = _parsed(_workbook(seguimiento=True))
    (row,) = result.seguimiento
    assert result.seguimiento_labels[:3] == ("N°", "Código meta producto", "Ejecución física T1")
    assert row.cell("meta_code").value == "010101"
    assert len(SEGUIMIENTO_FIXED) == 11  # so column L is the first quarter's first column
    assert (row.cell("exec_t1").value, row.cell("exec_t1").ref) == (4, "L6")
    assert row.cell("committed_t1").value == 1500


def _metas_only(rows: Mapping[int, Mapping[str, object]], formats: Mapping[str, str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Metas"
    for col, column in enumerate(METAS_COLUMNS, start=1):
        sheet.cell(HEADER_ROW, col, column.label)
    for number, values in rows.items():
        for ref, value in values.items():
            sheet[f"{ref}{number}"] = value
    for ref, number_format in (formats or {}).items():
        sheet[ref].number_format = number_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_meta_after_a_long_gap_is_still_read() -> None:
    """No blank-row heuristic: the scan knows the last row with a value, so nothing below a gap is lost."""
    result = _parsed(_metas_only({6: {"E": "010101"}, 400: {"E": "020202"}}))
    assert [row.number for row in result.metas] == [6, 400]


@pytest.mark.parametrize(
    ("number_format", "shown"),
    [("0%", Decimal(25)), ("0.00%", Decimal(25)), ("[Red]0.0%;-0.0%", Decimal(25)), ('0"%"', 0.25), ("0.00", 0.25)],
)
def test_only_a_real_percent_format_scales_by_100(number_format: str, shown: object) -> None:
    (row,) = _parsed(_metas_only({6: {"L": 0.25}}, {"L6": number_format})).metas
    assert row.cell("meta_vigencia").value == shown


def test_an_added_column_shows_in_the_labels_for_the_rules() -> None:
    """Labels are read as far as they go, so a column the secretario inserted or appended is visible (F02)."""
    extra = len(METAS_COLUMNS) + 2
    result = _parsed(_metas_only({HEADER_ROW: {column_letter(extra): "Columna nueva"}, 6: {"E": "010101"}}))
    assert len(result.metas_labels) == extra
    assert result.metas_labels[-2:] == (None, "Columna nueva")


def test_cached_formula_values_are_read_beside_the_formula() -> None:
    """A workbook saved by Excel keeps each formula's last result: both are handed over, the rules decide."""
    sheet = (
        f'<worksheet xmlns="{hostile.MAIN_NS}"><sheetData><row r="6">'
        '<c r="E6" t="inlineStr"><is><t>010101</t></is></c><c r="T6"><v>1000</v></c>'
        '<c r="X6"><f>SUM(T6:W6)</f><v>1000</v></c><c r="Y6" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
        "</row></sheetData></worksheet>"
    ).encode()
    (row,) = _parsed(hostile.minimal_xlsx({"Metas": sheet})).metas
    assert (row.cell("poai_total").value, row.cell("poai_total").formula) == (1000, "=SUM(T6:W6)")
    assert (row.cell("funcionamiento_t1").value, row.cell("funcionamiento_t1").formula) == ("#DIV/0!", "=1/0")


def test_the_generators_filled_plan_reads_back_whole(tmp_path: Path) -> None:
    """The writer's template, filled as a secretario would, reads back: every label, every meta, `_control`."""
    config = load_config(write_config(tmp_path), environ={})
    result = _parsed(make_plan(config, n=5))
    assert result.metas_labels == tuple(c.label for c in METAS_COLUMNS)
    assert len(result.metas) == 5
    assert set(HeaderField) <= set(result.header)
    assert set(ControlField) <= set(result.control or {})
    assert result.metas[0].cell("poai_total").formula == "=SUM(T6:W6)"
    assert result.notes == ()


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_workbook_saved_again_by_libreoffice_reads_the_same(tmp_path: Path) -> None:
    """Secretarios who use LibreOffice save the .xlsx again: formulas get cached values, merges and formats stay."""
    source = tmp_path / "plan.xlsx"
    source.write_bytes(_workbook())
    out = tmp_path / "out"
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"  # never share a running profile
    subprocess.run(
        ["soffice", profile, "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(source)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    result = _parsed((out / "plan.xlsx").read_bytes())
    assert [row.number for row in result.metas] == [6, 7, 8, 9, 13]
    assert result.metas[0].cell("meta_vigencia").value == Decimal(15)
    total = result.metas[0].cell("poai_total")
    assert (total.value, total.formula) == (3000, "=SUM(T6:W6)")  # LibreOffice saves the computed result
    assert any(note.startswith("Metas!B7:B9") for note in result.notes)


def test_overlapping_reads_in_two_threads_leave_the_cyclic_collector_on() -> None:
    """The daemon reads in a fetcher and a worker thread: whichever finishes last, the collector must end up on."""
    import gc
    import threading

    from mailbot.adapters.workbook.reader import cyclic_gc_paused

    assert gc.isenabled()
    first_in, first_may_leave = threading.Event(), threading.Event()

    def first() -> None:
        with cyclic_gc_paused():
            first_in.set()
            first_may_leave.wait(10)

    worker = threading.Thread(target=first)
    worker.start()
    assert first_in.wait(10)
    with cyclic_gc_paused():  # enters while the first is inside, leaves after it
        first_may_leave.set()
        worker.join(10)
        assert not gc.isenabled()  # the second read is still in flight
    assert gc.isenabled()
