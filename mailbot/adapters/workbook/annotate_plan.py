"""What an annotated copy changes, decided once for both ways of writing it (`annotate`, `annotate_xml`).

The cells to fill, comment or give their formula back, and the rows of the `Correcciones` list, from the
sheets' titles and states and the findings: no workbook library here, so the XML patch and the openpyxl
fallback cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from openpyxl.styles import Font, PatternFill
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries

from mailbot.adapters.workbook.cells import wrapped_lines
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.workbook_format import (
    METAS_KEYS_BY_LETTER,
    SHEET_CORRECTIONS,
    SHEET_METAS,
    TOTAL_KEYS,
    fold,
    total_formula,
)

ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
MAX_CELLS_PER_FINDING = 2000  # a whole-column finding fills its cells, never an unbounded range
LINK_FONT = Font(color="0563C1", underline="single")
COMMENT_AUTHOR = "Planeación"
CORRECTIONS_TITLE = "Correcciones al plan de acción"
HEADERS = ("N°", "Código", "Tipo", "Hoja", "Celda", "Dónde", "Valor encontrado", "Qué hacer")
WIDTHS = (5, 8, 12, 14, 10, 40, 24, 70)  # `Correcciones`: N°, código, tipo, hoja, celda, dónde, valor, qué hacer
SUMMARY_HEIGHT = 32
SEVERITY_NAME = {Severity.ERROR: "Error", Severity.WARNING: "Advertencia"}
_CELL = re.compile(r"^([A-Z]+)(\d+)$")


@dataclass
class Mark:
    """What one cell of the secretario's workbook gets: a fill, a comment (its findings) and maybe a formula."""

    error: bool | None = None  # None: no fill (a restored formula only)
    findings: list[Finding] = field(default_factory=list)
    formula: str | None = None

    @property
    def comment(self) -> str | None:
        return "\n\n".join(f"[{f.code}] {f.where}: {f.message}" for f in self.findings) or None


@dataclass(frozen=True)
class Listed:
    """One row of the `Correcciones` list."""

    number: int
    finding: Finding
    sheet_label: str
    link: str | None  # where the cell's link goes ("'Metas'!H7"), None when there is nothing to go to
    lines: int  # wrapped lines the row needs


SheetInfo = tuple[str, str]  # (title, state) of every sheet, in order


def comment_size(mark: Mark) -> tuple[int, int]:
    """Width and height (px) of a cell's comment box: room for each finding's text."""
    return 320, 40 + 60 * len(mark.findings)


def sheet_named(sheets: list[SheetInfo], name: str | None) -> SheetInfo | None:
    """The sheet a finding names (accents and case folded); never a `Correcciones` list, which is replaced."""
    if name is None or name == SHEET_CORRECTIONS:
        return None
    for sheet in sheets:
        if sheet[0] == name or fold(sheet[0]) == fold(name):
            return sheet
    return None


def _cells(ref: str) -> Iterator[tuple[int, int]]:
    """(row, column) of every cell in "H7" or "M7:P7", bounded."""
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    if min_col is None or min_row is None or max_col is None or max_row is None:
        return
    count = 0
    for row in range(min_row, max_row + 1):
        for col in range(min_col, max_col + 1):
            yield row, col
            count += 1
            if count >= MAX_CELLS_PER_FINDING:
                return


def cell_marks(sheets: list[SheetInfo], findings: list[Finding]) -> dict[tuple[str, int, int], Mark]:
    """Every cell to change, by (sheet title, row, column): one place for what both ways of writing do.

    A total typed over (P02) gets its formula back, as the generator wrote it (with no fill unless another
    finding marks it). A cell's fill is red once an error is on it, amber for warnings only; its comment lists
    the findings whose range starts there.
    """
    marks: dict[tuple[str, int, int], Mark] = {}
    metas = sheet_named(sheets, SHEET_METAS)
    for finding in findings:
        match = _CELL.match(finding.cell or "") if finding.code == "P02" and finding.sheet == SHEET_METAS else None
        key = METAS_KEYS_BY_LETTER.get(match.group(1)) if match else None
        if metas is None or match is None or key not in TOTAL_KEYS:
            continue
        row, col = coordinate_to_tuple(finding.cell or "")
        marks.setdefault((metas[0], row, col), Mark()).formula = total_formula(key, int(match.group(2)))
    for finding in findings:
        sheet = sheet_named(sheets, finding.sheet)
        if sheet is None or not finding.cell or sheet[1] != "visible":
            continue
        for index, (row, col) in enumerate(_cells(finding.cell)):
            mark = marks.setdefault((sheet[0], row, col), Mark())
            # red once any finding marks it as an error (a range's error counts on every cell, not only its first)
            mark.error = finding.severity is Severity.ERROR or mark.error is True
            if index == 0:
                mark.findings.append(finding)
    return marks


def corrections_list(sheets: list[SheetInfo], findings: list[Finding]) -> list[Listed]:
    listed = []
    for number, finding in enumerate(findings, start=1):
        target = sheet_named(sheets, finding.sheet)
        link = None
        if finding.cell and target is not None and target[1] == "visible":
            link = f"'{target[0]}'!{finding.cell.split(':')[0]}"
        texts = ((finding.where, WIDTHS[5]), (finding.value or "", WIDTHS[6]), (finding.message, WIDTHS[7]))
        lines = max(wrapped_lines(text, width) for text, width in texts)
        listed.append(Listed(number, finding, finding.sheet or "el archivo", link, lines))
    return listed


def corrections_summary(listed: list[Listed]) -> str:
    errors = sum(item.finding.severity is Severity.ERROR for item in listed)
    return (
        f"{errors} error(es) por corregir y {len(listed) - errors} advertencia(s). Haga clic en la celda para "
        "ir al lugar del archivo; corrija en este mismo libro y envíelo de nuevo respondiendo el correo."
    )
