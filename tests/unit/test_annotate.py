"""The annotated copy: findings on their cells, a `Correcciones` list first, nothing else changed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from mailbot.adapters.workbook.annotate import ERROR_FILL, WARNING_FILL, annotated_copy
from mailbot.config import MailbotConfig, load_config
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.workbook_format import METAS_LETTERS, SHEET_CONTROL, SHEET_CORRECTIONS, SHEET_METAS
from mailbot.services.validation import annotate, validate_bytes
from tests.support.configs import write_config
from tests.support.plans import make_plan


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MailbotConfig:
    return load_config(write_config(tmp_path_factory.mktemp("cfg")), environ={})


def _spoilt(config: MailbotConfig) -> bytes:
    def mutate(metas: list[dict[str, Any]]) -> None:
        metas[0]["unit"] = "Mts"  # warning
        metas[1]["resp_email"] = "juan.perez@"  # error

    return make_plan(config, "HAC", 4, mutate=mutate)


def test_cells_filled_commented_and_listed(config: MailbotConfig) -> None:
    data = _spoilt(config)
    result = validate_bytes(config, data, dependencia="HAC", vigencia=2027)
    copy = annotate(data, result)
    assert copy is not None
    workbook = load_workbook(io.BytesIO(copy))
    assert workbook.sheetnames[0] == SHEET_CORRECTIONS
    assert workbook.active.title == SHEET_CORRECTIONS
    metas = workbook[SHEET_METAS]
    unit = metas[f"{METAS_LETTERS['unit']}6"]
    email = metas[f"{METAS_LETTERS['resp_email']}7"]
    assert unit.fill.fgColor.rgb.endswith(WARNING_FILL.fgColor.rgb)
    assert email.fill.fgColor.rgb.endswith(ERROR_FILL.fgColor.rgb)
    assert unit.comment is not None
    assert "[M02]" in unit.comment.text
    assert email.comment is not None
    assert "[R02]" in email.comment.text
    corrections = workbook[SHEET_CORRECTIONS]
    rows = [[c.value for c in row] for row in corrections.iter_rows(min_row=5, max_col=8)]
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("M02", "Advertencia", "Metas", f"{METAS_LETTERS['unit']}6"),
        ("R02", "Error", "Metas", f"{METAS_LETTERS['resp_email']}7"),
    ]
    link = corrections["E6"].hyperlink
    assert link is not None
    assert link.location == f"'Metas'!{METAS_LETTERS['resp_email']}7"
    assert corrections["G6"].value == "juan.perez@"
    height = corrections.row_dimensions[6].height
    assert height is not None
    assert height >= 30, "a wrapped place and message must not be cut to one line (LibreOffice does not grow rows)"
    assert str(corrections["F6"].value).startswith("Meta N° 2 (")
    assert str(corrections["F6"].value).endswith(f"columna «Correo responsable directo» (celda {email.coordinate})")
    assert "Meta N° 2 (" in email.comment.text
    assert "«Correo responsable directo»" in email.comment.text
    assert workbook[SHEET_CONTROL].sheet_state == "veryHidden"


def test_formula_looking_values_stay_text(config: MailbotConfig) -> None:
    data = make_plan(config, "HAC", 2)
    hostile = '=HYPERLINK("http://x.example/robar","clic")'
    finding = Finding("R02", Severity.ERROR, "Metas", f"{METAS_LETTERS['resp_email']}6", hostile, "@SUM(1)")
    corrections = load_workbook(io.BytesIO(annotated_copy(data, [finding])))[SHEET_CORRECTIONS]
    for cell in (corrections["G5"], corrections["H5"]):
        assert cell.data_type == "s", "text copied from a workbook must never run as a formula"
    assert corrections["G5"].value == hostile


def test_findings_without_cells_are_listed_only(tmp_path: Path, config: MailbotConfig) -> None:
    data = make_plan(config, "HAC", 2)
    finding = Finding("F02", Severity.ERROR, "Encabezado", None, None, "Falta el campo «Vigencia».")
    workbook = load_workbook(io.BytesIO(annotated_copy(data, [finding])))
    assert workbook[SHEET_CORRECTIONS]["B5"].value == "F02"
    assert workbook[SHEET_CORRECTIONS]["E5"].hyperlink is None


def test_annotating_twice_keeps_one_corrections_sheet(config: MailbotConfig) -> None:
    data = _spoilt(config)
    result = validate_bytes(config, data, dependencia="HAC", vigencia=2027)
    once = annotate(data, result)
    assert once is not None
    twice = annotate(once, validate_bytes(config, once, dependencia="HAC", vigencia=2027))
    assert twice is not None
    names = load_workbook(io.BytesIO(twice)).sheetnames
    assert names.count(SHEET_CORRECTIONS) == 1


def test_unreadable_file_has_no_annotated_copy(config: MailbotConfig) -> None:
    result = validate_bytes(config, b"not a workbook at all", dependencia="HAC", vigencia=2027)
    assert annotate(b"not a workbook at all", result) is None
