"""Which vigencia and which deadline a command means, when the user does not say."""

from __future__ import annotations

import datetime as dt
import re

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
