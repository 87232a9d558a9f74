"""The documentation is self-contained and follows the code: docs/WORKBOOK.md names every sheet, label, list value
and rule code the code uses, and nothing in the repository points at files outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailbot.domain.rules import REGISTRY
from mailbot.domain.workbook_format import (
    FORMULACION_SHEETS,
    META_TYPES,
    METAS_COLUMNS,
    SEGUIMIENTO_QUARTER_LABELS,
    SHEET_CORRECTIONS,
    SHEET_SEGUIMIENTO,
    UNITS,
    ControlField,
    HeaderField,
)

REPO = Path(__file__).resolve().parents[2]
WORKBOOK = (REPO / "docs" / "WORKBOOK.md").read_text(encoding="utf-8")


def _rule_rows() -> dict[str, str]:
    """Rule table rows of WORKBOOK.md: code → severity column."""
    return dict(re.findall(r"^\| `([A-Z]\d\d)` \| ([EW /]+) \|", WORKBOOK, flags=re.MULTILINE))


def test_every_rule_code_is_documented_with_its_severities() -> None:
    documented = _rule_rows()
    registered = {r.code for r in REGISTRY} | {"F01"}  # F01 is the reader's
    assert set(documented) == registered
    for code, severity in documented.items():
        assert severity.strip() in {"E", "W", "E / W"}, code


@pytest.mark.parametrize(
    "name",
    [
        *FORMULACION_SHEETS,
        SHEET_SEGUIMIENTO,
        SHEET_CORRECTIONS,
        *(f.value for f in HeaderField),
        *(f.value for f in ControlField),
    ],
)
def test_every_sheet_and_label_is_documented(name: str) -> None:
    assert f"`{name}`" in WORKBOOK


def test_every_metas_label_and_list_value_is_documented() -> None:
    """Quarter series are written once as `… T1` … `T4`; every other label appears as written."""
    for column in METAS_COLUMNS:
        label = re.sub(r" T[1-4]$", " T1", column.label)
        assert f"`{label}`" in WORKBOOK, column.label
    for label in SEGUIMIENTO_QUARTER_LABELS:
        assert f"`{label} Tq`" in WORKBOOK
    for value in (*UNITS, *META_TYPES):
        assert value in WORKBOOK


def test_nothing_in_the_repository_points_outside_it() -> None:
    """Docs, templates, code and configuration cite the repository's own docs, never a sibling folder."""
    checked = [REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "templates").iterdir()]
    checked += [*(REPO / "mailbot").rglob("*.py"), *(REPO / "config").iterdir(), REPO / "pyproject.toml"]
    outside = re.compile(r"\.\./shared|shared/spec|shared/corpus|/work/")
    found = [
        f"{path.relative_to(REPO)}: {match.group(0)}"
        for path in checked
        if path.is_file()
        for match in outside.finditer(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert found == []
