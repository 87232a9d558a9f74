"""The look every generated workbook shares: one palette and one set of number formats.

The form planeación mails (`writer`) and the reports it receives (`consolidated`, `evaluation`) and the annotated
copy all draw from here, so a dark header or a pesos cell looks the same in every file mailbot writes.
"""

from __future__ import annotations

from typing import Final

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

PESOS_FORMAT: Final = '"$ "#,##0'
DATE_FORMAT: Final = "DD/MM/YYYY"
DATETIME_FORMAT: Final = "DD/MM/YYYY HH:MM"
TEXT_FORMAT: Final = "@"
PERCENT_FORMAT: Final = "0.0%"

INPUT_FILL: Final = PatternFill("solid", fgColor="FFF2CC")  # light yellow: "fill me"
LOCKED_FILL: Final = PatternFill("solid", fgColor="E7E6E6")  # grey: "do not touch"
HEADER_FILL: Final = PatternFill("solid", fgColor="1F4E78")
TOTAL_FILL: Final = PatternFill("solid", fgColor="DDEBF7")
WARN_FILL: Final = PatternFill("solid", fgColor="FFEB9C")  # amber: "look at this before sending"
UNLOCKED: Final = Protection(locked=False)
LOCKED: Final = Protection(locked=True)

TITLE_FONT: Final = Font(bold=True, size=14)
BOLD: Final = Font(bold=True)
HEADER_FONT: Final = Font(bold=True, color="FFFFFF")
DEADLINE_FONT: Final = Font(bold=True, size=12, color="C00000")
NOTE_FONT: Final = Font(italic=True, color="595959")

THIN: Final = Side(style="thin", color="BFBFBF")
BORDER: Final = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)

WRAP_TOP: Final = Alignment(wrap_text=True, vertical="top")
TOP: Final = Alignment(vertical="top")
HEADER_ALIGN: Final = Alignment(wrap_text=True, horizontal="center", vertical="center")
