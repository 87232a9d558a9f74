"""PNG charts for the digests and reports planeación reads: states of the round, budget, compliance grades.

Rendering choices, and why:
- matplotlib is imported inside the functions: the CLI starts in a fraction of a second and most commands never
  draw anything.
- The Agg canvas is attached explicitly (`FigureCanvasAgg`), and pyplot is never used: no display is needed, no
  global figure registry leaks memory in a long-running daemon, and nothing depends on `MPLBACKEND`.
- Output is deterministic: matplotlib's default style (not the machine's matplotlibrc), a fixed figure size and
  DPI, and no `Software` entry in the PNG metadata, so the same data gives the same bytes (a digest can be
  compared with yesterday's, and tests can say so). Styles are global in matplotlib, so rendering is serialised.
- Every text a person reads is Spanish; numbers are written the Colombian way (1.234,5).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from mailbot.domain.evaluation import DNP_GRADES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_INCHES: Final = 10.0
HEIGHT_INCHES: Final = 6.0
DPI: Final = 100  # 1000 × 600 pixels: readable in a mail client without zooming
NO_DATA: Final = "Sin datos"

#: Round states as `services.queries.STATES` names them → the Spanish label and colour shown.
STATES: Final = {
    "pending": ("Pendiente", "#9E9E9E"),
    "correction_requested": ("Con correcciones", "#F0A202"),
    "accepted": ("Aceptado", "#2E7D32"),
    "late": ("Vencido", "#C62828"),
}
_OTHER_STATE_COLOUR: Final = "#5C6BC0"

#: DNP's efficacy grades (lower bound in %, name), highest first. Municipalities may configure others.
DNP_BANDS: Final = tuple((float(g.min_percent), g.name) for g in DNP_GRADES)
_BAND_COLOURS: Final = ("#C8E6C9", "#DCEDC8", "#FFF9C4", "#FFE0B2", "#FFCDD2")  # green → red, highest band first
_PLANNED_COLOUR: Final = "#1F4E78"
_AVAILABLE_COLOUR: Final = "#9DC3E6"
_SCORE_COLOUR: Final = "#1F4E78"
_STYLE: Final = {
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs on every machine, accents included
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
}
_LOCK: Final = threading.Lock()
_MILLION: Final = 1_000_000
_CROWDED: Final = 12  # dependencias beyond which tick labels turn and bar labels shorten


# ------------------------------------------------------------------------------------------------ public charts


def states_chart(counts: Mapping[str, int]) -> bytes:
    """Dependencias per state of the round, as horizontal bars (every known state shown, zeros included).

    `counts` by state code (`pending`, `correction_requested`, `accepted`, `late`) or by its Spanish label.
    """
    from matplotlib.ticker import MaxNLocator

    labels, values, colours = _state_bars(counts)
    with _canvas("Dependencias por estado del plan") as (figure, axes):
        if not any(values):
            return _no_data(figure, axes)
        positions = range(len(labels))
        bars = axes.barh(positions, values, color=colours)
        axes.set_yticks(list(positions), labels)
        axes.invert_yaxis()  # the first state on top, as it is read
        axes.bar_label(bars, labels=[str(v) for v in values], padding=4)
        axes.set_xlabel("Número de dependencias")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # no "2,5 dependencias"
        axes.set_xlim(0, max(values) * 1.15)
        return _png(figure)


def budget_chart(rows: Sequence[tuple[str, int, int]]) -> bytes:
    """Per dependencia code: planned vs available budget, in millions of pesos (for display only)."""
    from matplotlib.ticker import FuncFormatter

    with _canvas("Presupuesto programado frente al disponible") as (figure, axes):
        if not rows:
            return _no_data(figure, axes)
        codes = [code for code, _, _ in rows]
        planned = [amount / _MILLION for _, amount, _ in rows]
        available = [amount / _MILLION for _, _, amount in rows]
        left = [i - 0.2 for i in range(len(rows))]
        right = [i + 0.2 for i in range(len(rows))]
        axes.bar(left, planned, width=0.4, color=_PLANNED_COLOUR, label="Programado")
        axes.bar(right, available, width=0.4, color=_AVAILABLE_COLOUR, label="Disponible")
        _dependencia_ticks(axes, codes)
        axes.set_ylabel("Millones de pesos")
        decimals = 1 if max(*planned, *available) < 10 else 0  # a few millions: 2,5 rather than 2 and 3
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: colombian_number(value, decimals)))
        axes.grid(axis="y", color="#E0E0E0")
        axes.set_axisbelow(True)
        axes.set_ylim(0, max(1.0, *planned, *available) * 1.15)  # headroom for the legend above the bars
        axes.legend(loc="upper left", ncols=2, frameon=False)
        return _png(figure)


def scores_chart(rows: Sequence[tuple[str, float]], *, bands: Sequence[tuple[float, str]] = DNP_BANDS) -> bytes:
    """Compliance % per dependencia over the grade bands, so each bar's grade is read from its background.

    `bands`: (lower bound in %, grade name), in any order; the DNP's ranges unless the municipality set others.
    """
    with _canvas("Cumplimiento por dependencia") as (figure, axes):
        if not rows:
            return _no_data(figure, axes)
        codes = [code for code, _ in rows]
        scores = [score for _, score in rows]
        top = max(105.0, max(scores) * 1.08)  # above 100 % (sobreejecución) is shown, not cut
        _draw_bands(axes, bands, top)
        bars = axes.bar(range(len(rows)), scores, width=0.6, color=_SCORE_COLOUR, zorder=2)
        decimals = 1 if len(rows) <= _CROWDED else 0  # long labels would touch their neighbours
        axes.bar_label(bars, labels=[f"{colombian_number(s, decimals)} %" for s in scores], padding=3, fontsize=9)
        _dependencia_ticks(axes, codes)
        axes.set_xlim(-0.6, len(rows) - 0.4)
        axes.set_ylim(0, top)
        axes.set_ylabel("Cumplimiento acumulado (%)")
        return _png(figure)


def colombian_number(value: float, decimals: int = 0) -> str:
    """`1234567.5` → `1.234.568` (or `1.234.567,5` with one decimal): dot for thousands, comma for decimals."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


# ------------------------------------------------------------------------------------------------ drawing


def _state_bars(counts: Mapping[str, int]) -> tuple[list[str], list[int], list[str]]:
    """Known states in their order, then any other state under its own name (a new state never breaks a digest).

    A state may be named by its code (`accepted`) or by its Spanish label (`Aceptado`): both land on one bar.
    """
    known = {name: code for code, (label, _) in STATES.items() for name in (code, label)}
    totals = dict.fromkeys(STATES, 0)
    for name, count in counts.items():
        code = known.get(name, name)
        totals[code] = totals.get(code, 0) + int(count)
    labels = [STATES[k][0] if k in STATES else k for k in totals]
    colours = [STATES[k][1] if k in STATES else _OTHER_STATE_COLOUR for k in totals]
    return labels, list(totals.values()), colours


def _dependencia_ticks(axes: Axes, codes: Sequence[str]) -> None:
    axes.set_xticks(list(range(len(codes))), codes, rotation=45 if len(codes) > _CROWDED else 0)
    axes.set_xlabel("Dependencia")


def _draw_bands(axes: Axes, bands: Sequence[tuple[float, str]], top: float) -> None:
    """Each band a tinted stripe up to the next one, its name at the right edge, behind the bars."""
    upper = top
    for index, (lower, name) in enumerate(sorted(bands, key=lambda band: band[0], reverse=True)):
        axes.axhspan(lower, upper, color=_BAND_COLOURS[min(index, len(_BAND_COLOURS) - 1)], zorder=0)
        label = f"{name} (≥ {colombian_number(lower)} %)" if lower > 0 else f"{name} (< {colombian_number(upper)} %)"
        middle = (lower + min(upper, 100.0)) / 2
        axes.text(1.01, middle, label, transform=axes.get_yaxis_transform(), va="center")
        upper = lower


def _no_data(figure: Figure, axes: Axes) -> bytes:
    axes.set_axis_off()
    axes.text(0.5, 0.5, NO_DATA, ha="center", va="center", fontsize=20, color="#616161", transform=axes.transAxes)
    return _png(figure)


@contextmanager
def _canvas(title: str) -> Iterator[tuple[Figure, Axes]]:
    """A titled figure on an Agg canvas, drawn under matplotlib's default style and the rendering lock."""
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _LOCK, matplotlib.style.context(["default", _STYLE]):
        figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        axes.set_title(title)
        yield figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
