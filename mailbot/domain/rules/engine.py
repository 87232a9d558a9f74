"""The rule engine: every rule is one function registered under its contract code.

Structural rules (the sheets and labels are where the contract says) run first; when one of them finds an error,
the content rules are skipped, since they would only report the consequences of a moved column. Findings come
back in reading order (sheet, row, column) so that a correction mail reads top to bottom, each one named as the
secretario sees it (`domain.places`: the meta's N°, code and text, the column's label).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mailbot.domain.context import ValidationContext
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.places import locate
from mailbot.domain.rules.view import PlanView
from mailbot.domain.workbook_format import (
    SHEET_CONTROL,
    SHEET_HEADER,
    SHEET_METAS,
    SHEET_SEGUIMIENTO,
    SHEET_SUMMARY,
    Ronda,
)

Check = Callable[[PlanView], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    check: Check
    structural: bool
    rondas: frozenset[Ronda]


REGISTRY: list[Rule] = []
FORMULACION_ONLY = frozenset({Ronda.FORMULACION})
ALL_RONDAS = frozenset(Ronda)


def rule(code: str, *, structural: bool = False, rondas: frozenset[Ronda] = ALL_RONDAS) -> Callable[[Check], Check]:
    """Register `check` under `code`. Several functions may share a code (e.g. E and W halves)."""

    def register(check: Check) -> Check:
        REGISTRY.append(Rule(code, check, structural, rondas))
        return check

    return register


def run_rules(parsed: ParsedWorkbook, context: ValidationContext, rules: Iterable[Rule] | None = None) -> list[Finding]:
    view = PlanView(parsed, context)
    chosen = [r for r in (REGISTRY if rules is None else rules) if context.ronda in r.rondas]
    findings = [f for r in chosen if r.structural for f in r.check(view)]
    if not any(f.severity is Severity.ERROR for f in findings):
        findings += [f for r in chosen if not r.structural for f in r.check(view)]
    return locate(sorted(findings, key=reading_order), parsed, context.baseline)


#: The hidden `_control` is about the whole file: its findings come first, with the file's own.
_SHEET_ORDER = {SHEET_CONTROL: 0, SHEET_HEADER: 1, SHEET_METAS: 2, SHEET_SEGUIMIENTO: 3, SHEET_SUMMARY: 4}
_REF = re.compile(r"^([A-Z]+)(\d+)")
_COLUMN_RANGE = re.compile(r"^[A-Z]+(\d+):[A-Z]+(\d+)$")
_AFTER_ROWS = 10**7


def reading_order(finding: Finding) -> tuple[int, int, int, str, str]:
    """Sheet, row, column; a finding about a whole column (a total over the budget) after the rows it sums."""
    sheet_rank = 0 if finding.sheet is None else _SHEET_ORDER.get(finding.sheet, 9)
    match = _REF.match(finding.cell or "")
    if not match:
        return (sheet_rank, 0, 0, finding.code, finding.cell or "")
    letters, row = match.groups()
    span = _COLUMN_RANGE.match(finding.cell or "")
    if span and span.group(1) != span.group(2):
        row = str(_AFTER_ROWS)
    column = 0
    for ch in letters:
        column = column * 26 + ord(ch) - 64
    return (sheet_rank, int(row), column, finding.code, finding.cell or "")
