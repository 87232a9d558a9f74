"""The public record of the consolidated plan: the «Publicación» sheet and the same table as a PDF.

Ley 1474 de 2011, art. 74 asks each entity to publish its action plan: objectives, strategies, projects, metas,
responsables and the budget split. The «Plan de acción» sheet is planeación's working copy (45 columns with
radicados, versions, officials' e-mail addresses and notes); what goes on the web is this narrower table, built
once (`PublicationTable`) and written twice, so the sheet and the PDF can never disagree:
- columns: dependencia, programa and producto of the PDM, meta, indicator, unit, the quarters' programming,
  budget by source, the BPIN project and the responsable by cargo. No names of officials, no e-mail addresses, no
  radicados, versions or observations: a column not listed in `PUBLIC_COLUMNS` cannot reach the public;
- printed on A3 landscape, one page wide, the header repeated on every page.

The PDF is written with fpdf2 (pure Python, LGPL, maintained since 2017 by the py-pdf group): its `table()` wraps
cell text, repeats the heading row on every page and keeps a row whole; page numbers come from `{nb}`. reportlab
does the same through its Platypus layer, with more code for a single table. The font is DejaVu Sans from
matplotlib's own data (already a dependency), because the PDF core fonts are Latin-1 only and Spanish text here
carries "–", "…" and "“”"; no office suite and no system font is needed on the server.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Final

from mailbot.adapters.workbook.cells import PAPER_A3, Worksheet, column_width, fit_height, fit_width, wrapped_lines
from mailbot.adapters.workbook.report import Value, clean, put_text, title
from mailbot.adapters.workbook.style import BORDER, HEADER_ALIGN, HEADER_FILL, HEADER_FONT, NOTE_FONT, PESOS_FORMAT, TOP
from mailbot.adapters.workbook.style import WRAP_TOP as WRAP
from mailbot.domain.workbook_format import QUARTERS, Source, money_key

SHEET_PUBLICATION: Final = "Publicación"
PUBLICATION_HEADER_ROW: Final = 4
#: Row heights are estimated for a narrower column than the real one: Calc without Calibri fits fewer characters
#: a line than Excel, and a row too short for its text shows it cut when printed.
_SAFE_WIDTH: Final = 0.75


@dataclass(frozen=True)
class PublicColumn:
    label: str
    width: int  # spreadsheet width units; the PDF shares the page out in the same proportions
    kind: str  # "text", "number" or "pesos"

    @property
    def shown_width(self) -> float:
        """The width both outputs use: widened until the label's longest word fits whole."""
        return column_width(self.label, self.width)


PUBLIC_COLUMNS: Final = (
    PublicColumn("Dependencia", 18, "text"),
    PublicColumn("Programa del plan de desarrollo", 24, "text"),
    PublicColumn("Código producto", 11, "text"),
    PublicColumn("Meta de producto", 32, "text"),
    PublicColumn("Indicador", 24, "text"),
    PublicColumn("Unidad de medida", 13, "text"),
    PublicColumn("Meta vigencia", 9, "number"),
    *(PublicColumn(f"Programado T{q}", 9, "number") for q in QUARTERS),
    *(PublicColumn(source.label, 17, "pesos") for source in Source),
    PublicColumn("Total", 18, "pesos"),
    PublicColumn("Proyecto de inversión (BPIN)", 26, "text"),
    PublicColumn("Responsable (cargo)", 20, "text"),
)


@dataclass(frozen=True)
class PublicationTable:
    """What the public record shows: a title block and one row per meta of every accepted plan."""

    municipality: str
    plan_name: str
    vigencia: int
    generated_at: dt.datetime
    rows: tuple[tuple[Value, ...], ...]

    @property
    def title(self) -> str:
        return f"Plan de acción {self.vigencia} – {self.municipality}"

    @property
    def subtitle(self) -> str:
        shown = self.generated_at.strftime("%d/%m/%Y")
        return f"{self.plan_name}. Publicado en cumplimiento de la Ley 1474 de 2011, art. 74. Generado el {shown}."


def public_row(dependencia: str, meta: dict[str, Value]) -> tuple[Value, ...]:
    """One meta as published (`meta` by column key, as the consolidated plan read it), in `PUBLIC_COLUMNS` order."""
    program = " – ".join(str(meta[k]) for k in ("program_code", "program") if meta[k])
    project = " – ".join(str(meta[k]) for k in ("bpin", "project") if meta[k])
    sources = [meta[money_key(source, None)] for source in Source]
    row: tuple[Value, ...] = (
        dependencia,
        program or None,
        meta["meta_code"],
        meta["meta"],
        meta["indicator"],
        meta["unit"],
        meta["meta_vigencia"],
        *(meta[f"phys_t{q}"] for q in QUARTERS),
        *sources,
        meta["total"],
        project or None,
        meta["resp_title"],
    )
    assert len(row) == len(PUBLIC_COLUMNS)
    return row


# ------------------------------------------------------------------------------------------------ the sheet


def write_publication(ws: Worksheet, table: PublicationTable) -> None:
    """The public table as a sheet: A3 landscape, one page wide, the header row on every page."""
    title(ws, table.title)
    put_text(ws.cell(2, 1), table.subtitle).font = NOTE_FONT
    for col, column in enumerate(PUBLIC_COLUMNS, start=1):
        cell = put_text(ws.cell(PUBLICATION_HEADER_ROW, col), column.label)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN
        ws.column_dimensions[cell.column_letter].width = column.shown_width
    ws.row_dimensions[PUBLICATION_HEADER_ROW].height = 45
    for row, values in enumerate(table.rows, start=PUBLICATION_HEADER_ROW + 1):
        lines = 1
        for col, (column, value) in enumerate(zip(PUBLIC_COLUMNS, values, strict=True), start=1):
            cell = put_text(ws.cell(row, col), value)
            cell.border = BORDER
            cell.alignment = WRAP if column.kind == "text" else TOP
            if column.kind == "pesos":
                cell.number_format = PESOS_FORMAT
            elif column.kind == "text":
                cell.number_format = "@"
                lines = max(lines, wrapped_lines(str(value or ""), column.shown_width * _SAFE_WIDTH))
        fit_height(ws, row, lines)
    ws.freeze_panes = ws.cell(PUBLICATION_HEADER_ROW + 1, 1)
    header = f"${PUBLICATION_HEADER_ROW}:${PUBLICATION_HEADER_ROW}"
    fit_width(ws, landscape=True, repeat_rows=header, paper=PAPER_A3)
    ws.page_setup.horizontalCentered = True


# ------------------------------------------------------------------------------------------------ the PDF


def _font_file(name: str) -> Path:
    """DejaVu Sans as matplotlib ships it (found through matplotlib, so no path of this machine is written here)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def publication_pdf(table: PublicationTable) -> bytes:
    """The same table as a PDF: A3 landscape, wrapped cells, the header on every page, page N of M.

    fpdf2 is imported here, not with the module: with fontTools and Pillow it weighs ~60 MB, and the daemon, which
    builds the consolidated workbook for its digest, never writes a PDF (only `export --pdf` does).
    """
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class Document(FPDF):
        def footer(self) -> None:
            self.set_y(-10)
            self.set_font("DejaVu", size=7)
            self.cell(0, 5, f"{table.title} – Página {self.page_no()} de {{nb}}", align="C")

    pdf = Document(orientation="L", unit="mm", format="A3")
    pdf.set_title(table.title)
    pdf.set_author(table.municipality)
    pdf.set_creator("mailbot")
    pdf.add_font("DejaVu", "", str(_font_file("DejaVuSans.ttf")))
    pdf.add_font("DejaVu", "B", str(_font_file("DejaVuSans-Bold.ttf")))
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.set_margins(10, 10, 10)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 7, table.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=8)
    pdf.multi_cell(0, 5, table.subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("DejaVu", size=6.5)
    heading = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=(31, 78, 120))
    align = tuple("RIGHT" if c.kind != "text" else "LEFT" for c in PUBLIC_COLUMNS)
    with pdf.table(
        col_widths=tuple(c.shown_width for c in PUBLIC_COLUMNS),
        headings_style=heading,
        repeat_headings=1,
        line_height=3.2,
        text_align=align,
        v_align="TOP",
        padding=0.8,
    ) as pdf_table:
        labels = pdf_table.row()
        for column in PUBLIC_COLUMNS:
            labels.cell(column.label, align="CENTER")
        for values in table.rows:
            row = pdf_table.row()
            for column, value in zip(PUBLIC_COLUMNS, values, strict=True):
                row.cell(shown(value, column.kind))
    return bytes(pdf.output())


def shown(value: Value, kind: str) -> str:
    """A value as the public reads it in Colombia: "$ 1.234.567", "1,5"; empty as nothing."""
    if value is None:
        return ""
    if kind == "pesos" and isinstance(value, int):
        return "$ " + f"{value:,}".replace(",", ".")
    if kind == "number" and isinstance(value, int | float):
        text = format(Decimal(str(value)).normalize(), "f")
        return text.replace(".", ",")
    return clean(str(value))  # the control characters a spreadsheet cannot hold are no better in a PDF
