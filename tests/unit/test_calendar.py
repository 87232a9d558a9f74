"""Working days on Colombia's calendar: every expected date below was worked out by hand on a 2027 calendar.

January 2027                 February 2027
Mo Tu We Th Fr Sa Su         Mo Tu We Th Fr Sa Su
             1  2  3          1  2  3  4  5  6  7
 4  5  6  7  8  9 10          8  9 10 11 12 13 14
11 12 13 14 15 16 17
18 19 20 21 22 23 24
25 26 27 28 29 30 31

Holidays: Fri 1 Jan (Año Nuevo); Mon 11 Jan (Reyes Magos, moved from Wednesday 6 by Ley Emiliani).
"""

from __future__ import annotations

import datetime as dt

import pytest

from mailbot.adapters.holidays_co import colombian_holidays
from mailbot.domain.calendar import WorkingCalendar

D = dt.date


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(colombian_holidays([2026, 2027]))


# ------------------------------------------------------------------------------------------------ holidays


def test_reyes_magos_2027_is_observed_on_monday_the_11th() -> None:
    """Ley Emiliani: 6 January 2027 is a Wednesday, so the holiday moves to Monday 11 January."""
    holidays = colombian_holidays([2027])
    assert D(2027, 1, 11) in holidays
    assert D(2027, 1, 6) not in holidays


def test_holidays_of_each_requested_year_and_no_other() -> None:
    """Asking for two years gives both sets (fixed, moved and Easter holidays), asking for none gives none."""
    both = colombian_holidays([2026, 2027])
    assert {d.year for d in both} == {2026, 2027}
    assert {D(2026, 4, 2), D(2026, 4, 3), D(2027, 12, 8), D(2027, 7, 20)} <= both  # Holy Week 2026, fixed ones
    assert colombian_holidays([]) == frozenset()


def test_a_moved_holiday_is_not_a_working_day(calendar: WorkingCalendar) -> None:
    """Monday 11 January 2027 (Reyes Magos) is not worked; the Wednesday it was moved from is."""
    assert not calendar.is_working_day(D(2027, 1, 11))
    assert calendar.is_working_day(D(2027, 1, 6))
    assert calendar.is_working_day(D(2027, 1, 12))


def test_weekends_are_not_working_days() -> None:
    """Without any holiday, Saturday and Sunday still are not worked."""
    plain = WorkingCalendar([])
    assert [plain.is_working_day(D(2027, 1, day)) for day in range(18, 25)] == [True] * 5 + [False] * 2


# ------------------------------------------------------------------------------------------------ counting


def test_adding_working_days_skips_weekends_and_holidays(calendar: WorkingCalendar) -> None:
    """Fri 8 Jan + 1 = Tue 12 (weekend and Reyes skipped); Tue 12 − 1 = Fri 8; + 0 is the day itself."""
    assert calendar.add_working_days(D(2027, 1, 8), 1) == D(2027, 1, 12)
    assert calendar.add_working_days(D(2027, 1, 12), -1) == D(2027, 1, 8)
    assert calendar.add_working_days(D(2027, 1, 9), 0) == D(2027, 1, 9)
    assert calendar.add_working_days(D(2027, 1, 9), 1) == D(2027, 1, 12)  # from a Saturday


def test_seguimiento_deadline_across_holy_week(calendar: WorkingCalendar) -> None:
    """Cut-off Tue 31 Mar 2026 + 10 working days: Apr 1 (1); Thu 2 and Fri 3 are Holy Week holidays;
    Apr 6, 7, 8, 9, 10 (2–6); Apr 13, 14, 15, 16 (7–10) → Thursday 16 April 2026."""
    assert calendar.add_working_days(D(2026, 3, 31), 10) == D(2026, 4, 16)


def test_working_days_between_inverts_adding(calendar: WorkingCalendar) -> None:
    """Mon 4 → Wed 20 Jan 2027: 5, 6, 7, 8 (4), 12–15 (4), 18, 19, 20 (3) = 11 working days; backwards −11."""
    assert calendar.working_days_between(D(2027, 1, 4), D(2027, 1, 20)) == 11
    assert calendar.working_days_between(D(2027, 1, 20), D(2027, 1, 4)) == -11
    assert calendar.working_days_between(D(2027, 1, 20), D(2027, 1, 20)) == 0
    assert calendar.add_working_days(D(2027, 1, 4), 11) == D(2027, 1, 20)
    assert calendar.add_working_days(D(2027, 1, 20), -11) == D(2027, 1, 4)


# ------------------------------------------------------------------------------------------------ reminders


def test_reminders_before_a_wednesday_deadline(calendar: WorkingCalendar) -> None:
    """Deadline Wed 20 Jan 2027, offsets [5, 2, 1]:
    1 → Tue 19; 2 → Mon 18; 5 → Fri 15 (3), Thu 14 (4), Wed 13 (5). Returned in calendar order."""
    assert calendar.reminder_dates(D(2027, 1, 20), [5, 2, 1]) == [D(2027, 1, 13), D(2027, 1, 18), D(2027, 1, 19)]


def test_reminders_for_a_deadline_after_a_monday_holiday(calendar: WorkingCalendar) -> None:
    """Deadline Tue 12 Jan 2027, the day after Reyes: 1 working day before is Fri 8 (Mon 11 and the weekend
    skipped); 3 → Wed 6 (Fri 8 = 1, Thu 7 = 2, Wed 6 = 3)."""
    assert calendar.reminder_dates(D(2027, 1, 12), [3, 1, 0]) == [D(2027, 1, 6), D(2027, 1, 8), D(2027, 1, 12)]


def test_offset_zero_on_a_non_working_deadline_is_the_working_day_before(calendar: WorkingCalendar) -> None:
    """A deadline on the Reyes holiday (Mon 11) or on a Sunday (17) is reminded on the Friday before."""
    assert calendar.reminder_dates(D(2027, 1, 11), [0]) == [D(2027, 1, 8)]
    assert calendar.reminder_dates(D(2027, 1, 17), [0, 1]) == [D(2027, 1, 14), D(2027, 1, 15)]


def test_repeated_offsets_give_one_reminder_and_negative_ones_are_refused(calendar: WorkingCalendar) -> None:
    """The same offset twice is one date; a negative offset is a configuration mistake, said loudly."""
    assert calendar.reminder_dates(D(2027, 1, 20), [1, 1]) == [D(2027, 1, 19)]
    assert calendar.reminder_dates(D(2027, 1, 20), []) == []
    with pytest.raises(ValueError, match="0 or more"):
        calendar.reminder_dates(D(2027, 1, 20), [-1])


# ------------------------------------------------------------------------------------------------ late notices


def test_late_notices_every_three_working_days(calendar: WorkingCalendar) -> None:
    """Deadline Wed 20 Jan 2027, every 3 working days until Fri 5 Feb (inclusive):
    Thu 21, Fri 22, Mon 25 → 25; Tue 26, Wed 27, Thu 28 → 28; Fri 29, Mon 1, Tue 2 → 2 Feb;
    Wed 3, Thu 4, Fri 5 → 5 Feb."""
    assert calendar.late_notice_dates(D(2027, 1, 20), 3, D(2027, 2, 5)) == [
        D(2027, 1, 25),
        D(2027, 1, 28),
        D(2027, 2, 2),
        D(2027, 2, 5),
    ]


def test_late_notices_skip_a_holiday_and_stop_before_until(calendar: WorkingCalendar) -> None:
    """Deadline Fri 8 Jan 2027, every 2 working days until Mon 18: Tue 12, Wed 13 → 13; Thu 14, Fri 15 → 15;
    the next would be Tue 19, after `until`."""
    assert calendar.late_notice_dates(D(2027, 1, 8), 2, D(2027, 1, 18)) == [D(2027, 1, 13), D(2027, 1, 15)]
    assert calendar.late_notice_dates(D(2027, 1, 8), 2, D(2027, 1, 12)) == []
    with pytest.raises(ValueError, match="1 or more"):
        calendar.late_notice_dates(D(2027, 1, 8), 0, D(2027, 1, 18))
