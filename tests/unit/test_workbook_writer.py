"""The generated E-DE-F-010 workbook, the PDM catalogue reader and the test-plan helpers built on them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from mailbot.adapters.catalogue import load_bpins, load_catalogue
from mailbot.adapters.workbook.writer import (
    LIST_LINEAS,
    LIST_METAS,
    LIST_TYPES,
    LIST_UNITS,
    PESOS_FORMAT,
    TemplateSpec,
    spec_from_config,
    template_bytes,
)
from mailbot.config import MailbotConfig, load_config
from mailbot.domain.context import AvailableBudget, Catalogue, CatalogueEntry
from mailbot.domain.control import verify
from mailbot.domain.fechas import fecha_larga
from mailbot.domain.workbook_format import (
    FIRST_DATA_ROW,
    FORMULACION_SHEETS,
    HEADER_FIRST_ROW,
    HEADER_INPUTS,
    HEADER_ROW,
    INCREMENTO,
    MANTENIMIENTO,
    META_TYPES,
    METAS_BY_KEY,
    METAS_COLUMNS,
    METAS_LETTERS,
    QUARTERS,
    SHEET_CONTROL,
    SHEET_HEADER,
    SHEET_INSTRUCTIONS,
    SHEET_LISTS,
    SHEET_METAS,
    SHEET_SUMMARY,
    UNITS,
    ControlField,
    HeaderField,
    Ronda,
    Source,
    money_key,
    physical_key,
)
from mailbot.errors import ConfigError
from tests.support.configs import ROOT, TEST_SECRET, write_config
from tests.support.plans import INPUT_KEYS, fill_plan, make_plan, valid_metas

SAMPLE_CATALOGUE = ROOT / "config" / "pdm.example.csv"
SAMPLE_BPINS = ROOT / "config" / "bpin.example.txt"
DEADLINE = dt.date(2027, 1, 20)


@pytest.fixture
def config(tmp_path: Path) -> MailbotConfig:
    return load_config(write_config(tmp_path), environ={})


def _spec(config: MailbotConfig, code: str = "HAC", catalogue: Catalogue | None = None) -> TemplateSpec:
    return spec_from_config(
        config, code, ronda=Ronda.FORMULACION, vigencia=2027, deadline=DEADLINE, token="tok-0042", catalogue=catalogue
    )


def _open(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


def _cell(ws: Any, key: str, row: int = FIRST_DATA_ROW) -> Any:
    return ws[f"{METAS_LETTERS[key]}{row}"]


def _header_cell(ws: Any, field: HeaderField) -> Any:
    return ws.cell(HEADER_FIRST_ROW + list(HeaderField).index(field), 2)


# ------------------------------------------------------------------------------------------------ fechas


def test_fecha_larga_writes_spanish_day_and_month_names() -> None:
    """The deadline reads as a Colombian letter writes it, whatever the server's locale."""
    assert fecha_larga(dt.date(2027, 1, 20)) == "miércoles 20 de enero de 2027"
    assert fecha_larga(dt.date(2026, 3, 1)) == "domingo 1 de marzo de 2026"
    assert fecha_larga(dt.date(2027, 12, 31)) == "viernes 31 de diciembre de 2027"


# ------------------------------------------------------------------------------------------------ structure


def test_sheets_are_in_contract_order_with_their_visibility(config: MailbotConfig) -> None:
    """Instrucciones opens first; Listas is hidden and _control very hidden (no Unhide menu shows it)."""
    wb = _open(template_bytes(_spec(config)))
    assert tuple(wb.sheetnames) == FORMULACION_SHEETS
    states = {ws.title: ws.sheet_state for ws in wb}
    assert states[SHEET_LISTS] == "hidden"
    assert states[SHEET_CONTROL] == "veryHidden"
    assert {states[n] for n in FORMULACION_SHEETS[:4]} == {"visible"}
    assert wb.active.title == FORMULACION_SHEETS[0]


def test_control_block_is_text_and_verifies_with_the_secret(config: MailbotConfig) -> None:
    """_control holds label/value rows in ControlField order, all text, and its signature verifies."""
    ws = _open(template_bytes(_spec(config)))[SHEET_CONTROL]
    rows = list(ws.iter_rows(min_row=1, max_col=2))
    assert [r[0].value for r in rows] == [f.value for f in ControlField]
    assert all(r[1].data_type == "s" and isinstance(r[1].value, str) for r in rows)
    values = {r[0].value: r[1].value for r in rows}
    assert values[ControlField.VIGENCIA] == "2027"
    assert values[ControlField.CODIGO_DEPENDENCIA] == "HAC"
    assert values[ControlField.TOKEN] == "tok-0042"
    assert verify(values, TEST_SECRET)
    assert not verify({**values, ControlField.VIGENCIA: "2028"}, TEST_SECRET)


def test_metas_header_row_has_the_contract_labels_in_order(config: MailbotConfig) -> None:
    ws = _open(template_bytes(_spec(config)))[SHEET_METAS]
    labels = [c.value for c in ws[HEADER_ROW]]
    assert labels == [c.label for c in METAS_COLUMNS]


def test_metas_keeps_the_meta_in_view_and_prints_one_page_wide(config: MailbotConfig) -> None:
    """N°, línea, programa, código and the meta's text stay frozen; every printed page repeats the labels."""
    wb = _open(template_bytes(_spec(config)))
    ws = wb[SHEET_METAS]
    assert ws.freeze_panes == f"G{FIRST_DATA_ROW}" == f"{METAS_LETTERS['indicator']}{FIRST_DATA_ROW}"
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    for sheet in (SHEET_INSTRUCTIONS, SHEET_HEADER, SHEET_METAS, SHEET_SUMMARY):
        setup = wb[sheet].page_setup
        assert wb[sheet].sheet_properties.pageSetUpPr.fitToPage, sheet
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), sheet
    assert ws.page_setup.orientation == "landscape"


def test_header_columns_fit_the_longest_word_of_their_label(config: MailbotConfig) -> None:
    """A label wraps between words, never inside one ("Programació/n"): the column fits its longest word."""
    ws = _open(template_bytes(_spec(config)))[SHEET_METAS]
    for column in METAS_COLUMNS:
        width = ws.column_dimensions[METAS_LETTERS[column.key]].width
        assert width >= column.width
        assert width >= max(len(word) for word in column.label.split()) / 0.8, column.label
    assert ws.column_dimensions[METAS_LETTERS["phys_t1"]].width > METAS_BY_KEY["phys_t1"].width


def test_only_input_cells_are_unlocked_and_sheets_are_protected(config: MailbotConfig) -> None:
    """Every input cell of every meta row is unlocked and tinted; N°, totals and labels are locked."""
    spec = _spec(config)
    wb = _open(template_bytes(spec))
    ws = wb[SHEET_METAS]
    for row in (FIRST_DATA_ROW, spec.last_row):
        for column in METAS_COLUMNS:
            cell = _cell(ws, column.key, row)
            assert cell.protection.locked is not column.is_input, (column.key, row)
            tinted = cell.fill.fgColor.rgb.endswith("FFF2CC")
            assert tinted is column.is_input, (column.key, row)
    assert all(c.protection.locked for c in ws[HEADER_ROW])
    assert ws.max_row == spec.last_row == FIRST_DATA_ROW + 29
    header = wb[SHEET_HEADER]
    for field in HeaderField:
        assert _header_cell(header, field).protection.locked is (field not in HEADER_INPUTS), field
    for name in (SHEET_HEADER, SHEET_METAS, SHEET_SUMMARY):
        assert wb[name].protection.sheet is True
        assert not wb[name].protection.password


def test_totals_are_formulas_over_the_row(config: MailbotConfig) -> None:
    """Each source's total sums its four quarters; the meta's total sums the three sources."""
    ws = _open(template_bytes(_spec(config)))[SHEET_METAS]
    row = FIRST_DATA_ROW + 2
    for source in Source:
        first, last = METAS_LETTERS[money_key(source, 1)], METAS_LETTERS[money_key(source, 4)]
        assert _cell(ws, money_key(source, None), row).value == f"=SUM({first}{row}:{last}{row})"
        assert _cell(ws, money_key(source, 1), row).number_format == PESOS_FORMAT
    sources = ",".join(f"{METAS_LETTERS[money_key(s, None)]}{row}" for s in Source)
    assert _cell(ws, "total", row).value == f"=SUM({sources})"
    assert _cell(ws, "total", row).number_format == PESOS_FORMAT
    assert _cell(ws, "number", row).value == 3


def test_dropdowns_reference_named_ranges_on_listas(config: MailbotConfig) -> None:
    """Unit and tipo dropdowns are list validations fed by workbook names that point at Listas."""
    wb = _open(template_bytes(_spec(config)))
    validations = {dv.formula1: dv for dv in wb[SHEET_METAS].data_validations.dataValidation}
    assert str(validations[LIST_UNITS].sqref) == f"H{FIRST_DATA_ROW}:H{FIRST_DATA_ROW + 29}"
    assert METAS_LETTERS["unit"] == "H"
    assert validations[LIST_TYPES].type == "list"
    assert str(validations[LIST_TYPES].sqref).startswith(METAS_LETTERS["meta_type"])
    assert LIST_METAS not in validations  # no catalogue configured
    assert LIST_LINEAS not in validations
    for name, expected in ((LIST_UNITS, UNITS), (LIST_TYPES, META_TYPES)):
        ((sheet, ref),) = wb.defined_names[name].destinations
        assert sheet == SHEET_LISTS
        assert tuple(c.value for (c,) in wb[sheet][ref.replace("$", "")]) == expected


def test_money_and_physical_cells_have_number_validations(config: MailbotConfig) -> None:
    ws = _open(template_bytes(_spec(config)))[SHEET_METAS]
    by_type: dict[str, list[Any]] = {}
    for dv in ws.data_validations.dataValidation:
        by_type.setdefault(dv.type, []).append(dv)
    (whole,) = by_type["whole"]
    assert (whole.operator, whole.formula1) == ("greaterThanOrEqual", "0")
    covered = str(whole.sqref)
    assert all(METAS_LETTERS[money_key(s, q)] + str(FIRST_DATA_ROW) in covered for s in Source for q in QUARTERS)
    decimals = " ".join(str(dv.sqref) for dv in by_type["decimal"])
    assert all(f"{METAS_LETTERS[physical_key(q)]}{FIRST_DATA_ROW}" in decimals for q in QUARTERS)


def test_header_is_prefilled_from_the_configuration(config: MailbotConfig) -> None:
    """Municipality, plan, dependencia, head and available budget come from the YAML; the total is a formula."""
    ws = _open(template_bytes(_spec(config)))[SHEET_HEADER]
    labels = [ws.cell(HEADER_FIRST_ROW + i, 1).value for i in range(len(HeaderField))]
    assert labels == [f.value for f in HeaderField]
    value = {f: _header_cell(ws, f).value for f in HeaderField}
    assert value[HeaderField.MUNICIPIO] == "Municipio de Villa Esperanza"
    assert value[HeaderField.CODIGO_DANE] == "68999"
    assert value[HeaderField.PERIODO] == "2024-2027"
    assert value[HeaderField.VIGENCIA] == 2027
    assert value[HeaderField.CODIGO_DEPENDENCIA] == "HAC"
    assert value[HeaderField.DEPENDENCIA] == "Secretaría de Hacienda"
    assert value[HeaderField.SECRETARIO] == "Diana Marcela Londoño Zapata"
    assert value[HeaderField.CARGO] == "Secretaria de Hacienda"
    assert value[HeaderField.CORREO] == "hacienda@villaesperanza.gov.co"
    assert value[HeaderField.DISPONIBLE_POAI] == 380_000_000
    assert value[HeaderField.DISPONIBLE_FUNCIONAMIENTO] == 1_200_000_000
    assert value[HeaderField.DISPONIBLE_COFINANCIACION] == 0
    assert value[HeaderField.DISPONIBLE_TOTAL] == "=SUM(B13:B15)"
    assert value[HeaderField.VERSION_PLAN] == 1
    assert value[HeaderField.FECHA] is None
    assert value[HeaderField.OFICIO] is None
    assert _header_cell(ws, HeaderField.DISPONIBLE_POAI).number_format == PESOS_FORMAT


def test_summary_compares_metas_totals_with_the_available_budget(config: MailbotConfig) -> None:
    """Resumen is all formulas over Metas and Encabezado: no totals row among the metas."""
    spec = _spec(config)
    ws = _open(template_bytes(spec))[SHEET_SUMMARY]
    poai_t1 = METAS_LETTERS[money_key(Source.POAI, 1)]
    assert ws["A5"].value == "POAI"
    assert ws["B5"].value == f"=SUM(Metas!${poai_t1}${FIRST_DATA_ROW}:${poai_t1}${spec.last_row})"
    assert ws["G5"].value == "=Encabezado!$B$13"
    assert ws["H5"].value == "=G5-F5"
    assert ws["A8"].value == "Total"
    assert ws["B10"].value.startswith("=COUNTA(Metas!")
    assert all(c.protection.locked for row in ws.iter_rows() for c in row)


def test_instructions_show_the_quality_header_deadline_and_every_rule(config: MailbotConfig) -> None:
    ws = _open(template_bytes(_spec(config)))["Instrucciones"]
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert {"E-DE-F-010", "Direccionamiento Estratégico", "Formulación y seguimiento al plan de acción"} <= set(texts)
    assert "miércoles 20 de enero de 2027" in texts
    codes = [t for t in texts if len(t) == 3 and t[0] in "FHMPR" and t[1:].isdigit()]
    assert codes[0] == "F01"
    assert codes[-1] == "R03"
    assert len(codes) == 26


def test_a_seguimiento_spec_without_its_accepted_plan_is_refused(config: MailbotConfig) -> None:
    with pytest.raises(ValueError, match="seguimiento-T1"):
        spec_from_config(
            config, "HAC", ronda=Ronda.SEGUIMIENTO_T1, vigencia=2027, deadline=DEADLINE, token="t", catalogue=None
        )


def test_resaving_with_openpyxl_keeps_validations_names_and_protection(config: MailbotConfig) -> None:
    """Our validations are the standard kind, so a load-and-save (as fill_plan does) keeps them all."""
    original = _open(template_bytes(_spec(config, "GOB", load_catalogue(SAMPLE_CATALOGUE))))
    buffer = io.BytesIO()
    original.save(buffer)
    again = _open(buffer.getvalue())

    def validations(wb: Any) -> list[tuple[str, str, str]]:
        return sorted(
            (name, dv.type, f"{dv.formula1}@{dv.sqref}")
            for name in (SHEET_HEADER, SHEET_METAS)
            for dv in wb[name].data_validations.dataValidation
        )

    assert validations(again) == validations(original)
    assert len(validations(again)) == 10
    assert set(again.defined_names.keys()) == {LIST_UNITS, LIST_TYPES, LIST_LINEAS, LIST_METAS}
    assert again[SHEET_CONTROL].sheet_state == "veryHidden"
    assert again[SHEET_METAS].protection.sheet is True


# ------------------------------------------------------------------------------------------------ catalogue


def test_catalogue_prefills_the_dependencias_metas_and_feeds_the_dropdowns(config: MailbotConfig) -> None:
    """GOB's PDM metas fill the first rows (still editable); ten empty rows follow; codes and líneas are lists."""
    catalogue = load_catalogue(SAMPLE_CATALOGUE)
    spec = _spec(config, "GOB", catalogue)
    entries = catalogue.for_dependencia("GOB")
    assert spec.rows == len(entries) + 10
    wb = _open(template_bytes(spec))
    ws = wb[SHEET_METAS]
    for row, entry in enumerate(entries, start=FIRST_DATA_ROW):
        assert _cell(ws, "meta_code", row).value == entry.meta_code
        assert _cell(ws, "program", row).value == entry.program
        assert _cell(ws, "unit", row).value == entry.unit
        assert _cell(ws, "meta_code", row).protection.locked is False
    assert _cell(ws, "meta_code", FIRST_DATA_ROW + len(entries)).value is None
    assert ws.max_row == FIRST_DATA_ROW + len(entries) + 9
    validations = {dv.formula1: dv for dv in ws.data_validations.dataValidation}
    assert validations[LIST_METAS].errorStyle == "warning"  # another dependencia's code is only a warning (M06)
    assert str(validations[LIST_LINEAS].sqref).startswith(METAS_LETTERS["linea"])
    ((_, ref),) = wb.defined_names[LIST_METAS].destinations
    assert [c.value for (c,) in wb[SHEET_LISTS][ref.replace("$", "")]] == [e.meta_code for e in entries]
    ((_, ref),) = wb.defined_names[LIST_LINEAS].destinations
    assert tuple(c.value for (c,) in wb[SHEET_LISTS][ref.replace("$", "")]) == catalogue.lineas


def test_text_from_configuration_is_never_written_as_a_formula(config: MailbotConfig) -> None:
    """Text starting with = + - @ lands as literal text with a quote prefix, never as a live formula."""
    hostile = CatalogueEntry(
        linea='=HYPERLINK("http://evil.example","clic")',
        program_code="+4501",
        program="-1+1",
        meta_code="@SUM(1)",
        meta="=1/0",
        dependencia="GOB",
    )
    spec = _spec(config, "GOB", Catalogue.of([hostile]))
    spec = dataclasses.replace(spec, dependencia_name="=cmd|' /C calc'!A0", head_name="+57 300")
    data = template_bytes(spec)
    wb = _open(data)
    ws = wb[SHEET_METAS]
    for key, text in (("linea", hostile.linea), ("program", "-1+1"), ("meta_code", "@SUM(1)"), ("meta", "=1/0")):
        cell = _cell(ws, key)
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True), key
    name = _header_cell(wb[SHEET_HEADER], HeaderField.DEPENDENCIA)
    assert (name.value, name.data_type) == ("=cmd|' /C calc'!A0", "s")
    assert _header_cell(wb[SHEET_HEADER], HeaderField.SECRETARIO).data_type == "s"
    assert wb[SHEET_METAS]["A2"].value == "Dependencia: GOB – =cmd|' /C calc'!A0"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheets = b"".join(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))
    formulas = re.findall(rb"<f>([^<]*)</f>", sheets)
    assert formulas
    assert not [f for f in formulas if b"HYPERLINK" in f or b"calc" in f or b"1/0" in f]


def _write_csv(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


CSV_ROWS = [
    ["Línea", "Código Programa", "PROGRAMA", "Código meta", "Meta", "Indicador", "Unidad", "Dependencia"],
    ["Línea 1", "0101", "Programa uno", "010101", "Meta uno", "Ind uno", "Numero", "hac"],
    ["Línea 1", "0101", "Programa uno", "010102", "Meta dos", "Ind dos", "Porcentaje", ""],
]


@pytest.mark.parametrize(("delimiter", "bom"), [(",", False), (";", True), (";", False), (",", True)])
def test_load_catalogue_reads_csv_with_either_delimiter_and_bom(tmp_path: Path, delimiter: str, bom: bool) -> None:
    """Headers fold case and accents; codes keep their leading zeros; unit variants become list values."""
    text = "\n".join(delimiter.join(row) for row in CSV_ROWS) + "\n"
    catalogue = load_catalogue(_write_csv(tmp_path / "pdm.csv", text, bom=bom))
    first, second = catalogue.entries
    assert first == CatalogueEntry("Línea 1", "0101", "Programa uno", "010101", "Meta uno", "Ind uno", "Número", "HAC")
    assert second.dependencia is None
    assert second.unit == "Porcentaje"
    assert catalogue.for_dependencia("HAC") == (first,)


def test_load_catalogue_reads_xlsx_first_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    for row in CSV_ROWS:
        wb.active.append(row)
    wb.active.append([None] * 8)  # blank rows are skipped
    wb.active.append(["Línea 2", 4501, "Programa", 450101, "Meta", None, None, "GOB"])  # numbers typed as numbers
    path = tmp_path / "pdm.xlsx"
    wb.save(path)
    entries = load_catalogue(path).entries
    assert [e.meta_code for e in entries] == ["010101", "010102", "450101"]
    assert (entries[2].program_code, entries[2].indicator, entries[2].unit) == ("4501", "", "")


def test_load_catalogue_reads_yaml_list(tmp_path: Path) -> None:
    path = tmp_path / "pdm.yaml"
    items = [
        {
            "linea": "L",
            "codigo_programa": "0101",
            "programa": "P",
            "codigo_meta": "010101",
            "meta": "M",
            "dependencia": "EDU",
        }
    ]
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    (entry,) = load_catalogue(path).entries
    assert (entry.meta_code, entry.dependencia) == ("010101", "EDU")


def test_load_catalogue_names_file_row_and_column_of_each_problem(tmp_path: Path) -> None:
    missing = _write_csv(tmp_path / "a.csv", "linea,codigo_programa,programa,meta\nL,1,P,M\n")
    with pytest.raises(ConfigError, match=r"a\.csv: row 1 \(header\): missing column 'codigo_meta'"):
        load_catalogue(missing)
    empty = _write_csv(tmp_path / "b.csv", "linea;codigo_programa;programa;codigo_meta;meta\nL;1;P;01;M\nL;1;P;02;\n")
    with pytest.raises(ConfigError, match=r"b\.csv: row 3, column 'meta': empty"):
        load_catalogue(empty)
    twice = _write_csv(tmp_path / "c.csv", "linea,codigo_programa,programa,codigo_meta,meta\nL,1,P,01,M\nL,1,P,01,N\n")
    with pytest.raises(ConfigError, match=r"row 3, column 'codigo_meta': code '01' already given in row 2"):
        load_catalogue(twice)
    unit = _write_csv(tmp_path / "d.csv", "linea,codigo_programa,programa,codigo_meta,meta,unidad\nL,1,P,1,M,Kits\n")
    with pytest.raises(ConfigError, match=r"row 2, column 'unidad': 'Kits' is not in the list"):
        load_catalogue(unit)
    item = tmp_path / "e.yaml"
    item.write_text("- {linea: L, codigo_programa: '1', programa: P, meta: M}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"e\.yaml: item 1: missing key 'codigo_meta'"):
        load_catalogue(item)


def test_sample_catalogue_covers_every_example_dependencia(config: MailbotConfig) -> None:
    catalogue = load_catalogue(SAMPLE_CATALOGUE)
    assert len(catalogue.entries) >= 40
    assert all(catalogue.for_dependencia(d.code) for d in config.dependencias)
    assert all(len(e.meta_code) == 6 and e.meta_code.startswith(e.program_code) for e in catalogue.entries)


def test_load_bpins_reads_text_and_yaml_lists(tmp_path: Path) -> None:
    codes = load_bpins(SAMPLE_BPINS)
    assert len(codes) == 15
    assert all(len(c) == 13 and c.isdigit() for c in codes)
    csv_path = _write_csv(tmp_path / "b.csv", "BPIN;Proyecto\n2024689990001;Vías\n\n202468999000123;Agua\n")
    assert load_bpins(csv_path) == {"2024689990001", "202468999000123"}
    yaml_path = tmp_path / "b.yaml"
    yaml_path.write_text("- '2024689990001'\n", encoding="utf-8")
    assert load_bpins(yaml_path) == {"2024689990001"}
    bad = _write_csv(tmp_path / "bad.txt", "2024689990001\n20246899\n")
    with pytest.raises(ConfigError, match=r"bad\.txt: line 2: '20246899' is not a BPIN"):
        load_bpins(bad)


# ------------------------------------------------------------------------------------------------ test plans


def _money(meta: dict[str, object], source: Source) -> int:
    amounts = [meta[money_key(source, q)] for q in QUARTERS]
    assert all(isinstance(a, int) and a >= 0 for a in amounts)
    return sum(amounts)  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [1, 2, 5, 12, 40])
def test_valid_metas_assign_between_90_and_100_percent_of_each_source(config: MailbotConfig, n: int) -> None:
    """P03 and P04 for every example dependencia, every meta funded (P07), money exact per quarter."""
    for dep in config.dependencias:
        budget = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
        metas = valid_metas(n, budget, dependencia=dep.code)
        assert len(metas) == n
        for source in Source:
            planned = sum(_money(m, source) for m in metas)
            available = budget.of(source)
            assert planned <= available, (dep.code, source)
            assert planned * 10 >= available * 9, (dep.code, source)
        assert all(sum(_money(m, s) for s in Source) > 0 for m in metas), dep.code


def test_valid_metas_satisfy_the_meta_and_responsable_rules() -> None:
    """M03–M08, P05, P06 and R01–R03 hold for a mix of the three tipos de meta."""
    metas = valid_metas(14, AvailableBudget(380_000_000, 1_200_000_000, 450_000_000))
    assert {m["meta_type"] for m in metas} == set(META_TYPES)
    assert len({m["meta_code"] for m in metas}) == len(metas)
    for meta in metas:
        assert set(meta) == set(INPUT_KEYS)
        assert meta["unit"] in UNITS
        phys = [Decimal(str(meta[physical_key(q)])) for q in QUARTERS]
        vigencia = Decimal(str(meta["meta_vigencia"]))
        assert vigencia > 0
        if meta["meta_type"] == MANTENIMIENTO:
            assert max(phys) <= vigencia
            assert phys[-1] == vigencia
        else:
            assert sum(phys) == vigencia
        if meta["meta_type"] == INCREMENTO:
            assert vigencia <= Decimal(str(meta["meta_cuatrienio"]))
        poai = _money(meta, Source.POAI) > 0
        assert (poai and len(str(meta["bpin"])) == 13 and bool(meta["project"])) or (not poai and not meta["bpin"])
        assert bool(meta["cofinancer"]) is (_money(meta, Source.COFINANCIACION) > 0)
        assert "@" in str(meta["resp_email"])
        assert meta["resp_name"]
        assert meta["resp_title"]
        assert meta["resp_name"] not in str(meta["resp_indirect"] or "").split("; ")


def test_make_plan_fills_the_generated_template(config: MailbotConfig) -> None:
    """The filled plan is the template plus typed cells: control block, validations and protection intact."""
    wb = _open(make_plan(config, "HAC", 3, header={HeaderField.OFICIO: "PL-2027-001"}))
    assert wb[SHEET_CONTROL].sheet_state == "veryHidden"
    control = {r[0].value: r[1].value for r in wb[SHEET_CONTROL].iter_rows(max_col=2)}
    assert verify(control, TEST_SECRET)
    assert control[ControlField.TOKEN] == "tok-test-0001"
    ws = wb[SHEET_METAS]
    assert [_cell(ws, "meta_code", r).value for r in range(FIRST_DATA_ROW, FIRST_DATA_ROW + 4)] == [
        "459914",  # Hacienda's first sample metas (sample_metas.SAMPLE["HAC"])
        "459915",
        "459909",
        None,
    ]
    assert _cell(ws, money_key(Source.POAI, None)).value.startswith("=SUM(")
    assert len(ws.data_validations.dataValidation) == 7
    header = wb[SHEET_HEADER]
    assert _header_cell(header, HeaderField.OFICIO).value == "PL-2027-001"
    assert _header_cell(header, HeaderField.FECHA).value.date() == dt.date(2027, 1, 15)


def test_make_plan_uses_the_configured_catalogue_and_bpins(tmp_path: Path) -> None:
    """With a catalogue, metas take the dependencia's PDM codes; with a BPIN list, its registered codes."""
    changes = {"development_plan": {"catalogue": str(SAMPLE_CATALOGUE), "projects": str(SAMPLE_BPINS)}}
    config = load_config(write_config(tmp_path, changes), environ={})
    ws = _open(make_plan(config, "GOB", 2))[SHEET_METAS]
    entries = load_catalogue(SAMPLE_CATALOGUE).for_dependencia("GOB")
    assert [_cell(ws, "meta_code", FIRST_DATA_ROW + i).value for i in range(2)] == [e.meta_code for e in entries[:2]]
    assert _cell(ws, "bpin").value in load_bpins(SAMPLE_BPINS)
    for key in INPUT_KEYS:  # the pre-filled catalogue rows past the plan were cleared
        assert _cell(ws, key, FIRST_DATA_ROW + 2).value is None
    ws = _open(make_plan(config, "GOB", 5))[SHEET_METAS]  # one more than GOB has: it keeps a generated code
    codes = [_cell(ws, "meta_code", FIRST_DATA_ROW + i).value for i in range(5)]
    assert sorted(codes[:4]) == sorted(e.meta_code for e in entries)
    assert codes[4] not in {e.meta_code for e in load_catalogue(SAMPLE_CATALOGUE).entries}


def test_fill_plan_writes_hostile_values_as_typed(config: MailbotConfig) -> None:
    """Tests can type what people type: text for money, error codes, floats, even over a total formula."""

    def spoil(metas: list[dict[str, object]]) -> None:
        metas[0][money_key(Source.POAI, 1)] = "$ 1.500.000"
        metas[0][money_key(Source.POAI, 2)] = "#REF!"
        metas[0][money_key(Source.POAI, 3)] = 2.5
        metas[0][money_key(Source.POAI, None)] = 999

    ws = _open(make_plan(config, mutate=spoil))[SHEET_METAS]
    assert _cell(ws, money_key(Source.POAI, 1)).value == "$ 1.500.000"
    assert _cell(ws, money_key(Source.POAI, 2)).data_type == "e"
    assert _cell(ws, money_key(Source.POAI, 3)).value == 2.5
    assert _cell(ws, money_key(Source.POAI, None)).value == 999
    with pytest.raises(ValueError, match="unknown Metas column key"):
        fill_plan(template_bytes(_spec(config)), [{"bogus": 1}])
    with pytest.raises(ValueError, match="not an Encabezado label"):
        fill_plan(template_bytes(_spec(config)), [], header={"Alcalde": "x"})
