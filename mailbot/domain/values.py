"""Tolerant reading of what secretarios type: Colombian number text, stray spaces, variant spellings.

Each reader returns a `Read`: the value, whether it needed leniency (the rules turn that into a warning), or a
problem (the rules turn that into an error). Writing is strict; reading forgives what it safely can.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Generic, TypeVar

T = TypeVar("T")

_FORMULA_ERRORS = ("#REF!", "#DIV/0!", "#VALUE!", "#N/A", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
_CURRENCY = re.compile(r"^(?:\$|cop|col\$)?\s*", re.IGNORECASE)
_DASH_ZERO = re.compile(r"^\$?\s*-\s*$")


@dataclass(frozen=True)
class Read(Generic[T]):
    value: T | None
    lenient: bool = False  # text such as "$ 1.500.000" was read as a number
    problem: str | None = None  # why the cell could not be read; None when it could (or it is blank)

    @property
    def ok(self) -> bool:
        return self.problem is None


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def formula_error(value: object) -> str | None:
    """The spreadsheet error code a cell shows (`#REF!` …), or None."""
    if isinstance(value, str) and "#" in value and value.strip().upper() in _FORMULA_ERRORS:  # "#": every code has it
        return value.strip().upper()
    return None


def text(value: object) -> str:
    """Trimmed text of a cell; numbers written without a trailing `.0`; blank → ''."""
    if type(value) is str:  # the common case first
        text = value
    elif value is None:
        return ""
    elif isinstance(value, float) and value.is_integer():
        return str(int(value))
    elif isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    else:
        text = str(value)
    if "\t" not in text and "  " not in text:
        return text.strip()  # nothing to collapse
    return _BLANKS.sub(" ", text).strip()


_BLANKS = re.compile(r"[ \t]+")


def _decimal_from_text(raw: str) -> Decimal | None:
    """Colombian writing: '.' groups thousands, ',' marks decimals; '1,500,000' (US) is accepted too."""
    s = _CURRENCY.sub("", raw.strip()).replace(" ", "").replace("\u00a0", "")
    if s.endswith("%"):
        s = s[:-1]
    if not s or not re.fullmatch(r"[-+]?[\d.,]+", s):
        return None
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    elif s.count(".") > 1 or re.fullmatch(r"[-+]?\d{1,3}(\.\d{3})+", s):
        s = s.replace(".", "")  # 1.500.000 or 1.500 → thousands
    elif s.count(",") > 1 or re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", s):
        s = s.replace(",", "")  # 1,500,000 → thousands
    else:
        s = s.replace(",", ".")  # 2,5 → decimal
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def number(value: object) -> Read[Decimal]:
    """Any real number (physical programming, línea base, metas). Blank → value None, no problem."""
    if type(value) is int:  # the common case first (a bool is not an int here)
        return _whole(value)
    if is_blank(value):
        return Read(None)
    if isinstance(value, bool):
        return Read(None, problem="no es un número")
    if isinstance(value, int):
        return Read(Decimal(value))
    if isinstance(value, float):
        return Read(Decimal(str(value)))
    if isinstance(value, Decimal):
        return Read(value)
    if isinstance(value, str):
        if formula_error(value):
            return Read(None, problem=f"muestra el error {formula_error(value)}")
        if _DASH_ZERO.match(value.strip()):
            return Read(Decimal(0), lenient=True)
        parsed = _decimal_from_text(value)
        if parsed is None:
            return Read(None, problem="no es un número")
        return Read(parsed, lenient=True)
    return Read(None, problem="no es un número")


@lru_cache(maxsize=4096)
def _whole(value: int) -> Read[Decimal]:
    """Shared reads of whole numbers (quantities repeat from meta to meta; both the Read and a Decimal are immutable):
    building them was most of what reading a plan's numbers cost."""
    return Read(Decimal(value))


def pesos(value: object) -> Read[int]:
    """Whole, non-negative pesos. Blank → 0 (an empty money cell means nothing planned)."""
    if type(value) is int:  # the common case, read without a detour through Decimal (a bool is not an int here)
        return Read(value) if value >= 0 else Read(None, problem="es negativo")
    if is_blank(value):
        return Read(0)
    read = number(value)
    if read.value is None:
        return Read(None, problem=read.problem or "no es un valor en pesos")
    if read.value < 0:
        return Read(None, lenient=read.lenient, problem="es negativo")
    if read.value != read.value.to_integral_value():
        return Read(None, lenient=read.lenient, problem="tiene centavos; use pesos enteros")
    return Read(int(read.value), lenient=read.lenient)
