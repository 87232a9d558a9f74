"""F02–F06: is this the format planeación sent, for this mailing, readable and not empty? (F01 is the reader's.)"""

from __future__ import annotations

from collections.abc import Iterator

from mailbot.domain import control, values
from mailbot.domain.findings import Finding, error, warning
from mailbot.domain.rules.engine import rule
from mailbot.domain.rules.view import PlanView
from mailbot.domain.workbook_format import (
    FORMAT_CODE,
    FORMAT_VERSION,
    HEADER_INPUTS,
    HEADER_OPTIONAL,
    HEADER_ROW,
    METAS_COLUMNS,
    METAS_INPUT_KEYS,
    SHEET_CONTROL,
    SHEET_HEADER,
    SHEET_METAS,
    SHEET_SEGUIMIENTO,
    ControlField,
    HeaderField,
    Ronda,
    column_letter,
    fold,
)

SUPPORTED_VERSIONS = frozenset({FORMAT_VERSION})
_UNALTERED = "Use el formato que le envió Planeación sin eliminar, renombrar ni mover hojas o columnas."


@rule("F02", structural=True)
def required_sheets(view: PlanView) -> Iterator[Finding]:
    needed = [SHEET_HEADER, SHEET_METAS]
    if view.context.ronda is not Ronda.FORMULACION:
        needed.append(SHEET_SEGUIMIENTO)
    for sheet in needed:
        if not view.has_sheet(sheet):
            yield error("F02", sheet, None, None, f"Falta la hoja «{sheet}». {_UNALTERED}")


@rule("F02", structural=True)
def metas_labels(view: PlanView) -> Iterator[Finding]:
    if not view.has_sheet(SHEET_METAS):
        return
    found = view.parsed.metas_labels
    found_folded = [fold(x) if x else "" for x in found]
    for index, column in enumerate(METAS_COLUMNS):
        here = found[index] if index < len(found) else None
        if here is not None and fold(here) == fold(column.label):
            continue
        cell = f"{column_letter(index + 1)}{HEADER_ROW}"
        if fold(column.label) in found_folded:
            moved_to = column_letter(found_folded.index(fold(column.label)) + 1)
            message = f"La columna «{column.label}» debe estar en la columna {cell[:-1]} y está en la {moved_to}."
        else:
            message = f"En {cell} debe ir el título «{column.label}»."
        yield error("F02", SHEET_METAS, cell, here, f"{message} {_UNALTERED}")


@rule("F02", structural=True)
def header_labels(view: PlanView) -> Iterator[Finding]:
    if not view.has_sheet(SHEET_HEADER):
        return
    for field in HeaderField:
        if field not in HEADER_OPTIONAL and not view.has_header_label(field):
            yield error(
                "F02",
                SHEET_HEADER,
                None,
                None,
                f"Falta el campo «{field.value}» en la columna A de la hoja «{SHEET_HEADER}». {_UNALTERED}",
            )


@rule("F03", structural=True)
def format_identity(view: PlanView) -> Iterator[Finding]:
    block = view.parsed.control
    if block is None:
        return
    formato = str(block.get(ControlField.FORMATO, "")).strip()
    version = str(block.get(ControlField.VERSION_FORMATO, "")).strip()
    if formato != FORMAT_CODE:
        yield error(
            "F03",
            SHEET_CONTROL,
            None,
            formato,
            f"El archivo no corresponde al formato {FORMAT_CODE}. Diligencie el formato que le envió Planeación.",
        )
    elif not version.isdigit() or int(version) not in SUPPORTED_VERSIONS:
        yield error(
            "F03",
            SHEET_CONTROL,
            None,
            version,
            f"El archivo es de una versión del formato que ya no se recibe (versión {version or 'desconocida'}). "
            f"Diligencie la versión {FORMAT_VERSION} que le envió Planeación.",
        )


@rule("F04", structural=True)
def control_block(view: PlanView) -> Iterator[Finding]:
    context = view.context
    block = view.parsed.control
    if block is None:
        yield warning(
            "F04",
            SHEET_CONTROL,
            None,
            None,
            "No se encontró la hoja oculta de control del formato; el plan se revisó por su estructura. "
            "La próxima vez, diligencie directamente el archivo que le envió Planeación.",
        )
        return
    parsed = control.parse(block)
    if parsed is None or not control.verify(block, context.secret):
        yield error(
            "F04",
            SHEET_CONTROL,
            None,
            None,
            "La hoja de control del formato fue modificada o no pertenece a este envío. "
            "Diligencie el archivo original que le envió Planeación, sin copiar sus hojas a otro libro.",
        )
        return
    if parsed.dependencia != context.dependencia:
        yield error(
            "F04",
            SHEET_CONTROL,
            None,
            parsed.dependencia,
            f"Este archivo es el formato de otra dependencia ({parsed.dependencia}), no de {context.dependencia}. "
            "Envíe el formato que Planeación le remitió a su dependencia.",
        )
    if parsed.vigencia != context.vigencia or parsed.ronda != context.ronda.value:
        yield error(
            "F04",
            SHEET_CONTROL,
            None,
            f"{parsed.ronda} {parsed.vigencia}",
            f"Este archivo corresponde a otra vigencia o ronda ({parsed.ronda} {parsed.vigencia}); se esperaba "
            f"{context.ronda.label.lower()} {context.vigencia}. Use el formato de este envío.",
        )
    if context.expected_token and parsed.token != context.expected_token:
        yield error(
            "F04",
            SHEET_CONTROL,
            None,
            None,
            "Este archivo proviene de otro envío del formato. Diligencie el último archivo que le envió Planeación.",
        )


@rule("F05")
def formula_errors(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        for key, cell in row.cells.items():  # only the cells the reader saw: a missing one shows nothing
            if not isinstance(cell.value, str):
                continue  # an error shows as text: most cells (numbers, blanks) need no closer look
            shown = values.formula_error(cell.value)
            if shown and key in METAS_INPUT_KEYS:
                yield error(
                    "F05",
                    SHEET_METAS,
                    view.ref(row, key),
                    shown,
                    f"La celda de «{view.label(key)}» muestra el error {shown}: escriba el valor directamente.",
                )
    for field in HEADER_INPUTS:
        cell = view.header(field)
        shown = values.formula_error(cell.value)
        if shown:
            yield error(
                "F05",
                SHEET_HEADER,
                cell.ref or None,
                shown,
                f"El campo «{field.value}» muestra el error {shown}: escriba el valor directamente.",
            )


@rule("F06", rondas=frozenset({Ronda.FORMULACION}))
def has_metas(view: PlanView) -> Iterator[Finding]:
    if view.has_sheet(SHEET_METAS) and not view.metas:
        yield error(
            "F06",
            SHEET_METAS,
            "A6",
            None,
            "El plan no tiene metas: diligencie al menos una meta desde la fila 6 de la hoja «Metas».",
        )
