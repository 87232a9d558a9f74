"""H01–H02: the `Encabezado` names the right vigencia and dependencia, and who answers for the plan."""

from __future__ import annotations

from collections.abc import Iterator

from mailbot.domain import values
from mailbot.domain.addresses import is_valid_address
from mailbot.domain.findings import Finding, error
from mailbot.domain.rules.engine import rule
from mailbot.domain.rules.view import PlanView
from mailbot.domain.workbook_format import SHEET_HEADER, HeaderField


@rule("H01")
def vigencia_and_dependencia(view: PlanView) -> Iterator[Finding]:
    context = view.context
    cell = view.header(HeaderField.VIGENCIA)
    if values.text(cell.value) != str(context.vigencia):
        yield error(
            "H01",
            SHEET_HEADER,
            cell.ref or None,
            cell.value,
            f"La vigencia del encabezado debe ser {context.vigencia}: no cambie los datos que diligenció Planeación.",
        )
    cell = view.header(HeaderField.CODIGO_DEPENDENCIA)
    if values.text(cell.value).upper() != context.dependencia:
        yield error(
            "H01",
            SHEET_HEADER,
            cell.ref or None,
            cell.value,
            f"El código de dependencia del encabezado debe ser {context.dependencia}: "
            "no cambie los datos que diligenció Planeación.",
        )


@rule("H02")
def secretario(view: PlanView) -> Iterator[Finding]:
    cell = view.header(HeaderField.SECRETARIO)
    if len(values.text(cell.value)) < 3:
        yield error(
            "H02",
            SHEET_HEADER,
            cell.ref or None,
            cell.value,
            "Escriba el nombre completo del secretario(a) de despacho en el encabezado.",
        )
    cell = view.header(HeaderField.CORREO)
    address = values.text(cell.value)
    if not is_valid_address(address):
        yield error(
            "H02",
            SHEET_HEADER,
            cell.ref or None,
            cell.value,
            "Escriba un correo electrónico válido del secretario(a) en el encabezado, por ejemplo "
            "nombre@dominio.gov.co.",
        )
