"""Editing a filled workbook the way a person (or a forger) would, for rule tests."""

from __future__ import annotations

import io
from collections.abc import Callable

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from mailbot.domain import control
from mailbot.domain.workbook_format import SHEET_CONTROL, ControlField


def edit_workbook(data: bytes, change: Callable[[Workbook], None]) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    change(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def control_values(workbook: Workbook) -> dict[str, str]:
    sheet = workbook[SHEET_CONTROL]
    return {str(a.value): str(b.value) for a, b in sheet.iter_rows(min_col=1, max_col=2) if a.value}


def set_control(workbook: Workbook, changes: dict[str, str], *, resign_with: str | None = None) -> None:
    """Change `_control` values; with `resign_with`, sign again as someone holding the secret would."""
    sheet = workbook[SHEET_CONTROL]
    values = {**control_values(workbook), **changes}
    if resign_with is not None:
        values[ControlField.FIRMA] = control.sign(values, resign_with)
    for a, b in sheet.iter_rows(min_col=1, max_col=2):
        if a.value in values:
            b.value = values[str(a.value)]
