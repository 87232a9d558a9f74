"""`mailbot validate` without a vigencia: "today" comes from the clock port, never from the UTC date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mailbot.config import load_config
from mailbot.domain.rounds import FORMULACION_SEASON_STARTS
from mailbot.services.validation import validate_bytes
from tests.support.configs import write_config
from tests.support.fakes import FixedClock
from tests.support.plans import make_plan


def test_the_default_vigencia_follows_the_day_the_clock_gives(tmp_path: Path) -> None:
    """At 20:00 in Bogotá on the eve of the formulación season it is already the season's first day in UTC: the
    clock's date (Bogotá) keeps this year's vigencia, the next day gives next year's."""
    config = load_config(write_config(tmp_path), environ={})
    data = make_plan(config, vigencia=2026)
    eve = dt.datetime(2026, FORMULACION_SEASON_STARTS, 1, 1, 0, tzinfo=dt.UTC)  # 20:00 the day before, in Bogotá
    clock = FixedClock(eve)
    assert eve.date() != clock.today()
    result = validate_bytes(config, data, dependencia="HAC", today=clock.today())
    assert result.context is not None
    assert result.context.vigencia == 2026
    clock.advance(dt.timedelta(days=1))
    later = validate_bytes(config, data, dependencia="HAC", today=clock.today())
    assert later.context is not None
    assert later.context.vigencia == 2027


def test_without_a_vigencia_or_a_day_validation_refuses_to_guess(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), environ={})
    with pytest.raises(ValueError, match="today"):
        validate_bytes(config, make_plan(config), dependencia="HAC")


def test_new_years_eve_at_20_00_in_bogota_is_still_the_old_year_for_the_clock(tmp_path: Path) -> None:
    """31 December, 20:00 in Bogotá is 1 January in UTC: the clock's day is still 31 December, whose vigencia is
    the coming year (formulación from October on is next year's plan); the UTC day happens to agree here, the eve
    of October above is where they part."""
    config = load_config(write_config(tmp_path), environ={})
    data = make_plan(config, vigencia=2027)
    evening = FixedClock(dt.datetime(2027, 1, 1, 1, 0, tzinfo=dt.UTC))
    assert evening.today() == dt.date(2026, 12, 31)
    result = validate_bytes(config, data, dependencia="HAC", today=evening.today())
    assert result.context is not None
    assert result.context.vigencia == 2027
