"""A plan saved by another spreadsheet program still validates; the annotated copy opens there intact."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from pypdf import PdfReader

from mailbot.adapters.workbook.annotate import ERROR_FILL, WARNING_FILL
from mailbot.adapters.workbook.annotate_xml import patched_copy
from mailbot.cli import cli
from mailbot.config import load_config
from mailbot.domain.findings import Severity
from mailbot.domain.workbook_format import METAS_COLUMNS, METAS_LETTERS, SHEET_CORRECTIONS, SHEET_METAS
from mailbot.services.validation import annotate, validate_bytes
from tests.support.configs import write_config
from tests.support.libreoffice import convert, needs_libreoffice, roundtrip_xlsx
from tests.support.plans import make_plan
from tests.support.workbooks import ODD_FINDINGS, edit_workbook, odd_workbook

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow, needs_libreoffice]


def test_plan_saved_by_libreoffice_still_validates(tmp_path: Path) -> None:
    config_path = write_config(tmp_path)
    config = load_config(config_path, environ={})
    saved = roundtrip_xlsx(make_plan(config, "EDU", 12), tmp_path)
    result = validate_bytes(config, saved, dependencia="EDU", vigencia=2027)
    assert [f for f in result.findings if f.severity.value == "E"] == []
    plan_file = tmp_path / "plan-libreoffice.xlsx"
    plan_file.write_bytes(saved)
    run = CliRunner().invoke(cli, ["--config", str(config_path), "validate", str(plan_file)])
    assert run.exit_code == 0, run.stdout


def test_annotated_copy_opens_in_libreoffice_with_comments_and_list(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), environ={})

    def mutate(metas: list[dict[str, object]]) -> None:
        metas[0]["unit"] = "Galones"

    def type_over_a_total(workbook: Workbook) -> None:
        workbook[SHEET_METAS][f"{METAS_LETTERS['poai_total']}7"] = 5  # P02: the formula typed over

    data = edit_workbook(make_plan(config, "HAC", 3, mutate=mutate), type_over_a_total)
    found = validate_bytes(config, data, dependencia="HAC", vigencia=2027)
    assert sorted(f.code for f in found.findings) == ["M02", "P02"]
    copy = annotate(data, found)
    assert copy is not None
    saved = roundtrip_xlsx(copy, tmp_path)
    reopened = load_workbook(io.BytesIO(saved))
    assert reopened.sheetnames[0] == SHEET_CORRECTIONS
    assert reopened[SHEET_CORRECTIONS]["B5"].value == "M02"
    cell = reopened[SHEET_METAS][f"{METAS_LETTERS['unit']}6"]
    assert cell.comment is not None
    assert "[M02] Meta N° 1 (" in cell.comment.text
    assert "columna «Unidad de medida»" in cell.comment.text
    assert cell.value == "Galones"
    # the annotated copy gave the total its formula back, and Calc computes it: only the unit is left to fix
    again = validate_bytes(config, saved, dependencia="HAC", vigencia=2027)
    assert [f.code for f in again.findings] == ["M02"]


def test_the_xml_patch_of_a_libreoffice_file_opens_there_again(tmp_path: Path) -> None:
    """Calc's own xlsx (its styles, spans, shared strings) patched, then opened and saved by Calc once more."""
    config = load_config(write_config(tmp_path), environ={})

    def mutate(metas: list[dict[str, object]]) -> None:
        metas[0]["unit"] = "Galones"

    for step in ("first", "second", "odd"):
        (tmp_path / step).mkdir()
    saved = roundtrip_xlsx(make_plan(config, "HAC", 3, mutate=mutate), tmp_path / "first")
    found = validate_bytes(config, saved, dependencia="HAC", vigencia=2027)
    assert [f.code for f in found.findings] == ["M02"]
    copy = patched_copy(saved, list(found.findings))  # no fallback: the patch handles Calc's files
    reopened = load_workbook(io.BytesIO(roundtrip_xlsx(copy, tmp_path / "second")))
    assert reopened.sheetnames[0] == SHEET_CORRECTIONS
    assert reopened[SHEET_CORRECTIONS]["B5"].value == "M02"
    cell = reopened[SHEET_METAS][f"{METAS_LETTERS['unit']}6"]
    assert cell.value == "Galones"
    assert cell.comment is not None
    assert "[M02]" in cell.comment.text
    fill = ERROR_FILL if found.findings[0].severity is Severity.ERROR else WARNING_FILL
    assert cell.fill.fgColor.rgb.endswith(fill.fgColor.rgb[-6:])
    odd = convert(patched_copy(odd_workbook(), ODD_FINDINGS), ".xlsx", "pdf", tmp_path / "odd")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(odd)).pages)
    for shown in ("Correcciones al plan de acción", "Una celda que no existía.", "en línea", "compartido"):
        assert shown in text


def _words_broken(pdf: bytes, labels: list[str]) -> list[str]:
    """The label words that Calc's rendering does not show whole (a header broken inside a word)."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    words = {word for label in labels for word in label.split() if len(word) > 3}
    return sorted(word for word in words if word not in text)


def test_template_renders_its_headers_whole_in_libreoffice(tmp_path: Path) -> None:
    """Printed by Calc (no Calibri on a server), every header word of `Metas` is on one line, print setup kept."""
    config = load_config(write_config(tmp_path), environ={})
    data = make_plan(config, "HAC", 3)
    pdf = convert(data, ".xlsx", "pdf", tmp_path)
    assert _words_broken(pdf, [c.label for c in METAS_COLUMNS]) == []
    (tmp_path / "again").mkdir()
    saved = load_workbook(io.BytesIO(roundtrip_xlsx(data, tmp_path / "again")))
    # headless Calc writes no view (frozen panes are lost by any headless conversion), but keeps the print setup
    assert saved[SHEET_METAS].page_setup.fitToWidth == 1
    assert saved[SHEET_METAS].print_title_rows == "$5:$5"
