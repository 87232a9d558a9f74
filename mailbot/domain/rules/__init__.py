"""The validation rules of E-DE-F-010 (F02–S05; F01 is the reader's), as pure functions.

Importing this package registers every rule; `validate` runs them. A new rule is one decorated function in the
module of its family, and its test.
"""

from __future__ import annotations

from mailbot.domain.context import ValidationContext
from mailbot.domain.findings import Finding
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.rules import (  # noqa: F401 - imported to register their rules
    budget_rules,
    format_rules,
    header_rules,
    meta_rules,
    responsable_rules,
    seguimiento_rules,
)
from mailbot.domain.rules.engine import REGISTRY, Rule, run_rules

__all__ = ["REGISTRY", "Rule", "validate", "validate_structure"]


def validate(parsed: ParsedWorkbook, context: ValidationContext) -> list[Finding]:
    """Every finding of every rule that applies to the context's ronda, in reading order."""
    return run_rules(parsed, context)


def validate_structure(parsed: ParsedWorkbook, context: ValidationContext) -> list[Finding]:
    """Only the structural rules (sheets, labels, format identity): what can be checked before knowing whose
    workbook it is, since none of them reads the dependencia's budget, catalogue or accepted plan."""
    return run_rules(parsed, context, [r for r in REGISTRY if r.structural])
