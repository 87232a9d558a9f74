"""The consolidated action plan of a vigencia, built from the accepted versions kept in the archive."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from mailbot.adapters.workbook.consolidated import consolidated_workbook, publication_table
from mailbot.adapters.workbook.publication import publication_pdf
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


def publication_bytes(app: App, vigencia: int, found: Consolidated, now: dt.datetime) -> bytes:
    """The «Publicación» table as a PDF (the same rows as the workbook's sheet)."""
    config = app.config
    table = publication_table(
        municipality=config.municipality.name,
        plan_name=config.development_plan.name,
        vigencia=vigencia,
        plans=found.plans,
        generated_at=now,
    )
    return publication_pdf(table)


def export(
    app: App, vigencia: int, out: Path, ronda: Ronda = Ronda.FORMULACION, *, pdf: Path | None = None
) -> Consolidated:
    """The consolidated plan (formulación), and with `pdf` its public table as a PDF; a quarter's evaluation is
    `seguimiento.export_evaluation`'s."""
    if ronda is not Ronda.FORMULACION:
        raise MailbotError(f"{ronda.value} is exported by seguimiento.export_evaluation")
    found = accepted_plans(app, vigencia, ronda)
    now = app.clock.now()
    out.write_bytes(consolidated_bytes(app, vigencia, ronda, found, now))
    if pdf is not None:
        pdf.write_bytes(publication_bytes(app, vigencia, found, now))
    return found
