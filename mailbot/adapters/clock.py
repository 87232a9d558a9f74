"""The one place that asks the system for the time; everything else receives `now` as a value."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


class SystemClock:
    def __init__(self, timezone: str = "America/Bogota") -> None:
        self.tz = ZoneInfo(timezone)

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.tz)

    def today(self) -> dt.date:
        return self.now().date()
