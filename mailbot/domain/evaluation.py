"""Quarterly evaluation (seguimiento): how far each meta, each dependencia and the municipality are from the plan.

The formulas are the contract's ("Compliance and evaluation" in E-DE-F-010). For a meta with physical
programming P_q and reported execution E_q (an empty cell counts as 0) at the cut-off of quarter q:

- Incremento and Reducción: planned to date PA_q = P_1 + … + P_q, executed to date A_q = E_1 + … + E_q.
  Mantenimiento keeps a level, not a sum: PA_q = P_q and A_q = E_q.
- Quarter compliance = min(E_q / P_q, 1) where P_q > 0; cumulative compliance = min(A_q / PA_q, 1) where
  PA_q > 0, and the raw (uncapped) ratio is kept so that an over-execution is shown; year progress =
  min(A_q / Meta vigencia, 1); financial execution = Comprometido at the cut-off (already cumulative) / planned
  pesos to date (all sources), not capped (rule S03 only warns about it). A ratio with nothing planned is None:
  the workbook shows "No programada". A negative execution (which the rules reject) counts as nothing done.
- Score of a dependencia or of the municipality = the mean of the capped cumulative compliance of its
  **programmed** metas (PA_q > 0): a meta with nothing planned yet is left out, never counted as a zero. The
  municipality's is the mean over all programmed metas of every dependencia, not a mean of the dependencias'
  means (a dependencia with two metas must not weigh as much as one with forty).
- Percentages are shown rounded to one decimal (ROUND_HALF_UP), and grades and the lag threshold are read from
  that same rounded figure, so what a secretario sees always agrees with the grade: 79.96 % shows 80.0 % and is
  Sobresaliente.

The state of a meta is decided in this order, the first that applies:
    1. PA_q = 0                                → No programada  (left out of the score)
    2. A_q = 0                                 → Sin iniciar
    3. A_q > PA_q (raw cumulative above 100 %) → Sobreejecutada (capped at 100 % for the score, raw shown)
    4. A_q = PA_q                              → Cumplida
    5. cumulative % (rounded) < lag threshold  → Rezagada       (default threshold 60 %)
    6. otherwise                               → En ejecución

Arithmetic is exact: means and ratios are taken over `fractions.Fraction` built from the Decimals (never float)
and turned into a Decimal of 28 significant digits only at the end, so a score that is exactly 79.95 % is not
shown as 79.9 % because of an intermediate rounding. Everything here is pure; the results serialise to JSON
(Decimals as strings) so that a dependencia's evaluation can be stored when its report is accepted and shown
again, unchanged, in the digest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Any, Final

from mailbot.domain.seguimiento import PlannedMeta, Quarter, QuarterReport, Reports
from mailbot.domain.workbook_format import QUARTERS

ONE_DECIMAL: Final = Decimal("0.1")
HUNDRED: Final = Decimal(100)
_PRECISION: Final = Context(prec=28)
_COLOUR: Final = re.compile(r"^[0-9A-F]{6}$")
_NOTHING: Final = Decimal(0)


class MetaState(StrEnum):
    """The state of a meta at a cut-off, in the contract's order (the order counts are shown in)."""

    NO_PROGRAMADA = "No programada"
    SIN_INICIAR = "Sin iniciar"
    EN_EJECUCION = "En ejecución"
    REZAGADA = "Rezagada"
    CUMPLIDA = "Cumplida"
    SOBREEJECUTADA = "Sobreejecutada"


@dataclass(frozen=True)
class Grade:
    """A grade band: from `min_percent` (inclusive) up to the next band's minimum; `colour` as RRGGBB."""

    name: str
    min_percent: Decimal
    colour: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "min_percent": str(self.min_percent), "colour": self.colour}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Grade:
        return cls(str(data["name"]), Decimal(data["min_percent"]), str(data["colour"]))


#: DNP's ranges for eficacia, highest first (green to red, as the committee is used to read them).
DNP_GRADES: Final = (
    Grade("Sobresaliente", Decimal(80), "00B050"),
    Grade("Satisfactorio", Decimal(70), "92D050"),
    Grade("Medio", Decimal(60), "FFC000"),
    Grade("Bajo", Decimal(40), "ED7D31"),
    Grade("Crítico", Decimal(0), "C00000"),
)
DNP_LAG_BELOW: Final = Decimal(60)


def check_grades(grades: Sequence[Grade]) -> None:
    """Raise ValueError unless the bands cover 0–100 % once: distinct names, minimums strictly decreasing to 0.

    Shared with the configuration's validator, so a file and a hand-built `EvaluationRules` obey the same rules.
    """
    if not grades:
        raise ValueError("at least one grade is needed")
    names = [g.name for g in grades]
    if len(set(names)) != len(names):
        raise ValueError(f"grade names must be distinct: {', '.join(names)}")
    minimums = [g.min_percent for g in grades]
    if any(later >= earlier for earlier, later in pairwise(minimums)):
        raise ValueError("grades go from the highest to the lowest: min_percent must strictly decrease")
    if minimums[0] > HUNDRED or minimums[-1] != 0:
        raise ValueError("the first min_percent must be at most 100 and the last one must be 0")
    for grade in grades:
        if not _COLOUR.match(grade.colour):
            raise ValueError(f"grade '{grade.name}': colour must be 6 hexadecimal digits in capitals, e.g. 00B050")


@dataclass(frozen=True)
class EvaluationRules:
    """How scores are graded and when a meta lags; the default is DNP's (`EvaluationRules()`)."""

    grades: tuple[Grade, ...] = DNP_GRADES
    lag_below_percent: Decimal = DNP_LAG_BELOW

    def __post_init__(self) -> None:
        check_grades(self.grades)
        if not 0 < self.lag_below_percent <= HUNDRED:
            raise ValueError("lag_below_percent must be above 0 and at most 100")


DNP: Final = EvaluationRules()


def percent(fraction: Decimal) -> Decimal:
    """A ratio as the percentage shown: `Decimal('0.79955')` → `Decimal('80.0')` (one decimal, half up)."""
    return (fraction * HUNDRED).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def grade_of(shown_percent: Decimal, rules: EvaluationRules = DNP) -> Grade:
    """The band of a percentage; pass the rounded one (`percent(...)`) so the grade agrees with what is shown."""
    for grade in rules.grades:
        if shown_percent >= grade.min_percent:
            return grade
    return rules.grades[-1]


# ------------------------------------------------------------------------------------------------ one meta


@dataclass(frozen=True)
class MetaEvaluation:
    """One meta at the cut-off of `quarter`: the figures, the ratios (None: nothing planned), state and grade."""

    meta: PlannedMeta
    quarter: Quarter
    planned_q: Decimal
    executed_q: Decimal
    quarter_compliance: Decimal | None
    planned_to_date: Decimal
    executed_to_date: Decimal
    cumulative_raw: Decimal | None
    cumulative_compliance: Decimal | None
    year_progress: Decimal | None
    committed: int
    obligated: int
    paid: int
    budget_to_date: int
    financial_execution: Decimal | None
    state: MetaState
    grade: Grade | None
    evidence: str = ""
    explanation: str = ""

    @property
    def programmed(self) -> bool:
        """Counted in the score: something was planned up to this cut-off."""
        return self.planned_to_date > 0

    @property
    def over_executed(self) -> bool:
        """The raw cumulative ratio differs from the capped one that is scored (shown beside it)."""
        return self.cumulative_raw is not None and self.cumulative_raw != self.cumulative_compliance

    def exact_compliance(self) -> Fraction | None:
        """The capped cumulative compliance without any rounding, for the means."""
        return _capped(self.executed_to_date, self.planned_to_date)

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta.to_json(),
            "quarter": self.quarter,
            "planned_q": str(self.planned_q),
            "executed_q": str(self.executed_q),
            "quarter_compliance": _dump(self.quarter_compliance),
            "planned_to_date": str(self.planned_to_date),
            "executed_to_date": str(self.executed_to_date),
            "cumulative_raw": _dump(self.cumulative_raw),
            "cumulative_compliance": _dump(self.cumulative_compliance),
            "year_progress": _dump(self.year_progress),
            "committed": self.committed,
            "obligated": self.obligated,
            "paid": self.paid,
            "budget_to_date": self.budget_to_date,
            "financial_execution": _dump(self.financial_execution),
            "state": self.state.value,
            "grade": None if self.grade is None else self.grade.to_json(),
            "evidence": self.evidence,
            "explanation": self.explanation,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MetaEvaluation:
        return cls(
            meta=PlannedMeta.from_json(data["meta"]),
            quarter=int(data["quarter"]),
            planned_q=Decimal(data["planned_q"]),
            executed_q=Decimal(data["executed_q"]),
            quarter_compliance=_load(data["quarter_compliance"]),
            planned_to_date=Decimal(data["planned_to_date"]),
            executed_to_date=Decimal(data["executed_to_date"]),
            cumulative_raw=_load(data["cumulative_raw"]),
            cumulative_compliance=_load(data["cumulative_compliance"]),
            year_progress=_load(data["year_progress"]),
            committed=int(data["committed"]),
            obligated=int(data["obligated"]),
            paid=int(data["paid"]),
            budget_to_date=int(data["budget_to_date"]),
            financial_execution=_load(data["financial_execution"]),
            state=MetaState(data["state"]),
            grade=None if data["grade"] is None else Grade.from_json(data["grade"]),
            evidence=str(data.get("evidence", "")),
            explanation=str(data.get("explanation", "")),
        )


def evaluate_meta(
    meta: PlannedMeta, reports: Mapping[Quarter, QuarterReport], quarter: Quarter, rules: EvaluationRules = DNP
) -> MetaEvaluation:
    """Evaluate one meta at the cut-off of `quarter` from its reports by quarter (a missing quarter: nothing)."""
    _check_quarter(quarter)
    executed = {q: _executed(reports.get(q)) for q in QUARTERS}
    planned_to_date, executed_to_date = _to_date(meta, executed, quarter)
    cumulative = _capped(executed_to_date, planned_to_date)
    report = reports.get(quarter) or QuarterReport(execution=None)
    shown = None if cumulative is None else percent(_decimal(cumulative))
    return MetaEvaluation(
        meta=meta,
        quarter=quarter,
        planned_q=meta.planned(quarter),
        executed_q=executed[quarter],
        quarter_compliance=_maybe(_capped(executed[quarter], meta.planned(quarter))),
        planned_to_date=planned_to_date,
        executed_to_date=executed_to_date,
        cumulative_raw=_maybe(_ratio(executed_to_date, planned_to_date)),
        cumulative_compliance=_maybe(cumulative),
        year_progress=_maybe(_capped(executed_to_date, meta.meta_vigencia)),
        committed=report.committed,
        obligated=report.obligated,
        paid=report.paid,
        budget_to_date=meta.budget_to(quarter),
        financial_execution=_maybe(_ratio(Decimal(report.committed), Decimal(meta.budget_to(quarter)))),
        state=_state(planned_to_date, executed_to_date, shown, rules),
        grade=None if shown is None else grade_of(shown, rules),
        evidence=report.evidence,
        explanation=report.explanation,
    )


def _executed(report: QuarterReport | None) -> Decimal:
    """An empty cell, or a quarter not reported, is nothing executed."""
    return _NOTHING if report is None or report.execution is None else report.execution


def _to_date(meta: PlannedMeta, executed: Mapping[Quarter, Decimal], quarter: Quarter) -> tuple[Decimal, Decimal]:
    """(PA_q, A_q): sums from T1 for Incremento and Reducción; the quarter's own level for Mantenimiento."""
    if not meta.accumulates:
        return meta.planned_to(quarter), executed[quarter]
    until = [q for q in QUARTERS if q <= quarter]
    return meta.planned_to(quarter), sum((executed[q] for q in until), _NOTHING)


def _state(planned: Decimal, done: Decimal, shown: Decimal | None, rules: EvaluationRules) -> MetaState:
    """The module docstring's order; `shown` is the rounded cumulative percentage (None when not programmed)."""
    if planned <= 0 or shown is None:
        return MetaState.NO_PROGRAMADA
    if done <= 0:
        return MetaState.SIN_INICIAR
    if done > planned:
        return MetaState.SOBREEJECUTADA
    if done == planned:
        return MetaState.CUMPLIDA
    if shown < rules.lag_below_percent:
        return MetaState.REZAGADA
    return MetaState.EN_EJECUCION


# ------------------------------------------------------------------------------------------------ dependencia


class _Totals:
    """What a dependencia and the municipality both show about their metas (a mixin over `_members`)."""

    def _members(self) -> tuple[MetaEvaluation, ...]:
        raise NotImplementedError

    @property
    def programmed(self) -> int:
        return sum(1 for m in self._members() if m.programmed)

    @property
    def counts(self) -> dict[MetaState, int]:
        """Metas per state, every state present (zeros included), in MetaState's order."""
        return {state: sum(1 for m in self._members() if m.state is state) for state in MetaState}

    @property
    def committed(self) -> int:
        return sum(m.committed for m in self._members())

    @property
    def budget_to_date(self) -> int:
        return sum(m.budget_to_date for m in self._members())

    @property
    def financial_execution(self) -> Decimal | None:
        """Comprometido over planned pesos to date, summed over the metas (not a mean of the metas' ratios)."""
        return _maybe(_ratio(Decimal(self.committed), Decimal(self.budget_to_date)))


@dataclass(frozen=True)
class DependenciaEvaluation(_Totals):
    """A dependencia at the cut-off of `quarter`: its metas, score (None: nothing programmed yet) and grade."""

    code: str
    name: str
    quarter: Quarter
    metas: tuple[MetaEvaluation, ...]
    score: Decimal | None
    grade: Grade | None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "quarter": self.quarter,
            "metas": [m.to_json() for m in self.metas],
            "score": _dump(self.score),
            "grade": None if self.grade is None else self.grade.to_json(),
        }

    def _members(self) -> tuple[MetaEvaluation, ...]:
        return self.metas

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DependenciaEvaluation:
        return cls(
            code=str(data["code"]),
            name=str(data["name"]),
            quarter=int(data["quarter"]),
            metas=tuple(MetaEvaluation.from_json(m) for m in data["metas"]),
            score=_load(data["score"]),
            grade=None if data["grade"] is None else Grade.from_json(data["grade"]),
        )


def evaluate_dependencia(
    code: str,
    name: str,
    metas: Iterable[PlannedMeta],
    reports: Reports,
    quarter: Quarter,
    rules: EvaluationRules = DNP,
) -> DependenciaEvaluation:
    """Evaluate every meta of a dependencia's accepted plan (in the plan's order) and score the programmed ones."""
    evaluated = tuple(evaluate_meta(m, reports.get(m.meta_code, {}), quarter, rules) for m in metas)
    score, grade = _score(evaluated, rules)
    return DependenciaEvaluation(code, name, quarter, evaluated, score, grade)


# ------------------------------------------------------------------------------------------------ municipality


@dataclass(frozen=True)
class MunicipalityEvaluation(_Totals):
    """Every evaluated dependencia and the municipality's score over all their programmed metas."""

    dependencias: tuple[DependenciaEvaluation, ...]
    score: Decimal | None
    grade: Grade | None
    rules: EvaluationRules = DNP  # what the grades were read with (the workbook's legend)

    @property
    def metas(self) -> tuple[MetaEvaluation, ...]:
        return tuple(m for d in self.dependencias for m in d.metas)

    def to_json(self) -> dict[str, Any]:
        return {
            "dependencias": [d.to_json() for d in self.dependencias],
            "score": _dump(self.score),
            "grade": None if self.grade is None else self.grade.to_json(),
            "rules": {
                "grades": [g.to_json() for g in self.rules.grades],
                "lag_below_percent": str(self.rules.lag_below_percent),
            },
        }

    def _members(self) -> tuple[MetaEvaluation, ...]:
        return self.metas

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MunicipalityEvaluation:
        rules = EvaluationRules(
            grades=tuple(Grade.from_json(g) for g in data["rules"]["grades"]),
            lag_below_percent=Decimal(data["rules"]["lag_below_percent"]),
        )
        return cls(
            dependencias=tuple(DependenciaEvaluation.from_json(d) for d in data["dependencias"]),
            score=_load(data["score"]),
            grade=None if data["grade"] is None else Grade.from_json(data["grade"]),
            rules=rules,
        )


def evaluate_municipality(
    dependencias: Iterable[DependenciaEvaluation], rules: EvaluationRules = DNP
) -> MunicipalityEvaluation:
    """The municipality's score: the mean over all programmed metas of all dependencias (one cut-off, one each)."""
    evaluated = tuple(dependencias)
    quarters = {d.quarter for d in evaluated}
    if len(quarters) > 1:
        raise ValueError(f"one cut-off per evaluation; got quarters {sorted(quarters)}")
    codes = [d.code for d in evaluated]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise ValueError(f"one evaluation per dependencia; repeated: {', '.join(repeated)}")
    score, grade = _score([m for d in evaluated for m in d.metas], rules)
    return MunicipalityEvaluation(evaluated, score, grade, rules)


# ------------------------------------------------------------------------------------------------ arithmetic


def _score(metas: Iterable[MetaEvaluation], rules: EvaluationRules) -> tuple[Decimal | None, Grade | None]:
    """The exact mean of the programmed metas' capped compliance, and the grade of its rounded percentage."""
    values = [c for c in (m.exact_compliance() for m in metas) if c is not None]
    if not values:
        return None, None
    score = _decimal(sum(values, Fraction(0)) / len(values))
    return score, grade_of(percent(score), rules)


def _ratio(done: Decimal, planned: Decimal) -> Fraction | None:
    """done / planned, exactly; None when nothing was planned."""
    if planned <= 0:
        return None
    return Fraction(done) / Fraction(planned)


def _capped(done: Decimal, planned: Decimal) -> Fraction | None:
    """The ratio kept within 0..1: over-execution scores 100 %, a negative report scores nothing."""
    ratio = _ratio(done, planned)
    return None if ratio is None else min(max(ratio, Fraction(0)), Fraction(1))


def _decimal(value: Fraction) -> Decimal:
    """28 significant digits, whatever the thread's decimal context says."""
    return _PRECISION.divide(Decimal(value.numerator), Decimal(value.denominator))


def _maybe(value: Fraction | None) -> Decimal | None:
    return None if value is None else _decimal(value)


def _dump(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _load(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _check_quarter(quarter: Quarter) -> None:
    if quarter not in QUARTERS:
        raise ValueError(f"quarter must be 1..4, not {quarter}")
