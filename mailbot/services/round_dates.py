"""The rounds' dates under this configuration: the domain's round calendar (`domain.rounds`) given the configured
days and Colombia's holidays from the `holidays_co` adapter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from mailbot.adapters.holidays_co import colombian_holidays
from mailbot.config import MailbotConfig
from mailbot.domain import rounds
from mailbot.domain.calendar import WorkingCalendar
from mailbot.domain.workbook_format import Ronda


def calendar_for(years: Iterable[int]) -> WorkingCalendar:
    """Colombian working days, with the holidays of `years`."""
    return WorkingCalendar(colombian_holidays(years))


def round_deadline(config: MailbotConfig, ronda: Ronda, vigencia: int) -> dt.date:
    """When the workbooks of a round are due (formulación: the configured day; seguimiento: working days)."""
    days = config.rounds.days()
    return rounds.round_deadline(days, ronda, vigencia, calendar_for(rounds.holiday_years(days, [vigencia])))


def due_rounds(config: MailbotConfig, today: dt.date) -> list[tuple[int, Ronda]]:
    """The seguimiento rounds open today."""
    days = config.rounds.days()
    calendar = calendar_for(rounds.holiday_years(days, rounds.open_vigencias(today)))
    return rounds.due_rounds(days, today, calendar)
