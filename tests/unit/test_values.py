from __future__ import annotations

from decimal import Decimal

import pytest

from mailbot.domain import values


@pytest.mark.parametrize(
    ("raw", "expected", "lenient"),
    [
        (1500000, 1500000, False),
        (1500000.0, 1500000, False),
        ("$ 1.500.000", 1500000, True),
        ("$1.500.000,00", 1500000, True),
        ("1,500,000", 1500000, True),
        ("$ -", 0, True),
        ("-", 0, True),
        (None, 0, False),
        ("  ", 0, False),
        ("COP 2.000", 2000, True),
    ],
)
def test_pesos_tolerant(raw: object, expected: int, lenient: bool) -> None:
    read = values.pesos(raw)
    assert read.ok, read.problem
    assert read.value == expected
    assert read.lenient is lenient


@pytest.mark.parametrize(
    ("raw", "problem"),
    [(-5, "negativo"), (10.5, "centavos"), ("mil pesos", "no es"), ("#REF!", "#REF!"), (True, "no es")],
)
def test_pesos_problems(raw: object, problem: str) -> None:
    read = values.pesos(raw)
    assert not read.ok
    assert problem in (read.problem or "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (3, Decimal(3)),
        (2.5, Decimal("2.5")),
        ("2,5", Decimal("2.5")),
        ("50%", Decimal(50)),
        ("1.000", Decimal(1000)),
    ],
)
def test_number(raw: object, expected: Decimal) -> None:
    assert values.number(raw).value == expected


def test_text_and_formula_error() -> None:
    assert values.text(12.0) == "12"
    assert values.text("  Juan   Pérez ") == "Juan Pérez"
    assert values.formula_error(" #div/0! ") == "#DIV/0!"
    assert values.formula_error("texto") is None
