"""What one workbook shows, gathered before anything is written: `TemplateSpec` and `spec_from_config`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from mailbot.adapters.workbook.writer.texts import InstructionText, instruction_text
from mailbot.config import MailbotConfig
from mailbot.domain.context import AvailableBudget, Catalogue, CatalogueEntry
from mailbot.domain.control import ControlBlock
from mailbot.domain.evaluation import DNP_LAG_BELOW
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.seguimiento import Baseline
from mailbot.domain.workbook_format import FIRST_DATA_ROW, Ronda

DEFAULT_ROWS: Final = 30
EXTRA_ROWS: Final = 10  # empty rows offered below the catalogue's pre-filled ones


@dataclass(frozen=True)
class TemplateSpec:
    """Everything one workbook shows: built from configuration by `spec_from_config`, or by hand in tests."""

    municipality: str
    dane_code: str
    plan_name: str
    plan_period: str
    vigencia: int
    ronda: Ronda
    deadline: dt.date
    dependencia_code: str
    dependencia_name: str
    head_name: str
    head_title: str
    head_email: str
    available: AvailableBudget
    control: dict[str, str]  # ControlBlock.signed(secret): field → text, firma included
    catalogue: tuple[CatalogueEntry, ...] = ()  # this dependencia's PDM metas, pre-filled one per row
    lineas: tuple[str, ...] = ()  # every línea of the PDM (the dropdown)
    rows: int = DEFAULT_ROWS  # meta rows offered
    #: Seguimiento rounds only (ignored in formulación): the accepted metas and the quarters already reported,
    #: and the accepted formulación workbook as the reader read it (its `Metas` rows and `Encabezado`).
    baseline: Baseline | None = None
    accepted: ParsedWorkbook | None = None
    #: Seguimiento: below this cumulative compliance a meta is Rezagada (`evaluation.lag_below_percent`); the
    #: comparison block shows it in amber.
    lag_below_percent: Decimal = DNP_LAG_BELOW
    #: The `Instrucciones` sheet's text (templates/workbook/instrucciones.yaml, or ops' copy of it).
    text: InstructionText = field(default_factory=instruction_text)

    def __post_init__(self) -> None:
        """A seguimiento workbook without its accepted plan would be an empty form: refuse it here, not halfway."""
        quarter = self.ronda.quarter
        if quarter is None:
            return
        if self.baseline is None or self.accepted is None:
            raise ValueError(
                f"a '{self.ronda.value}' workbook is built from the accepted plan: pass baseline= and accepted="
            )
        if self.baseline.quarter != quarter:
            raise ValueError(f"the baseline is for quarter {self.baseline.quarter}, not for '{self.ronda.value}'")

    @property
    def meta_rows(self) -> int:
        """Never fewer rows than pre-filled metas."""
        return max(self.rows, len(self.catalogue))

    @property
    def last_row(self) -> int:
        return FIRST_DATA_ROW + self.meta_rows - 1


def spec_from_config(
    config: MailbotConfig,
    dependencia_code: str,
    *,
    ronda: Ronda,
    vigencia: int,
    deadline: dt.date,
    token: str,
    catalogue: Catalogue | None,
    baseline: Baseline | None = None,
    accepted: ParsedWorkbook | None = None,
) -> TemplateSpec:
    """The spec of one dependencia's workbook for one mailing (the catalogue and the plan are already read).

    A seguimiento ronda needs `baseline` (built with `summary.planned_metas` and the accepted quarters' reports)
    and `accepted` (the accepted formulación workbook as `read_workbook` returns it); formulación ignores both.
    The instructions' text is ops' copy in `smtp.templates_dir` when there is one, as for the mail templates.
    """
    dep = config.dependencia(dependencia_code)
    block = ControlBlock(ronda=ronda.value, vigencia=vigencia, dependencia=dep.code, token=token)
    entries = catalogue.for_dependencia(dep.code) if catalogue else ()
    return TemplateSpec(
        municipality=config.municipality.name,
        dane_code=config.municipality.dane_code,
        plan_name=config.development_plan.name,
        plan_period=config.development_plan.period,
        vigencia=vigencia,
        ronda=ronda,
        deadline=deadline,
        dependencia_code=dep.code,
        dependencia_name=dep.name,
        head_name=dep.head.name,
        head_title=dep.head.title,
        head_email=dep.addresses[0],
        available=AvailableBudget(
            poai=dep.budget.poai, funcionamiento=dep.budget.operating, cofinanciacion=dep.budget.cofinancing
        ),
        control=block.signed(config.signing.secret.get_secret_value()),
        catalogue=entries,
        lineas=catalogue.lineas if catalogue else (),
        rows=len(entries) + EXTRA_ROWS if entries else DEFAULT_ROWS,
        baseline=baseline,
        accepted=accepted,
        lag_below_percent=config.evaluation.lag_below_percent,
        text=instruction_text(config.smtp.templates_dir),
    )
