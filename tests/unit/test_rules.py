"""One fixture per rule, built from the generated template, that trips exactly that rule.

Every plan starts as the generated workbook filled with `valid_metas` (no findings at all); each test changes one
thing the way a secretario would, and asserts the exact set of (code, severity) found. Removing a rule makes its
test fail; a rule that fires too widely makes another test fail.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl.workbook.workbook import Workbook

from mailbot.config import MailbotConfig, load_config
from mailbot.domain.money import format_pesos
from mailbot.domain.workbook_format import (
    METAS_LETTERS,
    QUARTERS,
    SHEET_CONTROL,
    SHEET_METAS,
    ControlField,
    HeaderField,
    Source,
    money_key,
)
from mailbot.services.pdm import configured_catalogue
from mailbot.services.templates import make_template
from mailbot.services.validation import ValidationResult, validate_bytes
from tests.support.configs import TEST_SECRET, write_config
from tests.support.plans import make_plan
from tests.support.workbooks import edit_workbook, set_control

Metas = list[dict[str, Any]]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MailbotConfig:
    return load_config(write_config(tmp_path_factory.mktemp("cfg")), environ={})


def check(config: MailbotConfig, data: bytes, dependencia: str = "HAC") -> ValidationResult:
    return validate_bytes(config, data, dependencia=dependencia, vigencia=2027)


def codes(result: ValidationResult) -> set[tuple[str, str]]:
    return {(f.code, f.severity.value) for f in result.findings}


def plan(config: MailbotConfig, mutate: Callable[[Metas], None] | None = None, **kwargs: Any) -> bytes:
    return make_plan(config, kwargs.pop("dependencia", "HAC"), kwargs.pop("n", 5), mutate=mutate, **kwargs)


def first_row_cell(key: str) -> str:
    return f"{METAS_LETTERS[key]}6"


def test_correct_plan_has_no_findings(config: MailbotConfig) -> None:
    result = check(config, plan(config))
    assert result.findings == []
    assert result.accepted


def test_correct_plan_of_a_dependencia_with_every_source(config: MailbotConfig) -> None:
    result = check(config, plan(config, dependencia="EDU", n=12), dependencia="EDU")
    assert result.findings == []


def test_f01_not_a_workbook(config: MailbotConfig) -> None:
    result = check(config, b"meta;valor\n1;2\n")
    assert codes(result) == {("F01", "E")}
    assert result.parsed is None


def test_f02_header_label_changed(config: MailbotConfig) -> None:
    data = edit_workbook(plan(config), lambda wb: wb[SHEET_METAS].__setitem__("H5", "Unidad"))
    result = check(config, data)
    assert codes(result) == {("F02", "E")}
    assert result.findings[0].cell == "H5"


def test_f02_sheet_removed(config: MailbotConfig) -> None:
    def drop(wb: Workbook) -> None:
        del wb["Encabezado"]

    assert codes(check(config, edit_workbook(plan(config), drop))) == {("F02", "E")}


def test_f03_other_format_version(config: MailbotConfig) -> None:
    def change(wb: Workbook) -> None:
        set_control(wb, {ControlField.VERSION_FORMATO: "7"}, resign_with=TEST_SECRET)

    assert codes(check(config, edit_workbook(plan(config), change))) == {("F03", "E")}


def test_f04_edited_control_block(config: MailbotConfig) -> None:
    def forge(wb: Workbook) -> None:
        set_control(wb, {ControlField.TOKEN: "someone-elses"})

    assert codes(check(config, edit_workbook(plan(config), forge))) == {("F04", "E")}


def test_f04_another_dependencias_workbook(config: MailbotConfig) -> None:
    result = check(config, plan(config, dependencia="EDU", n=3), dependencia="HAC")
    assert codes(result) == {("F04", "E")}
    assert "EDU" in result.findings[0].message


def test_f04_expected_token_differs(config: MailbotConfig) -> None:
    data = plan(config)
    result = validate_bytes(config, data, dependencia="HAC", vigencia=2027, expected_token="other-mailing")
    assert codes(result) == {("F04", "E")}


def test_f04_control_sheet_missing_is_a_warning(config: MailbotConfig) -> None:
    def drop(wb: Workbook) -> None:
        del wb[SHEET_CONTROL]

    result = check(config, edit_workbook(plan(config), drop))
    assert codes(result) == {("F04", "W")}
    assert result.accepted


def test_f05_formula_error_in_an_input_cell(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[0]["observations"] = "#REF!"

    result = check(config, plan(config, mutate))
    assert codes(result) == {("F05", "E")}
    assert result.findings[0].cell == first_row_cell("observations")


def test_f06_no_metas(config: MailbotConfig) -> None:
    assert codes(check(config, plan(config, n=0))) == {("F06", "E")}


def test_h01_vigencia_changed(config: MailbotConfig) -> None:
    assert codes(check(config, plan(config, header={HeaderField.VIGENCIA.value: 2026}))) == {("H01", "E")}


def test_h02_secretario_email_invalid(config: MailbotConfig) -> None:
    result = check(config, plan(config, header={HeaderField.CORREO.value: "hacienda arroba alcaldia"}))
    assert codes(result) == {("H02", "E")}


def test_m01_required_text_missing(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[2]["indicator"] = "  "

    result = check(config, plan(config, mutate))
    assert codes(result) == {("M01", "E")}
    assert result.findings[0].cell == f"{METAS_LETTERS['indicator']}8"
    assert "Indicador" in result.findings[0].message


def test_m02_unit_not_in_list(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[0]["unit"] = "Galones"

    assert codes(check(config, plan(config, mutate))) == {("M02", "E")}


def test_m02_known_variant_is_a_warning(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[0]["unit"] = "Mts 2"

    result = check(config, plan(config, mutate))
    assert codes(result) == {("M02", "W")}
    assert "Metros cuadrados" in result.findings[0].message


def test_m03_type_not_in_list(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[0]["meta_type"] = "Aumento"

    assert codes(check(config, plan(config, mutate))) == {("M03", "E")}


def test_m04_meta_vigencia_zero(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[1]["meta_vigencia"] = 0

    assert codes(check(config, plan(config, mutate))) == {("M04", "E")}


def test_m05_programming_does_not_add_up(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[0]["phys_t1"] = metas[0]["phys_t1"] + 1

    result = check(config, plan(config, mutate))
    assert codes(result) == {("M05", "E")}
    assert result.findings[0].cell == f"{METAS_LETTERS['phys_t1']}6:{METAS_LETTERS['phys_t4']}6"


def test_m05_mantenimiento_last_quarter_must_equal_meta(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        meta = metas[0]
        meta.update(meta_type="Mantenimiento", meta_vigencia=10, meta_cuatrienio=10)
        meta.update(phys_t1=10, phys_t2=10, phys_t3=10, phys_t4=9)

    assert codes(check(config, plan(config, mutate))) == {("M05", "E")}


def test_m06_meta_not_in_catalogue(tmp_path: Path) -> None:
    base = load_config(write_config(tmp_path), environ={})
    seen: Metas = []
    make_plan(base, "HAC", 5, mutate=seen.extend)
    catalogue = tmp_path / "pdm.csv"
    with catalogue.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["linea", "codigo_programa", "programa", "codigo_meta", "meta", "indicador", "unidad", "dependencia"]
        )
        for meta in seen[1:]:
            writer.writerow(
                [
                    meta["linea"],
                    meta["program_code"],
                    meta["program"],
                    meta["meta_code"],
                    meta["meta"],
                    meta["indicator"],
                    meta["unit"],
                    "HAC",
                ]
            )
    config = load_config(write_config(tmp_path, {"development_plan": {"catalogue": str(catalogue)}}), environ={})
    result = check(config, make_plan(config, "HAC", 5))
    assert codes(result) == {("M06", "E")}
    assert result.findings[0].value == seen[0]["meta_code"]


def test_m07_duplicate_meta_code(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[3]["meta_code"] = metas[1]["meta_code"]

    result = check(config, plan(config, mutate))
    assert codes(result) == {("M07", "E")}
    assert "la meta N° 2" in result.findings[0].message


def test_m08_meta_vigencia_above_cuatrienio(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        incremento = next(m for m in metas if m["meta_type"] == "Incremento")
        incremento["meta_cuatrienio"] = incremento["meta_vigencia"] - 1

    assert codes(check(config, plan(config, mutate))) == {("M08", "W")}


def _zero_money_key(metas: Metas) -> tuple[int, str]:
    for index, meta in enumerate(metas):
        for key, value in meta.items():
            if key.startswith(("poai_t", "funcionamiento_t", "cofinanciacion_t")) and value == 0:
                return index, key
    raise AssertionError("valid_metas left no zero money cell to spoil")


def test_p01_negative_money(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        index, key = _zero_money_key(metas)
        metas[index][key] = -5

    assert codes(check(config, plan(config, mutate))) == {("P01", "E")}


def test_p01_money_as_text_is_a_warning(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        value = metas[0]["funcionamiento_t1"]
        metas[0]["funcionamiento_t1"] = "$ " + f"{value:,}".replace(",", ".")

    result = check(config, plan(config, mutate))
    assert codes(result) == {("P01", "W")}


def test_p02_typed_total(config: MailbotConfig) -> None:
    def overwrite(wb: Workbook) -> None:
        wb[SHEET_METAS][first_row_cell("poai_total")] = 1

    result = check(config, edit_workbook(plan(config), overwrite))
    assert codes(result) == {("P02", "E")}
    assert result.findings[0].cell == first_row_cell("poai_total")


def _poai_planned(metas: Metas) -> int:
    return sum(m[money_key(Source.POAI, q)] for m in metas for q in QUARTERS)


def test_p03_marks_the_cell_that_carries_the_excess(config: MailbotConfig) -> None:
    """One meta's POAI T2 carried 4.800 millones too many: that cell is the fix, the POAI total only context."""
    limit = config.dependencia("HAC").budget.poai
    seen: dict[str, int] = {}

    def mutate(metas: Metas) -> None:
        index = next(i for i, m in enumerate(metas) if m["poai_t1"] > 0 and i > 0)  # funded: its BPIN is there
        metas[index]["poai_t2"] += 4_800_000_000
        seen.update({"index": index, "cell": metas[index]["poai_t2"], "excess": _poai_planned(metas) - limit})

    result = check(config, plan(config, mutate))
    assert codes(result) == {("P03", "E"), ("P03", "W")}
    (fix,) = [f for f in result.findings if f.severity.value == "E"]
    row = 6 + seen["index"]
    assert (fix.cell, fix.meta, fix.column) == (f"{METAS_LETTERS['poai_t2']}{row}", seen["index"] + 1, "POAI T2")
    assert fix.value == format_pesos(seen["cell"])
    assert f"reduzca este valor en {format_pesos(seen['excess'])}" in fix.message, fix.message
    assert fix.where.startswith(f"Meta N° {seen['index'] + 1} (")
    (context,) = [f for f in result.findings if f.severity.value == "W"]
    assert context.cell is not None
    assert context.cell.startswith(METAS_LETTERS[money_key(Source.POAI, None)])
    assert fix.cell in context.message
    assert "se calcula solo" in context.message


def test_p03_an_excess_larger_than_one_cell_marks_the_largest_cells_first(config: MailbotConfig) -> None:
    """T3 carries the most and is cut whole; T1, the next largest, covers the rest (read in sheet order)."""
    limit = config.dependencia("HAC").budget.poai
    seen: dict[str, int] = {}

    def mutate(metas: Metas) -> None:
        funded = next(m for m in metas if m["poai_t1"] > 0)
        raise_t1 = limit + funded["poai_t3"]
        funded["poai_t3"] += raise_t1 + funded["poai_t1"] + 1_000_000_000  # the largest
        funded["poai_t1"] += raise_t1  # the second largest, larger than any other cell
        seen.update({"t3": funded["poai_t3"], "excess": _poai_planned(metas) - limit})

    result = check(config, plan(config, mutate))
    fixes = [f for f in result.findings if f.severity.value == "E"]
    assert [f.column for f in fixes] == ["POAI T1", "POAI T3"]  # reading order; both in the funded meta's row
    second, largest = fixes
    assert f"reduzca este valor en {format_pesos(seen['t3'])} " in largest.message
    assert f"reduzca este valor en {format_pesos(seen['excess'] - seen['t3'])} " in second.message
    assert all("las 2 celdas marcadas" in f.message for f in fixes)
    (context,) = [f for f in result.findings if f.severity.value == "W"]
    assert context.message.index(f"celda {largest.cell}") < context.message.index(f"celda {second.cell}")


def _spend_exactly(config: MailbotConfig, dependencia: str, change: dict[Source, int]) -> Callable[[Metas], None]:
    """Each source's total set to the dependencia's available budget plus `change[source]` pesos."""
    budget = config.dependencia(dependencia).budget
    available = {
        Source.POAI: budget.poai,
        Source.FUNCIONAMIENTO: budget.operating,
        Source.COFINANCIACION: budget.cofinancing,
    }

    def mutate(metas: Metas) -> None:
        for source, limit in available.items():
            keys = [money_key(source, q) for q in QUARTERS]
            funded = next(m for m in metas if sum(m[k] for k in keys) > 0)  # its BPIN or entity already there
            biggest = max(keys, key=lambda k: funded[k])
            planned = sum(m[k] for m in metas for k in keys)
            funded[biggest] += limit + change.get(source, 0) - planned

    return mutate


def test_p03_exactly_the_available_budget_of_every_source_passes(config: MailbotConfig) -> None:
    result = check(config, plan(config, _spend_exactly(config, "EDU", {}), dependencia="EDU", n=6), "EDU")
    assert result.findings == []


@pytest.mark.parametrize("source", list(Source))
def test_p03_one_peso_over_a_source_names_that_source(config: MailbotConfig, source: Source) -> None:
    over = plan(config, _spend_exactly(config, "EDU", {source: 1}), dependencia="EDU", n=6)
    result = check(config, over, "EDU")
    assert codes(result) == {("P03", "E"), ("P03", "W")}
    (fix,) = [f for f in result.findings if f.severity.value == "E"]
    assert fix.column is not None
    assert fix.column.startswith(f"{source.label} T")
    assert f"El presupuesto {source.label} programado" in fix.message
    assert "reduzca este valor en $ 1," in fix.message, fix.message  # over by exactly one peso
    (context,) = [f for f in result.findings if f.severity.value == "W"]
    assert context.column == f"{source.label} total"


@pytest.mark.parametrize("source", list(Source))
def test_p03_one_peso_over_a_source_within_the_total_is_still_an_error(config: MailbotConfig, source: Source) -> None:
    """A source over its own budget is an error even when another source's saving keeps the total within."""
    other = next(s for s in Source if s != source)
    result = check(
        config, plan(config, _spend_exactly(config, "EDU", {source: 1, other: -1}), dependencia="EDU", n=6), "EDU"
    )
    (finding,) = [f for f in result.findings if f.severity.value == "E"]
    assert finding.code == "P03"
    assert finding.column is not None
    assert finding.column.startswith(f"{source.label} T")
    assert source.label in finding.message


def test_p04_much_left_unassigned(tmp_path: Path, config: MailbotConfig) -> None:
    data = make_plan(config, "HAC", 5)
    budget = config.dependencia("HAC").budget
    richer = load_config(
        write_config(
            tmp_path,
            {
                "dependencias": [
                    {
                        **d.model_dump(mode="json"),
                        **(
                            {"budget": {"poai": budget.poai * 2, "operating": budget.operating * 2, "cofinancing": 0}}
                            if d.code == "HAC"
                            else {}
                        ),
                    }
                    for d in config.dependencias
                ]
            },
        ),
        environ={},
    )
    assert codes(check(richer, data)) == {("P04", "W")}


def test_p05_poai_without_bpin(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        with_poai = next(m for m in metas if m["poai_t1"] + m["poai_t2"] + m["poai_t3"] + m["poai_t4"] > 0)
        with_poai["bpin"] = "12345"

    assert codes(check(config, plan(config, mutate))) == {("P05", "E")}


def test_p06_cofinancing_without_entity(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        cofinanced = next(m for m in metas if sum(m[f"cofinanciacion_t{q}"] for q in (1, 2, 3, 4)) > 0)
        cofinanced["cofinancer"] = ""

    result = check(config, plan(config, mutate, dependencia="EDU", n=8), dependencia="EDU")
    assert codes(result) == {("P06", "E")}


def test_p07_meta_without_money(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        extra = dict(metas[0], meta_code="999999", bpin=None, project=None, cofinancer=None)
        for key in list(extra):
            if key.startswith(("poai_t", "funcionamiento_t", "cofinanciacion_t")):
                extra[key] = 0
        metas.append(extra)

    result = check(config, plan(config, mutate))
    assert codes(result) == {("P07", "W")}


def test_r01_direct_responsable_title_missing(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[0]["resp_title"] = None

    assert codes(check(config, plan(config, mutate))) == {("R01", "E")}


def test_r02_responsable_email_invalid(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[0]["resp_email"] = "juan.perez@"

    assert codes(check(config, plan(config, mutate))) == {("R02", "E")}


def test_r03_direct_also_indirect(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[0]["resp_indirect"] = f"Otra Persona; {str(metas[0]['resp_name']).upper()}"

    assert codes(check(config, plan(config, mutate))) == {("R03", "W")}


def test_findings_come_in_reading_order(config: MailbotConfig) -> None:
    def mutate(metas: Metas) -> None:
        metas[3]["resp_email"] = "x"
        metas[0]["unit"] = "Galones"

    result = check(config, plan(config, mutate, header={HeaderField.SECRETARIO.value: ""}))
    assert [f.code for f in result.findings] == ["H02", "M02", "R02"]


def test_untouched_catalogue_rows_are_not_metas(tmp_path: Path) -> None:
    catalogue = Path(__file__).resolve().parents[2] / "config" / "pdm.example.csv"
    config = load_config(write_config(tmp_path, {"development_plan": {"catalogue": str(catalogue)}}), environ={})
    entries = configured_catalogue(config)
    assert entries is not None
    offered = len(entries.for_dependencia("HAC"))
    assert offered >= 2, "the example catalogue should offer Hacienda several metas"
    template = make_template(config, "HAC", vigencia=2027, token="tok-untouched")
    result = check(config, template)
    assert result.parsed is not None
    assert len(result.parsed.metas) == offered  # the reader sees the offered rows…
    assert codes(result) == {("F06", "E")}  # …and the rules skip them: the plan simply has no metas yet


def test_rows_added_below_the_template_without_total_formulas_are_fine(config: MailbotConfig) -> None:
    """The template offers 30 formatted rows; a secretario who needs 40 adds rows that have no total formulas."""
    result = check(config, plan(config, n=40))
    assert result.findings == []
