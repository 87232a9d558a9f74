"""Every rule's concrete findings on crafted plans: code, severity, cell, value, meta, column, place and message.

test_rules.py and test_seguimiento_rules.py trip one rule at a time and mostly assert which codes fire; this file
pins down everything a secretario reads, for plans that trip many rules at once (and each structural rule alone),
so that a change to how the rules compute (issue 19: the rules made faster) cannot change a word, a cell or the
order of what is reported. The expected findings in tests/data/rule_findings.json were written from the rules as
they stood before that change and read through by hand; `test_every_rule_code_is_pinned` keeps the file covering
every code F02–S05.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl.workbook.workbook import Workbook

from mailbot.config import MailbotConfig, load_config
from mailbot.domain import control
from mailbot.domain.context import Catalogue, CatalogueEntry, ValidationContext
from mailbot.domain.parsed import Cell, ParsedWorkbook
from mailbot.domain.rules import REGISTRY, validate
from mailbot.domain.summary import planned_metas, summarize
from mailbot.domain.workbook_format import (
    EXPLANATION_MAX_CHARS,
    METAS_LETTERS,
    SEGUIMIENTO_LETTERS,
    SHEET_CONTROL,
    SHEET_METAS,
    SHEET_SEGUIMIENTO,
    ControlField,
    HeaderField,
    Ronda,
    seguimiento_key,
)
from mailbot.services.validation import build_context
from tests.support.configs import TEST_SECRET, write_config
from tests.support.plans import make_plan
from tests.support.seguimiento import (
    edit_seguimiento,
    fill_quarter,
    make_seguimiento,
    read,
    reports_for,
    ronda_of,
)
from tests.support.workbooks import edit_workbook

EXPECTED = Path(__file__).resolve().parents[1] / "data" / "rule_findings.json"
Metas = list[dict[str, Any]]
Case = tuple[ParsedWorkbook, ValidationContext]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MailbotConfig:
    return load_config(write_config(tmp_path_factory.mktemp("cfg")), environ={})


def _spoil_metas(metas: Metas) -> None:
    """One or two things wrong in most metas of a 12-meta EDU plan, as secretarios get them wrong."""
    metas[0]["observations"] = "#REF!"  # F05
    metas[0]["unit"] = "Galones"  # M02 E
    metas[1]["unit"] = "Mts 2"  # M02 W
    metas[1]["indicator"] = "  "  # M01
    metas[2]["meta_type"] = "Aumento"  # M03
    metas[2]["baseline"] = -1  # M04
    metas[3]["meta_vigencia"] = 0  # M04
    metas[3]["phys_t2"] = "mucho"  # M05 (cell)
    metas[4]["phys_t1"] = metas[4]["phys_t1"] + 1  # M05 (sum)
    metas[5].update(meta_type="Mantenimiento", meta_vigencia=10, meta_cuatrienio=10)
    metas[5].update(phys_t1=10, phys_t2=10, phys_t3=10, phys_t4=9)  # M05 (mantenimiento)
    metas[6]["meta_code"] = metas[7]["meta_code"]  # M07
    incremento = next(m for m in metas[8:] if m["meta_type"] == "Incremento")
    incremento["meta_cuatrienio"] = incremento["meta_vigencia"] - 1  # M08
    metas[0]["funcionamiento_t1"] = "$ " + f"{metas[0]['funcionamiento_t1']:,}".replace(",", ".")  # P01 W
    metas[1]["funcionamiento_t2"] = -5  # P01 E
    metas[2]["funcionamiento_t3"] = "1.500,50"  # P01 E (centavos)
    funded = [m for m in metas if sum(m[f"poai_t{q}"] for q in (1, 2, 3, 4)) > 0]
    funded[0]["poai_t2"] += 4_800_000_000  # P03
    funded[1]["bpin"] = "12345"  # P05 (malformed)
    funded[1]["project"] = None  # P05 (project)
    funded[2]["bpin"] = "9" * 13  # P05 (not registered)
    cofinanced = next(m for m in metas if sum(m[f"cofinanciacion_t{q}"] for q in (1, 2, 3, 4)) > 0)
    cofinanced["cofinancer"] = ""  # P06
    metas[9]["resp_title"] = None  # R01
    metas[9]["resp_email"] = "juan.perez@"  # R02
    metas[10]["resp_indirect"] = f"Otra Persona; {str(metas[10]['resp_name']).upper()}"  # R03
    extra = dict(metas[11], meta_code="999999", bpin=None, project=None, cofinancer=None)
    for key in list(extra):
        if key.startswith(("poai_t", "funcionamiento_t", "cofinanciacion_t")):
            extra[key] = 0
    metas.append(extra)  # P07


def _typed_totals(workbook: Workbook) -> None:
    sheet = workbook[SHEET_METAS]
    sheet[f"{METAS_LETTERS['poai_total']}7"] = 1  # P02
    sheet[f"{METAS_LETTERS['total']}8"] = "123"  # P02


def formulacion_content(config: MailbotConfig) -> Case:
    """Every content rule of formulación at once, with a catalogue (M06) and a BPIN list (P05)."""
    seen: Metas = []

    def mutate(metas: Metas) -> None:
        _spoil_metas(metas)
        seen.extend(metas)

    header = {HeaderField.VIGENCIA.value: 2026, HeaderField.CORREO.value: "hacienda arroba", "Cargo": "#N/A"}
    data = edit_workbook(make_plan(config, "EDU", 12, mutate=mutate, header=header), _typed_totals)
    entries = [
        CatalogueEntry("L", "P", "Programa", str(m["meta_code"]), str(m["meta"]), dependencia="EDU") for m in seen[2:]
    ]
    entries[0] = replace(entries[0], dependencia="HAC")  # M06 W
    bpins = frozenset(str(m["bpin"]) for m in seen if m.get("bpin") and m["bpin"] != "9" * 13)
    context = replace(
        build_context(config, "EDU", vigencia=2027), catalogue=Catalogue.of(entries), bpins=frozenset(bpins)
    )
    return read(data), context


def _control(parsed: ParsedWorkbook, changes: dict[str, str], *, resign: bool = True) -> ParsedWorkbook:
    """`_control` changed; resigned as someone holding the secret would, or left with its old signature."""
    assert parsed.control is not None
    block = {**parsed.control, **changes}
    if resign:
        block[ControlField.FIRMA] = control.sign(block, TEST_SECRET)
    return replace(parsed, control=block)


def _labels_moved(parsed: ParsedWorkbook) -> ParsedWorkbook:
    """F02: two columns swapped, a label changed (folding forgives an accent, not a missing word), another renamed."""
    labels = list(parsed.metas_labels)
    labels[7], labels[8] = labels[8], labels[7]
    labels[1], labels[2] = "Linea", "Programa PDM"
    return replace(parsed, metas_labels=tuple(labels))


def _header_label(parsed: ParsedWorkbook) -> ParsedWorkbook:
    """F02: the secretario's label in `Encabezado` overwritten."""
    header = dict(parsed.header)
    header["Nombre"] = header.pop(HeaderField.SECRETARIO.value)
    return replace(parsed, header=header)


def structural_cases(config: MailbotConfig) -> dict[str, Case]:
    """F02–F04 alone (they stop the content rules), F06 and P04: one small plan, edited as the reader would read it."""
    plan = read(make_plan(config, "HAC", 3))
    context = build_context(config, "HAC", vigencia=2027)
    no_metas_sheet = tuple(name for name in plan.sheet_names if name != SHEET_METAS)
    richer = replace(context.available, poai=context.available.poai * 3)
    return {
        "formulacion_unassigned": (plan, replace(context, available=richer)),  # P04: the budget grew since
        "formulacion_no_metas": (replace(plan, metas=()), context),
        "f02_labels_moved": (_labels_moved(plan), context),
        "f02_header_label": (_header_label(plan), context),
        "f02_no_metas_sheet": (replace(plan, sheet_names=no_metas_sheet, metas_labels=(), metas=()), context),
        "f03_other_version": (_control(plan, {ControlField.VERSION_FORMATO: "7"}), context),
        "f03_other_format": (_control(plan, {ControlField.FORMATO: "X-1"}), context),
        "f04_forged": (_control(plan, {ControlField.TOKEN: "someone-elses"}, resign=False), context),
        "f04_other_vigencia_and_token": (
            _control(plan, {ControlField.VIGENCIA: "2026"}),
            replace(context, expected_token="other-mailing"),
        ),
        "f04_other_dependencia": (plan, build_context(config, "EDU", vigencia=2027)),
        "f04_no_control": (
            replace(plan, sheet_names=tuple(n for n in plan.sheet_names if n != SHEET_CONTROL), control=None),
            context,
        ),
    }


def seguimiento_content(config: MailbotConfig) -> Case:
    """T3 with T1 accepted and T2 never reported: S01–S05 on both open quarters."""
    case = make_seguimiento(config, "HAC", 3, n=6, reported={1})
    data = case.data
    for q in case.baseline.open_quarters:
        data = fill_quarter(data, q, reports_for(case.baseline, q))
    metas = case.baseline.metas
    code = [m.meta_code for m in metas]
    report = reports_for(case.baseline, 3)[code[0]]
    changes: dict[tuple[str, str], object] = {
        (code[0], "exec_t3"): "casi todo",  # S01 (not a number)
        (code[1], "exec_t2"): None,  # S01 (missing where programmed)
        (code[1], "explanation_t2"): None,  # S04 (no explanation)
        (code[2], "committed_t3"): 100,  # S02 (obligated above committed)
        (code[2], "obligated_t3"): 200,
        (code[2], "paid_t3"): 250,  # S02 (paid above obligated)
        (code[3], "paid_t2"): -5,  # S02 (negative)
        (code[3], "obligated_t3"): "mucho",  # S02 (text)
        (code[0], "paid_t3"): f"$ {report.paid:,}".replace(",", "."),  # S02 W
        (code[4], "committed_t3"): metas[4].budget_to(3) + 1_000_000,  # S03
        (code[5], "evidence_t3"): None,  # S04 (no evidence)
        (code[5], "explanation_t2"): "x" * (EXPLANATION_MAX_CHARS + 1),  # S04 (too long)
        (code[1], "meta_vigencia"): float(metas[1].meta_vigencia) + 1,  # S05 (fixed column)
        (code[2], "unit"): "Otra unidad",  # S05 (fixed text)
        (code[3], "exec_t1"): 999,  # S05 (earlier quarter)
    }
    data = edit_seguimiento(data, changes)

    def extra_and_missing(workbook: Workbook) -> None:
        sheet = workbook[SHEET_SEGUIMIENTO]
        last = 5 + len(metas)
        for letter in SEGUIMIENTO_LETTERS.values():
            sheet[f"{letter}{last + 1}"].value = sheet[f"{letter}{last}"].value  # S05: a row added
        for key in ("exec_t2", "exec_t3", "evidence_t3"):
            sheet[f"{SEGUIMIENTO_LETTERS[key]}{last + 1}"].value = 3

    data = edit_workbook(data, extra_and_missing)
    context = build_context(config, "HAC", vigencia=2027, ronda=ronda_of(3), baseline=case.baseline)
    return read(data), context


def seguimiento_cases(config: MailbotConfig) -> dict[str, Case]:
    """T1 of four metas, answered correctly, then spoilt one way each (edited as the reader would have read it)."""
    t1 = make_seguimiento(config, "HAC", 1, n=4)
    answered = read(fill_quarter(t1.data, 1, reports_for(t1.baseline, 1)))
    context = build_context(config, "HAC", vigencia=2027, ronda=Ronda.SEGUIMIENTO_T1, baseline=t1.baseline)
    labels = list(answered.seguimiento_labels)
    labels[list(SEGUIMIENTO_LETTERS).index("paid_t1")] = "Pagos"
    first = answered.seguimiento[0]
    reported = {
        **first.cells,
        "exec_t1": Cell(f"{SEGUIMIENTO_LETTERS['exec_t1']}6", Decimal(2)),
        "evidence_t1": Cell(f"{SEGUIMIENTO_LETTERS['evidence_t1']}6", None),
    }
    names = ("exec", "committed", "obligated", "paid", "evidence", "explanation")
    reports = {seguimiento_key(name, 1) for name in names}
    unanswered = tuple(
        replace(row, cells={k: Cell(c.ref, None) if k in reports else c for k, c in row.cells.items()})
        for row in answered.seguimiento[1:]
    )
    return {
        "seguimiento_row_deleted": (replace(answered, seguimiento=answered.seguimiento[::2]), context),
        "seguimiento_without_baseline": (  # `mailbot validate` with no storage: the row's own programming counts
            replace(answered, seguimiento=(replace(first, cells=reported), *unanswered)),
            replace(context, baseline=None),
        ),
        "seguimiento_labels": (replace(answered, seguimiento_labels=tuple(labels)), context),  # F02 of Seguimiento
    }


def all_cases(config: MailbotConfig) -> dict[str, Case]:
    return {
        "formulacion_content": formulacion_content(config),
        **structural_cases(config),
        "seguimiento_content": seguimiento_content(config),
        **seguimiento_cases(config),
    }


@pytest.fixture(scope="module")
def cases(config: MailbotConfig) -> dict[str, Case]:
    return all_cases(config)


def found(case: Case) -> list[dict[str, Any]]:
    return [finding.to_json() for finding in validate(*case)]


def expected() -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = json.loads(EXPECTED.read_text(encoding="utf-8"))
    return data


NAMES = (
    "formulacion_content",
    "formulacion_unassigned",
    "formulacion_no_metas",
    "f02_labels_moved",
    "f02_header_label",
    "f02_no_metas_sheet",
    "f03_other_version",
    "f03_other_format",
    "f04_forged",
    "f04_other_vigencia_and_token",
    "f04_other_dependencia",
    "f04_no_control",
    "seguimiento_content",
    "seguimiento_row_deleted",
    "seguimiento_without_baseline",
    "seguimiento_labels",
)


@pytest.mark.parametrize("name", NAMES)
def test_findings_are_exactly_the_expected_ones(cases: dict[str, Case], name: str) -> None:
    """Same findings, same order, same words: nothing a secretario reads may change without this file changing."""
    assert found(cases[name]) == expected()[name]


def test_every_case_has_its_expected_findings(cases: dict[str, Case]) -> None:
    assert tuple(cases) == NAMES == tuple(expected())


def test_every_rule_code_is_pinned() -> None:
    """Each registered code, and both severities where a rule has them, appears in the expected findings."""
    pinned = {(f["code"], f["severity"]) for findings in expected().values() for f in findings}
    assert {code for code, _severity in pinned} == {r.code for r in REGISTRY}
    assert {"F04", "M02", "M06", "P01", "P03", "S02"} <= {code for code, severity in pinned if severity == "W"}


SUMMARY = EXPECTED.with_name("rule_summary.json")


def summaries(cases: dict[str, Case]) -> dict[str, Any]:
    """What an acceptance shows and a seguimiento is checked against, read from the same spoilt plans."""
    plan, context = cases["formulacion_content"]
    metas = [
        {
            **asdict(meta),
            "meta_vigencia": str(meta.meta_vigencia),
            "programming": [str(q) for q in meta.programming],
            "budget": list(meta.budget),
        }
        for meta in planned_metas(plan, context)
    ]
    return {"summary": summarize(plan, context).to_json(), "planned_metas": metas}


def test_the_summary_reads_the_money_as_the_rules_do(cases: dict[str, Case]) -> None:
    """Text, negative and centavo amounts included: the figures are the ones written before the speed-up."""
    assert summaries(cases) == json.loads(SUMMARY.read_text(encoding="utf-8"))
