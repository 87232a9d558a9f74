"""Validating a returned plan: the one path both `mailbot validate` and the inbox use.

read (adapter: bytes → cells, or F01) → rules (pure: cells + context → findings) → optional annotated copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from mailbot.adapters.workbook.annotate import annotated_copy
from mailbot.adapters.workbook.reader import ReaderLimits, cyclic_gc_paused, read_workbook
from mailbot.config import MailbotConfig
from mailbot.domain import control, values
from mailbot.domain.context import AvailableBudget, ValidationContext
from mailbot.domain.findings import Finding, Severity, has_errors
from mailbot.domain.parsed import EMPTY, ParsedWorkbook
from mailbot.domain.rounds import default_vigencia
from mailbot.domain.rules import validate, validate_structure
from mailbot.domain.seguimiento import Baseline
from mailbot.domain.workbook_format import HeaderField, Ronda, fold
from mailbot.errors import MailbotError
from mailbot.services.pdm import configured_bpins, configured_catalogue


class UnknownContextError(MailbotError):
    """Nothing says which dependencia, vigencia or ronda the workbook is for."""


@dataclass(frozen=True)
class ValidationResult:
    findings: list[Finding]
    parsed: ParsedWorkbook | None  # None when the file could not be read at all (F01)
    context: ValidationContext | None

    @property
    def accepted(self) -> bool:
        return not has_errors(self.findings)

    @property
    def errors(self) -> int:
        return sum(f.severity is Severity.ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors

    def to_json(self) -> dict[str, object]:
        """The contract of `mailbot validate --json`."""
        return {"accepted": self.accepted, "findings": [f.to_json() for f in self.findings]}


def build_context(
    config: MailbotConfig,
    dependencia: str,
    *,
    vigencia: int,
    ronda: Ronda = Ronda.FORMULACION,
    expected_token: str | None = None,
    baseline: Baseline | None = None,
) -> ValidationContext:
    """Everything the rules check a dependencia's workbook against, from the configuration (and, for a
    seguimiento, the accepted plan and earlier quarters that the caller read from storage)."""
    dep = config.dependencia(dependencia)
    return ValidationContext(
        dependencia=dep.code,
        vigencia=vigencia,
        ronda=ronda,
        available=AvailableBudget(
            poai=dep.budget.poai, funcionamiento=dep.budget.operating, cofinanciacion=dep.budget.cofinancing
        ),
        secret=config.signing.secret.get_secret_value(),
        expected_token=expected_token,
        catalogue=configured_catalogue(config),
        bpins=configured_bpins(config),
        baseline=baseline,
    )


def validate_bytes(
    config: MailbotConfig,
    data: bytes,
    *,
    dependencia: str | None = None,
    ronda: Ronda | None = None,
    vigencia: int | None = None,
    expected_token: str | None = None,
    today: dt.date | None = None,
    baseline_of: Callable[[str, int, Ronda], Baseline | None] | None = None,
) -> ValidationResult:
    """Read and check one workbook. Without a dependencia, the workbook's own `_control` (or header) says.

    A seguimiento is checked against its accepted plan when `baseline_of(dependencia, vigencia, ronda)` finds
    one (the CLI reads it from storage); without it, S03 and S05 cannot run and the file's own figures are used.
    Without a vigencia (given or in the workbook) `today` decides it, and must come from the clock port
    (`app.clock.today()`): the UTC date is already tomorrow in Bogotá after 19:00, the next year on 31 December.
    """
    with cyclic_gc_paused():
        return _validate_bytes(config, data, dependencia, ronda, vigencia, expected_token, today, baseline_of)


def _validate_bytes(
    config: MailbotConfig,
    data: bytes,
    dependencia: str | None,
    ronda: Ronda | None,
    vigencia: int | None,
    expected_token: str | None,
    today: dt.date | None,
    baseline_of: Callable[[str, int, Ronda], Baseline | None] | None,
) -> ValidationResult:
    read = read_workbook(data, ReaderLimits.from_config(config.limits))
    if isinstance(read, Finding):
        return ValidationResult([read], None, None)
    if dependencia is None:
        found = _context_from_workbook(read)
        if found is None:
            return _structure_only(config, read, ronda or Ronda.FORMULACION, vigencia)
        dependencia, found_vigencia, found_ronda = found
        vigencia = vigencia or found_vigencia
        ronda = ronda or found_ronda
    if vigencia is None:
        if today is None:
            raise ValueError("validate_bytes needs `today` (from app.clock) when no vigencia is given or found")
        vigencia = default_vigencia(today, config.rounds.vigencia)
    ronda = ronda or Ronda.FORMULACION
    baseline = baseline_of(dependencia, vigencia, ronda) if baseline_of and ronda.quarter else None
    context = build_context(
        config, dependencia, vigencia=vigencia, ronda=ronda, expected_token=expected_token, baseline=baseline
    )
    return ValidationResult(validate(read, context), read, context)


def _structure_only(
    config: MailbotConfig, parsed: ParsedWorkbook, ronda: Ronda, vigencia: int | None
) -> ValidationResult:
    """Whose workbook it is is unknown: its structure can still be checked, and a broken one is reported (F02).

    Only when the structure holds do the checks that need the dependencia stop the validation.
    """
    context = ValidationContext(
        dependencia="",
        vigencia=vigencia or 0,
        ronda=ronda,
        available=AvailableBudget(),
        secret=config.signing.secret.get_secret_value(),
    )
    findings = validate_structure(parsed, context)
    if has_errors(findings):
        return ValidationResult(findings, parsed, None)
    raise UnknownContextError(
        "the workbook has neither a _control block nor a 'Código dependencia' in its header, and the checks of "
        "its content need one: pass --dependencia CODE"
    )


def _context_from_workbook(parsed: ParsedWorkbook) -> tuple[str, int | None, Ronda | None] | None:
    """Whose workbook, which vigencia and ronda, from `_control` or else the header; None when neither says."""
    block = control.parse(parsed.control) if parsed.control is not None else None
    if block is not None:
        ronda = Ronda(block.ronda) if block.ronda in {r.value for r in Ronda} else None
        return block.dependencia, block.vigencia, ronda
    header = {fold(label): cell for label, cell in parsed.header.items()}
    code = values.text(header.get(fold(HeaderField.CODIGO_DEPENDENCIA.value), EMPTY).value).upper()
    year = values.text(header.get(fold(HeaderField.VIGENCIA.value), EMPTY).value)
    if not code:
        return None
    return code, int(year) if year.isdigit() else None, None


def annotate(data: bytes, result: ValidationResult) -> bytes | None:
    """The annotated copy, or None when the file could not be read (there is nothing to annotate)."""
    if result.parsed is None:
        return None
    return annotated_copy(data, result.findings)
