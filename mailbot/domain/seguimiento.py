"""Quarterly seguimiento: the accepted plan a quarter is reported against, and what each quarter reported.

A seguimiento workbook is built from a `Baseline` (the metas of the accepted formulación, plus the reports of the
quarters already accepted) and checked against the same baseline (rule S05: the fixed columns and the earlier
quarters must come back as they were sent). Everything here is pure: the service reads the archived workbooks and
hands their `ParsedWorkbook` to `summary.planned_metas` and `reports_of`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mailbot.domain import values
from mailbot.domain.parsed import ParsedWorkbook, Row
from mailbot.domain.workbook_format import MANTENIMIENTO, QUARTERS, seguimiento_key

Quarter = int  # 1..4


@dataclass(frozen=True)
class PlannedMeta:
    """One meta of the accepted plan, as far as seguimiento needs it (figures recomputed from input cells)."""

    number: int  # N° of the meta in the accepted plan (its order)
    meta_code: str
    meta: str
    unit: str
    meta_type: str  # Incremento | Mantenimiento | Reducción (canonical spelling)
    meta_vigencia: Decimal
    programming: tuple[Decimal, Decimal, Decimal, Decimal]  # Programación física T1..T4
    budget: tuple[int, int, int, int]  # planned pesos per quarter, all sources together
    responsable: str = ""
    responsable_email: str = ""

    @property
    def total(self) -> int:
        return sum(self.budget)

    def planned(self, q: Quarter) -> Decimal:
        return self.programming[q - 1]

    def planned_to(self, q: Quarter) -> Decimal:
        """Programming to the cut-off of quarter q (PA_q): summed from T1, or the quarter's level for Mantenimiento."""
        if self.meta_type == MANTENIMIENTO:
            return self.planned(q)
        return sum(self.programming[:q], Decimal(0))

    @property
    def accumulates(self) -> bool:
        """Incremento and Reducción add up quarter by quarter; Mantenimiento is a level held each quarter."""
        return self.meta_type != MANTENIMIENTO

    def budget_to(self, q: Quarter) -> int:
        """Planned pesos from T1 to the cut-off of quarter q (all sources)."""
        return sum(self.budget[:q])

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "meta_code": self.meta_code,
            "meta": self.meta,
            "unit": self.unit,
            "meta_type": self.meta_type,
            "meta_vigencia": str(self.meta_vigencia),
            "programming": [str(p) for p in self.programming],
            "budget": list(self.budget),
            "responsable": self.responsable,
            "responsable_email": self.responsable_email,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedMeta:
        p = [Decimal(x) for x in data["programming"]]
        b = [int(x) for x in data["budget"]]
        return cls(
            number=int(data["number"]),
            meta_code=str(data["meta_code"]),
            meta=str(data["meta"]),
            unit=str(data["unit"]),
            meta_type=str(data["meta_type"]),
            meta_vigencia=Decimal(data["meta_vigencia"]),
            programming=(p[0], p[1], p[2], p[3]),
            budget=(b[0], b[1], b[2], b[3]),
            responsable=str(data.get("responsable", "")),
            responsable_email=str(data.get("responsable_email", "")),
        )


@dataclass(frozen=True)
class QuarterReport:
    """What a dependencia reported for one meta and one quarter; amounts are cumulative to the cut-off."""

    execution: Decimal | None  # Ejecución física Tq; None when the cell was left empty
    committed: int = 0
    obligated: int = 0
    paid: int = 0
    evidence: str = ""
    explanation: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "execution": None if self.execution is None else str(self.execution),
            "committed": self.committed,
            "obligated": self.obligated,
            "paid": self.paid,
            "evidence": self.evidence,
            "explanation": self.explanation,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuarterReport:
        execution = data.get("execution")
        return cls(
            execution=None if execution is None else Decimal(execution),
            committed=int(data.get("committed", 0)),
            obligated=int(data.get("obligated", 0)),
            paid=int(data.get("paid", 0)),
            evidence=str(data.get("evidence", "")),
            explanation=str(data.get("explanation", "")),
        )


#: meta code → quarter → report
Reports = Mapping[str, Mapping[Quarter, QuarterReport]]


@dataclass(frozen=True)
class Baseline:
    """What the seguimiento of quarter `quarter` is built from and checked against.

    `reported` are the quarters already accepted in earlier rounds: their values are filled in and locked. The
    other quarters up to `quarter` are open, so a dependencia that skipped a round can still report it late.
    """

    quarter: Quarter
    metas: tuple[PlannedMeta, ...]
    reports: Reports = field(default_factory=dict)
    reported: frozenset[Quarter] = frozenset()

    @property
    def open_quarters(self) -> tuple[Quarter, ...]:
        return tuple(q for q in QUARTERS if q <= self.quarter and q not in self.reported)

    def earlier(self, meta_code: str, q: Quarter) -> QuarterReport | None:
        return self.reports.get(meta_code, {}).get(q) if q in self.reported else None

    def to_json(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "metas": [m.to_json() for m in self.metas],
            "reports": reports_to_json(self.reports),
            "reported": sorted(self.reported),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Baseline:
        return cls(
            quarter=int(data["quarter"]),
            metas=tuple(PlannedMeta.from_json(m) for m in data["metas"]),
            reports=reports_from_json(data.get("reports", {})),
            reported=frozenset(int(q) for q in data.get("reported", ())),
        )


def reports_to_json(reports: Reports) -> dict[str, dict[str, Any]]:
    return {code: {str(q): r.to_json() for q, r in by_q.items()} for code, by_q in reports.items()}


def reports_from_json(data: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[Quarter, QuarterReport]]:
    return {code: {int(q): QuarterReport.from_json(r) for q, r in by_q.items()} for code, by_q in data.items()}


# ------------------------------------------------------------------------------------------------ extraction


def reports_of(parsed: ParsedWorkbook, quarters: Iterable[Quarter]) -> dict[str, dict[Quarter, QuarterReport]]:
    """The reports of an accepted seguimiento workbook for `quarters`, by meta code (unreadable amounts → 0).

    Only called on workbooks that passed S01–S05, so a value that cannot be read is an empty cell, not an error.
    """
    out: dict[str, dict[Quarter, QuarterReport]] = {}
    for row in parsed.seguimiento:
        code = values.text(row.cell("meta_code").value)
        if not code:
            continue
        out[code] = {q: report_in(row, q) for q in quarters}
    return out


def report_in(row: Row, q: Quarter) -> QuarterReport:
    """One quarter's block of a `Seguimiento` row, read tolerantly."""

    def money(name: str) -> int:
        return values.pesos(row.cell(seguimiento_key(name, q)).value).value or 0

    return QuarterReport(
        execution=values.number(row.cell(seguimiento_key("exec", q)).value).value,
        committed=money("committed"),
        obligated=money("obligated"),
        paid=money("paid"),
        evidence=values.text(row.cell(seguimiento_key("evidence", q)).value),
        explanation=values.text(row.cell(seguimiento_key("explanation", q)).value),
    )
