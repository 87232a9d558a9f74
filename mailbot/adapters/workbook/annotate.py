"""The annotated copy: the secretario's own workbook with every finding on its cell, and a list up front.

Each cell with a finding is filled (red for an error, amber for a warning) and carries a comment with the
place and the message; a first sheet `Correcciones` lists every finding with a link to its cell. A total typed
over (P02) gets its formula back. The secretario can fix the copy itself and send it back: nothing else in the
workbook changes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink

from mailbot.adapters.workbook.annotate_plan import (
    COMMENT_AUTHOR,
    CORRECTIONS_TITLE,
    ERROR_FILL,
    HEADERS,
    LINK_FONT,
    SEVERITY_NAME,
    SUMMARY_HEIGHT,
    WARNING_FILL,
    WIDTHS,
    Listed,
    cell_marks,
    comment_size,
    corrections_list,
    corrections_summary,
)
from mailbot.adapters.workbook.annotate_xml import Unpatchable, patched_copy
from mailbot.adapters.workbook.cells import fit_height, fit_width, put
from mailbot.adapters.workbook.style import HEADER_FILL, HEADER_FONT, TITLE_FONT, TOP, WRAP_TOP
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.workbook_format import SHEET_CORRECTIONS

log = logging.getLogger(__name__)


def annotated_copy(data: bytes, findings: Iterable[Finding]) -> bytes:
    """Return the workbook `data` with `findings` marked; `data` must already have passed the reader (F01).

    The copy is made by patching the workbook's XML (`annotate_xml`): a full openpyxl load and save took ~0.2 s
    per correction (issue 19). A workbook the patch does not handle is annotated with openpyxl instead.
    """
    found = list(findings)
    try:
        return patched_copy(data, found)
    except Unpatchable as why:
        log.info("annotated copy through openpyxl: %s", why)
        return openpyxl_copy(data, found)


def openpyxl_copy(data: bytes, findings: list[Finding]) -> bytes:
    """The annotated copy by a full openpyxl load and save: the reference the XML patch must match."""
    workbook = load_workbook(io.BytesIO(data), rich_text=False)
    if SHEET_CORRECTIONS in workbook.sheetnames:
        del workbook[SHEET_CORRECTIONS]  # a copy annotated before: replace its list
    sheets = [(sheet.title, sheet.sheet_state) for sheet in workbook.worksheets]
    for (title, row, col), mark in cell_marks(sheets, findings).items():
        cell = workbook[title].cell(row=row, column=col)
        if mark.formula is not None:
            cell.value = mark.formula
        if mark.error is not None:
            cell.fill = ERROR_FILL if mark.error else WARNING_FILL
        if mark.comment is not None:
            comment = Comment(mark.comment, COMMENT_AUTHOR)
            comment.width, comment.height = comment_size(mark)
            cell.comment = comment
    _corrections_sheet(workbook, corrections_list(sheets, findings))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _corrections_sheet(workbook: Workbook, listed: list[Listed]) -> None:
    sheet = workbook.create_sheet(SHEET_CORRECTIONS, 0)
    sheet["A1"] = CORRECTIONS_TITLE
    sheet["A1"].font = TITLE_FONT
    sheet["A2"] = corrections_summary(listed)
    sheet["A2"].alignment = Alignment(wrap_text=True)
    sheet.merge_cells("A2:H2")
    sheet.row_dimensions[2].height = SUMMARY_HEIGHT
    for col, title in enumerate(HEADERS, start=1):
        cell = sheet.cell(row=4, column=col, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for item in listed:
        row, finding = 4 + item.number, item.finding
        sheet.cell(row=row, column=1, value=item.number)
        labels = (finding.code, SEVERITY_NAME[finding.severity], item.sheet_label)
        for col, text in enumerate(labels, start=2):
            sheet.cell(row=row, column=col, value=text)
        link = sheet.cell(row=row, column=5, value=finding.cell or "")
        if item.link is not None:
            link.hyperlink = Hyperlink(ref=link.coordinate, location=item.link)
            link.font = LINK_FONT
        put(sheet.cell(row=row, column=6), finding.where).alignment = WRAP_TOP
        put(sheet.cell(row=row, column=7), finding.value or "").alignment = WRAP_TOP
        put(sheet.cell(row=row, column=8), finding.message).alignment = WRAP_TOP
        fit_height(sheet, row, item.lines)
        sheet.cell(row=row, column=3).fill = ERROR_FILL if finding.severity is Severity.ERROR else WARNING_FILL
        for col in range(1, 6):
            sheet.cell(row=row, column=col).alignment = TOP
    for letter, width in zip("ABCDEFGH", WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A5"
    fit_width(sheet, landscape=True, repeat_rows="4:4")
    workbook.active = 0
    for other in workbook.worksheets[1:]:
        other.sheet_view.tabSelected = False
