"""Charts: real PNGs of a fixed size, the same bytes for the same data, a readable "Sin datos" when empty.

(One of each chart was also looked at by eye while writing them: Spanish labels, Colombian thousands separators,
grade bands behind the compliance bars.)
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from collections.abc import Callable

import matplotlib
import pytest
from PIL import Image

from mailbot.adapters.charts import (
    DPI,
    HEIGHT_INCHES,
    WIDTH_INCHES,
    budget_chart,
    colombian_number,
    scores_chart,
    states_chart,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SIZE = (int(WIDTH_INCHES * DPI), int(HEIGHT_INCHES * DPI))

STATES = {"pending": 4, "correction_requested": 3, "accepted": 10, "late": 2}
BUDGET = [
    ("DES", 1_207_500_000, 1_270_000_000),
    ("JUR", 294_500_000, 310_000_000),
    ("GOB", 2_888_000_000, 3_040_000_000),
]
SCORES = [("DES", 85.3), ("JUR", 72.0), ("GRD", 64.5), ("GEN", 45.0), ("GOB", 30.0)]

CHARTS: dict[str, Callable[[], bytes]] = {
    "states": lambda: states_chart(STATES),
    "budget": lambda: budget_chart(BUDGET),
    "scores": lambda: scores_chart(SCORES),
}
EMPTY: dict[str, Callable[[], bytes]] = {
    "states": lambda: states_chart({}),
    "budget": lambda: budget_chart([]),
    "scores": lambda: scores_chart([]),
}


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always follows the signature."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def ink(data: bytes) -> float:
    """Share of pixels that are not white: how much is drawn."""
    image = Image.open(io.BytesIO(data)).convert("L")
    histogram = image.histogram()
    return 1 - histogram[255] / (image.width * image.height)


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_each_chart_is_a_png_of_the_fixed_size(name: str) -> None:
    """1000 × 600 pixels whatever the data: a mail client shows them all alike."""
    assert png_size(CHARTS[name]()) == SIZE


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_the_same_data_gives_the_same_bytes(name: str) -> None:
    """No timestamp or software version in the file: a chart can be compared with yesterday's."""
    first, second = CHARTS[name](), CHARTS[name]()
    assert first == second
    assert b"Software" not in first
    assert b"matplotlib" not in first.lower()


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_the_machines_matplotlib_settings_do_not_change_a_chart(name: str) -> None:
    """Charts use matplotlib's default style, not whatever a matplotlibrc on the server says."""
    expected = CHARTS[name]()
    with matplotlib.rc_context({"axes.facecolor": "black", "font.size": 20, "figure.dpi": 50}):
        assert CHARTS[name]() == expected


def test_different_data_gives_a_different_chart() -> None:
    assert states_chart(STATES) != states_chart({**STATES, "late": 3})
    assert budget_chart(BUDGET) != budget_chart(BUDGET[:2])
    assert scores_chart(SCORES) != scores_chart(SCORES[::-1])


@pytest.mark.parametrize("name", sorted(EMPTY))
def test_empty_input_gives_a_sin_datos_chart(name: str) -> None:
    """No data is no error: a PNG of the same size with a title and "Sin datos", nearly blank."""
    empty = EMPTY[name]()
    assert png_size(empty) == SIZE
    assert ink(empty) < 0.02 < ink(CHARTS[name]())


def test_states_with_all_zeros_is_the_sin_datos_chart() -> None:
    """Four states at zero say as much as no state at all."""
    assert states_chart(dict.fromkeys(STATES, 0)) == states_chart({})


def test_states_may_be_named_by_code_or_by_spanish_label() -> None:
    """The digest counts by label, the status query by code: the same chart either way."""
    labels = {"Pendiente": 4, "Con correcciones": 3, "Aceptado": 10, "Vencido": 2}
    assert states_chart(labels) == states_chart(STATES)


def test_an_unknown_state_is_drawn_rather_than_refused() -> None:
    """A state added later to the round's queries shows under its own name instead of breaking the digest."""
    assert states_chart({**STATES, "en revisión": 1}) != states_chart(STATES)


def test_scores_above_100_and_custom_bands() -> None:
    """Over-execution stays visible above the top band; a municipality's own ranges change the background."""
    assert png_size(scores_chart([("HAC", 120.0)])) == SIZE
    custom = scores_chart(SCORES, bands=((90.0, "Alto"), (50.0, "Medio"), (0.0, "Bajo")))
    assert custom != scores_chart(SCORES)


def test_budget_of_a_few_pesos_still_draws() -> None:
    """Amounts far under a million (a test municipality) are not rounded away into an empty axis."""
    assert ink(budget_chart([("HAC", 1_500, 2_000)])) > 0.02


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [(1234567.5, 0, "1.234.568"), (1234567.5, 1, "1.234.567,5"), (0, 0, "0"), (85.25, 1, "85,2"), (999, 0, "999")],
)
def test_numbers_are_written_the_colombian_way(value: float, decimals: int, text: str) -> None:
    assert colombian_number(value, decimals) == text


def test_importing_the_module_does_not_load_matplotlib() -> None:
    """The CLI imports the adapters; matplotlib is loaded only when a chart is drawn."""
    code = "import sys, mailbot.adapters.charts; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
