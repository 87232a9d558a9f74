"""The data validations: what the spreadsheet can check while the secretario types (the rules re-check all).

Only openpyxl's standard validations are used, so the dropdowns survive a load-and-save by openpyxl
(FIELD-NOTES: Excel's extension-format validations do not).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from openpyxl.worksheet.datavalidation import DataValidation

from mailbot.adapters.workbook.cells import Worksheet
from mailbot.adapters.workbook.writer.sheet import LIST_LINEAS, LIST_METAS, LIST_TYPES, LIST_UNITS
from mailbot.adapters.workbook.writer.spec import TemplateSpec
from mailbot.domain.workbook_format import (
    EXPLANATION_MAX_CHARS,
    FIRST_DATA_ROW,
    METAS_LETTERS,
    QUARTERS,
    Source,
    money_key,
    physical_key,
    seguimiento_key,
)

Checks = list[tuple[DataValidation, tuple[str, ...]]]  # each validation with the column keys it applies to


def add_checks(ws: Worksheet, checks: Checks, letters: Mapping[str, str], last_row: int) -> None:
    """Each validation on its columns, from the first data row to `last_row`."""
    for validation, keys in checks:
        for key in keys:
            letter = letters[key]
            validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{last_row}")
        ws.add_data_validation(validation)


def metas_validations(spec: TemplateSpec) -> Checks:
    """Formulación's `Metas`; the lists point at the named ranges of `Listas`."""
    top = f"{FIRST_DATA_ROW}"
    found: Checks = [
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


def seguimiento_validations(quarters: Iterable[int]) -> Checks:
    """The open quarters' checks on `Seguimiento` (the rules S01–S04 re-check)."""
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
    explanation = _check(
        "textLength",
        str(EXPLANATION_MAX_CHARS),
        "Explicación",
        f"La explicación tiene máximo {EXPLANATION_MAX_CHARS} caracteres: resúmala.",
        operator="lessThanOrEqual",
    )
    return [
        (execution, tuple(seguimiento_key("exec", q) for q in open_quarters)),
        (money, tuple(seguimiento_key(n, q) for q in open_quarters for n in ("committed", "obligated", "paid"))),
        (explanation, tuple(seguimiento_key("explanation", q) for q in open_quarters)),
    ]


def _list_check(name: str, title: str, message: str, *, style: str = "stop") -> DataValidation:
    """A dropdown fed by a named range (standard validation: it survives openpyxl's load and save)."""
    check = _check("list", name, title, message, style=style)
    check.showInputMessage, check.promptTitle, check.prompt = True, title[:32], message
    return check


def _number_check(kind: str, operator: str, title: str, message: str) -> DataValidation:
    """A number (`whole` or `decimal`) compared with zero."""
    return _check(kind, "0", title, message, operator=operator)


def _custom_check(formula: str, title: str, message: str, *, style: str = "stop") -> DataValidation:
    return _check("custom", formula, title, message, style=style)


def _check(
    kind: str, formula: str, title: str, message: str, *, operator: str | None = None, style: str = "stop"
) -> DataValidation:
    """A validation that refuses (`stop`) or questions (`warning`) a value, with the reason as its message."""
    return DataValidation(
        type=kind,
        operator=operator,
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle=style,
        errorTitle=title[:32],
        error=message,
    )
