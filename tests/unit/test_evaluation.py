"""The quarterly evaluation: every formula of the contract against figures worked out by hand.

Each expected number is a literal computed by hand in the comment beside it (never by calling the code under
test), so a wrong formula, a wrong cap or a wrong rounding fails here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mailbot.config import Evaluation, load_config
from mailbot.domain.evaluation import (
    DNP,
    DependenciaEvaluation,
    EvaluationRules,
    Grade,
    MetaEvaluation,
    MetaState,
    MunicipalityEvaluation,
    evaluate_dependencia,
    evaluate_meta,
    evaluate_municipality,
    grade_of,
    percent,
)
from mailbot.domain.seguimiento import PlannedMeta, QuarterReport
from mailbot.errors import ConfigError
from tests.support.configs import write_config
from tests.support.seguimiento import planned_meta

D = Decimal
MILLION = 1_000_000


def planned(
    programming: tuple[str | int, str | int, str | int, str | int],
    vigencia: str | int,
    *,
    kind: str = "Incremento",
    code: str = "010101",
    budget: tuple[int, int, int, int] = (MILLION, 2 * MILLION, 3 * MILLION, 4 * MILLION),
) -> PlannedMeta:
    return planned_meta(code, programming, vigencia, kind=kind, budget=budget)


def reported(*executions: str | int | None, committed: int = 0) -> dict[int, QuarterReport]:
    """Quarter reports T1, T2, … with these executions (None: the cell left empty)."""
    return {
        q: QuarterReport(execution=None if e is None else D(e), committed=committed)
        for q, e in enumerate(executions, start=1)
    }


def at(meta: PlannedMeta, reports: Mapping[int, QuarterReport], quarter: int, **kwargs: Any) -> MetaEvaluation:
    return evaluate_meta(meta, reports, quarter, **kwargs)


def shown(value: Decimal | None) -> Decimal | None:
    """The percentage shown, for asserting against hand-rounded literals."""
    return None if value is None else percent(value)


# ------------------------------------------------------------------------------------------------ Incremento

# P = 10, 20, 30, 40 (meta vigencia 100); E = 5, 25, 12, empty.
INCREMENTO = planned((10, 20, 30, 40), 100)
INCREMENTO_REPORTS = reported(5, 25, 12, None)


def test_incremento_t1_is_behind() -> None:
    """T1: E/P = 5/10 = 0.5; PA = 10, A = 5 → 50 %: below 60 %, Rezagada, grade Bajo; year 5/100."""
    e = at(INCREMENTO, INCREMENTO_REPORTS, 1)
    assert (e.planned_q, e.executed_q, e.planned_to_date, e.executed_to_date) == (D(10), D(5), D(10), D(5))
    assert e.quarter_compliance == D("0.5")
    assert e.cumulative_compliance == e.cumulative_raw == D("0.5")
    assert e.year_progress == D("0.05")
    assert e.state is MetaState.REZAGADA
    assert e.grade is not None
    assert e.grade.name == "Bajo"


def test_incremento_t2_catches_up() -> None:
    """T2: E/P = 25/20 capped to 1; PA = 10+20 = 30, A = 5+25 = 30 → 100 %, Cumplida; year 30/100 = 0.3."""
    e = at(INCREMENTO, INCREMENTO_REPORTS, 2)
    assert e.quarter_compliance == D(1)
    assert (e.planned_to_date, e.executed_to_date) == (D(30), D(30))
    assert e.cumulative_compliance == D(1)
    assert e.year_progress == D("0.3")
    assert e.state is MetaState.CUMPLIDA
    assert not e.over_executed


def test_incremento_t3_in_progress() -> None:
    """T3: E/P = 12/30 = 0.4; PA = 60, A = 5+25+12 = 42 → 42/60 = 0.7 → 70.0 %, Satisfactorio, En ejecución."""
    e = at(INCREMENTO, INCREMENTO_REPORTS, 3)
    assert e.quarter_compliance == D("0.4")
    assert (e.planned_to_date, e.executed_to_date) == (D(60), D(42))
    assert e.cumulative_compliance == D("0.7")
    assert e.year_progress == D("0.42")
    assert e.state is MetaState.EN_EJECUCION
    assert e.grade is not None
    assert e.grade.name == "Satisfactorio"


def test_incremento_t4_empty_cell_counts_as_nothing() -> None:
    """T4 left empty: E = 0, quarter 0/40 = 0; PA = 100, A = 42 → 42 %, Rezagada; year 42/100."""
    e = at(INCREMENTO, INCREMENTO_REPORTS, 4)
    assert e.executed_q == D(0)
    assert e.quarter_compliance == D(0)
    assert (e.planned_to_date, e.executed_to_date) == (D(100), D(42))
    assert e.cumulative_compliance == D("0.42")
    assert e.year_progress == D("0.42")
    assert e.state is MetaState.REZAGADA


def test_a_quarter_not_reported_at_all_counts_as_nothing() -> None:
    """No T2 report (a late dependencia): A_2 = 5 + 0 = 5 of PA_2 = 30 → 5/30 = 16.666… % → 16.7 %."""
    e = at(INCREMENTO, {1: QuarterReport(D(5))}, 2)
    assert e.executed_to_date == D(5)
    assert shown(e.cumulative_compliance) == D("16.7")
    assert e.state is MetaState.REZAGADA


def test_execution_above_the_meta_is_capped_for_the_score_but_shown() -> None:
    """E4 = 150 with P = 10,20,30,40: A = 150, PA = 100 → raw 150 %, capped 100 %; year min(150/100, 1) = 1."""
    e = at(INCREMENTO, reported(10, 20, 30, 90), 4)
    assert e.executed_to_date == D(150)
    assert e.cumulative_raw == D("1.5")
    assert e.cumulative_compliance == D(1)
    assert e.quarter_compliance == D(1)  # 90 / 40 capped
    assert e.year_progress == D(1)
    assert e.state is MetaState.SOBREEJECUTADA
    assert e.over_executed
    assert e.grade is not None
    assert e.grade.name == "Sobresaliente"


# ------------------------------------------------------------------------------------------------ Mantenimiento

# A level kept all year: P = 50, 50, 50, 50 (meta vigencia 50); E = 40, 50, 55, empty.
MANTENIMIENTO = planned((50, 50, 50, 50), 50, kind="Mantenimiento")
MANTENIMIENTO_REPORTS = reported(40, 50, 55, None)


def test_mantenimiento_compares_the_quarters_level() -> None:
    """T1: PA = P_1 = 50, A = E_1 = 40 → 0.8 → 80.0 %, Sobresaliente, En ejecución; year 40/50 = 0.8."""
    e = at(MANTENIMIENTO, MANTENIMIENTO_REPORTS, 1)
    assert (e.planned_to_date, e.executed_to_date) == (D(50), D(40))
    assert e.cumulative_compliance == D("0.8")
    assert e.year_progress == D("0.8")
    assert e.state is MetaState.EN_EJECUCION
    assert e.grade is not None
    assert e.grade.name == "Sobresaliente"


def test_mantenimiento_is_not_summed() -> None:
    """T2: the level 50 of 50 → Cumplida. Summed it would be 90/100 (En ejecución): the level is what counts."""
    e = at(MANTENIMIENTO, MANTENIMIENTO_REPORTS, 2)
    assert (e.planned_to_date, e.executed_to_date) == (D(50), D(50))
    assert e.cumulative_compliance == D(1)
    assert e.year_progress == D(1)
    assert e.state is MetaState.CUMPLIDA


def test_mantenimiento_above_its_level_is_over_executed() -> None:
    """T3: 55 of 50 → raw 1.1, capped 1, Sobreejecutada; year min(55/50, 1) = 1."""
    e = at(MANTENIMIENTO, MANTENIMIENTO_REPORTS, 3)
    assert e.cumulative_raw == D("1.1")
    assert e.cumulative_compliance == D(1)
    assert e.year_progress == D(1)
    assert e.state is MetaState.SOBREEJECUTADA


def test_mantenimiento_level_not_reported_is_not_started() -> None:
    """T4 empty: the level is 0 (earlier quarters do not carry over) → Sin iniciar, 0 %."""
    e = at(MANTENIMIENTO, MANTENIMIENTO_REPORTS, 4)
    assert e.executed_to_date == D(0)
    assert e.cumulative_compliance == D(0)
    assert e.state is MetaState.SIN_INICIAR
    assert e.grade is not None
    assert e.grade.name == "Crítico"


# ------------------------------------------------------------------------------------------------ Reducción

# "Reducir en 8 los puntos críticos de accidentalidad": P = 0, 4, 0, 4 (meta 8); E = empty, 3, 2.
REDUCCION = planned((0, 4, 0, 4), 8, kind="Reducción")
REDUCCION_REPORTS = reported(None, 3, 2)


def test_reduccion_not_programmed_in_t1() -> None:
    """T1: P_1 = 0 → no quarter ratio, PA = 0 → No programada, no grade; year 0/8 = 0."""
    e = at(REDUCCION, REDUCCION_REPORTS, 1)
    assert e.quarter_compliance is None
    assert e.cumulative_compliance is None
    assert e.cumulative_raw is None
    assert e.year_progress == D(0)
    assert e.state is MetaState.NO_PROGRAMADA
    assert e.grade is None
    assert not e.programmed


def test_reduccion_accumulates_like_incremento() -> None:
    """T2: 3/4 = 0.75 (quarter and cumulative, PA = 0+4, A = 0+3) → 75.0 % Satisfactorio; year 3/8 = 0.375."""
    e = at(REDUCCION, REDUCCION_REPORTS, 2)
    assert e.quarter_compliance == D("0.75")
    assert e.cumulative_compliance == D("0.75")
    assert e.year_progress == D("0.375")
    assert e.state is MetaState.EN_EJECUCION


def test_reduccion_ahead_of_plan() -> None:
    """T3: P_3 = 0 → no quarter ratio; PA = 4, A = 3+2 = 5 → raw 1.25, capped 1, Sobreejecutada; year 5/8."""
    e = at(REDUCCION, REDUCCION_REPORTS, 3)
    assert e.quarter_compliance is None
    assert e.cumulative_raw == D("1.25")
    assert e.cumulative_compliance == D(1)
    assert e.year_progress == D("0.625")
    assert e.state is MetaState.SOBREEJECUTADA


# ------------------------------------------------------------------------------------------------ states


@pytest.mark.parametrize(
    ("executions", "quarter", "state"),
    [
        (("0",), 1, MetaState.SIN_INICIAR),  # PA = 10, A = 0
        ((None,), 1, MetaState.SIN_INICIAR),  # an empty cell is 0
        (("-1",), 1, MetaState.SIN_INICIAR),  # a negative report (rejected by the rules) is nothing done
        (("6",), 1, MetaState.EN_EJECUCION),  # 6/10 = 60.0 %: not below 60 %
        (("5.99",), 1, MetaState.REZAGADA),  # 59.9 %
        (("10",), 1, MetaState.CUMPLIDA),  # 10/10
        (("10.01",), 1, MetaState.SOBREEJECUTADA),  # 100.1 %
        (("3", "0"), 2, MetaState.REZAGADA),  # 3/30 = 10 %
    ],
)
def test_every_state(executions: tuple[str | None, ...], quarter: int, state: MetaState) -> None:
    assert at(INCREMENTO, reported(*executions), quarter).state is state


def test_no_programada_comes_first_even_with_execution() -> None:
    """PA = 0 decides before anything else: execution ahead of the plan is shown but not scored."""
    e = at(REDUCCION, reported("2"), 1)
    assert e.state is MetaState.NO_PROGRAMADA
    assert e.executed_to_date == D(2)
    assert e.year_progress == D("0.25")  # 2/8


def test_negative_execution_scores_nothing() -> None:
    e = at(INCREMENTO, reported("-1"), 1)
    assert e.cumulative_compliance == D(0)
    assert e.cumulative_raw == D("-0.1")


def test_lag_is_read_from_the_shown_percentage() -> None:
    """5996/10000 = 59.96 % shows 60.0 %, so it is not Rezagada; 5994 shows 59.9 % and is."""
    meta = planned((10000, 0, 0, 0), 10000)
    assert at(meta, reported("5996"), 1).state is MetaState.EN_EJECUCION
    assert at(meta, reported("5994"), 1).state is MetaState.REZAGADA


def test_lag_threshold_is_configurable() -> None:
    """70 % is En ejecución under DNP's 60 % and Rezagada when the municipality lags below 75 %."""
    rules = EvaluationRules(lag_below_percent=D(75))
    assert at(INCREMENTO, INCREMENTO_REPORTS, 3).state is MetaState.EN_EJECUCION
    assert at(INCREMENTO, INCREMENTO_REPORTS, 3, rules=rules).state is MetaState.REZAGADA


def test_quarter_outside_1_to_4_is_refused() -> None:
    with pytest.raises(ValueError, match=r"1\.\.4"):
        at(INCREMENTO, INCREMENTO_REPORTS, 5)


# ------------------------------------------------------------------------------------------------ financial


def test_financial_execution_is_committed_over_budget_to_date() -> None:
    """T2: budget T1+T2 = 1 M + 2 M = 3 M; committed (cumulative) 2.4 M → 0.8; obligated and paid carried."""
    reports = {2: QuarterReport(D(25), committed=2_400_000, obligated=1_500_000, paid=900_000)}
    e = at(INCREMENTO, reports, 2)
    assert e.budget_to_date == 3 * MILLION
    assert (e.committed, e.obligated, e.paid) == (2_400_000, 1_500_000, 900_000)
    assert e.financial_execution == D("0.8")


def test_financial_execution_above_budget_is_not_capped() -> None:
    """3.6 M committed of 3 M planned → 1.2 (rule S03 warns; the figure is shown as it is)."""
    e = at(INCREMENTO, {2: QuarterReport(D(25), committed=3_600_000)}, 2)
    assert e.financial_execution == D("1.2")


def test_financial_execution_without_budget_is_none() -> None:
    """A management meta (no money) has no financial ratio, whatever it committed."""
    meta = planned((10, 20, 30, 40), 100, budget=(0, 0, 0, 0))
    e = at(meta, {1: QuarterReport(D(5), committed=100)}, 1)
    assert e.budget_to_date == 0
    assert e.financial_execution is None


# ------------------------------------------------------------------------------------------------ grades


@pytest.mark.parametrize(
    ("fraction", "shown_percent", "grade"),
    [
        ("1", "100.0", "Sobresaliente"),
        ("0.8", "80.0", "Sobresaliente"),
        ("0.7996", "80.0", "Sobresaliente"),  # 79.96 → 80.0: the grade follows what is shown
        ("0.7995", "80.0", "Sobresaliente"),  # half up
        ("0.7994", "79.9", "Satisfactorio"),
        ("0.7", "70.0", "Satisfactorio"),
        ("0.6994", "69.9", "Medio"),
        ("0.6", "60.0", "Medio"),
        ("0.5994", "59.9", "Bajo"),
        ("0.4", "40.0", "Bajo"),
        ("0.3994", "39.9", "Crítico"),
        ("0", "0.0", "Crítico"),
    ],
)
def test_dnp_grade_boundaries(fraction: str, shown_percent: str, grade: str) -> None:
    assert percent(D(fraction)) == D(shown_percent)
    assert grade_of(percent(D(fraction))).name == grade


def test_dnp_grade_colours() -> None:
    assert [(g.name, g.min_percent, g.colour) for g in DNP.grades] == [
        ("Sobresaliente", D(80), "00B050"),
        ("Satisfactorio", D(70), "92D050"),
        ("Medio", D(60), "FFC000"),
        ("Bajo", D(40), "ED7D31"),
        ("Crítico", D(0), "C00000"),
    ]


def test_a_boundary_execution_is_not_turned_into_a_float() -> None:
    """7.995 of 10 = 0.7995 exactly → 80.0 % Sobresaliente. As a float 0.7995 is 0.79949999… and would show 79.9 %."""
    e = at(planned((10, 0, 0, 0), 10), reported("7.995"), 1)
    assert e.cumulative_compliance == D("0.7995")
    assert shown(e.cumulative_compliance) == D("80.0")
    assert e.grade is not None
    assert e.grade.name == "Sobresaliente"


def test_a_meta_is_graded_from_its_shown_percentage() -> None:
    """7996/10000 = 79.96 % → shown 80.0 % → Sobresaliente (not Satisfactorio from the unrounded 79.96)."""
    e = at(planned((10000, 0, 0, 0), 10000), reported("7996"), 1)
    assert shown(e.cumulative_compliance) == D("80.0")
    assert e.grade is not None
    assert e.grade.name == "Sobresaliente"


CUSTOM = EvaluationRules(
    grades=(
        Grade("Alto", D(90), "1F4E78"),
        Grade("Aceptable", D("50.5"), "9DC3E6"),
        Grade("Insuficiente", D(0), "FF0000"),
    ),
    lag_below_percent=D(50),
)


@pytest.mark.parametrize(
    ("shown_percent", "grade"),
    [("100.0", "Alto"), ("90.0", "Alto"), ("89.9", "Aceptable"), ("50.5", "Aceptable"), ("50.4", "Insuficiente")],
)
def test_custom_ranges(shown_percent: str, grade: str) -> None:
    assert grade_of(D(shown_percent), CUSTOM).name == grade


@pytest.mark.parametrize(
    ("grades", "message"),
    [
        ((), "at least one"),
        ((Grade("A", D(50), "000000"), Grade("B", D(60), "000000"), Grade("C", D(0), "000000")), "decrease"),
        ((Grade("A", D(50), "000000"), Grade("B", D(50), "000000"), Grade("C", D(0), "000000")), "decrease"),
        ((Grade("A", D(50), "000000"), Grade("B", D(10), "000000")), "last one must be 0"),
        ((Grade("A", D(101), "000000"), Grade("B", D(0), "000000")), "at most 100"),
        ((Grade("A", D(50), "00B05"), Grade("B", D(0), "000000")), "colour"),
        ((Grade("A", D(50), "#00B050"), Grade("B", D(0), "000000")), "colour"),
        ((Grade("A", D(50), "000000"), Grade("A", D(0), "000000")), "distinct"),
    ],
)
def test_invalid_grades_are_refused(grades: tuple[Grade, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EvaluationRules(grades=grades)


@pytest.mark.parametrize("lag", ["0", "100.1"])
def test_invalid_lag_threshold_is_refused(lag: str) -> None:
    with pytest.raises(ValueError, match="lag_below_percent"):
        EvaluationRules(lag_below_percent=D(lag))


# ------------------------------------------------------------------------------------------------ scores


def _dependencia() -> DependenciaEvaluation:
    """Three metas at T1: 5/10 = 0.5; 15/10 = 1.5 capped to 1; and one with nothing programmed in T1."""
    metas = [
        planned((10, 20, 30, 40), 100, code="A"),
        planned((10, 20, 30, 40), 100, code="B"),
        planned((0, 4, 0, 4), 8, code="C", kind="Reducción", budget=(0, MILLION, 0, MILLION)),
    ]
    reports = {
        "A": {1: QuarterReport(D(5), committed=500_000)},
        "B": {1: QuarterReport(D(15), committed=1_000_000)},
        "C": {1: QuarterReport(None)},
    }
    return evaluate_dependencia("EDU", "Secretaría de Educación", metas, reports, 1)


def test_dependencia_score_leaves_unprogrammed_metas_out() -> None:
    """(0.5 + 1) / 2 = 0.75 → 75.0 % Satisfactorio. Counting C as 0 would give 0.5; the raw ratio 1.0."""
    d = _dependencia()
    assert d.score == D("0.75")
    assert d.grade is not None
    assert d.grade.name == "Satisfactorio"
    assert d.programmed == 2
    assert len(d.metas) == 3
    assert [m.meta.meta_code for m in d.metas] == ["A", "B", "C"]  # the plan's order


def test_dependencia_counts_every_state() -> None:
    assert _dependencia().counts == {
        MetaState.NO_PROGRAMADA: 1,
        MetaState.SIN_INICIAR: 0,
        MetaState.EN_EJECUCION: 0,
        MetaState.REZAGADA: 1,
        MetaState.CUMPLIDA: 0,
        MetaState.SOBREEJECUTADA: 1,
    }


def test_dependencia_financial_execution_sums_money_first() -> None:
    """Committed 0.5 M + 1 M = 1.5 M over T1 budgets 1 M + 1 M + 0 = 2 M → 0.75 (not a mean of ratios)."""
    d = _dependencia()
    assert (d.committed, d.budget_to_date) == (1_500_000, 2 * MILLION)
    assert d.financial_execution == D("0.75")


def test_dependencia_with_nothing_programmed_has_no_score() -> None:
    d = evaluate_dependencia("GOB", "Secretaría de Gobierno", [REDUCCION], {}, 1)
    assert d.score is None
    assert d.grade is None
    assert d.programmed == 0


def test_metas_missing_from_the_reports_count_as_not_started() -> None:
    d = evaluate_dependencia("GOB", "Secretaría de Gobierno", [INCREMENTO], {}, 1)
    assert d.metas[0].state is MetaState.SIN_INICIAR
    assert d.score == D(0)


def test_municipality_score_is_a_mean_over_metas_not_over_dependencias() -> None:
    """HAC: one meta at 10/10 = 1. SAL: three metas at 4/10 = 0.4. Over metas (1 + 3 × 0.4) / 4 = 0.55 → Bajo;
    a mean of the two means would be (1 + 0.4) / 2 = 0.7 → Satisfactorio."""
    meta = planned((10, 20, 30, 40), 100)
    hac = evaluate_dependencia("HAC", "Secretaría de Hacienda", [meta], {meta.meta_code: reported(10)}, 1)
    sal_metas = [planned((10, 20, 30, 40), 100, code=c) for c in ("S1", "S2", "S3")]
    sal = evaluate_dependencia("SAL", "Secretaría de Salud", sal_metas, {c: reported(4) for c in ("S1", "S2", "S3")}, 1)
    town = evaluate_municipality([hac, sal])
    assert town.score == D("0.55")
    assert town.grade is not None
    assert town.grade.name == "Bajo"
    assert town.programmed == 4
    assert len(town.metas) == 4
    assert town.counts[MetaState.REZAGADA] == 3
    assert town.counts[MetaState.CUMPLIDA] == 1


def test_municipality_score_is_exact_at_a_rounding_boundary() -> None:
    """Three metas at 1/3 and one at 5.98/10 = 0.598: (1/3 + 1/3 + 1/3 + 0.598) / 4 = 1.598 / 4 = 0.3995
    exactly → 40.0 % (half up) → Bajo, not 39.9 % Crítico: thirds must not leave the mean a hair below."""
    thirds = [planned((3, 0, 0, 0), 3, code=f"T{i}") for i in range(3)]
    rest = planned((10, 0, 0, 0), 10, code="R")
    reports = {**{f"T{i}": reported(1) for i in range(3)}, "R": reported("5.98")}
    dependencia = evaluate_dependencia("AMB", "Secretaría de Ambiente", [*thirds, rest], reports, 1)
    town = evaluate_municipality([dependencia])
    for score in (dependencia.score, town.score):
        assert score is not None
        assert percent(score) == D("40.0")
    assert town.grade is not None
    assert town.grade.name == "Bajo"


def test_municipality_with_nothing_programmed() -> None:
    town = evaluate_municipality([])
    assert (town.score, town.grade, town.programmed, town.financial_execution) == (None, None, 0, None)


def test_municipality_refuses_mixed_quarters_and_repeated_dependencias() -> None:
    t1 = evaluate_dependencia("HAC", "Hacienda", [INCREMENTO], {}, 1)
    t2 = evaluate_dependencia("EDU", "Educación", [INCREMENTO], {}, 2)
    with pytest.raises(ValueError, match="cut-off"):
        evaluate_municipality([t1, t2])
    with pytest.raises(ValueError, match="HAC"):
        evaluate_municipality([t1, t1])


# ------------------------------------------------------------------------------------------------ JSON


def test_dependencia_round_trips_through_json() -> None:
    """Stored in the database's JSON column and rebuilt for the digest: equal, Decimals exact, as strings."""
    d = evaluate_dependencia(
        "EDU",
        "Secretaría de Educación",
        [INCREMENTO, MANTENIMIENTO, REDUCCION],
        {"010101": {3: QuarterReport(D("12.5"), 1, 1, 1, '=HYPERLINK("x")', "Explicación")}},
        3,
    )
    text = json.dumps(d.to_json(), ensure_ascii=False)
    assert '"score": "' in text  # a string, not a float
    assert DependenciaEvaluation.from_json(json.loads(text)) == d


def test_municipality_round_trips_through_json_with_its_rules() -> None:
    town = evaluate_municipality([_dependencia()], CUSTOM)
    again = MunicipalityEvaluation.from_json(json.loads(json.dumps(town.to_json())))
    assert again == town
    assert again.rules == CUSTOM


# ------------------------------------------------------------------------------------------------ configuration


def test_default_configuration_is_dnp() -> None:
    assert Evaluation().rules() == DNP


def test_configured_grades_become_rules() -> None:
    section = Evaluation.model_validate(
        {
            "grades": [
                {"name": "Alto", "min_percent": 90, "colour": "#1f4e78"},
                {"name": "Aceptable", "min_percent": 50.5, "colour": "9DC3E6"},
                {"name": "Insuficiente", "min_percent": 0, "colour": "FF0000"},
            ],
            "lag_below_percent": 50,
        }
    )
    assert section.rules() == CUSTOM


@pytest.mark.parametrize(
    ("grades", "message"),
    [
        (
            [{"name": "A", "min_percent": 0, "colour": "000000"}, {"name": "B", "min_percent": 50, "colour": "000000"}],
            "decrease",
        ),
        ([{"name": "A", "min_percent": 50, "colour": "000000"}], "last one must be 0"),
        ([{"name": "A", "min_percent": 0, "colour": "verde"}], "colour"),
        (
            [{"name": "A", "min_percent": 0, "colour": "000000"}, {"name": "B", "min_percent": 0, "colour": "00"}],
            "colour",
        ),
        (
            [
                {"name": "A", "min_percent": 79.95, "colour": "000000"},
                {"name": "B", "min_percent": 0, "colour": "000000"},
            ],
            "min_percent",
        ),
    ],
)
def test_invalid_configured_grades_name_the_key(tmp_path: Path, grades: list[dict[str, Any]], message: str) -> None:
    path = write_config(tmp_path, {"evaluation": {"grades": grades}})
    with pytest.raises(ConfigError, match=r"evaluation\.grades") as info:
        load_config(path, environ={})
    assert message in str(info.value)


def test_example_configuration_documents_the_section() -> None:
    """The example shows the DNP defaults commented out, so uncommenting them changes nothing."""
    text = (Path(__file__).resolve().parents[2] / "config" / "mailbot.example.yaml").read_text(encoding="utf-8")
    assert "# evaluation:" in text
    assert "lag_below_percent: 60" in text
    for grade in DNP.grades:
        assert f'{{name: {grade.name}, min_percent: {grade.min_percent}, colour: "{grade.colour}"}}' in text
