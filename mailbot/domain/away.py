"""An out-of-office reply from a secretario: that it is one, and the return date when its text gives one.

It is never answered (automatic mail), but planeación must learn that the secretario is away and until when:
"regreso el 15 de enero", "hasta el lunes 20 de enero de 2027", "estaré fuera hasta el 12/01/2027",
"back on January 15". A date without a year is the next one on or after the day the reply came.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from mailbot.domain.classify import fold, out_of_office_subject
from mailbot.domain.inbound import MessageFacts
from mailbot.domain.questions import new_text

_MONTHS: Final = {
    "enero": 1,
    "febrero": 2,
    "marzo": 3,
    "abril": 4,
    "mayo": 5,
    "junio": 6,
    "julio": 7,
    "agosto": 8,
    "septiembre": 9,
    "setiembre": 9,
    "octubre": 10,
    "noviembre": 11,
    "diciembre": 12,
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_WEEKDAYS: Final = {
    "lunes": 0,
    "martes": 1,
    "miercoles": 2,
    "jueves": 3,
    "viernes": 4,
    "sabado": 5,
    "domingo": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_MONTH: Final = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY: Final = "|".join(_WEEKDAYS)
#: Words after which a date is the return (or the last day away): not any date of the text.
_TRIGGER: Final = re.compile(
    r"\b(?:regres\w*|retorn\w*|vuelv\w*|volver\w*|reintegr\w*|hasta|back|return\w*|until|till|through)\b"
)
_DAY_MONTH: Final = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:de\s+)?({_MONTH})\b(?:,?\s+(?:de(?:l)?\s+)?(\d{{4}}))?"
)
_MONTH_DAY: Final = re.compile(rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?")
_NUMERIC: Final = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?\b")
_WEEKDAY_ONLY: Final = re.compile(rf"\b({_WEEKDAY})\b")
#: How far after a trigger word the date may stand ("hasta el próximo lunes 20 de enero de 2027").
_WINDOW: Final = 45
_AWAY_WORDS: Final = re.compile(
    r"\b(?:fuera de (?:la )?oficina|ausente|vacaciones|incapacidad|licencia|out of (?:the )?office|on leave|"
    r"vacation|away from)\b"
)


def is_out_of_office(facts: MessageFacts, body: str) -> bool:
    """An auto-reply saying its sender is away (not a read receipt, a list or a bounce)."""
    if facts.is_report or facts.list_id is not None:
        return False
    if out_of_office_subject(facts.subject):
        return True
    auto = fold(facts.auto_submitted or "").startswith("auto-replied") or facts.x_autoreply is not None
    return auto and _AWAY_WORDS.search(fold(new_text(body))) is not None


def return_date(body: str, received: dt.date) -> dt.date | None:
    """The day the secretario is back (or the last day away, as written), when the text says it."""
    text = fold(new_text(body) or body)
    for trigger in _TRIGGER.finditer(text):
        window = text[trigger.end() : trigger.end() + _WINDOW]
        found = _date_in(window, received)
        if found is not None:
            return found
    return None


def _date_in(window: str, received: dt.date) -> dt.date | None:
    candidates: list[tuple[int, dt.date | None]] = []
    for m in _DAY_MONTH.finditer(window):
        candidates.append((m.start(), _make(received, int(m.group(1)), _MONTHS[m.group(2)], m.group(3))))
    for m in _MONTH_DAY.finditer(window):
        candidates.append((m.start(), _make(received, int(m.group(2)), _MONTHS[m.group(1)], m.group(3))))
    for m in _NUMERIC.finditer(window):  # Colombia writes the day first: 12/01/2027 is 12 January
        candidates.append((m.start(), _make(received, int(m.group(1)), int(m.group(2)), m.group(3))))
    dated = sorted((pos, day) for pos, day in candidates if day is not None)
    if dated:
        return dated[0][1]
    weekday = _WEEKDAY_ONLY.search(window)
    if weekday is not None:  # "hasta el lunes": the next Monday after the reply
        ahead = (_WEEKDAYS[weekday.group(1)] - received.weekday()) % 7 or 7
        return received + dt.timedelta(days=ahead)
    return None


def _make(received: dt.date, day: int, month: int, year: str | None) -> dt.date | None:
    try:
        if year is not None:
            full = int(year) + (2000 if len(year) == 2 else 0)
            return dt.date(full, month, day)
        found = dt.date(received.year, month, day)
        return found if found >= received else dt.date(received.year + 1, month, day)
    except ValueError:
        return None
