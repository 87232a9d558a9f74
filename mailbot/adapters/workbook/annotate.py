"""The annotated copy: the secretario's own workbook with every finding on its cell, and a list up front.

Each cell with a finding is filled (red for an error, amber for a warning) and carries a comment with the
place and the message; a first sheet `Correcciones` lists every finding with a link to its cell. A total typed
over (P02) gets its formula back. The secretario can fix the copy itself and send it back: nothing else in the
workbook changes.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from mailbot.adapters.workbook.cells import fit_height, fit_width, put, wrapped_lines
from mailbot.adapters.workbook.style import HEADER_FILL, HEADER_FONT, TITLE_FONT, TOP, WRAP_TOP
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
_WIDTHS = (5, 8, 12, 14, 10, 40, 24, 70)  # `Correcciones`: N°, código, tipo, hoja, celda, dónde, valor, qué hacer
_CELL = re.compile(r"^([A-Z]+)(\d+)$")
_SEVERITY_NAME = {Severity.ERROR: "Error", Severity.WARNING: "Advertencia"}


def annotated_copy(data: bytes, findings: Iterable[Finding]) -> bytes:
    """Return the workbook `data` with `findings` marked; `data` must already have passed the reader (F01)."""
    workbook = load_workbook(io.BytesIO(data), rich_text=False)
    found = list(findings)
    _restore_totals(workbook, found)
    _mark_cells(workbook, found)
    _corrections_sheet(workbook, found)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet(workbook: Workbook, name: str | None) -> Worksheet | None:
    if name is None:
        return None
    for sheet in workbook.worksheets:
        if sheet.title == name or fold(sheet.title) == fold(name):
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


def _restore_totals(workbook: Workbook, findings: list[Finding]) -> None:
    """Put the formula back in each `Metas` total that was typed over (P02), as the generator wrote it."""
    sheet = _sheet(workbook, SHEET_METAS)
    if sheet is None:
        return
    for finding in findings:
        match = _CELL.match(finding.cell or "") if finding.code == "P02" and finding.sheet == SHEET_METAS else None
        key = METAS_KEYS_BY_LETTER.get(match.group(1)) if match else None
        if match is None or key not in TOTAL_KEYS:
            continue
        sheet[finding.cell or ""] = total_formula(key, int(match.group(2)))


def _mark_cells(workbook: Workbook, findings: list[Finding]) -> None:
    notes: dict[tuple[str, int, int], list[Finding]] = defaultdict(list)
    for finding in findings:
        sheet = _sheet(workbook, finding.sheet)
        if sheet is None or not finding.cell or sheet.sheet_state != "visible":
            continue
        for index, (row, col) in enumerate(_cells(finding.cell)):
            cell = sheet.cell(row=row, column=col)
            current = notes[(sheet.title, row, col)]
            if finding.severity is Severity.ERROR or not any(f.severity is Severity.ERROR for f in current):
                cell.fill = ERROR_FILL if finding.severity is Severity.ERROR else WARNING_FILL
            if index == 0:
                current.append(finding)
    for (title, row, col), cell_findings in notes.items():
        if not cell_findings:
            continue
        text = "\n\n".join(f"[{f.code}] {f.where}: {f.message}" for f in cell_findings)
        comment = Comment(text, "Planeación")
        comment.width, comment.height = 320, 40 + 60 * len(cell_findings)
        workbook[title].cell(row=row, column=col).comment = comment


def _corrections_sheet(workbook: Workbook, findings: list[Finding]) -> None:
    if SHEET_CORRECTIONS in workbook.sheetnames:
        del workbook[SHEET_CORRECTIONS]  # a copy annotated before: replace its list
    sheet = workbook.create_sheet(SHEET_CORRECTIONS, 0)
    errors = sum(f.severity is Severity.ERROR for f in findings)
    sheet["A1"] = "Correcciones al plan de acción"
    sheet["A1"].font = TITLE_FONT
    sheet["A2"] = (
        f"{errors} error(es) por corregir y {len(findings) - errors} advertencia(s). Haga clic en la celda para "
        "ir al lugar del archivo; corrija en este mismo libro y envíelo de nuevo respondiendo el correo."
    )
    sheet["A2"].alignment = Alignment(wrap_text=True)
    sheet.merge_cells("A2:H2")
    sheet.row_dimensions[2].height = 32
    headers = ("N°", "Código", "Tipo", "Hoja", "Celda", "Dónde", "Valor encontrado", "Qué hacer")
    for col, title in enumerate(headers, start=1):
        cell = sheet.cell(row=4, column=col, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for index, finding in enumerate(findings, start=1):
        row = 4 + index
        sheet.cell(row=row, column=1, value=index)
        labels = (finding.code, _SEVERITY_NAME[finding.severity], finding.sheet or "el archivo")
        for col, text in enumerate(labels, start=2):
            sheet.cell(row=row, column=col, value=text)
        link = sheet.cell(row=row, column=5, value=finding.cell or "")
        target = _sheet(workbook, finding.sheet)
        if finding.cell and target is not None and target.sheet_state == "visible":
            first = finding.cell.split(":")[0]
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{target.title}'!{first}")
            link.font = Font(color="0563C1", underline="single")
        put(sheet.cell(row=row, column=6), finding.where).alignment = WRAP_TOP
        put(sheet.cell(row=row, column=7), finding.value or "").alignment = WRAP_TOP
        put(sheet.cell(row=row, column=8), finding.message).alignment = WRAP_TOP
        texts = ((finding.where, _WIDTHS[5]), (finding.value or "", _WIDTHS[6]), (finding.message, _WIDTHS[7]))
        fit_height(sheet, row, max(wrapped_lines(text, width) for text, width in texts))
        fill = ERROR_FILL if finding.severity is Severity.ERROR else WARNING_FILL
        sheet.cell(row=row, column=3).fill = fill
        for col in range(1, 6):
            sheet.cell(row=row, column=col).alignment = TOP
    for letter, width in zip("ABCDEFGH", _WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A5"
    fit_width(sheet, landscape=True, repeat_rows="4:4")
    workbook.active = 0
    for other in workbook.worksheets[1:]:
        other.sheet_view.tabSelected = False
