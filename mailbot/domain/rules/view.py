"""A read-only view of a parsed workbook with typed, memoised access for the rules.

Each rule reads what it needs through this view, so that a rule stays one small function, and a cell that several
rules look at (a money cell: P01, P02, P03, P07) is interpreted once and the same way for all of them.
"""

from __future__ import annotations

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


class PlanView:
    def __init__(self, parsed: ParsedWorkbook, context: ValidationContext) -> None:
        self.parsed = parsed
        self.context = context
        self._money: dict[tuple[int, str], Read[int]] = {}
        self._numbers: dict[tuple[int, str], Read[Decimal]] = {}
        self._source_totals: dict[tuple[int, Source], int] = {}

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
        return values.text(row.cell(key).value)

    def number(self, row: Row, key: str) -> Read[Decimal]:
        slot = (row.number, key)
        if slot not in self._numbers:
            self._numbers[slot] = values.number(row.cell(key).value)
        return self._numbers[slot]

    def money(self, row: Row, key: str) -> Read[int]:
        slot = (row.number, key)
        if slot not in self._money:
            self._money[slot] = values.pesos(row.cell(key).value)
        return self._money[slot]

    def source_total(self, row: Row, source: Source) -> int:
        """Recomputed from the quarter cells (never a cached formula value); unreadable cells count 0."""
        slot = (row.number, source)
        total = self._source_totals.get(slot)
        if total is None:
            total = self._source_totals[slot] = sum(self.money(row, money_key(source, q)).value or 0 for q in QUARTERS)
        return total

    def meta_total(self, row: Row) -> int:
        return sum(self.source_total(row, s) for s in Source)

    def planned(self, source: Source) -> int:
        return sum(self.source_total(row, source) for row in self.metas)

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
