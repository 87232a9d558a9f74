"""Seguimiento workbooks for tests, always generated from an accepted plan built on the real template.

The chain mirrors production: `make_plan` (a valid formulación) → `read_workbook` → `summary.planned_metas` →
`Baseline` → the seguimiento workbook (`make_seguimiento`). Then a test plays the person reporting: `fill_quarter`
types one quarter's block, `edit_seguimiento` changes any cell (to break S01–S05 one at a time), and
`reports_for` is the "correct answer" for a quarter (it passes S01–S04 without warnings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from openpyxl.workbook.workbook import Workbook

from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook
from mailbot.adapters.workbook.writer import TemplateSpec, spec_from_config, template_bytes
from mailbot.config import Limits, MailbotConfig
from mailbot.domain import control
from mailbot.domain.context import AvailableBudget, ValidationContext
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.seguimiento import Baseline, PlannedMeta, QuarterReport
from mailbot.domain.summary import planned_metas
from mailbot.domain.workbook_format import (
    SEGUIMIENTO_BY_KEY,
    SEGUIMIENTO_LETTERS,
    SHEET_SEGUIMIENTO,
    Ronda,
)
from mailbot.services.sample_plans import fill_seguimiento
from mailbot.services.sample_plans import seguimiento_rows as sheet_rows
from tests.support.plans import make_plan
from tests.support.workbooks import edit_workbook

LIMITS = ReaderLimits.from_config(Limits())
SEGUIMIENTO_TOKEN = "tok-seg-0001"  # a mailing token, not a secret
#: Returns due ten Colombian working days after each quarter's cut-off, for vigencia 2027 (the default
#: configuration; tests/unit/test_seguimiento_schedule.py checks `domain.rounds.deadline` gives these).
DEADLINES = {1: (4, 14), 2: (7, 16), 3: (10, 14), 4: (1, 17)}


def read(data: bytes) -> ParsedWorkbook:
    """`read_workbook` for files the tests made: anything but a ParsedWorkbook is a broken test."""
    parsed = read_workbook(data, LIMITS)
    assert isinstance(parsed, ParsedWorkbook), parsed
    return parsed


def ronda_of(quarter: int) -> Ronda:
    return Ronda(f"seguimiento-T{quarter}")


def deadline_of(quarter: int, vigencia: int = 2027) -> dt.date:
    month, day = DEADLINES[quarter]
    return dt.date(vigencia + (quarter == 4), month, day)


# ------------------------------------------------------------------------------------------------ the baseline


def planned_meta(
    code: str = "010101",
    programming: Sequence[str | int] = (0, 0, 0, 0),
    vigencia: str | int | None = None,
    *,
    kind: str = "Incremento",
    budget: Sequence[int] = (0, 0, 0, 0),
    number: int = 1,
) -> PlannedMeta:
    """A meta of an accepted plan written by hand, for the evaluation's worked examples.

    Quantities as ints or text ("1.5"); without `vigencia`, the year's programming (the level, for Mantenimiento).
    """
    p = [Decimal(str(x)) for x in programming]
    year = p[0] if kind == "Mantenimiento" else sum(p, Decimal(0))
    return PlannedMeta(
        number=number,
        meta_code=code,
        meta=f"Meta {code}",
        unit="Número",
        meta_type=kind,
        meta_vigencia=year if vigencia is None else Decimal(str(vigencia)),
        programming=(p[0], p[1], p[2], p[3]),
        budget=(budget[0], budget[1], budget[2], budget[3]),
    )


def baseline_for(
    plan_bytes: bytes,
    quarter: int,
    reports: Mapping[str, Mapping[int, QuarterReport]] | None = None,
    reported: Iterable[int] = frozenset(),
) -> tuple[Baseline, ParsedWorkbook]:
    """The baseline of `quarter` built from an accepted formulación workbook, and that workbook as read.

    Without `reports`, each quarter in `reported` gets the correct answer (`reports_for`), as if it had been
    reported and accepted in its own round.
    """
    accepted = read(plan_bytes)
    metas = planned_metas(accepted, context_of(accepted))
    done = frozenset(reported)
    baseline = Baseline(quarter=quarter, metas=metas, reported=done)
    if reports is None:
        by_quarter = {q: reports_for(baseline, q) for q in sorted(done)}
        reports = {m.meta_code: {q: by_quarter[q][m.meta_code] for q in sorted(done)} for m in metas}
    return Baseline(quarter=quarter, metas=metas, reports=reports, reported=done), accepted


def context_of(parsed: ParsedWorkbook) -> ValidationContext:
    """`planned_metas` reads cells only; the context names the mailing the plan answered, for completeness."""
    block = control.parse(parsed.control or {})
    assert block is not None, "the accepted plan lost its _control block"
    return ValidationContext(
        dependencia=block.dependencia,
        vigencia=block.vigencia,
        ronda=Ronda.FORMULACION,
        available=AvailableBudget(),
        secret="",
    )


def reports_for(baseline: Baseline, quarter: int, share: Decimal = Decimal("0.8")) -> dict[str, QuarterReport]:
    """A correct report of `quarter` for every meta: what a careful responsable sends.

    Execution = the quarter's programming; Comprometido = `share` of the planned budget to date (≤ 1 keeps S03
    quiet), Obligado = ¾ of it and Pagado = ⅔ of that (so Comprometido ≥ Obligado ≥ Pagado); evidence and an
    explanation always.
    """
    out: dict[str, QuarterReport] = {}
    for meta in baseline.metas:
        committed = int((meta.budget_to(quarter) * share).to_integral_value(ROUND_FLOOR))
        obligated = committed * 3 // 4
        out[meta.meta_code] = QuarterReport(
            execution=meta.planned(quarter),
            committed=committed,
            obligated=obligated,
            paid=obligated * 2 // 3,
            evidence=f"https://transparencia.villaesperanza.gov.co/evidencias/{meta.meta_code}/T{quarter}.pdf",
            explanation=f"Avance del trimestre {quarter} según lo programado; soportes en el enlace de evidencia.",
        )
    return out


# ------------------------------------------------------------------------------------------------ the workbook


@dataclass(frozen=True)
class SeguimientoCase:
    """A generated seguimiento workbook with everything it was built from."""

    data: bytes
    baseline: Baseline
    accepted: ParsedWorkbook
    plan: bytes  # the accepted formulación workbook
    spec: TemplateSpec


def make_seguimiento(
    config: MailbotConfig,
    dependencia: str = "HAC",
    quarter: int = 1,
    *,
    n: int = 5,
    reported: Iterable[int] = frozenset(),
    reports: Mapping[str, Mapping[int, QuarterReport]] | None = None,
    plan: bytes | None = None,
    vigencia: int = 2027,
    token: str = SEGUIMIENTO_TOKEN,
    deadline: dt.date | None = None,
) -> SeguimientoCase:
    """The seguimiento workbook of `quarter` for `dependencia`, built on `plan` (default: `make_plan(config, …, n)`).

    `reported` quarters are filled in and locked with `reports` (default: `reports_for`, the correct answer).
    """
    plan = plan if plan is not None else make_plan(config, dependencia, n, vigencia=vigencia)
    baseline, accepted = baseline_for(plan, quarter, reports, reported)
    spec = spec_from_config(
        config,
        dependencia,
        ronda=ronda_of(quarter),
        vigencia=vigencia,
        deadline=deadline or deadline_of(quarter, vigencia),
        token=token,
        catalogue=None,
        baseline=baseline,
        accepted=accepted,
    )
    return SeguimientoCase(template_bytes(spec), baseline, accepted, plan, spec)


def seguimiento_workbook(config: MailbotConfig, dependencia: str = "HAC", quarter: int = 1, **options: Any) -> bytes:
    """Only the bytes of `make_seguimiento(config, dependencia, quarter, **options)`."""
    return make_seguimiento(config, dependencia, quarter, **options).data


# ------------------------------------------------------------------------------------------------ the person reporting


def fill_quarter(data: bytes, quarter: int, reports: Mapping[str, QuarterReport]) -> bytes:
    """Type one quarter's block for the given meta codes, as the responsable does (other rows untouched)."""
    return fill_seguimiento(data, quarter, reports)


def edit_seguimiento(data: bytes, changes: Mapping[tuple[str, str], object]) -> bytes:
    """Write `value` as typed into the `Seguimiento` cell of (meta code, column key): any column, even a locked one.

    A value is written as it is (text, a number, "#REF!", "=1/0"), like a person typing after unprotecting the
    sheet: that is how tests reach S05.
    """

    def change(workbook: Workbook) -> None:
        ws = workbook[SHEET_SEGUIMIENTO]
        rows = seguimiento_rows(workbook)
        for (code, key), value in changes.items():
            if key not in SEGUIMIENTO_BY_KEY:
                raise ValueError(f"unknown Seguimiento column key '{key}' (see workbook_format.SEGUIMIENTO_COLUMNS)")
            if code not in rows:
                raise ValueError(f"no Seguimiento row holds the meta code '{code}'")
            ws[f"{SEGUIMIENTO_LETTERS[key]}{rows[code]}"].value = value

    return edit_workbook(data, change)


def seguimiento_rows(workbook: Workbook) -> dict[str, int]:
    """Meta code → its row in `Seguimiento` (codes as the sheet holds them: text)."""
    return sheet_rows(workbook[SHEET_SEGUIMIENTO])
