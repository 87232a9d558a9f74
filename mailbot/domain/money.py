"""Colombian pesos: whole numbers, never floats, written the Colombian way."""

from __future__ import annotations


def format_pesos(amount: int) -> str:
    """`1200000` → `$ 1.200.000` (dot as thousands separator, as in every municipal document)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}$ {abs(amount):,}".replace(",", ".")
