"""S01–S05: a quarter's seguimiento is complete, consistent and reported against the plan that was accepted.

The rows of `Seguimiento` are matched to the accepted metas by position (the sheet is generated one row per meta,
in the plan's order); S05 says so when a row was moved, added or changed, and the other rules keep reading each row
against the meta that belongs in it. Only the open quarters (the current one, and earlier ones never reported) are
checked for completeness; the quarters already accepted must come back unchanged (S05).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from mailbot.domain import values
from mailbot.domain.findings import Finding, error, warning
from mailbot.domain.money import format_pesos
from mailbot.domain.parsed import Row
from mailbot.domain.rules.engine import rule
from mailbot.domain.rules.view import PlanView
from mailbot.domain.seguimiento import Baseline, PlannedMeta, QuarterReport, report_in
from mailbot.domain.workbook_format import (
    EXPLANATION_MAX_CHARS,
    FIRST_DATA_ROW,
    SEGUIMIENTO_BY_KEY,
    SEGUIMIENTO_COLUMNS,
    SEGUIMIENTO_LETTERS,
    SHEET_SEGUIMIENTO,
    Ronda,
    column_letter,
    fold,
    physical_key,
    seguimiento_key,
)

SEGUIMIENTO_ONLY = frozenset(r for r in Ronda if r is not Ronda.FORMULACION)
_UNALTERED = "Use el formato que le envió Planeación sin eliminar, renombrar ni mover hojas o columnas."
_AMOUNTS = ("committed", "obligated", "paid")


def _ref(row: Row, key: str) -> str:
    return row.cell(key).ref or f"{SEGUIMIENTO_LETTERS[key]}{row.number}"


def _label(key: str) -> str:
    return SEGUIMIENTO_BY_KEY[key].label


def _baseline(view: PlanView) -> Baseline | None:
    return view.context.baseline


def _open_quarters(view: PlanView) -> tuple[int, ...]:
    baseline = _baseline(view)
    if baseline is not None:
        return baseline.open_quarters
    quarter = view.context.ronda.quarter
    return (quarter,) if quarter else ()


def _rows(view: PlanView) -> Iterator[tuple[Row, PlannedMeta | None]]:
    """Each `Seguimiento` row with the accepted meta that belongs in it (None without a baseline)."""
    baseline = _baseline(view)
    for row in view.parsed.seguimiento:
        index = row.number - FIRST_DATA_ROW
        meta = None
        if baseline is not None and 0 <= index < len(baseline.metas):
            meta = baseline.metas[index]
        yield row, meta


def _programmed(row: Row, meta: PlannedMeta | None, q: int) -> Decimal:
    """The programming of quarter q: the accepted plan's, or the row's own when there is no baseline."""
    if meta is not None:
        return meta.planned(q)
    return values.number(row.cell(physical_key(q)).value).value or Decimal(0)


def _n(value: Decimal) -> str:
    return format(value.normalize(), "f").replace(".", ",")


# ------------------------------------------------------------------------------------------------ F02


@rule("F02", structural=True, rondas=SEGUIMIENTO_ONLY)
def seguimiento_labels(view: PlanView) -> Iterator[Finding]:
    if not view.has_sheet(SHEET_SEGUIMIENTO):
        return
    found = view.parsed.seguimiento_labels
    for index, column in enumerate(SEGUIMIENTO_COLUMNS):
        here = found[index] if index < len(found) else None
        if here is not None and fold(here) == fold(column.label):
            continue
        cell = f"{column_letter(index + 1)}5"
        yield error("F02", SHEET_SEGUIMIENTO, cell, here, f"En {cell} debe ir el título «{column.label}». {_UNALTERED}")


# ------------------------------------------------------------------------------------------------ S01


@rule("S01", rondas=SEGUIMIENTO_ONLY)
def execution_reported(view: PlanView) -> Iterator[Finding]:
    for row, meta in _rows(view):
        for q in _open_quarters(view):
            key = seguimiento_key("exec", q)
            raw = row.cell(key).value
            read = values.number(raw)
            if not read.ok or (read.value is not None and read.value < 0):
                yield error(
                    "S01",
                    SHEET_SEGUIMIENTO,
                    _ref(row, key),
                    raw,
                    f"La «{_label(key)}» debe ser un número mayor o igual a cero "
                    "(la cantidad lograda en el trimestre, en la unidad de medida de la meta).",
                )
            elif read.value is None and _programmed(row, meta, q) > 0:
                yield error(
                    "S01",
                    SHEET_SEGUIMIENTO,
                    _ref(row, key),
                    None,
                    f"Reporte la «{_label(key)}»: la meta estaba programada ({_n(_programmed(row, meta, q))}) "
                    "en el trimestre. Si no se ejecutó nada, escriba 0 y "
                    "explique por qué.",
                )


# ------------------------------------------------------------------------------------------------ S02


@rule("S02", rondas=SEGUIMIENTO_ONLY)
def amounts(view: PlanView) -> Iterator[Finding]:
    for row, _meta in _rows(view):
        for q in _open_quarters(view):
            yield from _amount_cells(row, q)
            yield from _amount_order(row, q)


def _amount_cells(row: Row, q: int) -> Iterator[Finding]:
    for name in _AMOUNTS:
        key = seguimiento_key(name, q)
        raw = row.cell(key).value
        read = values.pesos(raw)
        if not read.ok:
            yield error(
                "S02",
                SHEET_SEGUIMIENTO,
                _ref(row, key),
                raw,
                f"El valor de «{_label(key)}» {read.problem}: escriba pesos enteros acumulados al corte (0 si no hay).",
            )
        elif read.lenient:
            yield warning(
                "S02",
                SHEET_SEGUIMIENTO,
                _ref(row, key),
                raw,
                f"«{_label(key)}» se leyó como {format_pesos(read.value or 0)}; la próxima vez escriba solo el número.",
            )


def _amount_order(row: Row, q: int) -> Iterator[Finding]:
    read = {name: values.pesos(row.cell(seguimiento_key(name, q)).value) for name in _AMOUNTS}
    if not all(r.ok for r in read.values()):
        return  # the cell itself is reported above
    committed, obligated, paid = (read[name].value or 0 for name in _AMOUNTS)
    if obligated > committed:
        key = seguimiento_key("obligated", q)
        yield error(
            "S02",
            SHEET_SEGUIMIENTO,
            _ref(row, key),
            row.cell(key).value,
            f"Lo obligado ({format_pesos(obligated)}) no puede superar lo comprometido "
            f"({format_pesos(committed)}): revise ambos valores acumulados al corte.",
        )
    if paid > obligated:
        key = seguimiento_key("paid", q)
        yield error(
            "S02",
            SHEET_SEGUIMIENTO,
            _ref(row, key),
            row.cell(key).value,
            f"Lo pagado ({format_pesos(paid)}) no puede superar lo obligado "
            f"({format_pesos(obligated)}): revise ambos valores acumulados al corte.",
        )


# ------------------------------------------------------------------------------------------------ S03


@rule("S03", rondas=SEGUIMIENTO_ONLY)
def committed_within_plan(view: PlanView) -> Iterator[Finding]:
    for row, meta in _rows(view):
        if meta is None:
            continue
        for q in _open_quarters(view):
            key = seguimiento_key("committed", q)
            committed = values.pesos(row.cell(key).value).value or 0
            planned = meta.budget_to(q)
            if committed > planned:
                yield warning(
                    "S03",
                    SHEET_SEGUIMIENTO,
                    _ref(row, key),
                    row.cell(key).value,
                    f"Lo comprometido ({format_pesos(committed)}) supera lo "
                    f"programado hasta el trimestre {q} ({format_pesos(planned)}); confirme el valor o explique la "
                    "diferencia.",
                )


# ------------------------------------------------------------------------------------------------ S04


@rule("S04", rondas=SEGUIMIENTO_ONLY)
def evidence_and_explanation(view: PlanView) -> Iterator[Finding]:
    for row, meta in _rows(view):
        for q in _open_quarters(view):
            executed = values.number(row.cell(seguimiento_key("exec", q)).value).value or Decimal(0)
            evidence_key, explanation_key = seguimiento_key("evidence", q), seguimiento_key("explanation", q)
            explanation = values.text(row.cell(explanation_key).value)
            if executed > 0 and not values.text(row.cell(evidence_key).value):
                yield error(
                    "S04",
                    SHEET_SEGUIMIENTO,
                    _ref(row, evidence_key),
                    None,
                    f"La meta reporta ejecución en el trimestre {q}: escriba en "
                    f"«{_label(evidence_key)}» el enlace o la referencia del archivo que la soporta.",
                )
            if len(explanation) > EXPLANATION_MAX_CHARS:
                yield error(
                    "S04",
                    SHEET_SEGUIMIENTO,
                    _ref(row, explanation_key),
                    explanation,
                    f"La «{_label(explanation_key)}» tiene {len(explanation)} caracteres: "
                    f"resúmala en {EXPLANATION_MAX_CHARS} como máximo.",
                )
            elif not explanation and (executed > 0 or _programmed(row, meta, q) > 0):
                yield error(
                    "S04",
                    SHEET_SEGUIMIENTO,
                    _ref(row, explanation_key),
                    None,
                    f"Escriba en «{_label(explanation_key)}» una explicación breve del "
                    f"avance del trimestre {q} (máximo {EXPLANATION_MAX_CHARS} caracteres).",
                )


# ------------------------------------------------------------------------------------------------ S05

_FIXED_TEXT = ("meta_code", "meta", "unit", "meta_type")


@rule("S05", rondas=SEGUIMIENTO_ONLY)
def accepted_plan_unchanged(view: PlanView) -> Iterator[Finding]:
    baseline = _baseline(view)
    if baseline is None:
        return
    present = {row.number for row in view.parsed.seguimiento}
    for row, meta in _rows(view):
        if meta is None:
            yield error(
                "S05",
                SHEET_SEGUIMIENTO,
                f"{row.number}:{row.number}",
                values.text(row.cell("meta_code").value),
                f"La fila {row.number} no corresponde a ninguna meta del plan aceptado: bórrela. Las metas del "
                "seguimiento son las del plan aceptado y no se agregan aquí.",
            )
            continue
        yield from _fixed_changed(row, meta)
        yield from _earlier_changed(row, meta, baseline)
    for index, meta in enumerate(baseline.metas):
        row_number = FIRST_DATA_ROW + index
        if row_number in present:
            continue
        yield error(
            "S05",
            SHEET_SEGUIMIENTO,
            f"{row_number}:{row_number}",
            None,
            f"Falta la meta {meta.meta_code} («{meta.meta}») del plan aceptado en la fila {row_number}: use el "
            "archivo que le envió Planeación sin borrar filas.",
        )


def _fixed_changed(row: Row, meta: PlannedMeta) -> Iterator[Finding]:
    expected_text = {"meta_code": meta.meta_code, "meta": meta.meta, "unit": meta.unit, "meta_type": meta.meta_type}
    expected_numbers = {"meta_vigencia": meta.meta_vigencia} | {physical_key(q): meta.planned(q) for q in range(1, 5)}
    changed = [k for k in _FIXED_TEXT if fold(values.text(row.cell(k).value)) != fold(expected_text[k])]
    changed += [k for k, v in expected_numbers.items() if values.number(row.cell(k).value).value != v]
    for key in changed:
        yield error(
            "S05",
            SHEET_SEGUIMIENTO,
            _ref(row, key),
            row.cell(key).value,
            f"«{_label(key)}» es parte del plan aceptado y no se puede cambiar aquí: "
            f"debe decir «{_shown(expected_text.get(key, expected_numbers.get(key)))}». Si el plan debe "
            "modificarse, solicítelo a Planeación.",
        )


def _earlier_changed(row: Row, meta: PlannedMeta, baseline: Baseline) -> Iterator[Finding]:
    for q in sorted(baseline.reported):
        accepted = baseline.earlier(meta.meta_code, q)
        if accepted is None:
            continue
        found = report_in(row, q)
        for name, was in _differences(accepted, found):
            key = seguimiento_key(name, q)
            yield error(
                "S05",
                SHEET_SEGUIMIENTO,
                _ref(row, key),
                row.cell(key).value,
                f"«{_label(key)}» ya fue aceptado en el seguimiento del trimestre {q} "
                f"(«{_shown(was)}») y no se puede cambiar; si hay un error, infórmelo a Planeación.",
            )


def _differences(accepted: QuarterReport, found: QuarterReport) -> Iterator[tuple[str, object]]:
    pairs = {
        "exec": (accepted.execution, found.execution),
        "committed": (accepted.committed, found.committed),
        "obligated": (accepted.obligated, found.obligated),
        "paid": (accepted.paid, found.paid),
        "evidence": (accepted.evidence, found.evidence),
        "explanation": (accepted.explanation, found.explanation),
    }
    for name, (was, now) in pairs.items():
        if was != now:
            yield name, was


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _n(value)
    return str(value)
