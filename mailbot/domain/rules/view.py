"""A read-only view of a parsed workbook with typed, memoised access for the rules.

Each rule reads what it needs through this view, so that a rule stays one small function, and a cell that several
rules look at (a money cell: P01, P02, P03, P07) is interpreted once and the same way for all of them: a meta's
twelve quarter cells are read as pesos together, on first use, into a `MetaMoney`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from mailbot.domain import values
from mailbot.domain.context import ValidationContext
from mailbot.domain.parsed import EMPTY, Cell, ParsedWorkbook, Row
from mailbot.domain.values import Read
from mailbot.domain.workbook_format import (
    CONTENT_KEYS,
    METAS_BY_KEY,
    METAS_LETTERS,
    QUARTERS,
    SHEET_HEADER,
    SHEET_METAS,
    HeaderField,
    Source,
    fold,
    money_key,
)


@dataclass(frozen=True)
class MetaMoney:
    """A meta's quarter cells in pesos, read once per validation.

    A plain whole number (nearly every cell) is taken as it is; only the others keep their `Read`, which is all P01
    needs to look at.
    """

    amounts: Mapping[str, int]  # quarter key → pesos; a cell that cannot be read counts 0
    unusual: Mapping[str, Read[int]]  # the cells read leniently or not at all, in column order
    by_source: Mapping[Source, int]
    total: int

    @classmethod
    def of(cls, row: Row) -> MetaMoney:
        amounts: dict[str, int] = {}
        unusual: dict[str, Read[int]] = {}
        by_source: dict[Source, int] = {}
        for source, keys in _QUARTER_KEYS:
            subtotal = 0
            for key in keys:
                value = row.cell(key).value
                if type(value) is int and value >= 0:  # what values.pesos reads as itself, without building a Read
                    amount = value
                else:
                    read = values.pesos(value)
                    amount = read.value or 0
                    if not read.ok or read.lenient:
                        unusual[key] = read
                amounts[key] = amount
                subtotal += amount
            by_source[source] = subtotal
        return cls(amounts, unusual, by_source, sum(by_source.values()))

    def read(self, key: str) -> Read[int]:
        """The cell as `values.pesos` reads it."""
        return self.unusual.get(key) or Read(self.amounts[key])


_QUARTER_KEYS = tuple((source, tuple(money_key(source, q) for q in QUARTERS)) for source in Source)


class PlanView:
    def __init__(self, parsed: ParsedWorkbook, context: ValidationContext) -> None:
        self.parsed = parsed
        self.context = context
        self._meta_money: dict[int, MetaMoney] = {}
        self._numbers: dict[tuple[int, str], Read[Decimal]] = {}
        self._planned: dict[Source, int] = {}

    # ------------------------------------------------------------------ sheets and header

    def has_sheet(self, name: str) -> bool:
        return fold(name) in {fold(s) for s in self.parsed.sheet_names}

    @cached_property
    def _header_by_fold(self) -> dict[str, Cell]:
        return {fold(label): cell for label, cell in self.parsed.header.items()}

    def header(self, field: HeaderField) -> Cell:
        return self._header_by_fold.get(fold(field.value), EMPTY)

    def has_header_label(self, field: HeaderField) -> bool:
        return fold(field.value) in self._header_by_fold

    # ------------------------------------------------------------------ metas

    @cached_property
    def metas(self) -> tuple[Row, ...]:
        """The rows the secretario planned: a catalogue row left untouched is not a meta."""
        return tuple(row for row in self.parsed.metas if not row.is_blank(CONTENT_KEYS))

    @staticmethod
    def ref(row: Row, key: str) -> str:
        """The cell of `key` in `row` ("T7"), whether or not the reader saw it."""
        return row.cell(key).ref or f"{METAS_LETTERS[key]}{row.number}"

    def text(self, row: Row, key: str) -> str:
        return values.text(row.cells.get(key, EMPTY).value)  # row.cell(key), without a call per read

    def number(self, row: Row, key: str) -> Read[Decimal]:
        slot = (row.number, key)
        if slot not in self._numbers:
            self._numbers[slot] = values.number(row.cell(key).value)
        return self._numbers[slot]

    def money_of(self, row: Row) -> MetaMoney:
        found = self._meta_money.get(row.number)
        if found is None:
            found = self._meta_money[row.number] = MetaMoney.of(row)
        return found

    def money(self, row: Row, key: str) -> Read[int]:
        """A money cell as `values.pesos` reads it (a quarter cell from the meta's `MetaMoney`)."""
        money = self.money_of(row)
        return money.read(key) if key in money.amounts else values.pesos(row.cell(key).value)

    def source_total(self, row: Row, source: Source) -> int:
        """Recomputed from the quarter cells (never a cached formula value); unreadable cells count 0."""
        return self.money_of(row).by_source[source]

    def meta_total(self, row: Row) -> int:
        return self.money_of(row).total

    def planned(self, source: Source) -> int:
        total = self._planned.get(source)
        if total is None:
            total = self._planned[source] = sum(self.money_of(row).by_source[source] for row in self.metas)
        return total

    def column_range(self, key: str) -> str:
        """`T6:T40`: the data rows of one column, for findings about a whole column."""
        letter = METAS_LETTERS[key]
        if not self.metas:
            return f"{letter}6"
        return f"{letter}{self.metas[0].number}:{letter}{self.metas[-1].number}"

    @staticmethod
    def label(key: str) -> str:
        return METAS_BY_KEY[key].label


METAS = SHEET_METAS
HEADER = SHEET_HEADER
