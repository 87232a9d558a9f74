"""The figures of a plan that an acceptance shows and the archive keeps: metas, money by source and quarter."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mailbot.domain.context import ValidationContext
from mailbot.domain.parsed import ParsedWorkbook, Row
from mailbot.domain.rules.view import PlanView
from mailbot.domain.seguimiento import PlannedMeta
from mailbot.domain.workbook_format import META_TYPES_BY_FOLD, QUARTERS, Source, fold, money_key, physical_key


@dataclass(frozen=True)
class SourceSummary:
    source: Source
    by_quarter: tuple[int, int, int, int]
    available: int

    @property
    def planned(self) -> int:
        return sum(self.by_quarter)


@dataclass(frozen=True)
class PlanSummary:
    metas: int
    sources: tuple[SourceSummary, ...]

    @property
    def planned(self) -> int:
        return sum(s.planned for s in self.sources)

    @property
    def available(self) -> int:
        return sum(s.available for s in self.sources)

    def to_json(self) -> dict[str, Any]:
        return {
            "metas": self.metas,
            "sources": {
                s.source.value: {"by_quarter": list(s.by_quarter), "planned": s.planned, "available": s.available}
                for s in self.sources
            },
            "planned": self.planned,
            "available": self.available,
        }


def summarize(parsed: ParsedWorkbook, context: ValidationContext) -> PlanSummary:
    """Recomputed from the input cells (never a cached total), as the rules do."""
    view = PlanView(parsed, context)
    sources = []
    for source in Source:
        keys = [money_key(source, q) for q in QUARTERS]
        quarters = tuple(sum(view.money_of(row).amounts[key] for row in view.metas) for key in keys)
        sources.append(
            SourceSummary(source, (quarters[0], quarters[1], quarters[2], quarters[3]), context.available.of(source))
        )
    return PlanSummary(len(view.metas), tuple(sources))


def planned_metas(parsed: ParsedWorkbook, context: ValidationContext) -> tuple[PlannedMeta, ...]:
    """The metas of an accepted formulación workbook, read the way the rules read them (never a cached total)."""
    view = PlanView(parsed, context)
    return tuple(_planned(view, row, n) for n, row in enumerate(view.metas, start=1))


def _planned(view: PlanView, row: Row, number: int) -> PlannedMeta:
    programming = [view.number(row, physical_key(q)).value or Decimal(0) for q in QUARTERS]
    amounts = view.money_of(row).amounts
    budget = [sum(amounts[money_key(s, q)] for s in Source) for q in QUARTERS]
    meta_type = view.text(row, "meta_type")
    return PlannedMeta(
        number=number,
        meta_code=view.text(row, "meta_code"),
        meta=view.text(row, "meta"),
        unit=view.text(row, "unit"),
        meta_type=META_TYPES_BY_FOLD.get(fold(meta_type), meta_type),
        meta_vigencia=view.number(row, "meta_vigencia").value or Decimal(0),
        programming=(programming[0], programming[1], programming[2], programming[3]),
        budget=(budget[0], budget[1], budget[2], budget[3]),
        responsable=view.text(row, "resp_name"),
        responsable_email=view.text(row, "resp_email"),
    )
