"""A finding: one problem in one place of a workbook, with one Spanish sentence that says what to do.

The rules say where by sheet and cell; `domain.places` then names that place as the secretario sees it (the
meta's N°, code and text, the column's label), once for the mail, the annotated copy and `mailbot validate`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "E"  # the plan goes back with a correction request
    WARNING = "W"  # the plan is accepted; the warning is listed in the acceptance


@dataclass(frozen=True)
class Finding:
    code: str  # stable rule code of the contract: F01 … S05
    severity: Severity
    sheet: str | None  # None when the whole file is concerned (F01)
    cell: str | None  # "T7", or a row "7:7", or None
    value: str | None  # what was found, as text, for the secretario to recognise
    message: str  # one Spanish sentence: what to do
    meta: int | None = None  # the N° of the meta the cell belongs to (its N° column, not its row)
    column: str | None = None  # the contract label of the cell's column
    place: str | None = None  # "Meta N° 1 (220101 – Beneficiar…), columna «Responsable directo» (celda AK6)"

    @property
    def where(self) -> str:
        """The place in the secretario's words; a finding never located (F01, older records) by sheet and cell."""
        if self.place:
            return self.place
        if self.sheet is None:
            return "El archivo"
        return f"Hoja «{self.sheet}»" + (f", celda {self.cell}" if self.cell else "")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["place"] = self.where
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        known = {k: v for k, v in data.items() if k in _FIELDS}
        return cls(**{**known, "severity": Severity(data["severity"])})


_FIELDS = frozenset(Finding.__dataclass_fields__)


def error(code: str, sheet: str | None, cell: str | None, value: object, message: str) -> Finding:
    return Finding(code, Severity.ERROR, sheet, cell, shown(value), message)


def warning(code: str, sheet: str | None, cell: str | None, value: object, message: str) -> Finding:
    return Finding(code, Severity.WARNING, sheet, cell, shown(value), message)


def shown(value: object, limit: int = 80) -> str | None:
    """The value as the secretario typed it, shortened; None for an empty cell."""
    if value is None:
        return None
    text = str(value).strip()
    if text == "":
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
