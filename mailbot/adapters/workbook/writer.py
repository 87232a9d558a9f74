"""Generating the E-DE-F-010 workbook that planeación mails to each dependencia.

The file is the only interface a secretario sees, so it does the explaining: plain Spanish instructions, tinted
cells for what to fill, dropdowns for every closed list, totals that compute themselves, everything else locked.
Writing is strict (exact contract labels, codes as text, no value ever turned into a formula); reading, elsewhere,
is tolerant. Only openpyxl's standard features are used, so the dropdowns survive a load-and-save by openpyxl
(FIELD-NOTES: Excel's extension-format validations do not).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from mailbot.config import MailbotConfig
from mailbot.domain.context import AvailableBudget, Catalogue, CatalogueEntry
from mailbot.domain.control import ControlBlock
from mailbot.domain.fechas import fecha_larga
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    FORMAT_CODE,
    FORMAT_TITLE,
    FORMAT_VERSION,
    HEADER_FIRST_ROW,
    HEADER_INPUTS,
    HEADER_ROW,
    META_TYPES,
    METAS_BY_KEY,
    METAS_COLUMNS,
    METAS_LETTERS,
    PREFILL_KEYS,
    PROCESS_NAME,
    QUARTERS,
    SHEET_CONTROL,
    SHEET_HEADER,
    SHEET_INSTRUCTIONS,
    SHEET_LISTS,
    SHEET_METAS,
    SHEET_SUMMARY,
    UNITS,
    Column,
    ControlField,
    HeaderField,
    Kind,
    Ronda,
    Source,
    money_key,
    physical_key,
)

Workbook = Any  # openpyxl ships no type information
Worksheet = Any
Cell = Any

DEFAULT_ROWS: Final = 30
EXTRA_ROWS: Final = 10  # empty rows offered below the catalogue's pre-filled ones
FORMAT_DATE: Final = dt.date(2026, 11, 29)  # date of FORMAT_VERSION 1, shown in the quality header
PESOS_FORMAT: Final = '"$ "#,##0'
DATE_FORMAT: Final = "DD/MM/YYYY"
TEXT_FORMAT: Final = "@"
PERCENT_FORMAT: Final = "0.0%"

LIST_UNITS: Final = "lista_unidades"
LIST_TYPES: Final = "lista_tipos"
LIST_LINEAS: Final = "lista_lineas"
LIST_METAS: Final = "lista_metas"

_INPUT_FILL: Final = PatternFill("solid", fgColor="FFF2CC")  # light yellow: "fill me"
_LOCKED_FILL: Final = PatternFill("solid", fgColor="E7E6E6")  # grey: "do not touch"
_HEADER_FILL: Final = PatternFill("solid", fgColor="1F4E78")
_UNLOCKED: Final = Protection(locked=False)
_LOCKED: Final = Protection(locked=True)
_TITLE_FONT: Final = Font(bold=True, size=14)
_BOLD: Final = Font(bold=True)
_HEADER_FONT: Final = Font(bold=True, color="FFFFFF")
_DEADLINE_FONT: Final = Font(bold=True, size=12, color="C00000")
_NOTE_FONT: Final = Font(italic=True, color="595959")
_THIN: Final = Side(style="thin", color="BFBFBF")
_BORDER: Final = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_TOP: Final = Alignment(wrap_text=True, vertical="top")
_TOP: Final = Alignment(vertical="top")
_HEADER_ALIGN: Final = Alignment(wrap_text=True, horizontal="center", vertical="center")
_TEXT_WIDTH: Final = 100  # `Instrucciones` column B
_MAX_LINES: Final = 8
_FORMULA_TRIGGERS: Final = ("=", "+", "-", "@")


@dataclass(frozen=True)
class TemplateSpec:
    """Everything one workbook shows: built from configuration by `spec_from_config`, or by hand in tests."""

    municipality: str
    dane_code: str
    plan_name: str
    plan_period: str
    vigencia: int
    ronda: Ronda
    deadline: dt.date
    dependencia_code: str
    dependencia_name: str
    head_name: str
    head_title: str
    head_email: str
    available: AvailableBudget
    control: dict[str, str]  # ControlBlock.signed(secret): field → text, firma included
    catalogue: tuple[CatalogueEntry, ...] = ()  # this dependencia's PDM metas, pre-filled one per row
    lineas: tuple[str, ...] = ()  # every línea of the PDM (the dropdown)
    rows: int = DEFAULT_ROWS  # meta rows offered

    @property
    def meta_rows(self) -> int:
        """Never fewer rows than pre-filled metas."""
        return max(self.rows, len(self.catalogue))

    @property
    def last_row(self) -> int:
        return FIRST_DATA_ROW + self.meta_rows - 1


def spec_from_config(
    config: MailbotConfig,
    dependencia_code: str,
    *,
    ronda: Ronda,
    vigencia: int,
    deadline: dt.date,
    token: str,
    catalogue: Catalogue | None,
) -> TemplateSpec:
    """The spec of one dependencia's workbook for one mailing (pure: the catalogue is already loaded)."""
    _require_formulacion(ronda)
    dep = config.dependencia(dependencia_code)
    block = ControlBlock(ronda=ronda.value, vigencia=vigencia, dependencia=dep.code, token=token)
    entries = catalogue.for_dependencia(dep.code) if catalogue else ()
    return TemplateSpec(
        municipality=config.municipality.name,
        dane_code=config.municipality.dane_code,
        plan_name=config.development_plan.name,
        plan_period=config.development_plan.period,
        vigencia=vigencia,
        ronda=ronda,
        deadline=deadline,
        dependencia_code=dep.code,
        dependencia_name=dep.name,
        head_name=dep.head.name,
        head_title=dep.head.title,
        head_email=dep.addresses[0],
        available=AvailableBudget(
            poai=dep.budget.poai, funcionamiento=dep.budget.operating, cofinanciacion=dep.budget.cofinancing
        ),
        control=block.signed(config.signing.secret.get_secret_value()),
        catalogue=entries,
        lineas=catalogue.lineas if catalogue else (),
        rows=len(entries) + EXTRA_ROWS if entries else DEFAULT_ROWS,
    )


def build_template(spec: TemplateSpec) -> Workbook:
    """The workbook, sheets in contract order; `Instrucciones` is the one that opens first."""
    _require_formulacion(spec.ronda)
    wb = openpyxl.Workbook()
    sheets = [wb.active] + [wb.create_sheet() for _ in range(5)]
    for ws, title in zip(
        sheets, (SHEET_INSTRUCTIONS, SHEET_HEADER, SHEET_METAS, SHEET_SUMMARY, SHEET_LISTS, SHEET_CONTROL), strict=True
    ):
        ws.title = title
    instructions, header, metas, summary, lists, control = sheets
    _write_instructions(instructions, spec)
    _write_header(header, spec)
    _write_metas(metas, spec)
    _write_summary(summary, spec)
    _write_lists(wb, lists, spec)
    _write_control(control, spec)
    wb.properties.title = f"{FORMAT_CODE} {FORMAT_TITLE}"
    wb.properties.creator = "mailbot"
    wb.calculation.fullCalcOnLoad = True  # openpyxl stores no cached results: let the spreadsheet compute them
    return wb


def template_bytes(spec: TemplateSpec) -> bytes:
    """The .xlsx file as bytes, ready to attach."""
    buffer = io.BytesIO()
    build_template(spec).save(buffer)
    return buffer.getvalue()


def _require_formulacion(ronda: Ronda) -> None:
    if ronda is not Ronda.FORMULACION:
        raise ValueError(f"only the formulación workbook can be generated yet, not '{ronda.value}'")


# ------------------------------------------------------------------------------------------------ cells


class Formula(str):
    """A formula the generator writes on purpose; every other string is written as literal text."""


def put(cell: Cell, value: object) -> Cell:
    """Write a value; only a `Formula` becomes a formula. Text starting with = + - @ stays literal text.

    Configuration and catalogue text is not ours; `=HYPERLINK(...)` in a program name must show as written, and
    the quote prefix keeps it text even after the secretario edits the cell in Excel.
    """
    cell.value = str(value) if isinstance(value, Formula) else value
    if isinstance(value, str) and not isinstance(value, Formula) and value.startswith(_FORMULA_TRIGGERS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _input(cell: Cell) -> None:
    cell.protection = _UNLOCKED
    cell.fill = _INPUT_FILL
    cell.border = _BORDER


def _locked(cell: Cell, *, grey: bool = True) -> None:
    cell.protection = _LOCKED
    if grey:
        cell.fill = _LOCKED_FILL
    cell.border = _BORDER


def _protect(ws: Worksheet, *, allow_rows: bool = False) -> None:
    """Protection without a password: it prevents accidents, not attacks (the validator re-checks all)."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # False = allowed: widening a column is harmless
    ws.protection.formatRows = False
    if allow_rows:
        ws.protection.insertRows = False


def fit_width(ws: Worksheet, *, landscape: bool = False) -> None:
    """Printed on pages one sheet wide: secretarios print the instructions and the summary to sign them."""
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.page_setup.orientation = "landscape" if landscape else "portrait"


def _title(ws: Worksheet, ref: str, text: str) -> None:
    put(ws[ref], text).font = _TITLE_FONT


def _widths(ws: Worksheet, widths: dict[str, float]) -> None:
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width


def _sheet_ref(name: str) -> str:
    """A sheet name as formulas write it: bare when it is a plain word (all of the contract's are)."""
    return name if name.replace("_", "").isalnum() else "'" + name.replace("'", "''") + "'"


def _header_ref(field: HeaderField) -> str:
    """`Encabezado` value cell of a field, e.g. `$B$13`."""
    return f"$B${HEADER_FIRST_ROW + list(HeaderField).index(field)}"


def _metas_range(spec: TemplateSpec, key: str) -> str:
    letter = METAS_LETTERS[key]
    return f"{_sheet_ref(SHEET_METAS)}!${letter}${FIRST_DATA_ROW}:${letter}${spec.last_row}"


# ------------------------------------------------------------------------------------------------ Instrucciones

#: The contract's rules, paraphrased for a secretario: (code, what happens, what to do).
RULES_FOR_SECRETARIO: Final = (
    ("F01", "Corrección", "Envíe el archivo en Excel (.xlsx). No sirven .xls, .ods, .csv, .xlsm ni con contraseña."),
    ("F02", "Corrección", "No cambie el nombre de las hojas ni los títulos de las columnas, y no mueva columnas."),
    ("F03", "Corrección", "Use este mismo archivo; no lo pase a un formato anterior ni a otro formato."),
    (
        "F04",
        "Corrección o aviso",
        "Responda con el archivo que recibió para su dependencia y esta vigencia, no con el de otra dependencia "
        "u otro año.",
    ),
    (
        "F05",
        "Corrección",
        "Ninguna celda que usted diligencia puede mostrar un error como #¡REF!, #¡DIV/0!, #¡VALOR!, #N/D o #¿NOMBRE?.",
    ),
    ("F06", "Corrección", "El plan debe tener al menos una meta."),
    ("H01", "Corrección", "En «Encabezado» no cambie la vigencia ni la dependencia."),
    ("H02", "Corrección", "Escriba en «Encabezado» el nombre y un correo electrónico válido del secretario(a)."),
    (
        "M01",
        "Corrección",
        "Cada meta necesita línea, código y nombre del programa, código y nombre de la meta, indicador y "
        "actividades principales.",
    ),
    ("M02", "Corrección o aviso", "Elija la unidad de medida de la lista desplegable."),
    ("M03", "Corrección", "Elija el tipo de meta de la lista: Incremento, Mantenimiento o Reducción."),
    (
        "M04",
        "Corrección",
        "La meta vigencia debe ser un número mayor que cero; la línea base y la meta cuatrienio deben ser números.",
    ),
    (
        "M05",
        "Corrección",
        "En metas de Incremento y Reducción, T1 + T2 + T3 + T4 debe ser igual a la meta vigencia. En metas de "
        "Mantenimiento, ningún trimestre supera la meta vigencia y T4 es igual a ella.",
    ),
    (
        "M06",
        "Corrección o aviso",
        "El código de la meta de producto debe existir en el Plan de Desarrollo; use la lista desplegable.",
    ),
    ("M07", "Corrección", "No repita un código de meta de producto en dos filas."),
    ("M08", "Aviso", "En metas de Incremento, la meta vigencia no debería superar la meta cuatrienio."),
    (
        "P01",
        "Corrección o aviso",
        "Escriba los valores en pesos como números enteros, sin centavos, sin signo $ ni puntos (ej.: 1500000).",
    ),
    ("P02", "Corrección", "No escriba en las columnas de totales: se calculan solas."),
    (
        "P03",
        "Corrección",
        "Lo programado no puede superar el presupuesto disponible, ni en total ni en cada fuente.",
    ),
    ("P04", "Aviso", "Procure asignar al menos el 90 % del presupuesto disponible de cada fuente."),
    (
        "P05",
        "Corrección",
        "Si una meta tiene recursos del POAI, escriba el código BPIN del proyecto (13 o 15 dígitos) y su nombre, "
        "como están registrados en el banco de programas y proyectos.",
    ),
    ("P06", "Corrección", "Si una meta tiene recursos de cofinanciación, escriba la entidad cofinanciadora."),
    ("P07", "Aviso", "Si una meta no tiene recursos, se le pedirá confirmar que es una meta de gestión."),
    ("R01", "Corrección", "Cada meta necesita un responsable directo y su cargo."),
    ("R02", "Corrección", "Escriba un correo electrónico válido para el responsable directo."),
    ("R03", "Aviso", "El responsable directo no debe figurar también como responsable indirecto."),
)


_EFFECTS: Final = (
    "«Corrección»: el plan le será devuelto para que lo corrija. «Aviso»: el plan se acepta y la observación se le "
    "informa en el correo de aceptación."
)


def _steps(spec: TemplateSpec) -> list[str]:
    steps = [
        "Revise la hoja «Encabezado». La Secretaría de Planeación ya diligenció el municipio, la dependencia, la "
        "vigencia y el presupuesto disponible. Si algún dato no corresponde, infórmelo respondiendo el correo.",
        "En esa misma hoja, confirme o corrija su nombre, cargo y correo electrónico, y escriba la fecha de "
        "diligenciamiento (dd/mm/aaaa) y, si lo tiene, el número de oficio.",
        f"En la hoja «Metas», registre una meta por fila, desde la fila {FIRST_DATA_ROW}. Use las listas "
        f"desplegables para {_dropdown_names(spec)}.",
        "Programe la meta física por trimestre: T1 = enero a marzo, T2 = abril a junio, T3 = julio a septiembre, "
        "T4 = octubre a diciembre.",
        "Asigne el presupuesto de cada meta por trimestre y por fuente (POAI, funcionamiento, cofinanciación), en "
        "pesos enteros. Los totales se calculan solos.",
        "Indique el responsable directo de cada meta, su cargo y su correo; escriba los responsables indirectos "
        "separados por punto y coma (;).",
        "Revise la hoja «Resumen»: lo programado no puede superar el presupuesto disponible y conviene asignar al "
        "menos el 90 % de cada fuente.",
        "Guarde el archivo en formato Excel (.xlsx), sin cambiar los nombres de las hojas ni los títulos de las "
        f"columnas, y envíelo como respuesta al correo en el que lo recibió, a más tardar el "
        f"{fecha_larga(spec.deadline)}.",
    ]
    if spec.catalogue:
        steps.insert(
            3,
            "Las metas del Plan de Desarrollo a cargo de su dependencia ya vienen en la hoja «Metas». Complete sus "
            "datos; si alguna no se ejecutará en esta vigencia, seleccione las celdas de color de esa fila y "
            "bórrelas con la tecla Supr.",
        )
    return steps


def _dropdown_names(spec: TemplateSpec) -> str:
    names = ["la línea estratégica"] if spec.lineas else []
    names += ["el código de la meta"] if spec.catalogue else []
    names += ["la unidad de medida", "el tipo de meta"]
    return ", ".join(names[:-1]) + " y " + names[-1]


def _write_instructions(ws: Worksheet, spec: TemplateSpec) -> None:
    quality = (
        ("Proceso", PROCESS_NAME),
        ("Formato", FORMAT_TITLE),
        ("Código", FORMAT_CODE),
        ("Versión", str(FORMAT_VERSION)),
        ("Fecha", FORMAT_DATE.strftime("%d/%m/%Y")),
    )
    for row, (label, value) in enumerate(quality, start=1):
        put(ws.cell(row, 1), label).font = _BOLD
        put(ws.cell(row, 2), value)
        for col in (1, 2):
            ws.cell(row, col).border = _BORDER
    row = len(quality) + 2
    _title(ws, f"A{row}", spec.municipality)
    put(ws.cell(row + 1, 1), f"Plan de acción {spec.vigencia} – {spec.dependencia_name}").font = _BOLD
    put(ws.cell(row + 2, 1), f"Ronda: {spec.ronda.label}")
    put(ws.cell(row + 4, 1), "Fecha límite de entrega").font = _BOLD
    put(ws.cell(row + 4, 2), fecha_larga(spec.deadline)).font = _DEADLINE_FONT
    row = _write_block(ws, row + 6, "Pasos", ((str(i), s) for i, s in enumerate(_steps(spec), start=1)))
    row = _write_legend(ws, row + 1)
    put(ws.cell(row + 1, 1), "Lo que revisa la Secretaría de Planeación").font = _TITLE_FONT
    _paragraph(ws, row + 2, _EFFECTS)
    for i, (code, effect, text) in enumerate(RULES_FOR_SECRETARIO, start=row + 3):
        code_cell = put(ws.cell(i, 1), code)
        code_cell.font, code_cell.alignment = _BOLD, _TOP
        _paragraph(ws, i, text)
        put(ws.cell(i, 3), effect).alignment = _TOP
    _widths(ws, {"A": 26, "B": _TEXT_WIDTH, "C": 20})
    fit_width(ws)
    _protect(ws)


def _write_block(ws: Worksheet, row: int, title: str, lines: Iterable[tuple[str, str]]) -> int:
    """A titled list (number, text); returns the first free row."""
    put(ws.cell(row, 1), title).font = _TITLE_FONT
    for offset, (mark, text) in enumerate(lines, start=1):
        put(ws.cell(row + offset, 1), mark).alignment = _TOP
        _paragraph(ws, row + offset, text)
    return int(ws.max_row) + 1


def _paragraph(ws: Worksheet, row: int, text: str) -> None:
    """Wrapped text in column B, with a row height that shows all of it.

    Spreadsheets do not grow a row for wrapped text they did not lay out themselves (LibreOffice shows the
    lines overlapping), so the height is estimated.
    """
    put(ws.cell(row, 2), text).alignment = _WRAP_TOP
    fit_height(ws, row, wrapped_lines(text, _TEXT_WIDTH))


def wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column: about 1.1 characters per unit of width (Calibri 11)."""
    return sum(max(1, math.ceil(len(part) / (width * 1.1))) for part in text.split("\n"))


def fit_height(ws: Worksheet, row: int, lines: int) -> None:
    if lines > 1:
        ws.row_dimensions[row].height = 15 * min(lines, _MAX_LINES)


def _write_legend(ws: Worksheet, row: int) -> int:
    put(ws.cell(row, 1), "Colores").font = _TITLE_FONT
    sample = ws.cell(row + 1, 1)
    sample.fill, sample.border = _INPUT_FILL, _BORDER
    put(ws.cell(row + 1, 2), "Celdas de color: las diligencia usted.")
    sample = ws.cell(row + 2, 1)
    sample.fill, sample.border = _LOCKED_FILL, _BORDER
    put(ws.cell(row + 2, 2), "Celdas grises: las diligencia Planeación o se calculan solas; no las modifique.")
    return row + 3


# ------------------------------------------------------------------------------------------------ Encabezado


def _header_values(spec: TemplateSpec) -> dict[HeaderField, object]:
    budget_rows = [_header_ref(f).replace("$", "") for f in _BUDGET_FIELDS]
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
    }


_BUDGET_FIELDS: Final = (
    HeaderField.DISPONIBLE_POAI,
    HeaderField.DISPONIBLE_FUNCIONAMIENTO,
    HeaderField.DISPONIBLE_COFINANCIACION,
)
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


def _write_header(ws: Worksheet, spec: TemplateSpec) -> None:
    _title(ws, "A1", f"Plan de acción {spec.vigencia} – Encabezado")
    put(ws["C2"], "Las celdas de color las diligencia usted.").font = _NOTE_FONT
    for row, (field, value) in enumerate(_header_values(spec).items(), start=HEADER_FIRST_ROW):
        label = put(ws.cell(row, 1), field.value)
        label.font = _BOLD
        _locked(label, grey=False)
        cell = put(ws.cell(row, 2), value)
        cell.number_format = _HEADER_FORMATS.get(field, "General")
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        (_input if field in HEADER_INPUTS else _locked)(cell)
        if field in _HEADER_HINTS:
            put(ws.cell(row, 3), _HEADER_HINTS[field]).font = _NOTE_FONT
    date_check = DataValidation(
        type="date",
        operator="greaterThanOrEqual",
        formula1="36526",  # 01/01/2000 as a spreadsheet serial: works in Excel and LibreOffice
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Fecha",
        error="Escriba una fecha válida, por ejemplo 15/01/2027.",
    )
    date_check.add(_header_ref(HeaderField.FECHA).replace("$", ""))
    ws.add_data_validation(date_check)
    _widths(ws, {"A": 40, "B": 60, "C": 50})
    fit_width(ws)
    _protect(ws)


# ------------------------------------------------------------------------------------------------ Metas


def number_format_of(column: Column) -> str:
    if column.kind is Kind.PESOS or column.key == "total":
        return PESOS_FORMAT
    if column.kind is Kind.CODE:
        return TEXT_FORMAT
    return "General"


def _auto_value(column: Column, row: int) -> object:
    """N° and the formula totals: a source's total sums its quarters; the meta's total sums the sources."""
    if column.key == "number":
        return row - FIRST_DATA_ROW + 1
    if column.key == "total":
        return Formula("=SUM(" + ",".join(f"{METAS_LETTERS[money_key(s, None)]}{row}" for s in Source) + ")")
    source = Source(column.key.removesuffix("_total"))
    first, last = METAS_LETTERS[money_key(source, 1)], METAS_LETTERS[money_key(source, 4)]
    return Formula(f"=SUM({first}{row}:{last}{row})")


def _prefill(entry: CatalogueEntry) -> dict[str, str]:
    """Only PREFILL_KEYS: the rules skip a row that holds nothing but these."""
    values = {
        "linea": entry.linea,
        "program_code": entry.program_code,
        "program": entry.program,
        "meta_code": entry.meta_code,
        "meta": entry.meta,
        "indicator": entry.indicator,
        "unit": entry.unit,
    }
    assert values.keys() <= PREFILL_KEYS
    return {k: v for k, v in values.items() if v}


def _write_metas(ws: Worksheet, spec: TemplateSpec) -> None:
    _title(ws, "A1", f"Plan de acción {spec.vigencia} – {spec.ronda.label} – Metas")
    put(ws["A2"], f"Dependencia: {spec.dependencia_code} – {spec.dependencia_name}").font = _BOLD
    put(ws["A3"], f"Vigencia: {spec.vigencia}").font = _BOLD
    put(ws["A4"], "Diligencie las celdas de color, una meta por fila. Las celdas grises se calculan solas.")
    ws["A4"].font = _NOTE_FONT
    for index, column in enumerate(METAS_COLUMNS, start=1):
        cell = put(ws.cell(HEADER_ROW, index), column.label)
        cell.font, cell.fill, cell.alignment, cell.border = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN, _BORDER
        ws.column_dimensions[METAS_LETTERS[column.key]].width = column.width
    ws.row_dimensions[HEADER_ROW].height = 48
    prefills = [_prefill(e) for e in spec.catalogue]
    for row in range(FIRST_DATA_ROW, spec.last_row + 1):
        i = row - FIRST_DATA_ROW
        _write_meta_row(ws, row, prefills[i] if i < len(prefills) else {})
    _add_validations(ws, spec)
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    ws.page_setup.orientation = "landscape"
    _protect(ws, allow_rows=True)


def _write_meta_row(ws: Worksheet, row: int, prefill: dict[str, str]) -> None:
    """One meta row; a pre-filled one gets the height its catalogue text needs (empty rows grow as typed)."""
    for index, column in enumerate(METAS_COLUMNS, start=1):
        cell = ws.cell(row, index)
        cell.number_format = number_format_of(column)
        cell.alignment = _WRAP_TOP if column.kind in {Kind.TEXT, Kind.LIST} else _TOP
        if column.is_input:
            _input(cell)
            if column.key in prefill:
                put(cell, prefill[column.key])
        else:
            _locked(cell)
            put(cell, _auto_value(column, row))
    if prefill:
        fit_height(ws, row, max(wrapped_lines(text, METAS_BY_KEY[key].width) for key, text in prefill.items()))


def _add_validations(ws: Worksheet, spec: TemplateSpec) -> None:
    for validation, keys in _validations(spec):
        for key in keys:
            letter = METAS_LETTERS[key]
            validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{spec.last_row}")
        ws.add_data_validation(validation)


def _validations(spec: TemplateSpec) -> list[tuple[DataValidation, tuple[str, ...]]]:
    """Each validation with the Metas columns it applies to; lists point at the named ranges of `Listas`."""
    top = f"{FIRST_DATA_ROW}"
    found: list[tuple[DataValidation, tuple[str, ...]]] = [
        (_list_check(LIST_UNITS, "Unidad de medida", "Elija la unidad de medida de la lista."), ("unit",)),
        (_list_check(LIST_TYPES, "Tipo de meta", "Elija Incremento, Mantenimiento o Reducción."), ("meta_type",)),
        (
            _number_check(
                "whole",
                "greaterThanOrEqual",
                "Valor en pesos",
                "Escriba pesos enteros, sin centavos, sin signo $ ni puntos (ej.: 1500000).",
            ),
            tuple(money_key(s, q) for s in Source for q in QUARTERS),
        ),
        (
            _number_check("decimal", "greaterThanOrEqual", "Número", "Escriba un número mayor o igual a cero."),
            ("baseline", "meta_cuatrienio", *(physical_key(q) for q in QUARTERS)),
        ),
        (
            _number_check("decimal", "greaterThan", "Meta vigencia", "La meta vigencia es un número mayor que cero."),
            ("meta_vigencia",),
        ),
        (
            _custom_check(
                f"OR(LEN({METAS_LETTERS['bpin']}{top})=13,LEN({METAS_LETTERS['bpin']}{top})=15)",
                "Código BPIN",
                "El código BPIN tiene 13 o 15 dígitos, tal como está en el banco de programas y proyectos.",
            ),
            ("bpin",),
        ),
        (
            _custom_check(
                f'ISNUMBER(FIND("@",{METAS_LETTERS["resp_email"]}{top}))',
                "Correo electrónico",
                "Escriba un correo electrónico completo, por ejemplo nombre@entidad.gov.co.",
                style="warning",
            ),
            ("resp_email",),
        ),
    ]
    if spec.lineas:
        found.append(
            (_list_check(LIST_LINEAS, "Línea estratégica", "Elija la línea del Plan de Desarrollo."), ("linea",))
        )
    if spec.catalogue:
        check = _list_check(
            LIST_METAS,
            "Código meta producto",
            "Elija el código de la meta del Plan de Desarrollo. Si la meta es de otra dependencia, se le avisará.",
            style="warning",
        )
        found.append((check, ("meta_code",)))
    return found


def _list_check(name: str, title: str, message: str, *, style: str = "stop") -> DataValidation:
    """A dropdown fed by a named range (standard validation: it survives openpyxl's load and save)."""
    return DataValidation(
        type="list",
        formula1=name,
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorStyle=style,
        promptTitle=title[:32],
        prompt=message,
        errorTitle=title[:32],
        error=message,
    )


def _number_check(kind: str, operator: str, title: str, message: str) -> DataValidation:
    return DataValidation(
        type=kind,
        operator=operator,
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle=title[:32],
        error=message,
    )


def _custom_check(formula: str, title: str, message: str, *, style: str = "stop") -> DataValidation:
    return DataValidation(
        type="custom",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle=style,
        errorTitle=title[:32],
        error=message,
    )


# ------------------------------------------------------------------------------------------------ Resumen

_SUMMARY_COLUMNS: Final = (
    ("Fuente", 22),
    ("T1 (ene–mar)", 18),
    ("T2 (abr–jun)", 18),
    ("T3 (jul–sep)", 18),
    ("T4 (oct–dic)", 18),
    ("Total programado", 20),
    ("Presupuesto disponible", 20),
    ("Diferencia (disponible − programado)", 22),
    ("% asignado", 12),
    ("Estado", 32),
)
_SUMMARY_HEAD: Final = 4


def _write_summary(ws: Worksheet, spec: TemplateSpec) -> None:
    """Totals by source and quarter against the available budget, all formulas: it is never read back."""
    _title(ws, "A1", f"Resumen del plan de acción {spec.vigencia} – {spec.dependencia_name}")
    put(ws["A2"], "Esta hoja se calcula sola con las hojas «Metas» y «Encabezado»; no necesita diligenciarla.")
    ws["A2"].font = _NOTE_FONT
    for col, (label, width) in enumerate(_SUMMARY_COLUMNS, start=1):
        cell = put(ws.cell(_SUMMARY_HEAD, col), label)
        cell.font, cell.fill, cell.alignment, cell.border = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN, _BORDER
        ws.column_dimensions[cell.column_letter].width = width
    first = _SUMMARY_HEAD + 1
    for row, (source, field) in enumerate(zip(Source, _BUDGET_FIELDS, strict=True), start=first):
        sums = [Formula(f"=SUM({_metas_range(spec, money_key(source, q))})") for q in QUARTERS]
        available = Formula(f"={_sheet_ref(SHEET_HEADER)}!{_header_ref(field)}")
        _summary_row(ws, row, source.label, sums, available)
    total_row = first + len(Source)
    sums = [Formula(f"=SUM({col}{first}:{col}{total_row - 1})") for col in "BCDE"]
    _summary_row(ws, total_row, "Total", sums, Formula(f"=SUM(G{first}:G{total_row - 1})"))
    _write_counts(ws, spec, total_row + 2)
    fit_width(ws, landscape=True)
    _protect(ws)


def _summary_row(ws: Worksheet, row: int, label: str, quarter_sums: list[Formula], available: Formula) -> None:
    values: list[object] = [
        label,
        *quarter_sums,
        Formula(f"=SUM(B{row}:E{row})"),
        available,
        Formula(f"=G{row}-F{row}"),
        Formula(f"=IF(G{row}>0,F{row}/G{row},0)"),
        Formula(
            f'=IF(F{row}>G{row},"Supera el disponible",IF(G{row}=0,"Sin presupuesto disponible",'
            f'IF(F{row}<0.9*G{row},"Queda más del 10 % sin asignar","Correcto")))'
        ),
    ]
    for col, value in enumerate(values, start=1):
        cell = put(ws.cell(row, col), value)
        cell.number_format = PESOS_FORMAT if 2 <= col <= 8 else PERCENT_FORMAT if col == 9 else "General"
        _locked(cell, grey=False)
    ws.cell(row, 1).font = _BOLD


def _write_counts(ws: Worksheet, spec: TemplateSpec, row: int) -> None:
    codes = _metas_range(spec, "meta_code")
    counts = (
        ("Metas registradas", Formula(f"=COUNTA({codes})")),
        ("Metas sin recursos", Formula(f'=COUNTIFS({codes},"<>",{_metas_range(spec, "total")},0)')),
    )
    for offset, (label, formula) in enumerate(counts):
        put(ws.cell(row + offset, 1), label).font = _BOLD
        put(ws.cell(row + offset, 2), formula)


# ------------------------------------------------------------------------------------------------ Listas


def _write_lists(wb: Workbook, ws: Worksheet, spec: TemplateSpec) -> None:
    """The closed lists and this dependencia's PDM subset, each under a workbook-level name for the dropdowns."""
    columns: list[tuple[str, str | None, tuple[str, ...]]] = [
        ("Unidad de medida", LIST_UNITS, UNITS),
        ("Tipo de meta", LIST_TYPES, META_TYPES),
        ("Línea estratégica", LIST_LINEAS, spec.lineas),
        ("Código meta producto", LIST_METAS, tuple(e.meta_code for e in spec.catalogue)),
        ("Meta de producto", None, tuple(e.meta for e in spec.catalogue)),
    ]
    for col, (label, name, values) in enumerate(columns, start=1):
        put(ws.cell(1, col), label).font = _BOLD
        for row, value in enumerate(values, start=2):
            put(ws.cell(row, col), value).number_format = TEXT_FORMAT
        letter = ws.cell(1, col).column_letter
        ws.column_dimensions[letter].width = 30
        if name and values:
            ref = f"{_sheet_ref(SHEET_LISTS)}!${letter}$2:${letter}${len(values) + 1}"
            wb.defined_names[name] = DefinedName(name, attr_text=ref)
    ws.sheet_state = "hidden"
    _protect(ws)


# ------------------------------------------------------------------------------------------------ _control


def _write_control(ws: Worksheet, spec: TemplateSpec) -> None:
    """Label in A, value in B, every value text: a token `0012` or a vigencia must come back exactly."""
    for row, field in enumerate(ControlField, start=1):
        if field.value not in spec.control:
            raise ValueError(f"the control block lacks '{field.value}': build it with ControlBlock.signed(secret)")
        put(ws.cell(row, 1), field.value)
        cell = put(ws.cell(row, 2), str(spec.control[field.value]))
        cell.number_format = TEXT_FORMAT
    ws.sheet_state = "veryHidden"
    _protect(ws)
