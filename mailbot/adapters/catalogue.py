"""Reading planeación's PDM catalogue (CSV, XLSX or YAML) and the banco de proyectos' BPIN list.

Both files are configuration: written by a person in Excel or a text editor, read once at start. So the reader
forgives the shapes a person produces (a BOM, `;` as the Colombian Excel delimiter, `Código meta` for
`codigo_meta`) and refuses what it cannot know, with the file, row and column in the message, so that
`mailbot config check` says exactly what to fix.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

import yaml

from mailbot.domain.context import Catalogue, CatalogueEntry
from mailbot.domain.values import text as cell_text
from mailbot.domain.workbook_format import UNIT_VARIANTS, UNITS, UNITS_BY_FOLD, fold
from mailbot.errors import ConfigError

FIELDS: Final = ("linea", "codigo_programa", "programa", "codigo_meta", "meta", "indicador", "unidad", "dependencia")
REQUIRED: Final = ("linea", "codigo_programa", "programa", "codigo_meta", "meta")
#: Longer spellings of the same columns, as they appear in the workbook's own labels.
ALIASES: Final = {
    "linea_estrategica": "linea",
    "codigo_programa_pdm": "codigo_programa",
    "codigo_meta_producto": "codigo_meta",
    "meta_de_producto": "meta",
    "meta_producto": "meta",
    "unidad_de_medida": "unidad",
    "codigo_dependencia": "dependencia",
}
_BPIN: Final = re.compile(r"^(?:\d{13}|\d{15})$")

#: One record of the source file: where it is (for messages) and its values by column key.
Record = tuple[str, dict[str, object]]


def field_key(label: object) -> str:
    """`Código Meta` → `codigo_meta`: case, accents, spaces and punctuation folded, then aliases applied."""
    key = re.sub(r"[^a-z0-9]+", "_", fold(str(label or ""))).strip("_")
    return ALIASES.get(key, key)


def load_catalogue(path: Path) -> Catalogue:
    """The PDM's líneas, programas and metas de producto; ConfigError names the file, row and column."""
    records = _records(path)
    entries: list[CatalogueEntry] = []
    seen: dict[str, str] = {}
    for where, values in records:
        entry = _entry(path, where, values)
        if entry.meta_code in seen:
            raise ConfigError(
                f"{path}: {where}, column 'codigo_meta': code '{entry.meta_code}' already given in "
                f"{seen[entry.meta_code]}; each meta de producto appears once"
            )
        seen[entry.meta_code] = where
        entries.append(entry)
    if not entries:
        raise ConfigError(f"{path}: the catalogue has no metas (expected a header row and one row per meta)")
    return Catalogue.of(entries)


def load_bpins(path: Path) -> frozenset[str]:
    """BPIN codes of the banco de proyectos: a YAML list, or one per line (first column of a .txt/.csv)."""
    if path.suffix.lower() in {".yaml", ".yml"}:
        data = _yaml(path)
        if not isinstance(data, list):
            raise ConfigError(f"{path}: expected a YAML list of BPIN codes")
        items = [(f"item {i}", item) for i, item in enumerate(data, start=1)]
    else:
        items = list(_bpin_lines(path))
    codes = {_bpin(path, where, value) for where, value in items}
    if not codes:
        raise ConfigError(f"{path}: the list has no BPIN codes")
    return frozenset(codes)


# ------------------------------------------------------------------------------------------------ records


def _records(path: Path) -> list[Record]:
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        return _table_records(path, _csv_rows(path))
    if suffix == ".xlsx":
        return _table_records(path, _xlsx_rows(path))
    if suffix in {".yaml", ".yml"}:
        return _yaml_records(path)
    raise ConfigError(f"{path}: unknown catalogue format '{suffix}' (expected .csv, .xlsx or .yaml)")


def _table_records(path: Path, rows: list[list[object]]) -> list[Record]:
    """First row = header; later non-blank rows = metas, numbered as the person sees them (1 = header)."""
    if not rows:
        raise ConfigError(f"{path}: the file is empty (expected a header row: {', '.join(FIELDS)})")
    columns = _header(path, rows[0])
    records: list[Record] = []
    for number, row in enumerate(rows[1:], start=2):
        if all(_text(v) == "" for v in row):
            continue
        values = {key: row[i] if i < len(row) else None for i, key in columns.items()}
        records.append((f"row {number}", values))
    return records


def _header(path: Path, labels: list[object]) -> dict[int, str]:
    columns: dict[int, str] = {}
    for i, label in enumerate(labels):
        key = field_key(label)
        if key in FIELDS and key not in columns.values():
            columns[i] = key
    missing = [k for k in REQUIRED if k not in columns.values()]
    if missing:
        found = ", ".join(str(v) for v in labels if _text(v)) or "nothing"
        raise ConfigError(f"{path}: row 1 (header): missing column '{missing[0]}' (found: {found})")
    return columns


def _csv_rows(path: Path) -> list[list[object]]:
    text = _read_text(path)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _xlsx_rows(path: Path) -> list[list[object]]:
    from mailbot.adapters.workbook import openpyxl  # imported there without numpy (mailbot.imports)

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, openpyxl.utils.exceptions.InvalidFileException, KeyError) as exc:
        raise ConfigError(f"{path}: cannot read the workbook ({exc}); save it as .xlsx") from None
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _yaml_records(path: Path) -> list[Record]:
    data = _yaml(path)
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a YAML list of metas (- linea: ... codigo_meta: ...)")
    records: list[Record] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, Mapping):
            raise ConfigError(f"{path}: item {number}: expected a mapping (linea: ..., codigo_meta: ...)")
        values = {field_key(k): v for k, v in item.items()}
        missing = [k for k in REQUIRED if k not in values]
        if missing:
            raise ConfigError(f"{path}: item {number}: missing key '{missing[0]}'")
        records.append((f"item {number}", values))
    return records


# ------------------------------------------------------------------------------------------------ values


def _entry(path: Path, where: str, values: Mapping[str, object]) -> CatalogueEntry:
    text = {key: _text(values.get(key)) for key in FIELDS}
    for key in REQUIRED:
        if not text[key]:
            raise ConfigError(f"{path}: {where}, column '{key}': empty (every meta needs {', '.join(REQUIRED)})")
    return CatalogueEntry(
        linea=text["linea"],
        program_code=text["codigo_programa"],
        program=text["programa"],
        meta_code=text["codigo_meta"],
        meta=text["meta"],
        indicator=text["indicador"],
        unit=_unit(path, where, text["unidad"]),
        dependencia=text["dependencia"].upper() or None,
    )


def _unit(path: Path, where: str, unit: str) -> str:
    """The list value for a unit or one of its known variants; anything else would fail rule M02 later."""
    if not unit:
        return ""
    canonical = UNITS_BY_FOLD.get(fold(unit)) or UNIT_VARIANTS.get(fold(unit))
    if canonical is None:
        raise ConfigError(f"{path}: {where}, column 'unidad': '{unit}' is not in the list ({', '.join(UNITS)})")
    return canonical


def _text(value: object) -> str:
    """A cell as text on one line: codes stay text, whole floats lose their `.0` (Excel stores 4501 as 4501.0)."""
    return " ".join(cell_text(value).split())


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'") from None


def _yaml(path: Path) -> object:
    try:
        return yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def _bpin_lines(path: Path) -> Iterator[tuple[str, object]]:
    for number, row in enumerate(_csv_rows(path), start=1):
        first = _text(row[0]) if row else ""
        if not first or first.startswith("#"):
            continue
        if number == 1 and not any(ch.isdigit() for ch in first):
            continue  # a header such as "BPIN"
        yield f"line {number}", first


def _bpin(path: Path, where: str, value: object) -> str:
    code = _text(value)
    if not _BPIN.match(code):
        raise ConfigError(f"{path}: {where}: '{code}' is not a BPIN code (13 or 15 digits)")
    return code
