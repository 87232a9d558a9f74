"""The consolidated action plan of the municipality: every accepted plan in one workbook, ready to publish.

Ley 1474 de 2011, art. 74 makes every entity publish its action plan by 31 January: metas, responsables and the
budget split of its investment projects. Planeación publishes this file (or a PDF of it), so:
- only what the secretarios typed is copied, read through the same `PlanView` the rules use (money as whole
  pesos, numbers as numbers); totals are recomputed and written as numbers, never as formulas, so the file shows
  the same figures in any program, even one that does not compute;
- the summaries are computed here in Python from the same reads, so they always equal the sums of the first sheet;
- every text goes through `cells.put`: a secretario's `=HYPERLINK(...)` is shown as typed, never run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import openpyxl
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from mailbot.adapters.workbook.cells import PAPER_A3, Worksheet, fit_height, fit_width, plain_number, wrapped_lines
from mailbot.adapters.workbook.publication import (
    SHEET_PUBLICATION,
    PublicationTable,
    public_row,
    write_publication,
)
from mailbot.adapters.workbook.report import (
    QUARTER_LABELS,
    TABLE_HEADER_ROW,
    Heading,
    Value,
    header,
    local,
    put_block,
    put_text,
    save,
    title,
    write_missing,
)
from mailbot.adapters.workbook.style import (
    BOLD,
    DATETIME_FORMAT,
    NOTE_FONT,
    PESOS_FORMAT,
    TEXT_FORMAT,
    TOP,
    TOTAL_FILL,
    WRAP_TOP,
)
from mailbot.adapters.workbook.writer import number_format_of
from mailbot.domain.accepted import AcceptedPlan
from mailbot.domain.context import ValidationContext
from mailbot.domain.parsed import Row
from mailbot.domain.rules.view import PlanView
from mailbot.domain.summary import PlanSummary, summarize
from mailbot.domain.workbook_format import (
    META_TYPES_BY_FOLD,
    METAS_COLUMNS,
    QUARTERS,
    TOTAL_KEYS,
    UNIT_VARIANTS,
    UNITS_BY_FOLD,
    Column,
    Kind,
    Ronda,
    Source,
    fold,
    money_key,
)

SHEET_PLAN: Final = "Plan de acción"
SHEET_SUMMARY: Final = "Resumen"
SHEET_PROJECTS: Final = "Por proyecto"
SHEET_MISSING: Final = "Pendientes"

PLAN_HEADER_ROW: Final = 10  # `Plan de acción`: the title block above, the metas from row 11
BLOCK_VALUE_COLUMN: Final = 3  # `Plan de acción` title block: label in A, value in C
#: `Plan de acción`: the columns before the contract's (label, width); code and name stay in view when scrolling.
PLAN_PREFIX: Final = (("Código dependencia", 12), ("Dependencia", 30), ("Radicado", 18), ("Versión", 9))
FROZEN_COLUMNS: Final = 2

#: Long texts (metas, activities one per line) wrap; the row gets the height they need, as the template's rows
#: do (spreadsheets do not grow a row for text they did not lay out themselves).
_WRAPPED: Final = frozenset({Kind.TEXT, Kind.LIST})
_NORMALISED: Final = frozenset({"unit", "meta_type"})  # closed lists whose variants the rules accept (M02)
_MISSING_NOTE: Final = "Sus metas y su presupuesto no están en las otras hojas."
_NONE_MISSING: Final = "Ninguna: todas las dependencias tienen su plan aceptado."


@dataclass(frozen=True)
class _Figures:
    """What one accepted plan contributes: its metas (values by column key) and its sums."""

    plan: AcceptedPlan
    metas: tuple[dict[str, Value], ...]
    summary: PlanSummary


@dataclass
class _Project:
    """POAI money of one investment project (BPIN) within one dependencia."""

    bpin: str
    name: str
    dependencia_code: str
    dependencia_name: str
    metas: int
    by_quarter: list[int]


def consolidated_workbook(
    *,
    municipality: str,
    plan_name: str,
    vigencia: int,
    ronda_label: str,
    plans: Sequence[AcceptedPlan],
    missing: Sequence[tuple[str, str]],
    generated_at: dt.datetime,
) -> bytes:
    """The .xlsx to publish: `Plan de acción` (planeación's full copy), `Publicación` (the public record only),
    `Resumen`, `Por proyecto` and `Pendientes`.

    `plans` in the order they should appear (one per dependencia: its last accepted version); `missing`: (code,
    name) of the dependencias without an accepted plan; `generated_at` in the municipality's time zone.
    """
    _require_unique(plans)
    figures = [_figures(plan, vigencia) for plan in plans]
    wb = openpyxl.Workbook()
    plan_ws = wb.active
    plan_ws.title = SHEET_PLAN
    heading = Heading(
        municipality, plan_name, vigencia, ronda_label, generated_at, len(plans), len(plans) + len(missing)
    )
    _write_plan(plan_ws, figures, heading)
    table = _publication(municipality, plan_name, vigencia, generated_at, figures)
    write_publication(wb.create_sheet(SHEET_PUBLICATION), table)
    _write_summary(wb.create_sheet(SHEET_SUMMARY), figures, municipality, vigencia, generated_at)
    _write_projects(wb.create_sheet(SHEET_PROJECTS), _projects(figures), municipality, vigencia)
    heading_missing = f"Dependencias sin plan de acción {vigencia} aceptado"
    write_missing(wb.create_sheet(SHEET_MISSING), heading_missing, missing, note=_MISSING_NOTE, none=_NONE_MISSING)
    return save(wb, f"Plan de acción consolidado {vigencia} – {municipality}")


def publication_table(
    *, municipality: str, plan_name: str, vigencia: int, plans: Sequence[AcceptedPlan], generated_at: dt.datetime
) -> PublicationTable:
    """The «Publicación» table alone (for `publication.publication_pdf`): the same rows as the workbook's sheet."""
    _require_unique(plans)
    figures = [_figures(plan, vigencia) for plan in plans]
    return _publication(municipality, plan_name, vigencia, generated_at, figures)


def _publication(
    municipality: str, plan_name: str, vigencia: int, generated_at: dt.datetime, figures: Sequence[_Figures]
) -> PublicationTable:
    rows = tuple(public_row(item.plan.dependencia_name, meta) for item in figures for meta in item.metas)
    return PublicationTable(municipality, plan_name, vigencia, generated_at.replace(tzinfo=None), rows)


def _require_unique(plans: Sequence[AcceptedPlan]) -> None:
    """Two plans of one dependencia would count its budget twice in the published totals."""
    codes = [plan.dependencia_code for plan in plans]
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ValueError(f"one accepted plan per dependencia; repeated: {', '.join(repeated)}")


# ------------------------------------------------------------------------------------------------ reading


def _figures(plan: AcceptedPlan, vigencia: int) -> _Figures:
    context = ValidationContext(
        dependencia=plan.dependencia_code,
        vigencia=vigencia,
        ronda=Ronda.FORMULACION,
        available=plan.available,
        secret="",  # nothing is verified here: the plan was accepted
    )
    view = PlanView(plan.workbook, context)
    metas = tuple(_meta_values(view, row, number) for number, row in enumerate(view.metas, start=1))
    return _Figures(plan, metas, summarize(plan.workbook, context))


def _meta_values(view: PlanView, row: Row, number: int) -> dict[str, Value]:
    return {column.key: _value(view, row, column, number) for column in METAS_COLUMNS}


def _value(view: PlanView, row: Row, column: Column, number: int) -> Value:
    """One cell as published: the N° within the plan, recomputed totals, money as int, numbers as numbers."""
    if column.key == "number":
        return number
    if column.key == "total":
        return view.meta_total(row)
    if column.key in TOTAL_KEYS:
        return view.source_total(row, Source(column.key.removesuffix("_total")))
    if column.kind is Kind.PESOS:
        money = view.money(row, column.key)
        return money.value if money.value is not None else _text(view, row, column.key)
    if column.kind is Kind.NUMBER:
        read = view.number(row, column.key)
        if read.value is None:
            return _text(view, row, column.key)
        return plain_number(read.value)
    if column.key in _NORMALISED:
        return _list_value(view.text(row, column.key)) or None
    return _text(view, row, column.key)


def _text(view: PlanView, row: Row, key: str) -> str | None:
    """The cell's text, or None when empty (an unreadable number keeps what was typed: SUM skips text)."""
    return view.text(row, key) or None


def _list_value(text: str) -> str:
    """The list's own spelling (`Mts 2` → `Metros cuadrados`), as the rules read it; other text as typed."""
    folded = fold(text)
    return UNITS_BY_FOLD.get(folded) or UNIT_VARIANTS.get(folded) or META_TYPES_BY_FOLD.get(folded) or text


def _projects(figures: Iterable[_Figures]) -> list[_Project]:
    """POAI money by (dependencia, BPIN), in the order the projects first appear."""
    projects: dict[tuple[str, str], _Project] = {}
    for item in figures:
        for meta in item.metas:
            quarters = [_int(meta[money_key(Source.POAI, q)]) for q in QUARTERS]
            if not any(quarters):
                continue
            bpin = str(meta["bpin"] or "")
            key = (item.plan.dependencia_code, bpin)
            if key not in projects:
                name = str(meta["project"] or "")
                code, dependencia = item.plan.dependencia_code, item.plan.dependencia_name
                projects[key] = _Project(bpin, name, code, dependencia, 0, [0, 0, 0, 0])
            project = projects[key]
            project.metas += 1
            project.by_quarter = [a + b for a, b in zip(project.by_quarter, quarters, strict=True)]
    return list(projects.values())


def _int(value: Value) -> int:
    return value if isinstance(value, int) else 0


# ------------------------------------------------------------------------------------------------ Plan de acción


def _write_plan(ws: Worksheet, figures: Sequence[_Figures], heading: Heading) -> None:
    """The title block, then one row per meta of every accepted plan, with a filter on every column."""
    _write_heading(ws, heading)
    headers = [*PLAN_PREFIX, *((c.label, c.width) for c in METAS_COLUMNS)]
    header(ws, PLAN_HEADER_ROW, headers)
    row = PLAN_HEADER_ROW
    for item in figures:
        for meta in item.metas:
            row += 1
            _write_meta(ws, row, item.plan, meta)
    last = get_column_letter(len(headers))
    ws.auto_filter.ref = f"A{PLAN_HEADER_ROW}:{last}{max(row, PLAN_HEADER_ROW + 1)}"
    ws.freeze_panes = ws.cell(PLAN_HEADER_ROW + 1, FROZEN_COLUMNS + 1)
    # every printed page names its columns; one page wide (small print: «Publicación» is the sheet to print)
    fit_width(ws, landscape=True, repeat_rows=f"{PLAN_HEADER_ROW}:{PLAN_HEADER_ROW}", paper=PAPER_A3)


def _write_heading(ws: Worksheet, heading: Heading) -> None:
    """The label in A is shown over the empty B beside it (column A is narrow): the value stands in C."""
    title(ws, f"Plan de acción consolidado {heading.vigencia}")
    block = heading.block("Ronda", "Dependencias con plan aceptado")
    row = put_block(ws, 2, block, column=BLOCK_VALUE_COLUMN, alignment=Alignment(horizontal="left"))
    note = "Plan de acción para publicar en la página web a más tardar el 31 de enero (Ley 1474 de 2011, art. 74)."
    put_text(ws.cell(row, 1), note).font = NOTE_FONT


def _write_meta(ws: Worksheet, row: int, plan: AcceptedPlan, meta: dict[str, Value]) -> None:
    prefix: list[Value] = [plan.dependencia_code, plan.dependencia_name, plan.radicado, plan.version]
    for col, value in enumerate(prefix, start=1):
        cell = put_text(ws.cell(row, col), value)
        cell.alignment = WRAP_TOP if col == 2 else TOP
        if col in {1, 3}:
            cell.number_format = TEXT_FORMAT
    for col, column in enumerate(METAS_COLUMNS, start=len(prefix) + 1):
        cell = put_text(ws.cell(row, col), meta[column.key])
        cell.number_format = number_format_of(column)
        cell.alignment = WRAP_TOP if column.kind in _WRAPPED else TOP
    texts = [(plan.dependencia_name, PLAN_PREFIX[1][1])]
    texts += [(str(meta[c.key] or ""), c.width) for c in METAS_COLUMNS if c.kind in _WRAPPED]
    fit_height(ws, row, max(wrapped_lines(text, width) for text, width in texts))


# ------------------------------------------------------------------------------------------------ Resumen


def _summary_headers() -> list[tuple[str, int]]:
    headers = [
        ("Código dependencia", 12),
        ("Dependencia", 34),
        ("Radicado", 18),
        ("Versión", 9),
        ("Aceptado el", 17),
        ("Metas", 8),
    ]
    for source in Source:
        headers += [(f"{source.label} programado", 18), (f"{source.label} disponible", 18)]
    headers += [("Total programado", 19), ("Total disponible", 19)]
    headers += [(f"Programado {QUARTER_LABELS[q]}", 18) for q in QUARTERS]
    return headers


def _summary_numbers(summary: PlanSummary) -> list[int]:
    """Metas, then per source programado and disponible, the totals, and the total per quarter."""
    numbers = [summary.metas]
    for source in summary.sources:
        numbers += [source.planned, source.available]
    numbers += [summary.planned, summary.available]
    numbers += [sum(source.by_quarter[q - 1] for source in summary.sources) for q in QUARTERS]
    return numbers


def _write_summary(
    ws: Worksheet, figures: Sequence[_Figures], municipality: str, vigencia: int, generated_at: dt.datetime
) -> None:
    """Per dependencia and for the whole municipality: metas, programado against disponible, by quarter."""
    title(ws, f"Resumen del plan de acción consolidado {vigencia}")
    put_text(ws.cell(2, 1), municipality).font = BOLD
    headers = _summary_headers()
    header(ws, TABLE_HEADER_ROW, headers)
    row = TABLE_HEADER_ROW
    totals = [0] * (len(headers) - 5)
    for item in figures:
        row += 1
        plan = item.plan
        numbers = _summary_numbers(item.summary)
        accepted = local(plan.accepted_at, generated_at)
        texts: list[Value] = [plan.dependencia_code, plan.dependencia_name, plan.radicado, plan.version, accepted]
        _write_row(ws, row, texts, numbers)
        ws.cell(row, 5).number_format = DATETIME_FORMAT
        totals = [a + b for a, b in zip(totals, numbers, strict=True)]
    _write_total(ws, row + 1, "Total municipio", 5, totals)
    ws.freeze_panes = ws.cell(TABLE_HEADER_ROW + 1, 3)
    fit_width(ws, landscape=True)


# ------------------------------------------------------------------------------------------------ Por proyecto


def _write_projects(ws: Worksheet, projects: Sequence[_Project], municipality: str, vigencia: int) -> None:
    """The budget split of the investment projects that art. 74 asks for: POAI by BPIN and quarter."""
    title(ws, f"Presupuesto de inversión (POAI) por proyecto – vigencia {vigencia}")
    put_text(ws.cell(2, 1), f"{municipality}. Proyectos registrados en el banco de programas y proyectos (BPIN).")
    headers = [("Código BPIN", 18), ("Proyecto", 45), ("Código dependencia", 12), ("Dependencia", 34), ("Metas", 8)]
    headers += [(f"POAI {QUARTER_LABELS[q]}", 18) for q in QUARTERS] + [("POAI total", 19)]
    header(ws, TABLE_HEADER_ROW, headers)
    row = TABLE_HEADER_ROW
    totals = [0] * 6
    for project in projects:
        row += 1
        numbers = [project.metas, *project.by_quarter, sum(project.by_quarter)]
        texts: list[Value] = [project.bpin or None, project.name or None, project.dependencia_code]
        _write_row(ws, row, [*texts, project.dependencia_name], numbers)
        ws.cell(row, 1).number_format = TEXT_FORMAT
        totals = [a + b for a, b in zip(totals, numbers, strict=True)]
    _write_total(ws, row + 1, "Total POAI", 4, totals)
    ws.freeze_panes = ws.cell(TABLE_HEADER_ROW + 1, 1)
    fit_width(ws, landscape=True)


# ------------------------------------------------------------------------------------------------ cells


def _write_row(ws: Worksheet, row: int, texts: Sequence[Value], numbers: Sequence[int]) -> None:
    """Leading text cells (codes kept as text), then whole pesos and counts with the pesos format."""
    for col, value in enumerate(texts, start=1):
        put_text(ws.cell(row, col), value).alignment = TOP
    ws.cell(row, 1).number_format = TEXT_FORMAT
    for col, amount in enumerate(numbers, start=len(texts) + 1):
        cell = put_text(ws.cell(row, col), amount)
        cell.number_format = "0" if col == len(texts) + 1 else PESOS_FORMAT  # the first is a count of metas


def _write_total(ws: Worksheet, row: int, label: str, texts: int, totals: Sequence[int]) -> None:
    _write_row(ws, row, [label, *([None] * (texts - 1))], totals)
    for col in range(1, texts + len(totals) + 1):
        ws.cell(row, col).font, ws.cell(row, col).fill = BOLD, TOTAL_FILL
