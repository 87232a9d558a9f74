"""Realistic filled E-DE-F-010 plans: what a careful secretario sends back, for `mailbot demo` and the tests.

`valid_metas` gives a dependencia the sample municipality's metas of its own field (`sample_metas`), passing every
rule of the contract (warnings included) within an available budget;
`fill_plan` writes them into a generated template through the same input cells a person fills. The tests break
one thing at a time on top of these; the demo plays secretarías with them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import openpyxl

from mailbot.adapters.catalogue import FIELDS as CATALOGUE_FIELDS
from mailbot.adapters.workbook.cells import plain_number
from mailbot.domain import values
from mailbot.domain.context import AvailableBudget
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.seguimiento import QuarterReport
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    HEADER_FIRST_ROW,
    METAS_BY_KEY,
    METAS_COLUMNS,
    METAS_LETTERS,
    QUARTERS,
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
from mailbot.services.sample_metas import DEPARTAMENTO, GENERIC, SAMPLE, SampleDependencia, SampleMeta

Meta = dict[str, object]
INPUT_KEYS = tuple(c.key for c in METAS_COLUMNS if c.is_input)
MAIL_DOMAIN = "villaesperanza.gov.co"
_QUARTER_WEIGHTS = (2, 3, 3, 2)
_COMMITTED = (Decimal("0.95"), Decimal("0.9"), Decimal("0.85"))  # sample_reports' shares, by meta in turn
_OBLIGATED, _PAID = Decimal("0.7"), Decimal("0.8")


# ------------------------------------------------------------------------------------------------ metas


def valid_metas(n: int, budget: AvailableBudget, *, dependencia: str = "HAC") -> list[Meta]:
    """n metas (input columns only) of the dependencia's own field that pass every rule F01…R03, warnings included.

    The metas are the sample municipality's (`sample_metas.SAMPLE`, generic institutional ones for a dependencia
    it does not know); past the dependencia's own, they repeat as later phases with codes of their own. Each
    source with money is assigned between 90 % and 100 % of its available budget (P03, P04), split by the metas'
    weights into whole pesos per meta and quarter; every meta gets money (P07) as long as some source has any.
    POAI money comes with its program's BPIN and project (P05), cofinanciación with its entity (P06). n = 0 gives
    an empty plan (rule F06).
    """
    if n < 0:
        raise ValueError("n counts metas: 0 or more")
    if n == 0:
        return []  # an empty plan, for rule F06
    sample = SAMPLE.get(dependencia.upper(), GENERIC)
    profiles = [sample.metas[i % len(sample.metas)] for i in range(n)]
    metas = [_meta(i, profile, sample) for i, profile in enumerate(profiles)]
    for source, shares in _money(profiles, budget).items():
        for meta, share in zip(metas, shares, strict=True):
            for q, amount in zip(QUARTERS, _quarters(share), strict=True):
                meta[money_key(source, q)] = amount
    for meta, profile in zip(metas, profiles, strict=True):
        _complete_sources(meta, profile, sample)
    return metas


def _meta(i: int, profile: SampleMeta, sample: SampleDependencia) -> Meta:
    cycle = i // len(sample.metas)
    people = sample.people
    name, title = people[profile.responsable % len(people)]
    others = [p[0] for p in people if p[0] != name][:2]
    meta: Meta = {
        "linea": profile.program.linea,
        "program_code": profile.program.code,
        "program": profile.program.name,
        "meta_code": profile.code if cycle == 0 else f"{profile.code[:4]}{(50 + i) % 100:02d}",
        "meta": profile.meta if cycle == 0 else f"{profile.meta} (fase {cycle + 1})",
        "indicator": profile.indicator,
        "unit": profile.unit,
        "meta_type": profile.kind,
        "baseline": profile.baseline,
        "meta_cuatrienio": profile.cuatrienio,
        "meta_vigencia": profile.vigencia,
        **{physical_key(q): v for q, v in zip(QUARTERS, profile.quarters, strict=True)},
        "activities": "\n".join(profile.activities),
        "bpin": None,
        "project": None,
        "cofinancer": None,
        "resp_name": name,
        "resp_title": title,
        "resp_email": _email(name),
        "resp_indirect": "; ".join(others) if i % 3 != 2 and others else None,
        "observations": "Meta articulada con el Plan de Desarrollo Municipal." if i % 4 == 0 else None,
    }
    for source in Source:
        for q in QUARTERS:
            meta[money_key(source, q)] = 0
    return meta


def _complete_sources(meta: Meta, profile: SampleMeta, sample: SampleDependencia) -> None:
    """BPIN and project where POAI money is planned; the entity where cofinanciación is."""
    if _has(meta, Source.POAI):
        meta["bpin"] = profile.bpin
        meta["project"] = profile.project_name
    if _has(meta, Source.COFINANCIACION):
        entities = [m.cofinancer for m in (profile, *sample.metas) if m.cofinancer]
        meta["cofinancer"] = entities[0] if entities else DEPARTAMENTO


def _has(meta: Meta, source: Source) -> bool:
    return any(meta[money_key(source, q)] != 0 for q in QUARTERS)


def _money(profiles: Sequence[SampleMeta], budget: AvailableBudget) -> dict[Source, list[int]]:
    """Per source with money, each meta's share: together ≥ 90 % and ≤ 100 % of the available amount."""
    n = len(profiles)
    funded = [s for s in Source if budget.of(s) > 0]
    weights = {s: {i: p.weights[k] for i, p in enumerate(profiles) if p.weights[k] > 0} for k, s in enumerate(Source)}
    chosen = {s: weights[s] or dict.fromkeys(range(n), 1) for s in funded}
    for i in range(n):  # a meta no funded source reached gets the first one with money (P07)
        if funded and not any(i in chosen[s] for s in funded):
            chosen[funded[0]][i] = 1
    return {s: _shares(_target(budget.of(s)), chosen[s], n) for s in funded}


def _target(available: int) -> int:
    """About 95 % in round thousands; the whole amount when rounding would fall under 90 %."""
    target = available * 95 // 100 // 1000 * 1000
    return target if target * 10 >= available * 9 else available


def _shares(total: int, weights: Mapping[int, int], n: int) -> list[int]:
    recipients = sorted(weights)
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


def sample_catalogue_csv(dependencias: Sequence[str]) -> str:
    """The sample PDM catalogue of these dependencias, in the columns of `config/pdm.example.csv`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CATALOGUE_FIELDS)
    for code in dependencias:
        for m in SAMPLE[code].metas:
            p = m.program
            writer.writerow((p.linea, p.code, p.name, m.code, m.meta, m.indicator, m.unit, code))
    return buffer.getvalue()


def sample_bpins(dependencias: Sequence[str]) -> list[str]:
    """The BPIN of every project these dependencias' sample metas are funded from, for the banco de proyectos."""
    return sorted({m.bpin for code in dependencias for m in SAMPLE[code].metas})


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
    Comprometido is 95, 90 or 85 % (meta by meta in turn) of the pesos planned to the cut-off, times the pace;
    Obligado 70 % of that and Pagado 80 % of Obligado: Comprometido ≥ Obligado ≥ Pagado and never above the plan
    (no S03); evidence and a short explanation always.
    """
    planned = {values.text(row.cell("meta_code").value): row for row in workbook.metas}
    out: dict[str, QuarterReport] = {}
    for i, row in enumerate(workbook.seguimiento):
        code = values.text(row.cell("meta_code").value)
        programmed = values.number(row.cell(physical_key(quarter)).value).value or Decimal(0)
        share = (pace or {}).get(code, Decimal(1))
        to_date = sum(
            values.pesos(planned[code].cell(money_key(source, q)).value).value or 0
            for source in Source
            for q in QUARTERS[:quarter]
        )
        committed = int(to_date * _COMMITTED[i % len(_COMMITTED)] * min(share, Decimal(1)))
        obligated = int(committed * _OBLIGATED)
        out[code] = QuarterReport(
            execution=programmed * share,
            committed=committed,
            obligated=obligated,
            paid=int(obligated * _PAID),
            evidence=f"https://{MAIL_DOMAIN}/evidencias/{code}/T{quarter}.pdf",
            explanation=_explanation(values.text(planned[code].cell("activities").value), quarter, share),
        )
    return out


def _explanation(activities: str, quarter: int, share: Decimal) -> str:
    """What a responsable writes: the activity under way, or why the meta lags (within the 225 characters)."""
    doing = (activities.splitlines() or ["las actividades previstas"])[0].strip()
    doing = doing[:1].lower() + doing[1:]
    if share >= 1:
        return f"Se cumplió lo programado en el trimestre {quarter}; en curso: {doing}."
    return f"Avance parcial en el trimestre {quarter}: la contratación se retrasó; pendiente: {doing}."


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
