"""Dates written the way a Colombian official letter writes them, without depending on the system locale.

A server's locale is whatever ops installed (often C or en_US); `strftime("%A")` would then say "Tuesday".
The names are few and fixed, so they live here.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

DAY_NAMES: Final = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
MONTH_NAMES: Final = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


def fecha_larga(day: dt.date) -> str:
    """`2027-01-20` → `miércoles 20 de enero de 2027` (lower case, as inside a sentence)."""
    return f"{DAY_NAMES[day.weekday()]} {day.day} de {MONTH_NAMES[day.month - 1]} de {day.year}"


def fecha(day: dt.date) -> str:
    """`2027-03-31` → `31 de marzo de 2027` (cut-offs and legal dates, where the weekday adds nothing)."""
    return f"{day.day} de {MONTH_NAMES[day.month - 1]} de {day.year}"
