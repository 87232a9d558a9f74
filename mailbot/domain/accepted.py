"""A plan of record: a dependencia's accepted formulación, as the reader read it from the archive.

One value for everyone who starts from what was accepted: the consolidated plan publishes it, the seguimiento
rounds build their workbook and their baseline on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mailbot.domain.context import AvailableBudget
from mailbot.domain.parsed import ParsedWorkbook


@dataclass(frozen=True)
class AcceptedPlan:
    """A dependencia's accepted plan: the workbook as read, and the figures the acceptance recorded."""

    dependencia_code: str
    dependencia_name: str
    radicado: str
    version: int
    accepted_at: dt.datetime
    workbook: ParsedWorkbook
    available: AvailableBudget
