"""Working days of the Colombian public administration: Monday to Friday, national holidays excluded.

Deadlines, reminders and late notices are counted in working days ("about 10 working days after the cut-off"),
as every municipal office counts them. The calendar is pure: it receives the holidays (the adapter
`adapters.holidays_co` knows them, Ley Emiliani moves included) and the dates to reason about, never the clock.
Give it the holidays of every year it will be asked about: a date of a year it was not given is counted as if
that year had no holidays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Final

_SATURDAY: Final = 5
_ONE_DAY: Final = dt.timedelta(days=1)


class WorkingCalendar:
    """Counting in working days over a fixed set of holidays."""

    def __init__(self, holidays: Iterable[dt.date]) -> None:
        self._holidays = frozenset(holidays)

    @property
    def holidays(self) -> frozenset[dt.date]:
        return self._holidays

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday and not a holiday."""
        return day.weekday() < _SATURDAY and day not in self._holidays

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after `day` (before it when n < 0); `day` itself when n = 0.

        `day` need not be a working day: one working day after a Saturday is the next Monday (Tuesday when that
        Monday is a holiday).
        """
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end`; negative when `end` comes first.

        So that `add_working_days(start, working_days_between(start, end)) == end` for a working day `end`.
        """
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for offset in range(1, (end - start).days + 1) if self.is_working_day(start + offset * _ONE_DAY))

    def on_or_before(self, day: dt.date) -> dt.date:
        """`day` when it is a working day, else the last working day before it."""
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def reminder_dates(self, deadline: dt.date, offsets: Sequence[int]) -> list[dt.date]:
        """The days to remind a dependencia: each offset counts working days back from the deadline.

        Offset 0 is the deadline itself, or the working day before it when the deadline falls on a weekend or a
        holiday (nobody reads a reminder sent on a Sunday). The dates come out in calendar order, once each.
        """
        if any(offset < 0 for offset in offsets):
            raise ValueError("reminder offsets count working days before the deadline: 0 or more")
        anchor = self.on_or_before(deadline)
        return sorted({self.add_working_days(anchor, -offset) for offset in offsets})

    def late_notice_dates(self, deadline: dt.date, every: int, until: dt.date) -> list[dt.date]:
        """Every `every` working days after the deadline, up to and including `until`."""
        if every < 1:
            raise ValueError("late notices are sent every 1 or more working days")
        dates: list[dt.date] = []
        day = self.add_working_days(deadline, every)
        while day <= until:
            dates.append(day)
            day = self.add_working_days(day, every)
        return dates
