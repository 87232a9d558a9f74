"""The rounds' calendar: which vigencia a command means, each quarter's cut-off, when returns are due, which
seguimiento rounds are open today.

Pure: the configured days come in as `RoundDays` (built by `config.rounds.days()`), the Colombian holidays as a
`WorkingCalendar` (the service builds it from the `holidays_co` adapter), and "today" as a date from the caller.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailbot.domain.calendar import WorkingCalendar
from mailbot.domain.workbook_format import Ronda

FORMULACION_SEASON_STARTS = 10  # from October on, formulación is about next year's plan


def default_vigencia(today: dt.date, configured: int | None = None) -> int:
    if configured is not None:
        return configured
    return today.year + 1 if today.month >= FORMULACION_SEASON_STARTS else today.year


def resolve_day(spec: str, vigencia: int) -> dt.date:
    """`01-20` → 20 January of the vigencia; a full `2027-01-20` stands as written."""
    match = re.fullmatch(r"(?:(\d{4})-)?(\d{2})-(\d{2})", spec.strip())
    if not match:
        raise ValueError(f"not a day specification: {spec!r}")
    year, month, day = match.groups()
    return dt.date(int(year) if year else vigencia, int(month), int(day))


@dataclass(frozen=True)
class RoundDays:
    """The configured days of the rounds, as day specifications (`MM-DD` in the vigencia, or a full date)."""

    formulacion_deadline: str
    cutoffs: tuple[str, str, str, str]  # T1..T4
    deadline_working_days: int  # seguimiento returns are due this many working days after the cut-off


def seguimiento_rondas() -> tuple[Ronda, ...]:
    return tuple(r for r in Ronda if r.quarter is not None)


def cutoff(days: RoundDays, ronda: Ronda, vigencia: int) -> dt.date:
    """The quarter's cut-off day (31 March … 31 December by default)."""
    assert ronda.quarter is not None
    return resolve_day(days.cutoffs[ronda.quarter - 1], vigencia)


def holiday_years(days: RoundDays, vigencias: Iterable[int]) -> list[int]:
    """The years whose holidays the deadlines of these vigencias need: each cut-off's year and the next (a T4
    return is due in January)."""
    years = {cutoff(days, ronda, v).year for v in vigencias for ronda in seguimiento_rondas()}
    return sorted(years | {y + 1 for y in years})


def deadline(days: RoundDays, ronda: Ronda, vigencia: int, calendar: WorkingCalendar) -> dt.date:
    """Seguimiento returns are due a number of Colombian working days after the cut-off (`calendar` must hold the
    holidays of `holiday_years`)."""
    return calendar.add_working_days(cutoff(days, ronda, vigencia), days.deadline_working_days)


def round_deadline(days: RoundDays, ronda: Ronda, vigencia: int, calendar: WorkingCalendar) -> dt.date:
    """When any round's workbooks are due: formulación's configured day, or the quarter's working-day deadline."""
    if ronda is Ronda.FORMULACION:
        return resolve_day(days.formulacion_deadline, vigencia)
    return deadline(days, ronda, vigencia, calendar)


def vigencia_of(days: RoundDays, ronda: Ronda, today: dt.date) -> int:
    """The vigencia whose cut-off of `ronda` is the latest on or before today (T4 run in January: last year)."""
    year = today.year
    while cutoff(days, ronda, year) > today:
        year -= 1
    return year


def open_vigencias(today: dt.date) -> tuple[int, int]:
    """The vigencias whose seguimiento can be open today: last year's T4 runs into January."""
    return today.year - 1, today.year


def due_rounds(days: RoundDays, today: dt.date, calendar: WorkingCalendar) -> list[tuple[int, Ronda]]:
    """The seguimiento rounds open today: from their cut-off day until their deadline (a daemon that was down on
    the cut-off day still starts them; a dependencia whose plan was accepted late gets its workbook the next day).
    `calendar` must hold the holidays of `holiday_years(days, open_vigencias(today))`."""
    due = []
    for vigencia in open_vigencias(today):
        for ronda in seguimiento_rondas():
            if cutoff(days, ronda, vigencia) <= today <= deadline(days, ronda, vigencia, calendar):
                due.append((vigencia, ronda))
    return due
