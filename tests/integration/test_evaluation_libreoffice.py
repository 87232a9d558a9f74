"""The committee's evaluation workbook opened in LibreOffice Calc shows the figures mailbot computed.

Calc computes nothing here (there is no formula): the point is that the rounded percentages, the pesos, the
"No programada" texts and the grade colours read the same in another program, and that a formula-looking
evidence is still shown as typed. The shown text is taken from Calc's CSV export "as shown", in the C locale
(`73.3%`, `$ 1,234,567`) so the test does not depend on the machine's language.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from mailbot.adapters.workbook.evaluation import SHEET_METAS, evaluation_workbook
from mailbot.domain.evaluation import evaluate_dependencia, evaluate_municipality
from mailbot.domain.seguimiento import PlannedMeta, QuarterReport
from tests.support.libreoffice import convert, needs_libreoffice, roundtrip_xlsx
from tests.support.seguimiento import planned_meta

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow, needs_libreoffice]

D = Decimal
M = 1_000_000
EVIDENCE = '=HYPERLINK("http://x","acta")'
SHEETS = {"Municipio": 1, "Por dependencia": 2, "Por meta": 3, "Pendientes": 4}  # Calc's sheet numbers


def _meta(code: str, kind: str, programming: tuple[int, int, int, int], budget: int) -> PlannedMeta:
    return planned_meta(code, programming, kind=kind, budget=(budget, 0, 0, 0), number=int(code[-1]))


def _workbook() -> bytes:
    """EDU at T1.

    E1 Incremento 7996 of 10000 → 79.96 % shown 80.0 %, Sobresaliente; committed 1,234,567 of 2 M → 61.7 %.
    E2 Mantenimiento 60 of 50 → 100.0 % capped, 120.0 % raw, Sobreejecutada; 0 of 1 M committed → 0.0 %.
    E3 Reducción, nothing planned in T1 → No programada.
    Score (0.7996 + 1) / 2 = 0.8998 → 90.0 % Sobresaliente; money 1,234,567 of 3 M = 0.41152 → 41.2 %.
    """
    metas = [
        _meta("E1", "Incremento", (10000, 0, 0, 0), 2 * M),
        _meta("E2", "Mantenimiento", (50, 50, 50, 50), M),
        _meta("E3", "Reducción", (0, 4, 0, 4), 0),
    ]
    reports = {
        "E1": {1: QuarterReport(D(7996), 1_234_567, 1_000_000, 500_000, EVIDENCE, "Contratos firmados")},
        "E2": {1: QuarterReport(D(60))},
    }
    edu = evaluate_dependencia("EDU", "Secretaría de Educación", metas, reports, 1)
    return evaluation_workbook(
        municipality="Municipio de Villa Esperanza",
        plan_name="Villa Esperanza avanza 2024-2027",
        vigencia=2027,
        quarter=1,
        result=evaluate_municipality([edu]),
        missing=[("SAL", "Secretaría de Salud")],
        generated_at=dt.datetime(2027, 4, 14, 8, 0),  # noqa: DTZ001 (the municipality's clock, as the service passes it)
    )


def _shown(data: bytes, sheet: str, work: Path) -> list[list[str]]:
    """The sheet's cells as Calc shows them (CSV "as shown": token 9 true; token 12 the sheet's number)."""
    work.mkdir()
    target = f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,{SHEETS[sheet]}"
    text = convert(data, ".xlsx", target, work).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def c_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """Calc formats numbers in the locale it starts with; the C locale gives `73.3%` and `$ 1,234,567`."""
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.mark.usefixtures("c_locale")
def test_calc_shows_the_municipality_figures(tmp_path: Path) -> None:
    rows = {row[0]: row[1] for row in _shown(_workbook(), "Municipio", tmp_path / "m") if len(row) > 1 and row[0]}
    assert rows["Cumplimiento del municipio"] == "90.0%"
    assert rows["Calificación"] == "Sobresaliente"
    assert rows["Presupuesto programado a la fecha"] == "$ 3,000,000"
    assert rows["Comprometido"] == "$ 1,234,567"
    assert rows["Ejecución financiera"] == "41.2%"
    assert rows["Fecha de generación"] == "14/04/2027 08:00"
    assert (rows["Sobreejecutada"], rows["En ejecución"], rows["No programada"]) == ("1", "1", "1")


@pytest.mark.usefixtures("c_locale")
def test_calc_shows_the_dependencia_row(tmp_path: Path) -> None:
    rows = _shown(_workbook(), "Por dependencia", tmp_path / "d")
    header = rows.index(next(r for r in rows if r[0] == "Código dependencia"))
    edu, total = (dict(zip(rows[header], r, strict=True)) for r in rows[header + 1 : header + 3])
    for row in (edu, total):
        assert (row["Metas"], row["Metas programadas"]) == ("3", "2")
        assert (row["Cumplimiento"], row["Calificación"]) == ("90.0%", "Sobresaliente")
        assert (row["Comprometido"], row["Ejecución financiera"]) == ("$ 1,234,567", "41.2%")
    assert total["Código dependencia"] == "Total municipio"


@pytest.mark.usefixtures("c_locale")
def test_calc_shows_the_meta_rows(tmp_path: Path) -> None:
    rows = _shown(_workbook(), "Por meta", tmp_path / "p")
    header = rows.index(next(r for r in rows if r[0] == "Código dependencia"))
    e1, e2, e3 = (dict(zip(rows[header], r, strict=True)) for r in rows[header + 1 : header + 4])
    assert (e1["Cumplimiento T1"], e1["Cumplimiento acumulado"], e1["Avance de la meta vigencia"]) == ("80.0%",) * 3
    assert (e1["Ejecución física T1"], e1["Meta vigencia"]) == ("7996", "10000")
    assert (e1["Comprometido"], e1["Pagado"], e1["Ejecución financiera"]) == ("$ 1,234,567", "$ 500,000", "61.7%")
    assert (e1["Estado"], e1["Calificación"]) == ("En ejecución", "Sobresaliente")
    assert e1["Evidencia T1"] == EVIDENCE  # shown as typed, not run
    assert (e2["Cumplimiento acumulado"], e2["Cumplimiento acumulado sin tope"]) == ("100.0%", "120.0%")
    assert (e2["Estado"], e2["Ejecución financiera"]) == ("Sobreejecutada", "0.0%")
    assert e3["Cumplimiento acumulado"] == e3["Cumplimiento T1"] == e3["Ejecución financiera"] == "No programada"
    assert (e3["Estado"], e3["Calificación"]) == ("No programada", "")


def test_saved_again_by_calc_the_values_formats_and_colours_are_kept(tmp_path: Path) -> None:
    original = openpyxl.load_workbook(io.BytesIO(_workbook()))
    saved = openpyxl.load_workbook(io.BytesIO(roundtrip_xlsx(_workbook(), tmp_path)))
    assert saved.sheetnames == original.sheetnames
    for name in original.sheetnames:
        assert _values(saved[name]) == _values(original[name]), name
    header = 4
    labels = [c.value for c in saved[SHEET_METAS][header]]
    e1 = dict(zip(labels, saved[SHEET_METAS][header + 1], strict=False))
    assert e1["Cumplimiento acumulado"].number_format == "0.0%"
    assert str(e1["Calificación"].fill.fgColor.rgb).endswith("00B050")
    assert e1["Evidencia T1"].data_type == "s"


def _values(ws: Any) -> list[tuple[Any, ...]]:
    """Every row's values, trailing empty cells dropped (Calc may save a sheet's used range differently)."""
    rows = [tuple(row) for row in ws.iter_rows(values_only=True)]
    trimmed = [row[: max((i + 1 for i, v in enumerate(row) if v is not None), default=0)] for row in rows]
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return trimmed
