"""Seguimiento rounds: the baseline each quarter is reported against, read from what was accepted before.

The accepted formulación is read back from the archive (the plan of record is the file, not a copy of it); the
quarters already reported come from the JSON stored with the latest accepted seguimiento (its `reports`), so that a
quarter is never re-read from a workbook that might have changed format since.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mailbot.adapters.workbook.evaluation import evaluation_workbook
from mailbot.app import App
from mailbot.config import MailbotConfig
from mailbot.domain.accepted import AcceptedPlan
from mailbot.domain.evaluation import (
    DependenciaEvaluation,
    MetaState,
    MunicipalityEvaluation,
    evaluate_dependencia,
    evaluate_municipality,
    percent,
)
from mailbot.domain.money import format_percent
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.rounds import seguimiento_rondas
from mailbot.domain.seguimiento import Baseline, QuarterReport, reports_from_json, reports_of, reports_to_json
from mailbot.domain.summary import planned_metas
from mailbot.domain.workbook_format import Ronda
from mailbot.errors import MailbotError
from mailbot.services.accepted import accepted_plan, latest_accepted
from mailbot.services.templates import make_template
from mailbot.services.validation import build_context


def preview(app: App, dependencia: str, vigencia: int, ronda: Ronda, token: str) -> bytes:
    """A dependencia's seguimiento workbook as it would be mailed now (for `mailbot template`)."""
    with app.sessions() as session:
        found = baseline(app, session, vigencia, dependencia, ronda)
    if found is None:
        raise MailbotError(f"{dependencia} has no accepted {vigencia} plan: there is nothing to follow up yet")
    base, plan = found
    return make_template(
        app.config, dependencia, vigencia=vigencia, ronda=ronda, token=token, baseline=base, accepted=plan.workbook
    )


def baseline(
    app: App, session: Session, vigencia: int, dependencia: str, ronda: Ronda
) -> tuple[Baseline, AcceptedPlan] | None:
    """What the seguimiento of `ronda` is built from and checked against; None without an accepted plan."""
    quarter = ronda.quarter
    assert quarter is not None
    plan = accepted_plan(app, session, vigencia, dependencia)
    if plan is None:
        return None
    context = build_context(app.config, dependencia, vigencia=vigencia, ronda=Ronda.FORMULACION)
    metas = planned_metas(plan.workbook, context)
    earlier = tuple(r for r in seguimiento_rondas() if (r.quarter or 0) < quarter)
    previous = latest_accepted(session, vigencia, dependencia, earlier) if earlier else None
    if previous is None or not previous[0].plan:
        return Baseline(quarter, metas), plan
    submission, _, previous_ronda = previous
    reports = reports_from_json((submission.plan or {}).get("reports", {}))
    reported = frozenset(range(1, (previous_ronda.quarter or 0) + 1))
    return Baseline(quarter, metas, reports, reported), plan


# ------------------------------------------------------------------------------------------------ evaluation


def evaluate(
    config: MailbotConfig, dependencia: str, workbook: ParsedWorkbook, base: Baseline
) -> DependenciaEvaluation:
    """The evaluation of an accepted seguimiento: the quarters it reported, on the baseline it was checked against."""
    dep = config.dependencia(dependencia)
    return evaluate_dependencia(
        dep.code, dep.name, base.metas, reported(workbook, base), base.quarter, config.evaluation.rules()
    )


def reported(workbook: ParsedWorkbook, base: Baseline) -> dict[str, dict[int, QuarterReport]]:
    """Every quarter up to the cut-off: the accepted earlier ones from the baseline, the open ones from the file."""
    found = reports_of(workbook, base.open_quarters)
    out: dict[str, dict[int, QuarterReport]] = {}
    for meta in base.metas:
        by_q = {q: r for q in base.reported if (r := base.earlier(meta.meta_code, q)) is not None}
        by_q |= found.get(meta.meta_code, {})
        out[meta.meta_code] = by_q
    return out


def record(workbook: ParsedWorkbook, base: Baseline, evaluation: DependenciaEvaluation) -> dict[str, Any]:
    """What an accepted seguimiento stores: the reports (the next quarter's baseline) and the evaluation."""
    return {
        "quarter": base.quarter,
        "reports": reports_to_json(reported(workbook, base)),
        "evaluation": evaluation.to_json(),
    }


def for_mail(evaluation: DependenciaEvaluation, lag_below_percent: Decimal) -> dict[str, Any]:
    """The acceptance's table: each meta with its compliance, state and grade, in Spanish figures."""
    return {
        "umbral_rezago": format_percent(lag_below_percent),
        "trimestre": evaluation.quarter,
        "puntaje": format_percent(_shown(evaluation.score), missing="sin metas programadas a la fecha"),
        "calificacion": evaluation.grade.name if evaluation.grade else "",
        "color": evaluation.grade.colour if evaluation.grade else "BFBFBF",
        "programadas": evaluation.programmed,
        "metas": [
            {
                "codigo": m.meta.meta_code,
                "meta": m.meta.meta,
                "unidad": m.meta.unit,
                "programado": _quantity(m.planned_q),
                "ejecutado": _quantity(m.executed_q),
                "cumplimiento_trimestre": format_percent(_shown(m.quarter_compliance)),
                "cumplimiento_acumulado": format_percent(_shown(m.cumulative_compliance)),
                "acumulado_real": format_percent(_shown(m.cumulative_raw)) if m.over_executed else "",
                "avance_anual": format_percent(_shown(m.year_progress), missing="—"),
                "ejecucion_financiera": format_percent(_shown(m.financial_execution), missing="—"),
                "estado": m.state.value,
                "calificacion": m.grade.name if m.grade else "—",
                "color": m.grade.colour if m.grade else "BFBFBF",
            }
            for m in evaluation.metas
        ],
        "rezagadas": sum(1 for m in evaluation.metas if m.state is MetaState.REZAGADA),
    }


def _shown(fraction: Decimal | None) -> Decimal | None:
    return None if fraction is None else percent(fraction)


def _quantity(value: Decimal) -> str:
    return format(value.normalize(), "f").replace(".", ",")


# ------------------------------------------------------------------------------------------------ a quarter


@dataclass(frozen=True)
class QuarterResult:
    """Every dependencia's accepted report for one quarter, evaluated together, and who has none yet."""

    ronda: Ronda
    evaluation: MunicipalityEvaluation
    radicados: dict[str, str]
    missing: list[tuple[str, str]]


def quarter_result(app: App, vigencia: int, ronda: Ronda) -> QuarterResult:
    """Read from the evaluations stored at acceptance (the same figures each secretario was sent)."""
    config = app.config
    evaluations: list[DependenciaEvaluation] = []
    radicados: dict[str, str] = {}
    with app.sessions() as session:
        for dep in config.dependencias:
            found = latest_accepted(session, vigencia, dep.code, (ronda,))
            if found is None or not (found[0].plan or {}).get("evaluation"):
                continue
            submission = found[0]
            evaluations.append(DependenciaEvaluation.from_json((submission.plan or {})["evaluation"]))
            radicados[dep.code] = submission.radicado or ""
    result = evaluate_municipality(evaluations, config.evaluation.rules())
    missing = [(d.code, d.name) for d in config.dependencias if d.code not in radicados]
    return QuarterResult(ronda, result, radicados, missing)


def export_evaluation(app: App, vigencia: int, ronda: Ronda, out: Path) -> QuarterResult:
    """The quarter's evaluation workbook for the management committee."""
    assert ronda.quarter is not None
    found = quarter_result(app, vigencia, ronda)
    config = app.config
    data = evaluation_workbook(
        municipality=config.municipality.name,
        plan_name=config.development_plan.name,
        vigencia=vigencia,
        quarter=ronda.quarter,
        result=found.evaluation,
        missing=found.missing,
        generated_at=app.clock.now(),
    )
    out.write_bytes(data)
    return found
