"""The figures of a plan that an acceptance shows and the archive keeps: metas, money by source and quarter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailbot.domain.context import ValidationContext
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.rules.view import PlanView
from mailbot.domain.workbook_format import QUARTERS, Source, money_key


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
        quarters = tuple(sum(view.money(row, money_key(source, q)).value or 0 for row in view.metas) for q in QUARTERS)
        sources.append(
            SourceSummary(source, (quarters[0], quarters[1], quarters[2], quarters[3]), context.available.of(source))
        )
    return PlanSummary(len(view.metas), tuple(sources))
