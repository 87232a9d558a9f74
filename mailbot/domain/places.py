"""Where a finding is, in the words the secretario sees: the meta by its N°, code and text, the column by its label.

A row number or a bare cell ("M6") reads like a meta number to someone who looks at the N° column; this module is
the one place that turns a finding's sheet and cell into "Meta N° 1 (220101 – Beneficiar 600 personas…), columna
«Responsable directo» (celda AK6)". The labels come from `workbook_format`, the N°, code and text from the row
itself (or, for a seguimiento row that is missing, from the accepted plan).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Final

from mailbot.domain import values
from mailbot.domain.findings import Finding
from mailbot.domain.parsed import ParsedWorkbook, Row
from mailbot.domain.seguimiento import Baseline
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    METAS_COLUMNS,
    SEGUIMIENTO_COLUMNS,
    SHEET_CONTROL,
    SHEET_HEADER,
    SHEET_METAS,
    SHEET_SEGUIMIENTO,
    Column,
    column_letter,
    fold,
)

META_TEXT_CHARS: Final = 40  # enough of the meta's text to recognise it on a phone
_RANGE: Final = re.compile(r"^([A-Z]*)(\d+)(?::([A-Z]*)(\d+))?$")


def _labels(columns: tuple[Column, ...]) -> dict[str, str]:
    return {column_letter(i): c.label for i, c in enumerate(columns, start=1)}


_LABELS: Final = {fold(SHEET_METAS): _labels(METAS_COLUMNS), fold(SHEET_SEGUIMIENTO): _labels(SEGUIMIENTO_COLUMNS)}


@dataclass(frozen=True)
class MetaName:
    number: int | None  # the N° column's value; None when the row has none (a row added by hand)
    row: int
    code: str
    text: str

    def __str__(self) -> str:
        named = " – ".join(part for part in (self.code, short(self.text)) if part)
        head = f"Meta N° {self.number}" if self.number is not None else f"Meta de la fila {self.row}"
        return f"{head} ({named})" if named else head


def short(text: str, limit: int = META_TEXT_CHARS) -> str:
    """The start of a text, cut at a word and marked with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;.–-") + "…"


def meta_number(row: Row) -> int | None:
    """The N° the secretario sees in the row (an integer), or None."""
    read = values.number(row.cell("number").value)
    if not read.ok or read.value is None or read.value != read.value.to_integral_value() or read.value <= 0:
        return None
    return int(read.value)


def meta_of(row: Row) -> MetaName:
    return MetaName(
        meta_number(row), row.number, values.text(row.cell("meta_code").value), values.text(row.cell("meta").value)
    )


def shown_sheet(sheet: str | None) -> str | None:
    """The sheet a person can open to find the place; None for the whole file (or the hidden control sheet)."""
    return None if sheet is None or fold(sheet) == fold(SHEET_CONTROL) else sheet


def locate(findings: Iterable[Finding], parsed: ParsedWorkbook, baseline: Baseline | None = None) -> list[Finding]:
    """Each finding with its `meta`, `column` and `place` filled in from the workbook it is about."""
    rows = {
        fold(SHEET_METAS): {r.number: r for r in parsed.metas},
        fold(SHEET_SEGUIMIENTO): {r.number: r for r in parsed.seguimiento},
    }
    header = {cell.ref: label for label, cell in parsed.header.items() if cell.ref}
    return [_located(f, rows, header, baseline) for f in findings]


def _located(
    finding: Finding,
    rows: Mapping[str, Mapping[int, Row]],
    header: Mapping[str, str],
    baseline: Baseline | None,
) -> Finding:
    if shown_sheet(finding.sheet) is None or finding.sheet is None:
        return replace(finding, place="El archivo")  # the control sheet is hidden: the secretario sees a file
    sheet = fold(finding.sheet)
    field = header.get(finding.cell or "") if sheet == fold(SHEET_HEADER) else None
    if field is not None:
        return replace(finding, place=f"Encabezado, campo «{field}» (celda {finding.cell})")
    match = _RANGE.match(finding.cell or "")
    labels = _LABELS.get(sheet)
    if match is None or labels is None:
        return replace(finding, place=finding.where)
    first_letter, first_row, last_letter, last_row = match.groups()
    top, bottom = int(first_row), int(last_row or first_row)
    meta = _meta(sheet, top, rows, baseline) if top == bottom and top >= FIRST_DATA_ROW else None
    first_label = labels.get(first_letter) if first_letter else None
    last_label = labels.get(last_letter or first_letter) if first_letter else None
    if meta is None and not (top == HEADER_ROW or top != bottom):
        first_label = last_label = None  # a lone cell outside the metas: name the cell only
    parts = [str(meta)] if meta else []
    where_cells = f"{'celdas' if ':' in (finding.cell or '') else 'celda'} {finding.cell}"
    if first_label and last_label and first_label != last_label:
        parts.append(f"columnas «{first_label}» a «{last_label}» ({where_cells})")
    elif first_label:
        parts.append(f"columna «{first_label}» ({where_cells})")
    elif meta and not first_letter:
        if meta.number is not None:  # "Meta de la fila 7" says it already
            parts.append(f"fila {top}")
    else:
        parts.append(f"hoja «{finding.sheet}», {where_cells}")
    place = ", ".join(parts)
    return replace(
        finding,
        meta=meta.number if meta else None,
        column=first_label if first_label == last_label else None,
        place=place[0].upper() + place[1:],
    )


def _meta(sheet: str, row: int, rows: Mapping[str, Mapping[int, Row]], baseline: Baseline | None) -> MetaName | None:
    found = rows.get(sheet, {}).get(row)
    if sheet == fold(SHEET_SEGUIMIENTO) and baseline is not None:
        index = row - FIRST_DATA_ROW
        if 0 <= index < len(baseline.metas) and (found is None or meta_number(found) is None):
            planned = baseline.metas[index]
            return MetaName(planned.number, row, planned.meta_code, planned.meta)
    if found is None:
        return None
    named = meta_of(found)
    return named if (named.number is not None or named.code or named.text) else None
