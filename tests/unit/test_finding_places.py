"""Findings name the place as the secretario sees it: the meta by its N°, code and text, the column by its label.

One finding per rule family (F, H, M, P, R in formulación, S in seguimiento), followed to the three places a person
reads it: the correction mail, the annotated copy (the cell's comment and the `Correcciones` list) and
`mailbot validate` (text and --json). Then P02's formula put back, and `validate` of a workbook whose owner is
unknown (its structure is still checked).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from mailbot.adapters.mail_templates import render
from mailbot.adapters.workbook.annotate import annotated_copy
from mailbot.cli import EXIT_PROBLEMS, EXIT_UNUSABLE, cli
from mailbot.config import MailbotConfig, load_config
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.inbound import MessageFacts
from mailbot.domain.parsed import Cell, ParsedWorkbook, Row
from mailbot.domain.places import locate, short
from mailbot.domain.rules import validate
from mailbot.domain.workbook_format import (
    HEADER_FIRST_ROW,
    METAS_BY_KEY,
    METAS_LETTERS,
    SEGUIMIENTO_LETTERS,
    SHEET_CONTROL,
    SHEET_CORRECTIONS,
    SHEET_HEADER,
    SHEET_METAS,
    HeaderField,
    Ronda,
)
from mailbot.services.answers import AnswerFacts, answer_context
from mailbot.services.validation import build_context
from tests.support.configs import write_config
from tests.support.plans import make_plan
from tests.support.seguimiento import edit_seguimiento, fill_quarter, make_seguimiento, read, reports_for
from tests.support.workbooks import edit_workbook

Metas = list[dict[str, Any]]


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_config(tmp_path_factory.mktemp("cfg"))


@pytest.fixture(scope="module")
def config(config_path: Path) -> MailbotConfig:
    return load_config(config_path, environ={})


@dataclass(frozen=True)
class Case:
    """A plan spoilt in one place, and how that place must be named."""

    code: str
    meta_index: int | None  # which meta (0-based) the finding is about, None for the header
    key: str  # column key in `Metas`
    mutate: Callable[[Metas], None] | None = None
    edit: Callable[[Workbook], None] | None = None


def _typed(key: str, row: int, value: object) -> Callable[[Workbook], None]:
    def edit(workbook: Workbook) -> None:
        workbook[SHEET_METAS][f"{METAS_LETTERS[key]}{row}"] = value

    return edit


def _clear(index: int, key: str) -> Callable[[Metas], None]:
    def mutate(metas: Metas) -> None:
        metas[index][key] = ""

    return mutate


CASES = {
    "F": Case("F05", 2, "activities", edit=_typed("activities", 8, "#REF!")),
    "M": Case("M01", 1, "indicator", mutate=_clear(1, "indicator")),
    "P": Case("P01", 2, "funcionamiento_t3", edit=_typed("funcionamiento_t3", 8, "doce millones")),
    "R": Case("R01", 3, "resp_name", mutate=_clear(3, "resp_name")),
}


def _spoilt(config: MailbotConfig, case: Case) -> bytes:
    data = make_plan(config, "HAC", 5, mutate=case.mutate)
    return edit_workbook(data, case.edit) if case.edit else data


def _meta_name(data: bytes, index: int) -> tuple[int, str, str]:
    """N°, code and text of a meta as the sheet shows them (read back from the workbook, not from the rules)."""
    ws = load_workbook(io.BytesIO(data))[SHEET_METAS]
    row = 6 + index
    cells = (ws[f"{METAS_LETTERS[k]}{row}"].value for k in ("number", "meta_code", "meta"))
    number, code, text = cells
    return int(str(number)), str(code), str(text)


def _correction_mail(config: MailbotConfig, findings: list[Finding], ronda: Ronda = Ronda.FORMULACION) -> str:
    received = MessageFacts(from_address="secretario@example.gov.co", subject="Plan de acción")
    facts = AnswerFacts(dependencia="HAC", vigencia=2027, ronda=ronda.value, version=2, findings=tuple(findings))
    text, _html = render("correccion", answer_context(config, received, facts), None)
    return text


def _annotated_texts(data: bytes, findings: list[Finding], sheet: str, cell: str) -> tuple[str, list[str]]:
    """The comment on `cell` and every "Dónde" of the `Correcciones` list."""
    workbook = load_workbook(io.BytesIO(annotated_copy(data, findings)))
    comment = workbook[sheet][cell].comment
    assert comment is not None, f"no comment on {sheet}!{cell}"
    listed = [
        str(r[0]) for r in workbook[SHEET_CORRECTIONS].iter_rows(min_row=5, min_col=6, max_col=6, values_only=True)
    ]
    return comment.text, listed


@pytest.mark.parametrize("family", sorted(CASES))
def test_a_finding_names_meta_code_text_and_column_everywhere(
    config: MailbotConfig, config_path: Path, tmp_path: Path, family: str
) -> None:
    case = CASES[family]
    data = _spoilt(config, case)
    assert case.meta_index is not None
    number, code, text = _meta_name(data, case.meta_index)
    label = METAS_BY_KEY[case.key].label
    cell = f"{METAS_LETTERS[case.key]}{6 + case.meta_index}"
    expected = f"Meta N° {number} ({code} – {short(text)}), columna «{label}» (celda {cell})"

    plan_file, copy_file = tmp_path / "plan.xlsx", tmp_path / "anotado.xlsx"
    plan_file.write_bytes(data)
    args = ["--config", str(config_path), "validate", str(plan_file), "--dependencia", "HAC", "--vigencia", "2027"]
    as_json = CliRunner().invoke(cli, [*args, "--json", "--annotated", str(copy_file)])
    assert as_json.exit_code == EXIT_PROBLEMS, as_json.output
    (found,) = [f for f in json.loads(as_json.stdout)["findings"] if f["code"] == case.code]
    assert (found["meta"], found["column"], found["cell"], found["place"]) == (number, label, cell, expected)

    as_text = CliRunner().invoke(cli, args)
    assert f"{case.code}  {expected}" in as_text.stdout, as_text.stdout

    finding = Finding.from_json(found)
    assert f"- {expected} [{case.code}]: {finding.message}" in _correction_mail(config, [finding])

    copy = copy_file.read_bytes()
    comment, listed = _annotated_texts(data, [finding], SHEET_METAS, cell)
    assert f"[{case.code}] {expected}: {finding.message}" in comment
    assert listed == [expected]
    assert load_workbook(io.BytesIO(copy))[SHEET_METAS][cell].comment is not None


def test_a_header_finding_names_the_field_not_a_meta(config: MailbotConfig) -> None:
    vigencia_row = HEADER_FIRST_ROW + list(HeaderField).index(HeaderField.VIGENCIA)

    def edit(workbook: Workbook) -> None:
        workbook[SHEET_HEADER][f"B{vigencia_row}"] = 2026

    data = edit_workbook(make_plan(config, "HAC", 3), edit)
    context = build_context(config, "HAC", vigencia=2027)
    (finding,) = validate(read(data), context)
    assert finding.code == "H01"
    assert (finding.meta, finding.column) == (None, None)
    assert finding.where == f"Encabezado, campo «Vigencia» (celda B{vigencia_row})"
    assert f"- {finding.where} [H01]" in _correction_mail(config, [finding])


def test_a_seguimiento_finding_names_the_meta_not_a_bare_cell(config: MailbotConfig) -> None:
    """ "Seguimiento M6" read like "meta 6": the place is the meta's N° and the column's label."""
    case = make_seguimiento(config, "HAC", 1, n=5)
    meta = next(m for m in case.baseline.metas if m.planned(1) > 0 and m.number > 1)
    data = fill_quarter(case.data, 1, reports_for(case.baseline, 1))
    data = edit_seguimiento(data, {(meta.meta_code, "evidence_t1"): None})
    context = build_context(config, "HAC", vigencia=2027, ronda=Ronda.SEGUIMIENTO_T1, baseline=case.baseline)
    (finding,) = validate(read(data), context)
    row = 6 + case.baseline.metas.index(meta)
    cell = f"{SEGUIMIENTO_LETTERS['evidence_t1']}{row}"
    expected = f"Meta N° {meta.number} ({meta.meta_code} – {short(meta.meta)}), columna «Evidencia T1» (celda {cell})"
    assert (finding.code, finding.meta, finding.column, finding.where) == ("S04", meta.number, "Evidencia T1", expected)
    assert finding.to_json()["place"] == expected
    assert f"- {expected} [S04]" in _correction_mail(config, [finding], Ronda.SEGUIMIENTO_T1)
    comment, listed = _annotated_texts(data, [finding], "Seguimiento", cell)
    assert expected in comment
    assert listed == [expected]


def test_p02_says_what_to_do_and_the_annotated_copy_puts_the_formula_back(config: MailbotConfig) -> None:
    cell = f"{METAS_LETTERS['poai_total']}7"
    data = edit_workbook(make_plan(config, "HAC", 3), _typed("poai_total", 7, 123))
    (finding,) = validate(read(data), build_context(config, "HAC", vigencia=2027))
    assert (finding.code, finding.cell, finding.column) == ("P02", cell, "POAI total")
    first, last = METAS_LETTERS["poai_t1"], METAS_LETTERS["poai_t4"]
    assert f"=SUMA({first}7:{last}7)" in finding.message  # as typed in a Spanish-language spreadsheet
    assert "borre" not in finding.message
    restored = load_workbook(io.BytesIO(annotated_copy(data, [finding])))[SHEET_METAS][cell]
    assert restored.value == f"=SUM({first}7:{last}7)"
    assert restored.comment is not None  # still marked, so the secretario sees what changed


def test_a_file_level_finding_is_about_the_file(config: MailbotConfig) -> None:
    finding = Finding.from_json(
        {"code": "F01", "severity": "E", "sheet": None, "cell": None, "value": None, "message": "Guárdelo como .xlsx."}
    )
    assert finding.where == "El archivo"
    mail = _correction_mail(config, [finding])
    assert "- El archivo [F01]" in mail
    assert "«Archivo»" not in mail
    hidden = locate([Finding("F04", Severity.ERROR, SHEET_CONTROL, None, None, "Use el archivo original.")], _PARSED)
    mail = _correction_mail(config, hidden)
    assert "- El archivo [F04]" in mail
    assert SHEET_CONTROL not in mail  # a hidden sheet the secretario cannot open


def _no_owner(data: bytes, *, break_label: bool) -> bytes:
    """The workbook without `_control` nor «Código dependencia»: nothing says whose it is."""
    code_row = HEADER_FIRST_ROW + list(HeaderField).index(HeaderField.CODIGO_DEPENDENCIA)

    def edit(workbook: Workbook) -> None:
        del workbook[SHEET_CONTROL]
        workbook[SHEET_HEADER][f"B{code_row}"] = None
        if break_label:
            workbook[SHEET_METAS][f"{METAS_LETTERS['meta']}5"] = "Descripción"

    return edit_workbook(data, edit)


def test_validate_checks_the_structure_of_a_workbook_nobody_owns(
    config: MailbotConfig, config_path: Path, tmp_path: Path
) -> None:
    plan = make_plan(config, "HAC", 3)
    other_layout, ours = tmp_path / "otro.xlsx", tmp_path / "nuestro.xlsx"
    other_layout.write_bytes(_no_owner(plan, break_label=True))
    ours.write_bytes(_no_owner(plan, break_label=False))

    broken = CliRunner().invoke(cli, ["--config", str(config_path), "validate", str(other_layout), "--json"])
    assert broken.exit_code == EXIT_PROBLEMS, broken.output
    found = json.loads(broken.stdout)["findings"]
    cell = f"{METAS_LETTERS['meta']}5"
    assert [(f["code"], f["cell"], f["column"]) for f in found if f["severity"] == "E"] == [
        ("F02", cell, "Meta de producto")
    ]

    whole = CliRunner().invoke(cli, ["--config", str(config_path), "validate", str(ours)])
    assert whole.exit_code == EXIT_UNUSABLE  # the structure holds: the content checks need the dependencia
    assert "pass --dependencia" in whole.stderr


def _row(number: int, n: object, code: str, text: str) -> Row:
    cells = {"number": Cell(f"A{number}", n), "meta_code": Cell(f"E{number}", code), "meta": Cell(f"F{number}", text)}
    return Row(number, cells)


_PARSED = ParsedWorkbook(
    sheet_names=(SHEET_HEADER, SHEET_METAS),
    header={"Vigencia": Cell("B7", 2026)},
    metas_labels=(),
    metas=(
        _row(6, 1, "220101", "Beneficiar 600 personas mayores con el programa de alimentación"),
        _row(7, None, "220102", "Una fila agregada a mano"),
    ),
    control=None,
)


@pytest.mark.parametrize(
    ("sheet", "cell", "place", "meta", "column"),
    [
        (
            SHEET_METAS,
            "AK6",
            "Meta N° 1 (220101 – Beneficiar 600 personas mayores con el…), columna «Responsable directo» (celda AK6)",
            1,
            "Responsable directo",
        ),
        (
            SHEET_METAS,
            "M6:P6",
            "Meta N° 1 (220101 – Beneficiar 600 personas mayores con el…), columnas «Programación física T1» a "
            "«Programación física T4» (celdas M6:P6)",
            1,
            None,
        ),
        (SHEET_METAS, "6:6", "Meta N° 1 (220101 – Beneficiar 600 personas mayores con el…), fila 6", 1, None),
        (SHEET_METAS, "7:7", "Meta de la fila 7 (220102 – Una fila agregada a mano)", None, None),
        (SHEET_METAS, "X6:X7", "Columna «POAI total» (celdas X6:X7)", None, "POAI total"),
        (SHEET_METAS, "F5", "Columna «Meta de producto» (celda F5)", None, "Meta de producto"),
        (SHEET_METAS, "A9", "Hoja «Metas», celda A9", None, None),
        (SHEET_METAS, None, "Hoja «Metas»", None, None),
        (SHEET_HEADER, "B7", "Encabezado, campo «Vigencia» (celda B7)", None, None),
        (SHEET_CONTROL, None, "El archivo", None, None),
        (None, None, "El archivo", None, None),
    ],
)
def test_places_in_the_secretarios_words(
    sheet: str | None, cell: str | None, place: str, meta: int | None, column: str | None
) -> None:
    (found,) = locate([Finding("X01", Severity.ERROR, sheet, cell, None, "…")], _PARSED)
    assert (found.where, found.meta, found.column) == (place, meta, column)
