"""The `Encabezado` sheet: who and what the plan is for (planeación's, locked) and who signs it (theirs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from openpyxl.styles import Alignment
from openpyxl.worksheet.datavalidation import DataValidation

from mailbot.adapters.workbook.cells import Formula, Worksheet, fit_width, put
from mailbot.adapters.workbook.style import BOLD, DATE_FORMAT, NOTE_FONT, PESOS_FORMAT, TEXT_FORMAT
from mailbot.adapters.workbook.writer.sheet import (
    BUDGET_FIELDS,
    header_ref,
    input_cell,
    locked_cell,
    protect,
    title,
    widths,
)
from mailbot.adapters.workbook.writer.spec import TemplateSpec
from mailbot.domain import values
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.workbook_format import HEADER_FIRST_ROW, HEADER_INPUTS, HeaderField, fold

#: Seguimiento: taken from the accepted plan's `Encabezado`, still editable (the person reporting may differ).
_FROM_ACCEPTED: Final = (HeaderField.SECRETARIO, HeaderField.CARGO, HeaderField.CORREO, HeaderField.OFICIO)
_HEADER_HINTS: Final = {
    HeaderField.SECRETARIO: "Nombre completo de quien firma el plan.",
    HeaderField.CORREO: "Correo institucional donde recibirá las respuestas.",
    HeaderField.FECHA: "Escriba la fecha así: 15/01/2027.",
    HeaderField.OFICIO: "Opcional: número del oficio remisorio.",
}
_HEADER_FORMATS: Final = {
    HeaderField.CODIGO_DANE: TEXT_FORMAT,
    HeaderField.CODIGO_DEPENDENCIA: TEXT_FORMAT,
    HeaderField.DISPONIBLE_POAI: PESOS_FORMAT,
    HeaderField.DISPONIBLE_FUNCIONAMIENTO: PESOS_FORMAT,
    HeaderField.DISPONIBLE_COFINANCIACION: PESOS_FORMAT,
    HeaderField.DISPONIBLE_TOTAL: PESOS_FORMAT,
    HeaderField.FECHA: DATE_FORMAT,
    HeaderField.OFICIO: TEXT_FORMAT,
}


def write_header(ws: Worksheet, spec: TemplateSpec) -> None:
    title(ws, "A1", f"Plan de acción {spec.vigencia} – Encabezado")
    put(ws["C2"], "Las celdas de color las diligencia usted.").font = NOTE_FONT
    for row, (field, value) in enumerate(_header_values(spec).items(), start=HEADER_FIRST_ROW):
        label = put(ws.cell(row, 1), field.value)
        label.font = BOLD
        locked_cell(label, grey=False)
        cell = put(ws.cell(row, 2), value)
        cell.number_format = _HEADER_FORMATS.get(field, "General")
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        (input_cell if field in HEADER_INPUTS else locked_cell)(cell)
        hint = _header_hints(spec).get(field)
        if hint:
            put(ws.cell(row, 3), hint).font = NOTE_FONT
    date_check = DataValidation(
        type="date",
        operator="greaterThanOrEqual",
        formula1="36526",  # 01/01/2000 as a spreadsheet serial: works in Excel and LibreOffice
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Fecha",
        error="Escriba una fecha válida, por ejemplo 15/01/2027.",
    )
    date_check.add(header_ref(HeaderField.FECHA).replace("$", ""))
    ws.add_data_validation(date_check)
    widths(ws, {"A": 40, "B": 60, "C": 50})
    fit_width(ws)
    protect(ws)


def _header_values(spec: TemplateSpec) -> dict[HeaderField, object]:
    budget_rows = [header_ref(f).replace("$", "") for f in BUDGET_FIELDS]
    return {
        HeaderField.MUNICIPIO: spec.municipality,
        HeaderField.CODIGO_DANE: spec.dane_code,
        HeaderField.PLAN: spec.plan_name,
        HeaderField.PERIODO: spec.plan_period,
        HeaderField.VIGENCIA: spec.vigencia,
        HeaderField.CODIGO_DEPENDENCIA: spec.dependencia_code,
        HeaderField.DEPENDENCIA: spec.dependencia_name,
        HeaderField.SECRETARIO: spec.head_name,
        HeaderField.CARGO: spec.head_title,
        HeaderField.CORREO: spec.head_email,
        HeaderField.DISPONIBLE_POAI: spec.available.poai,
        HeaderField.DISPONIBLE_FUNCIONAMIENTO: spec.available.funcionamiento,
        HeaderField.DISPONIBLE_COFINANCIACION: spec.available.cofinanciacion,
        HeaderField.DISPONIBLE_TOTAL: Formula(f"=SUM({budget_rows[0]}:{budget_rows[-1]})"),
        HeaderField.FECHA: None,
        HeaderField.VERSION_PLAN: 1,
        HeaderField.OFICIO: None,
    } | (_accepted_header(spec.accepted) if spec.ronda.quarter is not None and spec.accepted else {})


def _accepted_header(accepted: ParsedWorkbook) -> dict[HeaderField, object]:
    """The secretario's answers in the accepted plan, matched by folded label (as the reader's tolerance allows)."""
    by_fold = {fold(label): cell for label, cell in accepted.header.items()}
    found: dict[HeaderField, object] = {}
    for field in _FROM_ACCEPTED:
        cell = by_fold.get(fold(field.value))
        if cell is not None and not values.is_blank(cell.value):
            found[field] = values.text(cell.value)
    return found


def _header_hints(spec: TemplateSpec) -> Mapping[HeaderField, str]:
    if spec.ronda.quarter is None:
        return _HEADER_HINTS
    return _HEADER_HINTS | {HeaderField.SECRETARIO: "Nombre completo de quien firma el reporte de seguimiento."}
