"""Realistic filled E-DE-F-010 plans: what a careful secretario sends back, for `mailbot demo` and the tests.

`valid_metas` invents metas that pass every rule of the contract (warnings included) within an available budget;
`fill_plan` writes them into a generated template through the same input cells a person fills. The tests break
one thing at a time on top of these; the demo plays secretarías with them.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import openpyxl

from mailbot.adapters.workbook.cells import plain_number
from mailbot.domain import values
from mailbot.domain.context import AvailableBudget
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.seguimiento import QuarterReport
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    HEADER_FIRST_ROW,
    INCREMENTO,
    MANTENIMIENTO,
    METAS_BY_KEY,
    METAS_COLUMNS,
    METAS_LETTERS,
    QUARTERS,
    REDUCCION,
    SEGUIMIENTO_LETTERS,
    SHEET_HEADER,
    SHEET_METAS,
    SHEET_SEGUIMIENTO,
    HeaderField,
    Source,
    money_key,
    physical_key,
    seguimiento_key,
)

Meta = dict[str, object]
INPUT_KEYS = tuple(c.key for c in METAS_COLUMNS if c.is_input)
MAIL_DOMAIN = "villaesperanza.gov.co"
BPIN_PREFIX = "202468999"  # year 2024 + the example municipality's DANE code; + 4 digits = 13 (bpin.example.txt)

# (tipo, unit, línea base, meta cuatrienio, meta vigencia, T1..T4, meta, indicador): each satisfies M04, M05, M08.
_PROFILES: tuple[tuple[str, str, float, float, float, tuple[float, ...], str, str], ...] = (
    (
        INCREMENTO,
        "Personas",
        500,
        2000,
        600,
        (100, 200, 200, 100),
        "Beneficiar 600 personas con programas de formación para el trabajo",
        "Personas beneficiadas",
    ),
    (
        MANTENIMIENTO,
        "Porcentaje",
        100,
        100,
        100,
        (100, 100, 100, 100),
        "Mantener la atención del 100 % de las solicitudes ciudadanas",
        "Solicitudes atendidas",
    ),
    (
        REDUCCION,
        "Porcentaje",
        30,
        10,
        5,
        (1.5, 1, 1.5, 1),
        "Reducir en 5 puntos la cartera morosa del impuesto predial",
        "Cartera morosa reducida",
    ),
    (
        INCREMENTO,
        "Jornadas",
        0,
        48,
        12,
        (3, 3, 3, 3),
        "Realizar 12 jornadas de atención descentralizada en barrios y veredas",
        "Jornadas realizadas",
    ),
    (MANTENIMIENTO, "Índice", 70, 70, 70, (60, 65, 70, 70), "Mantener el índice de desempeño institucional", "Índice"),
    (
        INCREMENTO,
        "Documentos",
        0,
        4,
        1,
        (0, 0, 0, 1),
        "Formular 1 documento de política pública sectorial",
        "Documentos formulados",
    ),
    (
        REDUCCION,
        "Tasa",
        12,
        8,
        2,
        (0, 1, 0, 1),
        "Reducir la tasa de reclamaciones por servicio",
        "Tasa de reclamaciones",
    ),
)
_LINEAS = (
    "Villa Esperanza con buen gobierno y transparente",
    "Villa Esperanza segura y en paz",
    "Villa Esperanza educada, saludable e incluyente",
)
_PROGRAMS = {
    "HAC": ("4599", "Fortalecimiento a la gestión y dirección de la administración pública territorial"),
    "GOB": ("4501", "Fortalecimiento de la convivencia y la seguridad ciudadana"),
    "EDU": ("2201", "Calidad, cobertura y fortalecimiento de la educación inicial, prescolar, básica y media"),
    "SAL": ("1905", "Salud pública"),
    "INF": ("2402", "Infraestructura red vial regional"),
    "GRD": ("4503", "Gestión del riesgo de desastres y emergencias"),
}
_PEOPLE = (
    ("Ana María Gómez Restrepo", "Profesional universitaria"),
    ("Luis Fernando Cardona Ruiz", "Profesional especializado"),
    ("Claudia Patricia Henao Vélez", "Técnica administrativa"),
    ("Jorge Iván Mejía Arango", "Subsecretario"),
    ("Natalia Andrea Torres Gil", "Profesional universitaria"),
    ("Mauricio Alejandro Duque Salazar", "Contratista de apoyo"),
)
_COFINANCERS = (
    "Departamento de Santander",
    "Nación – Ministerio de Educación Nacional",
    "Sistema General de Regalías (SGR)",
    "Cooperación internacional – USAID",
)
_QUARTER_WEIGHTS = (2, 3, 3, 2)


# ------------------------------------------------------------------------------------------------ metas


def valid_metas(n: int, budget: AvailableBudget, *, dependencia: str = "HAC") -> list[Meta]:
    """n metas (input columns only) that pass every rule F01…R03, warnings included.

    Each source with money is assigned between 90 % and 100 % of its available budget (P03, P04), split exactly
    into whole pesos per meta and quarter; every meta gets money (P07) as long as some source has any. POAI money
    comes with a 13-digit BPIN and a project (P05), cofinanciación with its entity (P06). n = 0 gives an empty
    plan (rule F06).
    """
    if n < 0:
        raise ValueError("n counts metas: 0 or more")
    if n == 0:
        return []  # an empty plan, for rule F06
    code, program = _PROGRAMS.get(dependencia.upper(), _PROGRAMS["HAC"])
    metas = [_meta(i, code, program) for i in range(n)]
    for source, shares in _money(n, budget).items():
        for meta, share in zip(metas, shares, strict=True):
            for q, amount in zip(QUARTERS, _quarters(share), strict=True):
                meta[money_key(source, q)] = amount
    for i, meta in enumerate(metas):
        _complete_sources(i, meta)
    return metas


def _meta(i: int, program_code: str, program: str) -> Meta:
    kind, unit, base, cuatrienio, vigencia, phys, text, indicator = _PROFILES[i % len(_PROFILES)]
    cycle = i // len(_PROFILES)
    name, title = _PEOPLE[i % len(_PEOPLE)]
    indirect = "; ".join(p[0] for p in (_PEOPLE[(i + 1) % len(_PEOPLE)], _PEOPLE[(i + 2) % len(_PEOPLE)]))
    meta: Meta = {
        "linea": _LINEAS[i % len(_LINEAS)],
        "program_code": program_code,
        "program": program,
        "meta_code": f"{program_code}{i + 1:02d}",
        "meta": text if cycle == 0 else f"{text} (fase {cycle + 1})",
        "indicator": indicator,
        "unit": unit,
        "meta_type": kind,
        "baseline": base,
        "meta_cuatrienio": cuatrienio,
        "meta_vigencia": vigencia,
        **{physical_key(q): v for q, v in zip(QUARTERS, phys, strict=True)},
        "activities": "Planear y contratar las acciones\nEjecutar y supervisar\nReportar avances trimestrales",
        "bpin": None,
        "project": None,
        "cofinancer": None,
        "resp_name": name,
        "resp_title": title,
        "resp_email": _email(name),
        "resp_indirect": indirect if i % 5 != 4 else None,
        "observations": "Meta articulada con el Plan de Desarrollo." if i % 4 == 0 else None,
    }
    for source in Source:
        for q in QUARTERS:
            meta[money_key(source, q)] = 0
    return meta


def _complete_sources(i: int, meta: Meta) -> None:
    """BPIN and project where POAI money is planned; the entity where cofinanciación is."""
    if _has(meta, Source.POAI):
        meta["bpin"] = f"{BPIN_PREFIX}{i + 1:04d}"
        meta["project"] = "Fortalecimiento de la gestión institucional del municipio de Villa Esperanza"
    if _has(meta, Source.COFINANCIACION):
        meta["cofinancer"] = _COFINANCERS[i % len(_COFINANCERS)]


def _has(meta: Meta, source: Source) -> bool:
    return any(meta[money_key(source, q)] != 0 for q in QUARTERS)


def _money(n: int, budget: AvailableBudget) -> dict[Source, list[int]]:
    """Per source with money, each meta's share: together ≥ 90 % and ≤ 100 % of the available amount."""
    prefer = {
        Source.POAI: lambda i: i % 4 != 3,
        Source.FUNCIONAMIENTO: lambda i: i % 2 == 1,
        Source.COFINANCIACION: lambda i: i % 3 == 0,
    }
    funded = [s for s in Source if budget.of(s) > 0]
    chosen = {s: {i for i in range(n) if prefer[s](i)} or set(range(n)) for s in funded}
    for i in range(n):  # a meta no preferred source reached gets the first one with money (P07)
        if funded and not any(i in chosen[s] for s in funded):
            chosen[funded[0]].add(i)
    return {s: _shares(_target(budget.of(s)), sorted(chosen[s]), n) for s in funded}


def _target(available: int) -> int:
    """About 95 % in round thousands; the whole amount when rounding would fall under 90 %."""
    target = available * 95 // 100 // 1000 * 1000
    return target if target * 10 >= available * 9 else available


def _shares(total: int, recipients: Sequence[int], n: int) -> list[int]:
    weights = {i: 1 + i % 3 for i in recipients}
    whole = sum(weights.values())
    unit = 1000 if total >= 1000 * whole else 1
    shares = [0] * n
    for i in recipients[:-1]:
        shares[i] = total * weights[i] // whole // unit * unit
    shares[recipients[-1]] = total - sum(shares)
    return shares


def _quarters(share: int) -> list[int]:
    unit = 1000 if share >= 10_000 else 1
    parts = [share * w // sum(_QUARTER_WEIGHTS) // unit * unit for w in _QUARTER_WEIGHTS[:-1]]
    return [*parts, share - sum(parts)]


def _email(name: str) -> str:
    words = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode().split()
    return f"{words[0]}.{words[-2]}@{MAIL_DOMAIN}"


# ------------------------------------------------------------------------------------------------ files


def fill_plan(template: bytes, metas: list[Meta], header: Mapping[str, object] | None = None) -> bytes:
    """The template with `metas` typed from row 6 and `header` values typed beside their labels.

    Values are written as they are (any type: "$ 1.500.000", "#REF!", 2.5, "=1/0"), like a person typing.
    Pre-filled rows past the last meta are cleared, as a secretario deletes the catalogue metas not used.
    A key of a computed column (`poai_total`, `total`) overwrites the formula, as a person does after
    unprotecting the sheet: that is how tests reach rule P02.
    """
    wb = openpyxl.load_workbook(io.BytesIO(template))
    _fill_metas(wb[SHEET_METAS], metas)
    _fill_header(wb[SHEET_HEADER], header or {})
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _fill_metas(ws: Any, metas: list[Meta]) -> None:
    for i, meta in enumerate(metas):
        for key, value in meta.items():
            if key not in METAS_BY_KEY:
                raise ValueError(f"unknown Metas column key '{key}' (see workbook_format.METAS_COLUMNS)")
            ws[f"{METAS_LETTERS[key]}{FIRST_DATA_ROW + i}"].value = value
    for row in range(FIRST_DATA_ROW + len(metas), ws.max_row + 1):
        for key in INPUT_KEYS:
            ws[f"{METAS_LETTERS[key]}{row}"].value = None


def _fill_header(ws: Any, header: Mapping[str, object]) -> None:
    rows = {str(ws.cell(r, 1).value): r for r in range(HEADER_FIRST_ROW, HEADER_FIRST_ROW + len(HeaderField))}
    vigencia = ws.cell(rows[HeaderField.VIGENCIA], 2).value
    values: dict[str, object] = {HeaderField.FECHA: dt.date(vigencia if isinstance(vigencia, int) else 2027, 1, 15)}
    values.update({str(k): v for k, v in header.items()})
    for label, value in values.items():
        if label not in rows:
            raise ValueError(f"'{label}' is not an Encabezado label (see workbook_format.HeaderField)")
        ws.cell(rows[label], 2).value = value


# ------------------------------------------------------------------------------------------------ seguimiento


def sample_reports(
    workbook: ParsedWorkbook, quarter: int, pace: Mapping[str, Decimal] | None = None
) -> dict[str, QuarterReport]:
    """What diligent responsables report for `quarter`, read off the seguimiento workbook they received.

    Execution is the quarter's programming times the meta's `pace` (1 unless given: 0.4 makes a lagging meta);
    Comprometido is a fifth of the meta's total per quarter elapsed, Obligado ¾ of it and Pagado ⅔ of that, so
    Comprometido ≥ Obligado ≥ Pagado; evidence and a short explanation always.
    """
    out: dict[str, QuarterReport] = {}
    for row in workbook.seguimiento:
        code = values.text(row.cell("meta_code").value)
        programmed = values.number(row.cell(physical_key(quarter)).value).value or Decimal(0)
        total = values.pesos(row.cell("total").value).value or 0
        committed = total * quarter // 5
        obligated = committed * 3 // 4
        share = (pace or {}).get(code, Decimal(1))
        out[code] = QuarterReport(
            execution=programmed * share,
            committed=committed,
            obligated=obligated,
            paid=obligated * 2 // 3,
            evidence=f"https://{MAIL_DOMAIN}/evidencias/{code}/T{quarter}.pdf",
            explanation=(
                f"Avance del trimestre {quarter} según lo programado."
                if share >= 1
                else f"Avance parcial en el trimestre {quarter}: la contratación se retrasó; se ajusta el cronograma."
            ),
        )
    return out


def fill_seguimiento(workbook: bytes, quarter: int, reports: Mapping[str, QuarterReport]) -> bytes:
    """The workbook with one quarter's block typed for the given meta codes, as a responsable does."""
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    ws = wb[SHEET_SEGUIMIENTO]
    rows = seguimiento_rows(ws)
    for code, report in reports.items():
        if code not in rows:
            raise ValueError(f"no Seguimiento row holds the meta code '{code}'")
        typed = {
            "exec": None if report.execution is None else plain_number(report.execution),
            "committed": report.committed,
            "obligated": report.obligated,
            "paid": report.paid,
            "evidence": report.evidence or None,
            "explanation": report.explanation or None,
        }
        for name, value in typed.items():
            ws[f"{SEGUIMIENTO_LETTERS[seguimiento_key(name, quarter)]}{rows[code]}"].value = value
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def seguimiento_rows(ws: Any) -> dict[str, int]:
    """Meta code → its row in a `Seguimiento` sheet (codes as the sheet holds them: text)."""
    letter = SEGUIMIENTO_LETTERS["meta_code"]
    rows: dict[str, int] = {}
    row = FIRST_DATA_ROW
    while ws[f"{letter}{row}"].value not in (None, ""):
        rows[str(ws[f"{letter}{row}"].value)] = row
        row += 1
    return rows
