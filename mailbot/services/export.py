"""The consolidated action plan of a vigencia, built from the accepted versions kept in the archive."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from mailbot.adapters.workbook.consolidated import consolidated_workbook
from mailbot.app import App
from mailbot.domain.accepted import AcceptedPlan
from mailbot.domain.workbook_format import Ronda
from mailbot.errors import MailbotError
from mailbot.services.accepted import accepted_plan


@dataclass(frozen=True)
class Consolidated:
    plans: list[AcceptedPlan]
    missing: list[tuple[str, str]]

    @property
    def fingerprint(self) -> str:
        """Changes exactly when the set of accepted versions changes (the workbook bytes carry timestamps)."""
        key = "|".join(sorted(f"{p.dependencia_code}:{p.radicado}" for p in self.plans))
        return hashlib.sha256(key.encode()).hexdigest()


def accepted_plans(app: App, vigencia: int, ronda: Ronda = Ronda.FORMULACION) -> Consolidated:
    config = app.config
    with app.sessions() as session:
        found = {d.code: accepted_plan(app, session, vigencia, d.code, ronda) for d in config.dependencias}
    plans = [plan for _, plan in sorted(found.items()) if plan is not None]
    missing = [(d.code, d.name) for d in config.dependencias if found[d.code] is None]
    return Consolidated(plans, missing)


def consolidated_bytes(app: App, vigencia: int, ronda: Ronda, found: Consolidated, now: dt.datetime) -> bytes:
    config = app.config
    return consolidated_workbook(
        municipality=config.municipality.name,
        plan_name=config.development_plan.name,
        vigencia=vigencia,
        ronda_label=ronda.label,
        plans=found.plans,
        missing=found.missing,
        generated_at=now,
    )


def export(app: App, vigencia: int, out: Path, ronda: Ronda = Ronda.FORMULACION) -> Consolidated:
    """The consolidated plan (formulación); `seguimiento.export_evaluation` writes a quarter's evaluation."""
    if ronda is not Ronda.FORMULACION:
        raise MailbotError(f"{ronda.value} is exported by seguimiento.export_evaluation")
    found = accepted_plans(app, vigencia, ronda)
    out.write_bytes(consolidated_bytes(app, vigencia, ronda, found, app.clock.now()))
    return found
