from __future__ import annotations

import datetime as dt

import pytest

from mailbot.domain.rounds import default_vigencia, resolve_day


@pytest.mark.parametrize(
    ("today", "configured", "expected"),
    [
        (dt.date(2026, 11, 29), None, 2027),
        (dt.date(2027, 1, 5), None, 2027),
        (dt.date(2026, 9, 30), None, 2026),
        (dt.date(2026, 11, 29), 2026, 2026),
    ],
)
def test_default_vigencia(today: dt.date, configured: int | None, expected: int) -> None:
    assert default_vigencia(today, configured) == expected


def test_resolve_day() -> None:
    assert resolve_day("01-20", 2027) == dt.date(2027, 1, 20)
    assert resolve_day("2026-12-18", 2027) == dt.date(2026, 12, 18)
    with pytest.raises(ValueError, match="not a day"):
        resolve_day("20/01", 2027)
