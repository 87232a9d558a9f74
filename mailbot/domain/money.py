"""Colombian pesos: whole numbers, never floats, written the Colombian way."""

from __future__ import annotations

from decimal import Decimal


def format_pesos(amount: int) -> str:
    """`1200000` → `$ 1.200.000` (dot as thousands separator, as in every municipal document)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}$ {abs(amount):,}".replace(",", ".")


def format_percent(value: Decimal | None, *, missing: str = "No programada") -> str:
    """A percentage already rounded for display (`evaluation.percent`): `Decimal('85.0')` → `85,0 %`."""
    if value is None:
        return missing
    return f"{value:.1f} %".replace(".", ",")
