"""The consolidated plan to publish by 31 January: every meta of every accepted plan, sums that add up, no formula.

The expected figures are recomputed here from the metas `valid_metas` generates (the very dicts `make_plan` types
into the template), not from the reader or `PlanView`, so the export is checked against what the secretarios
typed.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from mailbot.adapters.workbook.consolidated import (
    PLAN_HEADER_ROW,
    SHEET_MISSING,
    SHEET_PLAN,
    SHEET_PROJECTS,
    SHEET_SUMMARY,
    TABLE_HEADER_ROW,
    AcceptedPlan,
    consolidated_workbook,
    publication_table,
)
from mailbot.adapters.workbook.publication import (
    PUBLIC_COLUMNS,
    PUBLICATION_HEADER_ROW,
    SHEET_PUBLICATION,
    PublicationTable,
    publication_pdf,
)
from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook
from mailbot.config import MailbotConfig, load_config
from mailbot.domain.context import AvailableBudget
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    METAS_COLUMNS,
    METAS_LETTERS,
    QUARTERS,
    SHEET_METAS,
    Source,
    money_key,
)
from tests.support.configs import write_config
from tests.support.libreoffice import convert, needs_libreoffice, roundtrip_xlsx
from tests.support.plans import Meta, make_plan, valid_metas

BOGOTA = ZoneInfo("America/Bogota")
GENERATED = dt.datetime(2027, 1, 27, 16, 45, tzinfo=BOGOTA)
HOSTILE = {
    "meta": '=HYPERLINK("http://x","clic")',
    "resp_name": "@SUM(A1)",
    "observations": "+57 300 000 0000",
    "activities": "-Primera actividad",
}
#: (dependencia, metas); GOB's plan carries the hostile texts in its first meta.
SENT = (("HAC", 5), ("EDU", 7), ("GOB", 3))
MISSING = (("SAL", "Secretaría de Salud"), ("JUR", "=1+1 Oficina Asesora Jurídica"))
PREFIX = ("Código dependencia", "Dependencia", "Radicado", "Versión")


@dataclass(frozen=True)
class Sent:
    plan: AcceptedPlan
    metas: list[Meta]  # as typed by the secretario (the expectation)


def _hostile(metas: list[Meta]) -> None:
    metas[0].update(HOSTILE)


def _as_text(data: bytes) -> bytes:
    """The first meta's texts stored as text, as Excel stores `'=HYPERLINK(...)` typed with a quote.

    openpyxl would otherwise save a string starting with = as a formula, which the reader rightly reads as
    its cached value, not as the text.
    """
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for key, text in HOSTILE.items():
        cell = wb[SHEET_METAS][f"{METAS_LETTERS[key]}{FIRST_DATA_ROW}"]
        cell.value, cell.data_type = text, "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MailbotConfig:
    return load_config(write_config(tmp_path_factory.mktemp("consolidated")), environ={})


@pytest.fixture(scope="module")
def sent(config: MailbotConfig) -> list[Sent]:
    out = []
    for index, (code, n) in enumerate(SENT, start=1):
        mutate = _hostile if code == "GOB" else None
        dep = config.dependencia(code)
        available = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
        metas = valid_metas(n, available, dependencia=code)
        if mutate is not None:
            mutate(metas)
        data = make_plan(config, code, n, mutate=mutate)
        if mutate is not None:
            data = _as_text(data)
        parsed = read_workbook(data, ReaderLimits.from_config(config.limits))
        assert isinstance(parsed, ParsedWorkbook)
        accepted_at = dt.datetime(2027, 1, 18 + index, 15, 0, tzinfo=dt.UTC)
        plan = AcceptedPlan(code, dep.name, f"PLAN-2027-{index:04d}", index, accepted_at, parsed, available)
        out.append(Sent(plan, metas))
    return out


def export(config: MailbotConfig, sent: list[Sent], missing: tuple[tuple[str, str], ...] = MISSING) -> bytes:
    return consolidated_workbook(
        municipality=config.municipality.name,
        plan_name=config.development_plan.name,
        vigencia=2027,
        ronda_label="Formulación",
        plans=[s.plan for s in sent],
        missing=missing,
        generated_at=GENERATED,
    )


@pytest.fixture(scope="module")
def book(config: MailbotConfig, sent: list[Sent]) -> Any:
    return openpyxl.load_workbook(io.BytesIO(export(config, sent)))


# ------------------------------------------------------------------------------------------------ helpers


def table(ws: Any, header_row: int) -> list[dict[str, Any]]:
    """The rows under `header_row` as {label: value}, up to the first empty row."""
    labels = [c.value for c in ws[header_row]]
    rows = []
    for values in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if all(v is None for v in values):
            break
        rows.append(dict(zip(labels, values, strict=False)))
    return rows


def planned(metas: list[Meta], source: Source, quarter: int | None = None) -> int:
    quarters = QUARTERS if quarter is None else (quarter,)
    return sum(int(str(m[money_key(source, q)])) for m in metas for q in quarters)


def all_cells(wb: Any) -> Iterator[Any]:
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


# ------------------------------------------------------------------------------------------------ the sheets


def test_sheets_in_order(book: Any) -> None:
    assert book.sheetnames == [SHEET_PLAN, SHEET_PUBLICATION, SHEET_SUMMARY, SHEET_PROJECTS, SHEET_MISSING]


def test_title_block_names_municipality_plan_vigencia_and_date(book: Any, config: MailbotConfig) -> None:
    ws = book[SHEET_PLAN]
    block = {ws.cell(r, 1).value: ws.cell(r, 3).value for r in range(2, PLAN_HEADER_ROW)}
    assert block["Municipio"] == config.municipality.name
    assert block["Plan de desarrollo"] == config.development_plan.name
    assert block["Vigencia"] == 2027
    assert block["Fecha de generación"] == GENERATED.replace(tzinfo=None)  # the municipality's clock
    assert block["Dependencias con plan aceptado"] == "3 de 5"
    assert any("Ley 1474" in str(ws.cell(r, 1).value) for r in range(2, PLAN_HEADER_ROW))


def test_one_row_per_meta_with_the_contract_columns_in_order(book: Any, sent: list[Sent]) -> None:
    ws = book[SHEET_PLAN]
    labels = [c.value for c in ws[PLAN_HEADER_ROW]]
    assert labels == [*PREFIX, *(c.label for c in METAS_COLUMNS)]
    rows = table(ws, PLAN_HEADER_ROW)
    expected = [(s, n, meta) for s in sent for n, meta in enumerate(s.metas, start=1)]
    assert len(rows) == len(expected) == 15
    for row, (item, number, meta) in zip(rows, expected, strict=True):
        assert (row["Código dependencia"], row["Radicado"], row["Versión"]) == (
            item.plan.dependencia_code,
            item.plan.radicado,
            item.plan.version,
        )
        assert row["N°"] == number
        for column in METAS_COLUMNS:
            if column.key in meta and column.key not in HOSTILE:
                assert row[column.label] == meta[column.key], column.label


def test_totals_are_recomputed_numbers_and_money_is_whole_pesos(book: Any, sent: list[Sent]) -> None:
    """`POAI total` … `Total meta` hold the sums as integers (the template's formulas are not copied)."""
    rows = table(book[SHEET_PLAN], PLAN_HEADER_ROW)
    metas = [meta for s in sent for meta in s.metas]
    for row, meta in zip(rows, metas, strict=True):
        for source in Source:
            assert row[f"{source.label} total"] == planned([meta], source)
            assert all(type(row[f"{source.label} T{q}"]) is int for q in QUARTERS)
        assert row["Total meta"] == sum(planned([meta], s) for s in Source)
    assert not [c.coordinate for c in all_cells(book) if c.data_type == "f"]


def test_money_cells_carry_the_pesos_format(book: Any) -> None:
    ws = book[SHEET_PLAN]
    labels = [c.value for c in ws[PLAN_HEADER_ROW]]
    column = labels.index("POAI T1") + 1
    assert ws.cell(PLAN_HEADER_ROW + 1, column).number_format == '"$ "#,##0'


def test_filter_and_frozen_header(book: Any) -> None:
    ws = book[SHEET_PLAN]
    assert ws.auto_filter.ref.startswith(f"A{PLAN_HEADER_ROW}:")
    assert ws.auto_filter.ref.endswith(str(PLAN_HEADER_ROW + 15))
    assert ws.freeze_panes == f"C{PLAN_HEADER_ROW + 1}"


def test_summary_per_dependencia_equals_the_plans(book: Any, sent: list[Sent]) -> None:
    rows = table(book[SHEET_SUMMARY], TABLE_HEADER_ROW)
    assert [r["Código dependencia"] for r in rows] == ["HAC", "EDU", "GOB", "Total municipio"]
    for row, item in zip(rows, sent, strict=False):
        assert row["Metas"] == len(item.metas)
        assert row["Radicado"] == item.plan.radicado
        assert row["Aceptado el"] == item.plan.accepted_at.astimezone(BOGOTA).replace(tzinfo=None)
        for source in Source:
            assert row[f"{source.label} programado"] == planned(item.metas, source)
            assert row[f"{source.label} disponible"] == item.plan.available.of(source)
        assert row["Total programado"] == sum(planned(item.metas, s) for s in Source)
        assert row["Total disponible"] == item.plan.available.total
        for q in QUARTERS:
            label = next(k for k in row if str(k).startswith(f"Programado T{q}"))
            assert row[label] == sum(planned(item.metas, s, q) for s in Source)


def test_summary_total_row_equals_the_sums_of_the_first_sheet(book: Any) -> None:
    plan_rows = table(book[SHEET_PLAN], PLAN_HEADER_ROW)
    *rows, total = table(book[SHEET_SUMMARY], TABLE_HEADER_ROW)
    assert total["Metas"] == len(plan_rows) == sum(r["Metas"] for r in rows)
    for source in Source:
        column = f"{source.label} total"
        assert total[f"{source.label} programado"] == sum(r[column] for r in plan_rows)
    assert total["Total programado"] == sum(r["Total meta"] for r in plan_rows)
    assert total["Total disponible"] == sum(r["Total disponible"] for r in rows)
    quarters = [k for k in total if str(k).startswith("Programado T")]
    assert sum(total[k] for k in quarters) == total["Total programado"]


def test_projects_split_the_poai_by_bpin(book: Any, sent: list[Sent]) -> None:
    """Ley 1474 asks for the budget split of the investment projects: POAI by BPIN and quarter (a project that
    funds several metas is one row with their sum)."""
    *rows, total = table(book[SHEET_PROJECTS], TABLE_HEADER_ROW)
    by_project: dict[tuple[str, str], list[Meta]] = {}
    for s in sent:
        for m in s.metas:
            if planned([m], Source.POAI):
                by_project.setdefault((s.plan.dependencia_code, str(m["bpin"])), []).append(m)
    expected = {key: [planned(metas, Source.POAI, q) for q in QUARTERS] for key, metas in by_project.items()}
    got = {}
    for r in rows:
        quarters = [v for k, v in r.items() if str(k).startswith("POAI T")]
        got[(r["Código dependencia"], r["Código BPIN"])] = quarters
        assert r["POAI total"] == sum(quarters)
        assert r["Proyecto"]
    assert got == expected
    assert total["POAI total"] == sum(planned(s.metas, Source.POAI) for s in sent)


def test_missing_dependencias_are_listed(book: Any) -> None:
    rows = table(book[SHEET_MISSING], TABLE_HEADER_ROW)
    assert [(r["Código dependencia"], r["Dependencia"]) for r in rows] == list(MISSING)


def test_list_variants_are_published_in_the_lists_spelling(config: MailbotConfig) -> None:
    """A unit accepted with warning M02 (`m2`) or a type typed without accent is published as the list says it."""

    def variants(metas: list[Meta]) -> None:
        metas[0].update(unit="m2", meta_type="INCREMENTO")
        metas[1].update(unit=" porcentaje ", meta_type="reduccion")

    parsed = read_workbook(make_plan(config, "HAC", 2, mutate=variants), ReaderLimits.from_config(config.limits))
    assert isinstance(parsed, ParsedWorkbook)
    plan = AcceptedPlan("HAC", "Secretaría de Hacienda", "PLAN-1", 1, GENERATED, parsed, AvailableBudget())
    wb = openpyxl.load_workbook(io.BytesIO(export(config, [Sent(plan, [])])))
    rows = table(wb[SHEET_PLAN], PLAN_HEADER_ROW)
    assert [(r["Unidad de medida"], r["Tipo de meta"]) for r in rows] == [
        ("Metros cuadrados", "Incremento"),
        ("Porcentaje", "Reducción"),
    ]


# ------------------------------------------------------------------------------------------------ safety


def test_hostile_text_stays_text(book: Any) -> None:
    """`=HYPERLINK(...)`, `@SUM(A1)`, `+57 …`, `-…` typed by a secretario (or in a name) are shown, never run."""
    cells = [c for c in all_cells(book) if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    found = {c.value for c in cells}
    assert set(HOSTILE.values()) <= found
    assert MISSING[1][1] in found
    assert all(c.data_type == "s" for c in cells)


def test_one_plan_per_dependencia(config: MailbotConfig, sent: list[Sent]) -> None:
    """Two versions of one plan would count its budget twice in what is published."""
    with pytest.raises(ValueError, match="HAC"):
        export(config, [sent[0], sent[1], sent[0]])


def test_no_plan_accepted_yet(config: MailbotConfig) -> None:
    """Before the first acceptance the workbook still opens: an empty table, zero totals, everyone pending."""
    wb = openpyxl.load_workbook(io.BytesIO(export(config, [], missing=MISSING)))
    assert table(wb[SHEET_PLAN], PLAN_HEADER_ROW) == []
    (total,) = table(wb[SHEET_SUMMARY], TABLE_HEADER_ROW)
    assert total["Metas"] == 0
    assert total["Total programado"] == 0
    assert len(table(wb[SHEET_MISSING], TABLE_HEADER_ROW)) == 2


def test_everyone_accepted_says_so(config: MailbotConfig, sent: list[Sent]) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(export(config, sent, missing=())))
    assert "Ninguna" in str(wb[SHEET_MISSING].cell(TABLE_HEADER_ROW + 1, 1).value)


# ------------------------------------------------------------------------------------------------ Publicación


def _private(sent: list[Sent]) -> set[str]:
    """What must never reach the public: addresses, names, radicados, versions, notes."""
    private = {"Radicado", "Versión", "Correo responsable directo", "Observaciones", "Responsable directo"}
    for item in sent:
        private.add(item.plan.radicado)
        for meta in item.metas:
            private |= {str(meta[k]) for k in ("resp_email", "resp_name", "observations", "resp_indirect") if meta[k]}
    return private


def _public(sent: list[Sent]) -> PublicationTable:
    return publication_table(
        municipality="Villa Esperanza",
        plan_name="Plan de desarrollo",
        vigencia=2027,
        plans=[s.plan for s in sent],
        generated_at=GENERATED,
    )


def test_publication_holds_every_meta_and_nothing_private(book: Any, sent: list[Sent]) -> None:
    """Ley 1474 art. 74: metas, budget by source, project and cargo; no address, radicado, version or note."""
    ws = book[SHEET_PUBLICATION]
    assert [c.value for c in ws[PUBLICATION_HEADER_ROW]] == [c.label for c in PUBLIC_COLUMNS]
    rows = table(ws, PUBLICATION_HEADER_ROW)
    assert len(rows) == sum(len(s.metas) for s in sent) == 15
    assert [r["Código producto"] for r in rows] == [str(m["meta_code"]) for s in sent for m in s.metas]
    first = sent[0].metas[0]
    assert rows[0]["Responsable (cargo)"] == first["resp_title"]
    assert rows[0]["POAI"] == sum(int(first[money_key(Source.POAI, q)] or 0) for q in QUARTERS)
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [t for t in texts if "@" in t and "HYPERLINK" not in t]  # no e-mail address anywhere
    leaked = [t for t in texts if t in _private(sent) or any(p in t for p in ("PLAN-2027-",))]
    assert leaked == []
    assert '=HYPERLINK("http://x","clic")' in texts  # the hostile meta text, shown as text
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_publication_prints_one_page_wide_with_the_header_on_every_page(book: Any) -> None:
    ws = book[SHEET_PUBLICATION]
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 8  # A3
    assert ws.print_title_rows == f"${PUBLICATION_HEADER_ROW}:${PUBLICATION_HEADER_ROW}"


def test_publication_pdf_holds_every_accepted_meta(sent: list[Sent]) -> None:
    """The PDF shows the same rows as the sheet: every meta code, the money as pesos, no private value."""
    from pypdf import PdfReader

    data = publication_pdf(_public(sent))
    assert data.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(data)).pages
    text = "\n".join(page.extract_text() for page in pages)
    for item in sent:
        for meta in item.metas:
            assert str(meta["meta_code"]) in text
    assert "Página 1 de" in text
    first = _public(sent).rows[0]
    total = first[[c.label for c in PUBLIC_COLUMNS].index("Total")]
    assert isinstance(total, int)
    assert f"$ {total:,}".replace(",", ".") in text  # pesos as Colombia writes them
    assert not [p for p in _private(sent) if p in text]
    assert "@" not in text


def test_publication_pdf_repeats_the_header_and_numbers_the_pages(sent: list[Sent]) -> None:
    """A long plan breaks over pages: each one has the column labels and "Página k de N"."""
    from pypdf import PdfReader

    one = _public(sent)
    many = PublicationTable(one.municipality, one.plan_name, one.vigencia, one.generated_at, one.rows * 12)
    pages = PdfReader(io.BytesIO(publication_pdf(many))).pages
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert "Meta de" in text, number
        assert f"Página {number} de {len(pages)}" in text


# ------------------------------------------------------------------------------------------------ LibreOffice


@pytest.mark.libreoffice
@pytest.mark.slow
@needs_libreoffice
def test_sums_and_texts_survive_libreoffice(config: MailbotConfig, sent: list[Sent], tmp_path: Path) -> None:
    """Saved again by LibreOffice Calc, the figures are the same and the hostile texts are still text."""
    saved = openpyxl.load_workbook(io.BytesIO(roundtrip_xlsx(export(config, sent), tmp_path)))
    original = openpyxl.load_workbook(io.BytesIO(export(config, sent)))
    for name in (SHEET_PLAN, SHEET_PUBLICATION, SHEET_SUMMARY, SHEET_PROJECTS):
        header = {SHEET_PLAN: PLAN_HEADER_ROW, SHEET_PUBLICATION: PUBLICATION_HEADER_ROW}.get(name, TABLE_HEADER_ROW)
        assert table(saved[name], header) == table(original[name], header), name
    *_, total = table(saved[SHEET_SUMMARY], TABLE_HEADER_ROW)
    assert total["Total programado"] == sum(planned(s.metas, src) for s in sent for src in Source)
    cells = [c for c in all_cells(saved) if c.value in set(HOSTILE.values())]
    assert len(cells) == len(HOSTILE) + 1  # the meta's text is in «Publicación» too
    assert all(c.data_type == "s" for c in cells)


@pytest.mark.libreoffice
@pytest.mark.slow
@needs_libreoffice
def test_publication_prints_its_headers_whole_in_libreoffice(
    config: MailbotConfig, sent: list[Sent], tmp_path: Path
) -> None:
    """Calc prints «Publicación» on A3 one page wide, every label word on one line (no "Programació/n")."""
    from pypdf import PdfReader

    book = openpyxl.load_workbook(io.BytesIO(export(config, sent)))
    for name in book.sheetnames:
        if name != SHEET_PUBLICATION:
            del book[name]
    only = io.BytesIO()
    book.save(only)
    pages = PdfReader(io.BytesIO(convert(only.getvalue(), ".xlsx", "pdf", tmp_path))).pages
    assert len(pages) == 1  # 15 metas, one page wide and tall
    text = pages[0].extract_text()
    words = {word for column in PUBLIC_COLUMNS for word in column.label.split() if len(word) > 3}
    assert sorted(word for word in words if word not in text) == []
    assert all(str(m["meta_code"]) in text for s in sent for m in s.metas)
