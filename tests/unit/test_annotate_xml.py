"""The annotated copy by XML patch shows what the openpyxl round trip shows, and keeps the rest of the workbook."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.workbook.workbook import Workbook

from mailbot.adapters.workbook.annotate import annotated_copy, openpyxl_copy
from mailbot.adapters.workbook.annotate_xml import Unpatchable, patched_copy
from mailbot.config import MailbotConfig, load_config
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.workbook_format import METAS_LETTERS, SHEET_CORRECTIONS, SHEET_METAS
from mailbot.services.validation import validate_bytes
from tests.support.configs import write_config
from tests.support.plans import make_plan
from tests.support.workbooks import ODD_FINDINGS, edit_workbook, odd_workbook


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MailbotConfig:
    return load_config(write_config(tmp_path_factory.mktemp("cfg")), environ={})


@pytest.fixture(scope="module")
def spoilt(config: MailbotConfig) -> tuple[bytes, list[Finding]]:
    def mutate(metas: list[dict[str, Any]]) -> None:
        metas[0]["unit"] = "Mts"
        metas[1]["resp_email"] = "juan.perez@"

    def type_over(workbook: Workbook) -> None:
        workbook[SHEET_METAS][f"{METAS_LETTERS['poai_total']}7"] = 5

    data = edit_workbook(make_plan(config, "HAC", 4, mutate=mutate), type_over)
    found = list(validate_bytes(config, data, dependencia="HAC", vigencia=2027).findings)
    extra = [  # a range, an empty row far below the data, and an empty cell inside a row
        Finding("X01", Severity.WARNING, SHEET_METAS, "B8:D8", None, "Revise «B8:D8»."),
        Finding("X02", Severity.ERROR, SHEET_METAS, "C8", "=1+1", "Un error sobre una advertencia."),
        Finding("X03", Severity.ERROR, "metas", "Z400", None, "Fila vacía."),
        Finding("X04", Severity.WARNING, "Encabezado", "ZZ3", None, "Celda vacía."),
    ]
    return data, found + extra


def _seen(data: bytes) -> dict[str, Any]:
    """What a secretario sees, as openpyxl reads it back: every cell's value, fill and comment, and the list."""
    workbook = load_workbook(io.BytesIO(data))
    seen: dict[str, Any] = {"sheets": workbook.sheetnames, "active": workbook.active.title}
    for sheet in workbook.worksheets:
        seen[f"{sheet.title} states"] = sheet.sheet_state
        seen[f"{sheet.title} validations"] = [(v.sqref, v.formula1) for v in sheet.data_validations.dataValidation]
        seen[f"{sheet.title} merged"] = sorted(str(r) for r in sheet.merged_cells.ranges)
        seen[f"{sheet.title} selected"] = bool(sheet.sheet_view.tabSelected) or sheet is workbook.active
        for row in sheet.iter_rows():
            for cell in row:
                fill = cell.fill.fgColor.rgb if cell.fill.fill_type else None
                link = cell.hyperlink.location if cell.hyperlink else None
                note = cell.comment.text if cell.comment else None
                seen[f"{sheet.title}!{cell.coordinate}"] = (cell.value, fill, note, link, cell.alignment.wrap_text)
    corrections = workbook[SHEET_CORRECTIONS]
    seen["heights"] = {r: d.height for r, d in corrections.row_dimensions.items() if d.height}
    seen["print titles"] = corrections.print_title_rows
    return seen


def test_the_patch_shows_what_openpyxl_shows(spoilt: tuple[bytes, list[Finding]]) -> None:
    data, findings = spoilt
    assert {"M02", "R02", "P02"} <= {f.code for f in findings}
    patched, reference = patched_copy(data, findings), openpyxl_copy(data, findings)
    seen, expected = _seen(patched), _seen(reference)
    differing = {
        k: (seen.get(k), expected.get(k)) for k in seen.keys() | expected.keys() if seen.get(k) != expected.get(k)
    }
    assert differing == {}
    assert seen[f"Metas!{METAS_LETTERS['poai_total']}7"][0].startswith("=SUM(")
    assert seen["Metas!C8"][1].endswith("FFC7CE"), "an error over a warning is red"
    assert seen["Metas!Z400"][2] is not None
    metas = load_workbook(io.BytesIO(patched), read_only=True)[SHEET_METAS]
    assert (metas.max_row, metas.max_column) == (400, 41), "the declared extent reaches the new cell Z400"


def test_the_patch_copies_every_other_part_unchanged(spoilt: tuple[bytes, list[Finding]]) -> None:
    data, findings = spoilt
    with (
        zipfile.ZipFile(io.BytesIO(data)) as before,
        zipfile.ZipFile(io.BytesIO(patched_copy(data, findings))) as after,
    ):
        assert after.testzip() is None, "every member's CRC checks"
        changed = {n for n in before.namelist() if before.read(n) != after.read(n)}
        metas_part = "xl/worksheets/sheet3.xml"
        assert changed <= {metas_part, "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/workbook.xml"} | {
            "xl/styles.xml",
            "xl/_rels/workbook.xml.rels",
            "[Content_Types].xml",
        }
        assert after.read(metas_part).count(b"<f>") == before.read(metas_part).count(b"<f>") + 1  # P02 restored
        assert after.read(metas_part).count(b"<dataValidation ") == before.read(metas_part).count(b"<dataValidation ")


def test_annotating_a_copy_again_keeps_its_comments_and_adds_the_new_ones(spoilt: tuple[bytes, list[Finding]]) -> None:
    data, findings = spoilt
    once = patched_copy(data, findings[-2:])  # X03 on Metas!Z400, X04 on Encabezado!ZZ3
    again = findings[:-2]
    patched, reference = _seen(patched_copy(once, again)), _seen(openpyxl_copy(once, again))
    assert {k: (v, reference.get(k)) for k, v in patched.items() if reference.get(k) != v} == {}
    assert patched["sheets"].count(SHEET_CORRECTIONS) == 1
    assert "[X03]" in patched["Metas!Z400"][2], "the earlier comment stays"
    assert "[X01]" in patched["Metas!B8"][2]


def test_a_list_that_is_not_the_first_sheet_falls_back_to_openpyxl(spoilt: tuple[bytes, list[Finding]]) -> None:
    data, findings = spoilt

    def move_the_list(workbook: Workbook) -> None:
        workbook.move_sheet(SHEET_CORRECTIONS, offset=2)

    moved = edit_workbook(patched_copy(data, findings[:1]), move_the_list)
    with pytest.raises(Unpatchable, match="not the first one"):
        patched_copy(moved, findings)
    copy = load_workbook(io.BytesIO(annotated_copy(moved, findings)))
    assert copy.sheetnames.count(SHEET_CORRECTIONS) == 1
    assert copy.sheetnames[0] == SHEET_CORRECTIONS
    assert copy[SHEET_CORRECTIONS].max_row == 4 + len(findings)


def test_comments_on_another_sheet_and_a_list_replaced_in_place(spoilt: tuple[bytes, list[Finding]]) -> None:
    def note(workbook: Workbook) -> None:
        workbook["Encabezado"]["A1"].comment = Comment("Nota del secretario", "Secretaría")

    data, findings = spoilt
    data = edit_workbook(data, note)
    listed_only = Finding("F02", Severity.ERROR, "Encabezado", None, None, "Falta el campo «Vigencia».")
    once = patched_copy(data, [listed_only])  # a list, no comment: annotating it again needs no fallback
    twice = load_workbook(io.BytesIO(patched_copy(once, findings)))
    assert twice.sheetnames.count(SHEET_CORRECTIONS) == 1
    assert twice.sheetnames[0] == SHEET_CORRECTIONS
    assert twice.active.title == SHEET_CORRECTIONS
    assert [s.title for s in twice.worksheets if s.sheet_view.tabSelected] == [SHEET_CORRECTIONS]
    header = twice["Encabezado"]["A1"].comment
    assert header is not None
    assert header.text == "Nota del secretario"
    assert header.author == "Secretaría"
    assert twice["Encabezado"]["ZZ3"].comment is not None  # added beside the secretario's own
    assert twice[SHEET_CORRECTIONS]["B5"].value == findings[0].code
    assert twice[SHEET_CORRECTIONS].max_row == 4 + len(findings)


def test_an_odd_workbook_gives_a_valid_copy() -> None:
    copy = patched_copy(odd_workbook(), ODD_FINDINGS)
    workbook = load_workbook(io.BytesIO(copy))
    assert workbook.sheetnames == [SHEET_CORRECTIONS, "Encabezado", "Metas"]
    assert workbook.active.title == SHEET_CORRECTIONS
    assert [s.title for s in workbook.worksheets if s.sheet_view.tabSelected] == [SHEET_CORRECTIONS]
    metas = workbook["Metas"]
    assert metas.print_area == "'Metas'!$A$1:$C$3", "a print area stays on its sheet when the list comes first"
    assert (metas["A1"].value, metas["B1"].value, metas["C3"].value) == ("en línea", "compartido", "=A3*2")
    assert metas["A1"].font.b, "a marked cell keeps its own format"
    assert metas["A1"].alignment.wrap_text
    assert metas["A1"].fill.fgColor.rgb.endswith("FFC7CE")
    assert metas["B3"].fill.fgColor.rgb.endswith("FFEB9C")
    assert [str(metas[c].comment.text)[:5] for c in ("A1", "B3", "B2", "C3")] == ["[X01]", "[X02]", "[X03]", "[X04]"]
    assert len(metas.data_validations.dataValidation) == 1
    assert workbook.calculation.fullCalcOnLoad, "a restored total (no cached value) is computed on opening"
    assert workbook[SHEET_CORRECTIONS]["E5"].hyperlink.location == "'Metas'!A1"


def test_a_cell_inside_an_error_range_stays_red_under_a_later_warning() -> None:
    """An error on M7:P7 then a warning on N7: every cell of the range is red; N7's comment is the warning's."""
    from mailbot.adapters.workbook.annotate_plan import cell_marks
    from mailbot.domain.findings import error, warning

    findings = [
        error("P03", "Metas", "M7:P7", None, "Reduzca estos valores."),
        warning("P04", "Metas", "N7", None, "Revise este valor."),
    ]
    marks = cell_marks([("Metas", "visible")], findings)
    assert {col: marks[("Metas", 7, col)].error for col in range(13, 17)} == dict.fromkeys(range(13, 17), True)
    assert [f.code for f in marks[("Metas", 7, 14)].findings] == ["P04"]
