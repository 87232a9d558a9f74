"""Colombia's national holidays, from the maintained `holidays` package.

Ley 51 de 1983 ("Ley Emiliani") moves most religious and civic holidays to the following Monday, Easter moves
the rest every year, and new holidays are added by law from time to time. A hand-kept table would be wrong within
a year, so the dates come from `holidays.Colombia` (reached through `country_holidays("CO")`, the typed entry
point), which applies those rules and follows the laws.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import holidays


def colombian_holidays(years: Iterable[int]) -> frozenset[dt.date]:
    """Every national holiday of `years`, on the date it is observed (the Monday, for a moved one)."""
    wanted = sorted(set(years))
    if not wanted:
        return frozenset()
    return frozenset(holidays.country_holidays("CO", years=wanted).keys())
