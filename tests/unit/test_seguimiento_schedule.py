"""When seguimiento rounds start and are due: cut-offs, Colombian working days, the vigencia a command means."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mailbot.app import App
from mailbot.config import MailbotConfig, load_config
from mailbot.domain import rounds
from mailbot.domain.calendar import WorkingCalendar
from mailbot.domain.rounds import RoundDays
from mailbot.domain.workbook_format import Ronda
from mailbot.services import campaign, round_dates, setup
from tests.support.configs import write_config

T1, T2, T3, T4 = Ronda.SEGUIMIENTO_T1, Ronda.SEGUIMIENTO_T2, Ronda.SEGUIMIENTO_T3, Ronda.SEGUIMIENTO_T4


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MailbotConfig:
    return load_config(write_config(tmp_path_factory.mktemp("cfg")), environ={})


@pytest.mark.parametrize(
    ("ronda", "due"),
    [
        # 10 working days after Wed 31 March 2027: 1, 2, 5–9, 12, 13, 14 April (Holy Week fell in March).
        (T1, dt.date(2027, 4, 14)),
        # After Wed 30 June: 1, 2, 6–9, 13–16 July (5 July San Pedro y San Pablo and 12 July Chiquinquirá are
        # Monday holidays).
        (T2, dt.date(2027, 7, 16)),
        # After Fri 31 December: 3–7, 11–14, 17 January 2028 (10 January is Reyes, moved to Monday).
        (T4, dt.date(2028, 1, 17)),
    ],
)
def test_returns_are_due_ten_colombian_working_days_after_the_cutoff(
    config: MailbotConfig, ronda: Ronda, due: dt.date
) -> None:
    days = config.rounds.days()
    calendar = round_dates.calendar_for(rounds.holiday_years(days, [2027]))
    assert rounds.deadline(days, ronda, 2027, calendar) == due
    assert round_dates.round_deadline(config, ronda, 2027) == due


def test_the_deadline_counts_the_holidays_it_is_given() -> None:
    """The domain takes the holidays as values: the same cut-off, with and without a holiday in the count."""
    days = RoundDays("01-20", ("03-31", "06-30", "09-30", "12-31"), 2)
    assert rounds.deadline(days, T1, 2027, WorkingCalendar([])) == dt.date(2027, 4, 2)  # Thu 1, Fri 2 April
    assert rounds.deadline(days, T1, 2027, WorkingCalendar([dt.date(2027, 4, 1)])) == dt.date(2027, 4, 5)
    assert rounds.round_deadline(days, Ronda.FORMULACION, 2027, WorkingCalendar([])) == dt.date(2027, 1, 20)


def test_the_calendar_needs_each_cutoffs_year_and_the_next() -> None:
    """T4 of 2027 is due in January 2028, so its deadline needs 2028's holidays (Reyes moved to Monday)."""
    days = RoundDays("01-20", ("03-31", "06-30", "09-30", "12-31"), 10)
    assert rounds.holiday_years(days, [2026, 2027]) == [2026, 2027, 2028]
    full = RoundDays("01-20", ("2026-03-31", "06-30", "09-30", "12-31"), 10)
    assert rounds.holiday_years(full, [2027]) == [2026, 2027, 2028]


def test_cutoffs_are_the_quarter_ends(config: MailbotConfig) -> None:
    assert [rounds.cutoff(config.rounds.days(), r, 2027) for r in (T1, T2, T3, T4)] == [
        dt.date(2027, 3, 31),
        dt.date(2027, 6, 30),
        dt.date(2027, 9, 30),
        dt.date(2027, 12, 31),
    ]


@pytest.mark.parametrize(
    ("ronda", "today", "vigencia"),
    [
        (T1, dt.date(2027, 4, 1), 2027),
        (T1, dt.date(2027, 3, 31), 2027),
        (T1, dt.date(2027, 3, 30), 2026),  # before this year's cut-off: last year's T1
        (T4, dt.date(2028, 1, 5), 2027),  # T4 is reported in January for the year that ended
        (T4, dt.date(2027, 12, 31), 2027),
    ],
)
def test_the_vigencia_of_a_seguimiento_is_that_of_its_latest_cutoff(
    config: MailbotConfig, ronda: Ronda, today: dt.date, vigencia: int
) -> None:
    assert rounds.vigencia_of(config.rounds.days(), ronda, today) == vigencia


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (dt.date(2027, 3, 30), []),
        (dt.date(2027, 3, 31), [(2027, T1)]),
        (dt.date(2027, 4, 14), [(2027, T1)]),  # the deadline day: still open for late plans
        (dt.date(2027, 4, 15), []),
        (dt.date(2028, 1, 5), [(2027, T4)]),
    ],
)
def test_a_round_is_due_from_its_cutoff_until_its_deadline(
    config: MailbotConfig, today: dt.date, due: list[tuple[int, Ronda]]
) -> None:
    assert round_dates.due_rounds(config, today) == due


@pytest.mark.storage
def test_the_scheduled_start_waits_for_an_accepted_plan(tmp_path: Path) -> None:
    """No formulación accepted yet: nothing is mailed and no round is created."""
    app = App(load_config(write_config(tmp_path), environ={}))
    setup.upgrade_storage(app)
    try:
        assert campaign.start_due(app, dt.date(2027, 3, 31)) == []
        from sqlalchemy import func, select

        from mailbot.adapters.db.models import Round

        with app.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Round)) == 0
    finally:
        app.close()


def test_the_scheduled_start_can_be_turned_off(tmp_path: Path) -> None:
    app = App(load_config(write_config(tmp_path, {"rounds": {"seguimiento": {"auto_start": False}}}), environ={}))
    assert not app.config.rounds.seguimiento.auto_start
    assert campaign.start_due(app, dt.date(2027, 3, 31)) == []


def test_the_daemon_schedules_the_start_daily_at_the_reminder_time(config: MailbotConfig) -> None:
    """Every day (cut-offs fall on any weekday), at `rounds.reminder_time`, in the municipality's time zone."""
    import threading

    from apscheduler.schedulers.background import BackgroundScheduler

    from mailbot.services.daemon import Watcher, add_jobs

    app = App(config)
    scheduler = BackgroundScheduler(timezone=config.municipality.timezone)
    add_jobs(scheduler, app, Watcher(app, threading.Event()))
    job = scheduler.get_job("seguimiento_start")
    assert job is not None
    fields = {f.name: str(f) for f in job.trigger.fields}
    at = config.rounds.reminder_time
    assert (fields["hour"], fields["minute"], fields["day_of_week"]) == (str(at.hour), str(at.minute), "*")
