"""The E-DE-F-010 workbook contract: sheet names, header labels, columns and closed lists.

These strings are the contract documented in docs/WORKBOOK.md: planeación, secretarios and other tools rely on
them, so they change only with a new `FORMAT_VERSION`. The generator writes exactly these; the reader looks for
exactly these (after folding case, accents and spaces); the rules name cells by them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from typing import Final

FORMAT_CODE: Final = "E-DE-F-010"
FORMAT_VERSION: Final = 1
FORMAT_TITLE: Final = "Formulación y seguimiento al plan de acción"
PROCESS_NAME: Final = "Direccionamiento Estratégico"

SHEET_INSTRUCTIONS: Final = "Instrucciones"
SHEET_HEADER: Final = "Encabezado"
SHEET_METAS: Final = "Metas"
SHEET_SEGUIMIENTO: Final = "Seguimiento"
SHEET_SUMMARY: Final = "Resumen"
SHEET_LISTS: Final = "Listas"
SHEET_CONTROL: Final = "_control"
SHEET_CORRECTIONS: Final = "Correcciones"  # first sheet of an annotated copy only

#: Sheets a formulación workbook must have, in order (`Seguimiento` only in seguimiento rounds).
FORMULACION_SHEETS: Final = (
    SHEET_INSTRUCTIONS,
    SHEET_HEADER,
    SHEET_METAS,
    SHEET_SUMMARY,
    SHEET_LISTS,
    SHEET_CONTROL,
)

#: Sheets a seguimiento workbook must have, in order: the formulación's with `Seguimiento` after `Metas`.
SEGUIMIENTO_SHEETS: Final = (*FORMULACION_SHEETS[:3], SHEET_SEGUIMIENTO, *FORMULACION_SHEETS[3:])

HEADER_ROW: Final = 5  # `Metas` and `Seguimiento`: labels on row 5
FIRST_DATA_ROW: Final = 6


class Ronda(StrEnum):
    FORMULACION = "formulacion"
    SEGUIMIENTO_T1 = "seguimiento-T1"
    SEGUIMIENTO_T2 = "seguimiento-T2"
    SEGUIMIENTO_T3 = "seguimiento-T3"
    SEGUIMIENTO_T4 = "seguimiento-T4"

    @property
    def quarter(self) -> int | None:
        return int(self.value[-1]) if self.value.startswith("seguimiento") else None

    @property
    def label(self) -> str:
        """Spanish name for mails and workbooks."""
        if self is Ronda.FORMULACION:
            return "Formulación"
        return f"Seguimiento del trimestre {self.quarter}"


# ------------------------------------------------------------------------------------------------ Encabezado


class HeaderField(StrEnum):
    """`Encabezado`: column A holds the label (the value), column B the answer."""

    MUNICIPIO = "Municipio"
    CODIGO_DANE = "Código DANE"
    PLAN = "Plan de desarrollo"
    PERIODO = "Periodo del plan"
    VIGENCIA = "Vigencia"
    CODIGO_DEPENDENCIA = "Código dependencia"
    DEPENDENCIA = "Dependencia"
    SECRETARIO = "Secretario(a) de despacho"
    CARGO = "Cargo"
    CORREO = "Correo electrónico"
    DISPONIBLE_POAI = "Presupuesto disponible POAI"
    DISPONIBLE_FUNCIONAMIENTO = "Presupuesto disponible funcionamiento"
    DISPONIBLE_COFINANCIACION = "Presupuesto disponible cofinanciación"
    DISPONIBLE_TOTAL = "Presupuesto disponible total"
    FECHA = "Fecha de diligenciamiento"
    VERSION_PLAN = "Versión del plan"
    OFICIO = "Número de oficio"


HEADER_FIRST_ROW: Final = 3  # `Encabezado`: labels from A3 down, in HeaderField order
HEADER_OPTIONAL: Final = frozenset({HeaderField.OFICIO})
#: Filled by the secretario (unlocked); the rest is pre-filled by planeación and locked.
HEADER_INPUTS: Final = frozenset(
    {HeaderField.SECRETARIO, HeaderField.CARGO, HeaderField.CORREO, HeaderField.FECHA, HeaderField.OFICIO}
)


# ------------------------------------------------------------------------------------------------ Metas


class Kind(StrEnum):
    """How a column's cells are read and checked."""

    AUTO = "auto"  # written by the generator (row number, totals); never an input
    TEXT = "text"
    CODE = "code"  # text that keeps leading zeros
    LIST = "list"  # a closed list (dropdown)
    NUMBER = "number"
    PESOS = "pesos"
    EMAIL = "email"


@dataclass(frozen=True)
class Column:
    key: str  # stable English identifier used in code
    label: str  # the exact header label of the contract
    kind: Kind
    required: bool = True
    width: int = 16

    @property
    def is_input(self) -> bool:
        return self.kind is not Kind.AUTO and self.key not in TOTAL_KEYS


QUARTERS: Final = (1, 2, 3, 4)
#: The months of each quarter, as the instructions and mails name them, and the short form of titles.
QUARTER_MONTHS: Final = {1: "enero a marzo", 2: "abril a junio", 3: "julio a septiembre", 4: "octubre a diciembre"}
QUARTER_SHORT: Final = {1: "ene–mar", 2: "abr–jun", 3: "jul–sep", 4: "oct–dic"}


class Source(StrEnum):
    POAI = "poai"
    FUNCIONAMIENTO = "funcionamiento"
    COFINANCIACION = "cofinanciacion"

    @property
    def label(self) -> str:
        return {"poai": "POAI", "funcionamiento": "Funcionamiento", "cofinanciacion": "Cofinanciación"}[self.value]


def physical_key(q: int) -> str:
    return f"phys_t{q}"


@cache
def money_key(source: Source, q: int | None) -> str:
    """`poai_t1` … `poai_t4`; `poai_total` when q is None."""
    return f"{source.value}_{'total' if q is None else f't{q}'}"


def _metas_columns() -> tuple[Column, ...]:
    cols: list[Column] = [
        Column("number", "N°", Kind.AUTO, width=6),
        Column("linea", "Línea estratégica", Kind.LIST, width=20),
        Column("program_code", "Código programa PDM", Kind.CODE, width=14),
        Column("program", "Programa", Kind.TEXT, width=24),
        Column("meta_code", "Código meta producto", Kind.CODE, width=14),
        Column("meta", "Meta de producto", Kind.TEXT, width=36),
        Column("indicator", "Indicador", Kind.TEXT, width=30),
        Column("unit", "Unidad de medida", Kind.LIST, width=16),
        Column("meta_type", "Tipo de meta", Kind.LIST, width=16),
        Column("baseline", "Línea base", Kind.NUMBER, width=12),
        Column("meta_cuatrienio", "Meta cuatrienio", Kind.NUMBER, width=12),
        Column("meta_vigencia", "Meta vigencia", Kind.NUMBER, width=12),
    ]
    cols += [Column(physical_key(q), f"Programación física T{q}", Kind.NUMBER, width=12) for q in QUARTERS]
    cols += [
        Column("activities", "Actividades principales", Kind.TEXT, width=40),
        Column("bpin", "Código BPIN", Kind.CODE, required=False, width=18),
        Column("project", "Proyecto", Kind.TEXT, required=False, width=30),
    ]
    for source in Source:
        cols += [Column(money_key(source, q), f"{source.label} T{q}", Kind.PESOS, width=16) for q in QUARTERS]
        cols.append(Column(money_key(source, None), f"{source.label} total", Kind.PESOS, width=18))
    cols += [
        Column("cofinancer", "Entidad cofinanciadora", Kind.TEXT, required=False, width=24),
        Column("total", "Total meta", Kind.AUTO, width=18),
        Column("resp_name", "Responsable directo", Kind.TEXT, width=26),
        Column("resp_title", "Cargo responsable directo", Kind.TEXT, width=24),
        Column("resp_email", "Correo responsable directo", Kind.EMAIL, width=28),
        Column("resp_indirect", "Responsables indirectos", Kind.TEXT, required=False, width=30),
        Column("observations", "Observaciones", Kind.TEXT, required=False, width=30),
    ]
    return tuple(cols)


TOTAL_KEYS: Final = frozenset({money_key(s, None) for s in Source} | {"total"})
METAS_COLUMNS: Final = _metas_columns()
METAS_BY_KEY: Final = {c.key: c for c in METAS_COLUMNS}
#: Columns the generator pre-fills from the PDM catalogue. A pre-filled row in which the secretario wrote
#: nothing else is an offer not taken, not a meta (it is skipped, never reported as incomplete).
PREFILL_KEYS: Final = frozenset({"linea", "program_code", "program", "meta_code", "meta", "indicator", "unit"})
#: The columns the secretario fills in (colored cells).
METAS_INPUT_KEYS: Final = frozenset(c.key for c in METAS_COLUMNS if c.is_input)
#: Input columns whose content makes a row a meta the secretario is planning.
CONTENT_KEYS: Final = METAS_INPUT_KEYS - PREFILL_KEYS


def column_letter(index: int) -> str:
    """1 → A, 27 → AA (no openpyxl here: the domain stays free of I/O libraries)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


#: `Metas` and `Seguimiento` keep these first columns in view when scrolling right: N°, … up to the meta's text.
FROZEN_METAS_KEY: Final = "indicator"  # the first column that scrolls in `Metas` (A–F stay)
FROZEN_SEGUIMIENTO_KEY: Final = "unit"  # the first column that scrolls in `Seguimiento` (A–C stay)

#: key → column letter in `Metas` (the position is part of the contract).
METAS_LETTERS: Final = {c.key: column_letter(i) for i, c in enumerate(METAS_COLUMNS, start=1)}
METAS_KEYS_BY_LETTER: Final = {letter: key for key, letter in METAS_LETTERS.items()}


def total_formula(key: str, row: int) -> str:
    """The formula of a `Metas` total cell: a source's total sums its quarters, the meta's total its sources.

    The generator writes it and the annotated copy puts it back where a secretario typed over it (P02).
    """
    if key == "total":
        return "=SUM(" + ",".join(f"{METAS_LETTERS[money_key(s, None)]}{row}" for s in Source) + ")"
    source = Source(key.removesuffix("_total"))
    return f"=SUM({METAS_LETTERS[money_key(source, 1)]}{row}:{METAS_LETTERS[money_key(source, 4)]}{row})"


def spreadsheet_formula(formula: str) -> str:
    """A formula as a secretario types it in a Spanish-language Excel or LibreOffice (=SUMA(…; …))."""
    return formula.replace("SUM(", "SUMA(").replace(",", ";")


# ------------------------------------------------------------------------------------------------ Seguimiento

SEGUIMIENTO_FIXED: Final = (
    "number",
    "meta_code",
    "meta",
    "unit",
    "meta_type",
    "meta_vigencia",
    "phys_t1",
    "phys_t2",
    "phys_t3",
    "phys_t4",
    "total",
)
SEGUIMIENTO_QUARTER_LABELS: Final = (
    "Ejecución física",
    "Comprometido",
    "Obligado",
    "Pagado",
    "Evidencia",
    "Explicación",
)
EXPLANATION_MAX_CHARS: Final = 225
_QUARTER_KINDS: Final = (
    ("exec", Kind.NUMBER, 12),
    ("committed", Kind.PESOS, 16),
    ("obligated", Kind.PESOS, 16),
    ("paid", Kind.PESOS, 16),
    ("evidence", Kind.TEXT, 30),
    ("explanation", Kind.TEXT, 40),
)


def _seguimiento_columns() -> tuple[Column, ...]:
    """Fixed columns (copied from the accepted plan, locked), then one block of six per quarter."""
    fixed = tuple(Column(k, METAS_BY_KEY[k].label, Kind.AUTO, width=METAS_BY_KEY[k].width) for k in SEGUIMIENTO_FIXED)
    blocks = tuple(
        Column(f"{key}_t{q}", f"{label} T{q}", kind, required=key != "evidence" and key != "explanation", width=w)
        for q in QUARTERS
        for (key, kind, w), label in zip(_QUARTER_KINDS, SEGUIMIENTO_QUARTER_LABELS, strict=True)
    )
    return fixed + blocks


#: `Seguimiento` row 5, in order: the contract's labels (`Ejecución física T1`, `Comprometido T1`, …).
SEGUIMIENTO_COLUMNS: Final = _seguimiento_columns()
SEGUIMIENTO_BY_KEY: Final = {c.key: c for c in SEGUIMIENTO_COLUMNS}
SEGUIMIENTO_LETTERS: Final = {c.key: column_letter(i) for i, c in enumerate(SEGUIMIENTO_COLUMNS, start=1)}


def seguimiento_key(name: str, q: int) -> str:
    """`exec_t1`, `committed_t3`, … (`name` one of exec, committed, obligated, paid, evidence, explanation)."""
    return f"{name}_t{q}"


# ------------------------------------------------------------------------------------------------ _control


class ControlField(StrEnum):
    FORMATO = "formato"
    VERSION_FORMATO = "version_formato"
    RONDA = "ronda"
    VIGENCIA = "vigencia"
    CODIGO_DEPENDENCIA = "codigo_dependencia"
    TOKEN = "token"  # noqa: S105 - a field name, not a secret
    FIRMA = "firma"


# ------------------------------------------------------------------------------------------------ closed lists

UNITS: Final = (
    "Número",
    "Porcentaje",
    "Personas",
    "Familias",
    "Hogares",
    "Estudiantes",
    "Documentos",
    "Estrategias",
    "Eventos",
    "Jornadas",
    "Talleres",
    "Servicios",
    "Contratos",
    "Días",
    "Horas",
    "Metros",
    "Metros lineales",
    "Metros cuadrados",
    "Metros cúbicos",
    "Kilómetros",
    "Hectáreas",
    "Toneladas",
    "Litros",
    "Unidades",
    "Índice",
    "Tasa",
    "Pesos",
)
META_TYPES: Final = ("Incremento", "Mantenimiento", "Reducción")
INCREMENTO, MANTENIMIENTO, REDUCCION = META_TYPES


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Case, accents and inner spaces folded: how list values and labels are compared when reading (memoised: the
    same labels and list values are folded for every row)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", bare).strip().casefold()


#: Variants seen in real files (folded) → the list value. Reading one is a warning (M02 W), not an error.
UNIT_VARIANTS: Final = {
    fold(k): v
    for k, v in {
        "Numero": "Número",
        "Nro": "Número",
        "Nro.": "Número",
        "No.": "Número",
        "No": "Número",
        "#": "Número",
        "%": "Porcentaje",
        "Mts": "Metros",
        "Mt": "Metros",
        "m": "Metros",
        "Mts 2": "Metros cuadrados",
        "Mts2": "Metros cuadrados",
        "m2": "Metros cuadrados",
        "m²": "Metros cuadrados",
        "Mts 3": "Metros cúbicos",
        "m3": "Metros cúbicos",
        "m³": "Metros cúbicos",
        "Km": "Kilómetros",
        "Kms": "Kilómetros",
        "Ha": "Hectáreas",
        "Has": "Hectáreas",
        "Ton": "Toneladas",
        "Unidad": "Unidades",
        "Und": "Unidades",
        "Persona": "Personas",
        "Familia": "Familias",
        "Evento": "Eventos",
        "Documento": "Documentos",
        "Estrategia": "Estrategias",
    }.items()
}
UNITS_BY_FOLD: Final = {fold(u): u for u in UNITS}
META_TYPES_BY_FOLD: Final = {fold(t): t for t in META_TYPES} | {"reduccion": REDUCCION}
