"""What a workbook is checked against: the mailing it answers, the budget, the PDM catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mailbot.domain.seguimiento import Baseline
from mailbot.domain.workbook_format import Ronda, Source


@dataclass(frozen=True)
class AvailableBudget:
    """The dependencia's available budget for the vigencia, in whole pesos."""

    poai: int = 0
    funcionamiento: int = 0
    cofinanciacion: int = 0

    def of(self, source: Source) -> int:
        return {
            Source.POAI: self.poai,
            Source.FUNCIONAMIENTO: self.funcionamiento,
            Source.COFINANCIACION: self.cofinanciacion,
        }[source]

    @property
    def total(self) -> int:
        return self.poai + self.funcionamiento + self.cofinanciacion


@dataclass(frozen=True)
class CatalogueEntry:
    """One meta de producto of the PDM, with the line and program it belongs to."""

    linea: str
    program_code: str
    program: str
    meta_code: str
    meta: str
    indicator: str = ""
    unit: str = ""
    dependencia: str | None = None  # code of the dependencia that owns it, when the PDM says


@dataclass(frozen=True)
class Catalogue:
    entries: tuple[CatalogueEntry, ...]
    by_code: dict[str, CatalogueEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_code", {e.meta_code: e for e in self.entries})

    @classmethod
    def of(cls, entries: Iterable[CatalogueEntry]) -> Catalogue:
        return cls(tuple(entries))

    def for_dependencia(self, code: str) -> tuple[CatalogueEntry, ...]:
        return tuple(e for e in self.entries if e.dependencia == code)

    @property
    def lineas(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.linea for e in self.entries))


@dataclass(frozen=True)
class ValidationContext:
    dependencia: str  # expected dependencia code
    vigencia: int
    ronda: Ronda
    available: AvailableBudget
    secret: str  # verifies the `_control` signature
    expected_token: str | None = None  # the mailing's token, when the reply was matched to one
    catalogue: Catalogue | None = None
    bpins: frozenset[str] | None = None  # the banco de proyectos list, when configured
    baseline: Baseline | None = None  # seguimiento rounds: the accepted plan and the quarters already reported
