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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Final

import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from mailbot.config import MailbotConfig
from mailbot.domain import values
from mailbot.domain.context import AvailableBudget, Catalogue, CatalogueEntry
from mailbot.domain.control import ControlBlock
from mailbot.domain.fechas import fecha_larga
from mailbot.domain.parsed import ParsedWorkbook, Row
from mailbot.domain.seguimiento import Baseline, PlannedMeta, QuarterReport
from mailbot.domain.workbook_format import (
    CONTENT_KEYS,
    EXPLANATION_MAX_CHARS,
    FIRST_DATA_ROW,
    FORMAT_CODE,
    FORMAT_TITLE,
    FORMAT_VERSION,
    FORMULACION_SHEETS,
    HEADER_FIRST_ROW,
    HEADER_INPUTS,
    HEADER_ROW,
    META_TYPES,
    METAS_BY_KEY,
    METAS_COLUMNS,
    METAS_LETTERS,
    PREFILL_KEYS,
    PROCESS_NAME,
    QUARTER_MONTHS,
    QUARTER_SHORT,
    QUARTERS,
    SEGUIMIENTO_BY_KEY,
    SEGUIMIENTO_COLUMNS,
    SEGUIMIENTO_FIXED,
    SEGUIMIENTO_LETTERS,
    SEGUIMIENTO_SHEETS,
    SHEET_CONTROL,
    SHEET_HEADER,
    SHEET_INSTRUCTIONS,
    SHEET_LISTS,
    SHEET_METAS,
    SHEET_SEGUIMIENTO,
    SHEET_SUMMARY,
    TOTAL_KEYS,
    UNITS,
    Column,
    ControlField,
    HeaderField,
    Kind,
    Ronda,
    Source,
    fold,
    money_key,
    physical_key,
    seguimiento_key,
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
    #: Seguimiento rounds only (ignored in formulación): the accepted metas and the quarters already reported,
    #: and the accepted formulación workbook as the reader read it (its `Metas` rows and `Encabezado`).
    baseline: Baseline | None = None
    accepted: ParsedWorkbook | None = None

    def __post_init__(self) -> None:
        """A seguimiento workbook without its accepted plan would be an empty form: refuse it here, not halfway."""
        quarter = self.ronda.quarter
        if quarter is None:
            return
        if self.baseline is None or self.accepted is None:
            raise ValueError(
                f"a '{self.ronda.value}' workbook is built from the accepted plan: pass baseline= and accepted="
            )
        if self.baseline.quarter != quarter:
            raise ValueError(f"the baseline is for quarter {self.baseline.quarter}, not for '{self.ronda.value}'")

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
    baseline: Baseline | None = None,
    accepted: ParsedWorkbook | None = None,
) -> TemplateSpec:
    """The spec of one dependencia's workbook for one mailing (pure: the catalogue and the plan are already read).

    A seguimiento ronda needs `baseline` (built with `summary.planned_metas` and the accepted quarters' reports)
    and `accepted` (the accepted formulación workbook as `read_workbook` returns it); formulación ignores both.
    """
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
        baseline=baseline,
        accepted=accepted,
    )


def build_template(spec: TemplateSpec) -> Workbook:
    """The workbook, sheets in contract order; `Instrucciones` is the one that opens first."""
    wb = openpyxl.Workbook()
    titles = FORMULACION_SHEETS if spec.ronda.quarter is None else SEGUIMIENTO_SHEETS
    sheets = dict(zip(titles, [wb.active] + [wb.create_sheet() for _ in titles[1:]], strict=True))
    for title, ws in sheets.items():
        ws.title = title
    _write_instructions(sheets[SHEET_INSTRUCTIONS], spec)
    _write_header(sheets[SHEET_HEADER], spec)
    if spec.baseline is not None and spec.accepted is not None and spec.ronda.quarter is not None:
        _write_accepted_metas(sheets[SHEET_METAS], spec, spec.accepted)
        _write_seguimiento(sheets[SHEET_SEGUIMIENTO], spec, spec.baseline)
        _write_seguimiento_summary(sheets[SHEET_SUMMARY], spec, spec.baseline)
    else:
        _write_metas(sheets[SHEET_METAS], spec)
        _write_summary(sheets[SHEET_SUMMARY], spec)
    _write_lists(wb, sheets[SHEET_LISTS], spec)
    _write_control(sheets[SHEET_CONTROL], spec)
    wb.properties.title = f"{FORMAT_CODE} {FORMAT_TITLE}"
    wb.properties.creator = "mailbot"
    wb.calculation.fullCalcOnLoad = True  # openpyxl stores no cached results: let the spreadsheet compute them
    return wb


def template_bytes(spec: TemplateSpec) -> bytes:
    """The .xlsx file as bytes, ready to attach."""
    buffer = io.BytesIO()
    build_template(spec).save(buffer)
    return buffer.getvalue()


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


#: The rules of a seguimiento round, paraphrased for the person reporting: the format rules, then S01–S05.
SEGUIMIENTO_RULES: Final = (
    *(rule for rule in RULES_FOR_SECRETARIO if rule[0] in {"F01", "F02", "F03", "F04", "F05", "H01", "H02"}),
    (
        "S01",
        "Corrección",
        "Reporte la ejecución física del trimestre de cada meta programada en él; si no se ejecutó nada, escriba 0 "
        "y explique por qué.",
    ),
    (
        "S02",
        "Corrección",
        "Escriba Comprometido, Obligado y Pagado en pesos enteros acumulados al corte (0 si no hay): lo "
        "comprometido debe ser mayor o igual a lo obligado, y lo obligado mayor o igual a lo pagado.",
    ),
    ("S03", "Aviso", "Si lo comprometido supera lo programado hasta el trimestre, confirme el valor o explíquelo."),
    (
        "S04",
        "Corrección",
        "Toda meta con ejecución necesita su evidencia (enlace o referencia del archivo), y toda meta programada o "
        f"con ejecución, una explicación de máximo {EXPLANATION_MAX_CHARS} caracteres.",
    ),
    (
        "S05",
        "Corrección",
        "No cambie las celdas grises (el plan aceptado y los trimestres ya reportados) ni agregue, borre o mueva "
        "filas; si hay un error en ellas, infórmelo a Planeación.",
    ),
)
_SEGUIMIENTO_EFFECTS: Final = (
    "«Corrección»: el seguimiento le será devuelto para que lo corrija. «Aviso»: el seguimiento se acepta y la "
    "observación se le informa en el correo de aceptación."
)
_GREY_SEGUIMIENTO: Final = (
    "Celdas grises: el plan de acción aceptado, los trimestres ya reportados y los que aún no se reportan; no se "
    "pueden modificar."
)


def _seguimiento_steps(spec: TemplateSpec, baseline: Baseline) -> list[str]:
    """What the person reporting does, in order: they fill a few columns of a locked sheet, once a quarter."""
    return [
        "Revise la hoja «Encabezado»: confirme o corrija el nombre, el cargo y el correo electrónico de quien "
        "reporta, y escriba la fecha de diligenciamiento (dd/mm/aaaa) y, si lo tiene, el número de oficio.",
        "La hoja «Metas» muestra el plan de acción aceptado, solo para consulta: no se modifica en el seguimiento.",
        f"En la hoja «Seguimiento» hay una fila por cada meta del plan aceptado. Diligencie las celdas de color "
        f"{_open_blocks(baseline)}.",
        "Ejecución física: la cantidad lograda en el trimestre, en la unidad de medida de la meta (en las metas de "
        "Mantenimiento, el nivel alcanzado). Si no hubo avance, escriba 0 y explique por qué.",
        "Comprometido, Obligado y Pagado: valores en pesos enteros ACUMULADOS desde el 1 de enero hasta el corte "
        "del trimestre, de todas las fuentes, sin centavos, sin signo $ ni puntos (ej.: 1500000). Lo comprometido "
        "es mayor o igual a lo obligado, y lo obligado mayor o igual a lo pagado.",
        "Evidencia: el enlace o la referencia del archivo que soporta la ejecución; es obligatoria para toda meta "
        "con ejecución.",
        f"Explicación: un resumen del avance o de las dificultades del trimestre, de máximo {EXPLANATION_MAX_CHARS} "
        "caracteres.",
        "Las celdas grises son el plan aceptado, los trimestres ya reportados y los que aún no se reportan: no se "
        "pueden cambiar. Si encuentra un error en ellas, infórmelo a Planeación.",
        "Guarde el archivo en formato Excel (.xlsx), sin cambiar los nombres de las hojas ni los títulos de las "
        "columnas, y envíelo adjunto como respuesta al correo en el que lo recibió, a más tardar el "
        f"{fecha_larga(spec.deadline)}.",
    ]


def _open_blocks(baseline: Baseline) -> str:
    """Which blocks to fill: "del trimestre 3 (julio a septiembre)", or all the open ones when one came late."""
    quarters = [f"{q} ({QUARTER_MONTHS[q]})" for q in baseline.open_quarters or (baseline.quarter,)]
    if len(quarters) == 1:
        return f"del trimestre {quarters[0]}"
    return "de los trimestres " + ", ".join(quarters[:-1]) + " y " + quarters[-1]


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
    guide = _guide(spec)
    row = _write_block(ws, row + 6, "Pasos", ((str(i), s) for i, s in enumerate(guide.steps, start=1)))
    row = _write_legend(ws, row + 1, grey=guide.grey)
    put(ws.cell(row + 1, 1), "Lo que revisa la Secretaría de Planeación").font = _TITLE_FONT
    _paragraph(ws, row + 2, guide.effects)
    for i, (code, effect, text) in enumerate(guide.rules, start=row + 3):
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


_GREY_FORMULACION: Final = "Celdas grises: las diligencia Planeación o se calculan solas; no las modifique."


def _write_legend(ws: Worksheet, row: int, *, grey: str = _GREY_FORMULACION) -> int:
    put(ws.cell(row, 1), "Colores").font = _TITLE_FONT
    sample = ws.cell(row + 1, 1)
    sample.fill, sample.border = _INPUT_FILL, _BORDER
    put(ws.cell(row + 1, 2), "Celdas de color: las diligencia usted.")
    sample = ws.cell(row + 2, 1)
    sample.fill, sample.border = _LOCKED_FILL, _BORDER
    if len(grey) > _TEXT_WIDTH:
        _paragraph(ws, row + 2, grey)  # wrapped, with the height it needs
    else:
        put(ws.cell(row + 2, 2), grey)
    return row + 3


@dataclass(frozen=True)
class _Guide:
    """What `Instrucciones` explains for one ronda: the steps, what a finding does, the rules, the grey cells."""

    steps: list[str]
    effects: str
    rules: tuple[tuple[str, str, str], ...]
    grey: str


def _guide(spec: TemplateSpec) -> _Guide:
    if spec.baseline is None or spec.ronda.quarter is None:
        return _Guide(_steps(spec), _EFFECTS, RULES_FOR_SECRETARIO, _GREY_FORMULACION)
    return _Guide(_seguimiento_steps(spec, spec.baseline), _SEGUIMIENTO_EFFECTS, SEGUIMIENTO_RULES, _GREY_SEGUIMIENTO)


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
    } | (_accepted_header(spec.accepted) if spec.ronda.quarter is not None and spec.accepted else {})


#: Seguimiento: taken from the accepted plan's `Encabezado`, still editable (the person reporting may differ).
_FROM_ACCEPTED: Final = (HeaderField.SECRETARIO, HeaderField.CARGO, HeaderField.CORREO, HeaderField.OFICIO)


def _accepted_header(accepted: ParsedWorkbook) -> dict[HeaderField, object]:
    """The secretario's answers in the accepted plan, matched by folded label (as the reader's tolerance allows)."""
    by_fold = {fold(label): cell for label, cell in accepted.header.items()}
    found: dict[HeaderField, object] = {}
    for field in _FROM_ACCEPTED:
        cell = by_fold.get(fold(field.value))
        if cell is not None and not values.is_blank(cell.value):
            found[field] = values.text(cell.value)
    return found


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


def _header_hints(spec: TemplateSpec) -> Mapping[HeaderField, str]:
    if spec.ronda.quarter is None:
        return _HEADER_HINTS
    return _HEADER_HINTS | {HeaderField.SECRETARIO: "Nombre completo de quien firma el reporte de seguimiento."}


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
        hint = _header_hints(spec).get(field)
        if hint:
            put(ws.cell(row, 3), hint).font = _NOTE_FONT
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
    _metas_heading(ws, spec, "Diligencie las celdas de color, una meta por fila. Las celdas grises se calculan solas.")
    prefills = [_prefill(e) for e in spec.catalogue]
    for row in range(FIRST_DATA_ROW, spec.last_row + 1):
        i = row - FIRST_DATA_ROW
        _write_meta_row(ws, row, prefills[i] if i < len(prefills) else {})
    _add_validations(ws, spec)
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    ws.page_setup.orientation = "landscape"
    _protect(ws, allow_rows=True)


def _metas_heading(ws: Worksheet, spec: TemplateSpec, note: str) -> None:
    """Rows 1–4 (title, dependencia, vigencia, a note) and the contract's labels on row 5, with their widths."""
    _title(ws, "A1", f"Plan de acción {spec.vigencia} – {spec.ronda.label} – Metas")
    put(ws["A2"], f"Dependencia: {spec.dependencia_code} – {spec.dependencia_name}").font = _BOLD
    put(ws["A3"], f"Vigencia: {spec.vigencia}").font = _BOLD
    put(ws["A4"], note).font = _NOTE_FONT
    _label_row(ws, METAS_COLUMNS, METAS_LETTERS)


def _label_row(ws: Worksheet, columns: Iterable[Column], letters: Mapping[str, str]) -> None:
    for index, column in enumerate(columns, start=1):
        cell = put(ws.cell(HEADER_ROW, index), column.label)
        cell.font, cell.fill, cell.alignment, cell.border = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN, _BORDER
        ws.column_dimensions[letters[column.key]].width = column.width
    ws.row_dimensions[HEADER_ROW].height = 48


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


# ------------------------------------------------------------------------------------------------ Metas (seguimiento)


_TALL: Final = ("meta", "activities", "program")  # the columns whose text sets a row's height


def _write_accepted_metas(ws: Worksheet, spec: TemplateSpec, accepted: ParsedWorkbook) -> None:
    """The accepted plan as it was accepted, every cell locked and grey: the reference the quarter reports against.

    The labels are the formulación's (rule F02 checks them in every ronda); the totals are plain numbers
    recomputed from the quarters, since nobody edits this sheet any more.
    """
    _metas_heading(ws, spec, "Plan de acción aceptado, solo para consulta: no se modifica en el seguimiento.")
    for number, meta in enumerate(accepted_metas(accepted), start=1):
        row = FIRST_DATA_ROW + number - 1
        for index, column in enumerate(METAS_COLUMNS, start=1):
            cell = put(ws.cell(row, index), _accepted_value(column, meta, number))
            cell.number_format = number_format_of(column)
            cell.alignment = _WRAP_TOP if column.kind in {Kind.TEXT, Kind.LIST} else _TOP
            _locked(cell)
        fit_height(ws, row, max(wrapped_lines(values.text(meta.cell(k).value), METAS_BY_KEY[k].width) for k in _TALL))
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    ws.page_setup.orientation = "landscape"
    _protect(ws)


def accepted_metas(accepted: ParsedWorkbook) -> tuple[Row, ...]:
    """The rows of the accepted plan that are metas: the same rule as `PlanView.metas` (and so `planned_metas`)."""
    return tuple(row for row in accepted.metas if not row.is_blank(CONTENT_KEYS))


def _accepted_value(column: Column, row: Row, number: int) -> object:
    """A cell of the accepted plan, typed: pesos as ints, numbers as numbers, codes as text, the rest as written."""
    if column.key == "number":
        return number
    if column.key in TOTAL_KEYS:
        sources = tuple(Source) if column.key == "total" else (Source(column.key.removesuffix("_total")),)
        return sum(values.pesos(row.cell(money_key(s, q)).value).value or 0 for s in sources for q in QUARTERS)
    raw = row.cell(column.key).value
    if values.is_blank(raw):
        return None
    if column.kind is Kind.PESOS:
        return _or_raw(values.pesos(raw).value, raw)
    if column.kind is Kind.NUMBER:
        read = values.number(raw).value
        return _or_raw(None if read is None else plain_number(read), raw)
    if column.kind is Kind.CODE or not isinstance(raw, str):
        return values.text(raw)
    return raw


def _or_raw(value: object, raw: object) -> object:
    """An accepted plan passed the rules, so a cell that cannot be read is unexpected: show it as it was."""
    return raw if value is None else value


def plain_number(value: Decimal) -> int | float:
    """A Decimal as a spreadsheet number: an int when whole (100, not 100.0), else the nearest float."""
    return int(value) if value == value.to_integral_value() else float(value)


# ------------------------------------------------------------------------------------------------ Seguimiento


class Block(Enum):
    """What a quarter's block of columns is in this ronda's workbook."""

    REPORTED = "reported"  # accepted in an earlier ronda: its values are shown, locked
    OPEN = "open"  # to report now (the current quarter, or an earlier one never reported)
    LATER = "later"  # not reported yet: locked and empty


def block_of(baseline: Baseline, q: int) -> Block:
    if q in baseline.reported:
        return Block.REPORTED
    return Block.OPEN if q in baseline.open_quarters else Block.LATER


_REPORT_NAMES: Final = ("exec", "committed", "obligated", "paid", "evidence", "explanation")
_TEXT_KEYS: Final = frozenset(
    {"meta", "unit", "meta_type"} | {seguimiento_key(n, q) for n in ("evidence", "explanation") for q in QUARTERS}
)


def _write_seguimiento(ws: Worksheet, spec: TemplateSpec, baseline: Baseline) -> None:
    """One row per accepted meta: the plan's figures locked, then a block of six columns per quarter."""
    _seguimiento_heading(ws, spec, baseline)
    _label_row(ws, SEGUIMIENTO_COLUMNS, SEGUIMIENTO_LETTERS)
    for row, meta in enumerate(baseline.metas, start=FIRST_DATA_ROW):
        _write_seguimiento_row(ws, row, meta, baseline)
    if baseline.metas:
        last = FIRST_DATA_ROW + len(baseline.metas) - 1
        for validation, keys in _seguimiento_validations(baseline.open_quarters):
            for key in keys:
                letter = SEGUIMIENTO_LETTERS[key]
                validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{last}")
            ws.add_data_validation(validation)
    ws.freeze_panes = f"{SEGUIMIENTO_LETTERS[seguimiento_key('exec', 1)]}{FIRST_DATA_ROW}"
    ws.page_setup.orientation = "landscape"
    _protect(ws)


def _seguimiento_heading(ws: Worksheet, spec: TemplateSpec, baseline: Baseline) -> None:
    """Rows 1–4: title and context, then each quarter's band title over its first column (never merged)."""
    _title(ws, "A1", f"Plan de acción {spec.vigencia} – {spec.ronda.label}")
    put(ws["A2"], f"Dependencia: {spec.dependencia_code} – {spec.dependencia_name}").font = _BOLD
    deadline = fecha_larga(spec.deadline)
    put(ws["A3"], f"Vigencia: {spec.vigencia}. Corte: trimestre {baseline.quarter}. Fecha límite: {deadline}.")
    ws["A3"].font = _BOLD
    put(ws["A4"], "Plan aceptado (no se modifica). Montos acumulados del 1 de enero al corte.").font = _NOTE_FONT
    for q in QUARTERS:
        band = put(ws[f"{SEGUIMIENTO_LETTERS[seguimiento_key('exec', q)]}4"], f"Trimestre {q} ({QUARTER_SHORT[q]})")
        band.font, band.border = _BOLD, _BORDER
        band.fill = _INPUT_FILL if block_of(baseline, q) is Block.OPEN else _LOCKED_FILL


def _write_seguimiento_row(ws: Worksheet, row: int, meta: PlannedMeta, baseline: Baseline) -> None:
    """The fixed cells and the four blocks: (key, value, is it an input?) — only an open block's cells are."""
    cells = [(key, value, False) for key, value in _fixed_values(meta).items()]
    for q in QUARTERS:
        block = block_of(baseline, q)
        report = baseline.earlier(meta.meta_code, q) if block is Block.REPORTED else None
        cells += [(key, value, block is Block.OPEN) for key, value in _report_values(report, q).items()]
    for key, value, is_input in cells:
        cell = put(ws[f"{SEGUIMIENTO_LETTERS[key]}{row}"], value)
        cell.number_format = number_format_of(METAS_BY_KEY.get(key) or SEGUIMIENTO_BY_KEY[key])
        cell.alignment = _WRAP_TOP if key in _TEXT_KEYS else _TOP
        (_input if is_input else _locked)(cell)
    texts = [(str(value), SEGUIMIENTO_BY_KEY[key].width) for key, value, _ in cells if key in _TEXT_KEYS and value]
    fit_height(ws, row, max((wrapped_lines(text, width) for text, width in texts), default=1))


def _fixed_values(meta: PlannedMeta) -> dict[str, object]:
    """The accepted plan's figures, in `SEGUIMIENTO_FIXED` order (the rule S05 compares them)."""
    fixed: dict[str, object] = {
        "number": meta.number,
        "meta_code": meta.meta_code,
        "meta": meta.meta,
        "unit": meta.unit,
        "meta_type": meta.meta_type,
        "meta_vigencia": plain_number(meta.meta_vigencia),
        **{physical_key(q): plain_number(meta.planned(q)) for q in QUARTERS},
        "total": meta.total,
    }
    assert tuple(fixed) == SEGUIMIENTO_FIXED
    return fixed


def _report_values(report: QuarterReport | None, q: int) -> dict[str, object]:
    """One quarter's six cells: an accepted report's values, or all empty."""
    if report is None:
        return {seguimiento_key(name, q): None for name in _REPORT_NAMES}
    shown = (
        None if report.execution is None else plain_number(report.execution),
        report.committed,
        report.obligated,
        report.paid,
        report.evidence or None,
        report.explanation or None,
    )
    return {seguimiento_key(name, q): value for name, value in zip(_REPORT_NAMES, shown, strict=True)}


def _seguimiento_validations(quarters: Iterable[int]) -> list[tuple[DataValidation, tuple[str, ...]]]:
    """The open quarters' checks, as the spreadsheet can make them while typing (the rules S01–S04 re-check)."""
    open_quarters = tuple(quarters)
    if not open_quarters:
        return []
    execution = _number_check(
        "decimal",
        "greaterThanOrEqual",
        "Ejecución física",
        "Escriba la cantidad lograda en el trimestre: un número mayor o igual a cero (0 si no hubo avance).",
    )
    money = _number_check(
        "whole",
        "greaterThanOrEqual",
        "Valor en pesos",
        "Escriba pesos enteros acumulados al corte, sin centavos, sin signo $ ni puntos (ej.: 1500000).",
    )
    explanation = DataValidation(
        type="textLength",
        operator="lessThanOrEqual",
        formula1=str(EXPLANATION_MAX_CHARS),
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle="Explicación",
        error=f"La explicación tiene máximo {EXPLANATION_MAX_CHARS} caracteres: resúmala.",
    )
    return [
        (execution, tuple(seguimiento_key("exec", q) for q in open_quarters)),
        (money, tuple(seguimiento_key(n, q) for q in open_quarters for n in ("committed", "obligated", "paid"))),
        (explanation, tuple(seguimiento_key("explanation", q) for q in open_quarters)),
    ]


# ------------------------------------------------------------------------------------------------ Resumen

_SUMMARY_COLUMNS: Final = (
    ("Fuente", 22),
    *((f"T{q} ({QUARTER_SHORT[q]})", 18) for q in QUARTERS),
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


# ------------------------------------------------------------------------------------------------ Resumen (seguimiento)

_EXECUTION_HEAD: Final = (
    ("Corte", 44),  # column A also holds the longest labels ("Metas con ejecución diligenciada en el T3")
    ("Programado acumulado", 18),
    ("Comprometido", 18),
    ("Obligado", 18),
    ("Pagado", 18),
    ("% comprometido", 20),
    ("Estado", 20),
)


def _write_seguimiento_summary(ws: Worksheet, spec: TemplateSpec, baseline: Baseline) -> None:
    """The planned budget by quarter (plain numbers) and the reported amounts (formulas): never read back."""
    _title(ws, "A1", f"Resumen del seguimiento {spec.vigencia} – {spec.dependencia_name}")
    put(ws["A2"], "Esta hoja se calcula sola con la hoja «Seguimiento»; no necesita diligenciarla.").font = _NOTE_FONT
    for col, (_label, width) in enumerate(_EXECUTION_HEAD, start=1):
        ws.column_dimensions[ws.cell(1, col).column_letter].width = width
    planned = [sum(m.budget[q - 1] for m in baseline.metas) for q in QUARTERS]
    _header_labels(ws, 4, ("Presupuesto programado", *(f"T{q} ({QUARTER_SHORT[q]})" for q in QUARTERS), "Total"))
    _plain_row(ws, 5, "Programado en el trimestre", [*planned, sum(planned)])
    _plain_row(ws, 6, "Programado acumulado", [sum(planned[:q]) for q in QUARTERS])
    _header_labels(ws, 8, tuple(label for label, _width in _EXECUTION_HEAD))
    shown = [q for q in QUARTERS if q <= baseline.quarter or q in baseline.reported]
    for row, q in enumerate(shown, start=9):
        _execution_row(ws, row, q, sum(planned[:q]), baseline)
    _seguimiento_counts(ws, baseline, 9 + len(shown) + 1)
    fit_width(ws, landscape=True)
    _protect(ws)


def _header_labels(ws: Worksheet, row: int, labels: Iterable[str]) -> None:
    for col, label in enumerate(labels, start=1):
        cell = put(ws.cell(row, col), label)
        cell.font, cell.fill, cell.alignment, cell.border = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN, _BORDER
    ws.row_dimensions[row].height = 32  # two lines of a wrapped label


def _plain_row(ws: Worksheet, row: int, label: str, amounts: list[int]) -> None:
    put(ws.cell(row, 1), label).font = _BOLD
    for col, amount in enumerate(amounts, start=2):
        cell = put(ws.cell(row, col), amount)
        cell.number_format = PESOS_FORMAT
        _locked(cell, grey=False)


def _seguimiento_range(baseline: Baseline, key: str) -> str:
    letter, last = SEGUIMIENTO_LETTERS[key], FIRST_DATA_ROW + max(len(baseline.metas), 1) - 1
    return f"{_sheet_ref(SHEET_SEGUIMIENTO)}!${letter}${FIRST_DATA_ROW}:${letter}${last}"


def _execution_row(ws: Worksheet, row: int, q: int, planned_to: int, baseline: Baseline) -> None:
    state = {Block.REPORTED: "Reportado", Block.OPEN: "Por reportar ahora", Block.LATER: "Aún no se reporta"}
    cells: list[object] = [
        f"T{q} ({QUARTER_SHORT[q]})",
        planned_to,
        *(Formula(f"=SUM({_seguimiento_range(baseline, seguimiento_key(n, q))})") for n in _REPORT_NAMES[1:4]),
        Formula(f"=IF(B{row}>0,C{row}/B{row},0)"),
        state[block_of(baseline, q)],
    ]
    for col, value in enumerate(cells, start=1):
        cell = put(ws.cell(row, col), value)
        cell.number_format = PESOS_FORMAT if 2 <= col <= 5 else PERCENT_FORMAT if col == 6 else "General"
        _locked(cell, grey=False)
    ws.cell(row, 1).font = _BOLD


def _seguimiento_counts(ws: Worksheet, baseline: Baseline, row: int) -> None:
    q = baseline.quarter
    counts: list[tuple[str, object]] = [
        ("Metas del plan aceptado", len(baseline.metas)),
        (f"Metas programadas en el T{q}", sum(m.planned(q) > 0 for m in baseline.metas)),
    ]
    counts += [
        (
            f"Metas con ejecución diligenciada en el T{o}",
            Formula(f"=COUNT({_seguimiento_range(baseline, seguimiento_key('exec', o))})"),
        )
        for o in baseline.open_quarters
    ]
    for offset, (label, value) in enumerate(counts):
        put(ws.cell(row + offset, 1), label).font = _BOLD
        put(ws.cell(row + offset, 2), value)


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
    for col, (label, name, items) in enumerate(columns, start=1):
        put(ws.cell(1, col), label).font = _BOLD
        for row, value in enumerate(items, start=2):
            put(ws.cell(row, col), value).number_format = TEXT_FORMAT
        letter = ws.cell(1, col).column_letter
        ws.column_dimensions[letter].width = 30
        if name and items:
            ref = f"{_sheet_ref(SHEET_LISTS)}!${letter}$2:${letter}${len(items) + 1}"
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
