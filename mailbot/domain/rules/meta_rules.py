"""M01–M08: each meta is complete, uses the closed lists, and its physical programming adds up."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from mailbot.domain.findings import Finding, error, warning
from mailbot.domain.parsed import Row
from mailbot.domain.places import meta_number
from mailbot.domain.rules.engine import FORMULACION_ONLY, rule
from mailbot.domain.rules.view import PlanView
from mailbot.domain.workbook_format import (
    INCREMENTO,
    MANTENIMIENTO,
    META_TYPES,
    META_TYPES_BY_FOLD,
    METAS_COLUMNS,
    QUARTERS,
    SHEET_METAS,
    UNIT_VARIANTS,
    UNITS,
    UNITS_BY_FOLD,
    Kind,
    fold,
    physical_key,
)

#: Required text cells that M01 checks; the responsables have rules of their own (R01, R02).
M01_KEYS = tuple(
    c.key
    for c in METAS_COLUMNS
    if c.required and c.kind in (Kind.TEXT, Kind.CODE, Kind.LIST) and not c.key.startswith("resp_")
)


def meta_type(view: PlanView, row: Row) -> str | None:
    """The tipo de meta in its list spelling, or None when it is not one of the list."""
    return META_TYPES_BY_FOLD.get(fold(view.text(row, "meta_type")))


def _number_or_none(view: PlanView, row: Row, key: str) -> Decimal | None:
    read = view.number(row, key)
    return read.value if read.ok else None


def _meta_named(row: Row) -> str:
    number = meta_number(row)
    return f"la meta N° {number}" if number is not None else f"la fila {row.number}"


def _n(value: Decimal) -> str:
    """A quantity as a secretario writes it: 12, 2,5 (no trailing zeros, decimal comma)."""
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


@rule("M01", rondas=FORMULACION_ONLY)
def required_text(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        for key in M01_KEYS:
            if not view.text(row, key):
                yield error(
                    "M01",
                    SHEET_METAS,
                    view.ref(row, key),
                    None,
                    f"Diligencie «{view.label(key)}»: es obligatorio en cada meta.",
                )


@rule("M02", rondas=FORMULACION_ONLY)
def unit_of_measure(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        typed = view.text(row, "unit")
        if not typed or typed in UNITS:
            continue
        ref = view.ref(row, "unit")
        variant = UNIT_VARIANTS.get(fold(typed))
        if variant:
            yield warning(
                "M02",
                SHEET_METAS,
                ref,
                typed,
                f"La unidad «{typed}» se leyó como «{variant}»; la próxima vez elíjala de la lista desplegable.",
            )
        elif fold(typed) not in UNITS_BY_FOLD:
            yield error(
                "M02",
                SHEET_METAS,
                ref,
                typed,
                f"La unidad de medida «{typed}» no está en la lista: elija una de la lista desplegable "
                f"(por ejemplo {', '.join(UNITS[:4])}).",
            )


@rule("M03", rondas=FORMULACION_ONLY)
def type_of_meta(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        typed = view.text(row, "meta_type")
        if typed and meta_type(view, row) is None:
            yield error(
                "M03",
                SHEET_METAS,
                view.ref(row, "meta_type"),
                typed,
                f"El tipo de meta debe ser {', '.join(META_TYPES[:-1])} o {META_TYPES[-1]}: elíjalo de la lista.",
            )


@rule("M04", rondas=FORMULACION_ONLY)
def quantities(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        cell = row.cell("meta_vigencia")
        value = _number_or_none(view, row, "meta_vigencia")
        if value is None or value <= 0:
            yield error(
                "M04",
                SHEET_METAS,
                view.ref(row, "meta_vigencia"),
                cell.value,
                "Escriba la «Meta vigencia» como un número mayor que cero (la cantidad que se logrará este año).",
            )
        for key in ("baseline", "meta_cuatrienio"):
            value = _number_or_none(view, row, key)
            if value is None or (key == "baseline" and value < 0):
                yield error(
                    "M04",
                    SHEET_METAS,
                    view.ref(row, key),
                    row.cell(key).value,
                    f"Escriba «{view.label(key)}» como un número"
                    + (" mayor o igual a cero." if key == "baseline" else "."),
                )


@rule("M05", rondas=FORMULACION_ONLY)
def physical_programming(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        quarters: list[Decimal] = []
        for q in QUARTERS:
            key = physical_key(q)
            read = view.number(row, key)
            if not read.ok or (read.value is not None and read.value < 0):
                yield error(
                    "M05",
                    SHEET_METAS,
                    view.ref(row, key),
                    row.cell(key).value,
                    f"Escriba «{view.label(key)}» como un número mayor o igual a cero (0 si no se programa).",
                )
            quarters.append(read.value if read.ok and read.value is not None else Decimal(0))
        kind = meta_type(view, row)
        target = _number_or_none(view, row, "meta_vigencia")
        if kind is None or target is None or target <= 0:
            continue  # M03 / M04 already ask for these
        if kind == MANTENIMIENTO:
            if any(v > target for v in quarters) or quarters[-1] != target:
                yield error(
                    "M05",
                    SHEET_METAS,
                    _span(view, row),
                    _sum_shown(quarters),
                    f"En una meta de mantenimiento ningún trimestre puede superar la meta vigencia ({_n(target)}) "
                    f"y el trimestre 4 debe ser igual a ella.",
                )
        elif sum(quarters) != target:
            yield error(
                "M05",
                SHEET_METAS,
                _span(view, row),
                _sum_shown(quarters),
                f"La programación física de los cuatro trimestres suma {_n(sum(quarters, Decimal(0)))} y debe "
                f"sumar la meta vigencia ({_n(target)}).",
            )


def _span(view: PlanView, row: Row) -> str:
    return f"{view.ref(row, physical_key(1))}:{view.ref(row, physical_key(4))}"


def _sum_shown(quarters: list[Decimal]) -> str:
    """Written only for a finding: formatting the quantities of every meta was work thrown away."""
    return " + ".join(_n(v) for v in quarters)


@rule("M06", rondas=FORMULACION_ONLY)
def in_catalogue(view: PlanView) -> Iterator[Finding]:
    catalogue = view.context.catalogue
    if catalogue is None:
        return
    for row in view.metas:
        code = view.text(row, "meta_code")
        if not code:
            continue
        entry = catalogue.by_code.get(code)
        ref = view.ref(row, "meta_code")
        if entry is None:
            yield error(
                "M06",
                SHEET_METAS,
                ref,
                code,
                f"El código de meta de producto {code} no está en el Plan de Desarrollo: elíjalo de la lista.",
            )
        elif entry.dependencia and entry.dependencia != view.context.dependencia:
            yield warning(
                "M06",
                SHEET_METAS,
                ref,
                code,
                f"La meta {code} está asignada a otra dependencia ({entry.dependencia}) en el Plan de Desarrollo; "
                "confirme con Planeación que le corresponde.",
            )


@rule("M07", rondas=FORMULACION_ONLY)
def unique_codes(view: PlanView) -> Iterator[Finding]:
    first_row: dict[str, Row] = {}
    for row in view.metas:
        code = view.text(row, "meta_code")
        if not code:
            continue
        if code in first_row:
            yield error(
                "M07",
                SHEET_METAS,
                view.ref(row, "meta_code"),
                code,
                f"El código de meta {code} ya aparece en {_meta_named(first_row[code])}: cada meta va en una sola "
                "fila.",
            )
        else:
            first_row[code] = row


@rule("M08", rondas=FORMULACION_ONLY)
def within_cuatrienio(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        if meta_type(view, row) != INCREMENTO:
            continue
        target = _number_or_none(view, row, "meta_vigencia")
        ceiling = _number_or_none(view, row, "meta_cuatrienio")
        if target is not None and ceiling is not None and target > ceiling:
            yield warning(
                "M08",
                SHEET_METAS,
                view.ref(row, "meta_vigencia"),
                _n(target),
                f"La meta vigencia ({_n(target)}) supera la meta del cuatrienio ({_n(ceiling)}); verifique las cifras.",
            )
