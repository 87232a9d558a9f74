"""P01–P07: the money of each meta, by source and quarter, within the dependencia's available budget."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mailbot.domain import values
from mailbot.domain.findings import Finding, error, warning
from mailbot.domain.money import format_pesos
from mailbot.domain.parsed import Row
from mailbot.domain.places import meta_number
from mailbot.domain.rules.engine import FORMULACION_ONLY, rule
from mailbot.domain.rules.view import PlanView
from mailbot.domain.workbook_format import QUARTERS, SHEET_METAS, Source, money_key, spreadsheet_formula, total_formula

UNASSIGNED_WARNING_SHARE = 10  # per cent of the available budget (P04)
_BPIN_LENGTHS = (13, 15)


@rule("P01", rondas=FORMULACION_ONLY)
def money_cells(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        for key, read in view.money_of(row).unusual.items():  # a plain whole number is never a finding
            raw = row.cell(key).value
            if values.formula_error(raw):
                continue  # F05 already asks to replace the error
            if not read.ok:
                yield error(
                    "P01",
                    SHEET_METAS,
                    view.ref(row, key),
                    raw,
                    f"El valor de «{view.label(key)}» {read.problem}: escriba pesos enteros, sin centavos "
                    "(0 si no aplica).",
                )
            elif read.lenient:
                yield warning(
                    "P01",
                    SHEET_METAS,
                    view.ref(row, key),
                    raw,
                    f"El valor «{values.text(raw)}» se leyó como {format_pesos(read.value or 0)}; la próxima vez "
                    "escríbalo como número, sin signos ni puntos.",
                )


@rule("P02", rondas=FORMULACION_ONLY)
def totals_not_overwritten(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        for source in Source:
            key = money_key(source, None)
            yield from _typed_total(view, row, key, view.source_total(row, source))
        yield from _typed_total(view, row, "total", view.meta_total(row))


def _typed_total(view: PlanView, row: Row, key: str, expected: int) -> Iterator[Finding]:
    cell = row.cell(key)
    if cell.formula is not None:
        return  # a formula: the validator recomputes from the quarters and never trusts its cached value
    if values.is_blank(cell.value):
        return  # a row added below the template's has no total formula: nothing was typed over
    typed = values.pesos(cell.value)
    if typed.value != expected:
        formula = spreadsheet_formula(total_formula(key, row.number))
        yield error(
            "P02",
            SHEET_METAS,
            view.ref(row, key),
            cell.value,
            f"«{view.label(key)}» se escribió a mano y no coincide con la suma que le corresponde "
            f"({format_pesos(expected)}): esta celda lleva la fórmula {formula}. La copia marcada que le "
            "adjuntamos ya la tiene de nuevo; si corrige su propio archivo, escriba esa fórmula en la celda.",
        )


@rule("P03", rondas=FORMULACION_ONLY)
def within_available(view: PlanView) -> Iterator[Finding]:
    """The quarter cells that make a source's excess, largest first, are the fix; its total is context.

    The dependencia's total is the sum of its sources, so a total over the available always comes with a source
    over its own: the sources' findings say all there is to correct.
    """
    available = view.context.available
    for source in Source:
        planned, limit = view.planned(source), available.of(source)
        if planned <= limit:
            continue
        excess = planned - limit
        owner = {view.ref(row, money_key(source, q)): row for row in view.metas for q in QUARTERS}
        amounts = [
            (view.ref(row, money_key(source, q)), view.money_of(row).amounts[money_key(source, q)])
            for row in view.metas
            for q in QUARTERS
        ]
        chosen = excess_cells(amounts, excess)
        over = (
            f"El presupuesto {source.label} programado ({format_pesos(planned)}) supera el disponible "
            f"({format_pesos(limit)}) en {format_pesos(excess)}"
        )
        for ref, amount, cut in chosen:
            share = "" if len(chosen) == 1 else f" (el exceso se cubre entre las {len(chosen)} celdas marcadas)"
            yield error(
                "P03",
                SHEET_METAS,
                ref,
                format_pesos(amount),
                f"{over}: reduzca este valor en {format_pesos(cut)}{share}, o reparta la reducción entre otras "
                "metas de esa fuente.",
            )
        cells = "; ".join(_cell_of_meta(owner[ref], ref) for ref, _amount, _cut in chosen)
        yield warning(
            "P03",
            SHEET_METAS,
            view.column_range(money_key(source, None)),
            format_pesos(planned),
            f"Para su referencia: {over[0].lower()}{over[1:]}. Este total se calcula solo: corrija los valores "
            f"de los trimestres marcados en rojo ({cells}).",
        )


def _cell_of_meta(row: Row, ref: str) -> str:
    number = meta_number(row)
    return f"meta N° {number}, celda {ref}" if number is not None else f"celda {ref}"


def excess_cells(amounts: Iterable[tuple[str, int]], excess: int) -> list[tuple[str, int, int]]:
    """The cells that make an excess, largest first: (cell, amount, how much to take off it) until it is covered."""
    chosen: list[tuple[str, int, int]] = []
    left = excess
    for ref, amount in sorted(amounts, key=lambda pair: -pair[1]):
        if left <= 0 or amount <= 0:
            break
        cut = min(amount, left)
        chosen.append((ref, amount, cut))
        left -= cut
    return chosen


@rule("P04", rondas=FORMULACION_ONLY)
def mostly_assigned(view: PlanView) -> Iterator[Finding]:
    available = view.context.available.total
    total = sum(view.planned(s) for s in Source)
    if view.metas and available > 0 and (available - total) * 100 > available * UNASSIGNED_WARNING_SHARE:
        yield warning(
            "P04",
            SHEET_METAS,
            view.column_range("total"),
            format_pesos(total),
            f"Quedan sin asignar {format_pesos(available - total)} de {format_pesos(available)} disponibles "
            f"(más del {UNASSIGNED_WARNING_SHARE} %); confirme que es intencional.",
        )


@rule("P05", rondas=FORMULACION_ONLY)
def poai_has_project(view: PlanView) -> Iterator[Finding]:
    registered = view.context.bpins
    for row in view.metas:
        if view.source_total(row, Source.POAI) <= 0:
            continue
        bpin = view.text(row, "bpin").replace(" ", "").replace("-", "")
        if not (bpin.isdigit() and len(bpin) in _BPIN_LENGTHS):
            yield error(
                "P05",
                SHEET_METAS,
                view.ref(row, "bpin"),
                view.text(row, "bpin"),
                "Una meta con recursos POAI necesita el «Código BPIN» del proyecto (13 o 15 dígitos, sin puntos).",
            )
        elif registered is not None and bpin not in registered:
            yield error(
                "P05",
                SHEET_METAS,
                view.ref(row, "bpin"),
                bpin,
                f"El código BPIN {bpin} no está registrado en el banco de programas y proyectos: verifíquelo "
                "con Planeación.",
            )
        if not view.text(row, "project"):
            yield error(
                "P05",
                SHEET_METAS,
                view.ref(row, "project"),
                None,
                "Una meta con recursos POAI necesita el nombre del «Proyecto» registrado en el banco de proyectos.",
            )


@rule("P06", rondas=FORMULACION_ONLY)
def cofinancing_has_entity(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        if view.source_total(row, Source.COFINANCIACION) > 0 and not view.text(row, "cofinancer"):
            yield error(
                "P06",
                SHEET_METAS,
                view.ref(row, "cofinancer"),
                None,
                "Una meta con recursos de cofinanciación necesita la «Entidad cofinanciadora» "
                "(por ejemplo Departamento, Nación – entidad, SGR o Cooperación).",
            )


@rule("P07", rondas=FORMULACION_ONLY)
def meta_without_money(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        if view.meta_total(row) == 0:
            yield warning(
                "P07",
                SHEET_METAS,
                view.ref(row, "total"),
                format_pesos(0),
                "Esta meta no tiene recursos asignados; confirme que es una meta de gestión.",
            )
