"""Why a workbook cannot be read, in the secretario's words: one F01 finding per case (legacy .xls, .ods, encrypted,
a zip bomb, a forbidden DTD, corrupt, …), and the exceptions the reader raises to say so."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Final

from defusedxml import DefusedXmlException

from mailbot.adapters.workbook.sniff import FileKind
from mailbot.domain.findings import Finding, error
from mailbot.log import get_logger

log = get_logger("mailbot.adapters.workbook.reader")

_SAVE_AS: Final = "Archivo > Guardar como > Libro de Excel (.xlsx)"
_REPLY: Final = "y envíelo de nuevo como respuesta a este correo"


_CORRUPT: Final = (zipfile.BadZipFile, zlib.error, EOFError, SyntaxError)  # SyntaxError: XML parse errors


def failure(exc: Exception, size: int) -> Finding:
    """The finding for an exception from zipfile or openpyxl, which often wraps the real cause in a ValueError."""
    causes = list(_causes(exc))
    if any(isinstance(cause, DefusedXmlException) for cause in causes):
        log.warning("workbook_refused", reason="forbidden_xml", detail=repr(exc), size=size)
        return problem(Problem.FORBIDDEN_XML, "DTD/entidades XML")
    if any(isinstance(cause, _CORRUPT) for cause in causes):
        log.info("workbook_refused", reason="corrupt", detail=repr(causes[-1]), size=size)
        return kind_finding(FileKind.CORRUPT_ZIP)
    log.error("workbook_read_failed", size=size, exc_info=exc)
    return problem(Problem.UNREADABLE)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


# ------------------------------------------------------------------------------------------------ findings


class Problem(StrEnum):
    """Why an .xlsx was refused after sniffing (each has its own message)."""

    TOO_LARGE = "too_large"
    TOO_MANY_PARTS = "too_many_parts"
    UNSAFE_NAMES = "unsafe_names"
    ZIP_BOMB = "zip_bomb"  # the parts' total uncompressed size is over the limit
    COMPRESSION_RATIO = "compression_ratio"  # one part inflates far more than a spreadsheet does
    TOO_MANY_ELEMENTS = "too_many_elements"  # more XML elements than an action plan's rows and columns can hold
    FORBIDDEN_XML = "forbidden_xml"
    SHEET_TOO_BIG = "sheet_too_big"
    UNREADABLE = "unreadable"


_KIND_MESSAGES: Final[Mapping[FileKind, tuple[str, str]]] = {
    FileKind.XLS: (
        "Libro de Excel 97-2003 (.xls)",
        "El archivo es un libro de Excel 97-2003 (.xls), un formato antiguo que el sistema no puede validar; por "
        f"favor ábralo en Excel, elija {_SAVE_AS}, sin contraseña, {_REPLY}.",
    ),
    FileKind.ODS: (
        "Hoja de cálculo .ods",
        "El archivo es una hoja de cálculo .ods de LibreOffice/OpenOffice, que el sistema no puede validar; por "
        "favor ábrala, elija Archivo > Guardar como, escoja el tipo «Excel 2007-365 (.xlsx)» (en Excel: "
        f"{_SAVE_AS}), sin contraseña, {_REPLY}.",
    ),
    FileKind.ENCRYPTED: (
        "Libro protegido con contraseña",
        "El archivo está protegido con contraseña (cifrado) y el sistema no puede abrirlo; por favor ábralo en "
        "Excel, quite la contraseña en Archivo > Información > Proteger libro > Cifrar con contraseña (borre la "
        f"contraseña y acepte), guárdelo con {_SAVE_AS} {_REPLY}.",
    ),
    FileKind.CSV_TEXT: (
        "Archivo de texto/CSV",
        "El archivo es un archivo de texto/CSV con extensión cambiada, no el formato E-DE-F-010 en Excel; por "
        f"favor diligencie el formato que recibió, guárdelo con {_SAVE_AS}, sin contraseña, {_REPLY}.",
    ),
    FileKind.XLSM: (
        "Libro con macros (.xlsm)",
        "El archivo es un libro con macros (.xlsm), que por seguridad el sistema no procesa; por favor ábralo en "
        f"Excel, elija {_SAVE_AS} (se quitan las macros y se conservan los datos), sin contraseña, {_REPLY}.",
    ),
    FileKind.XLSB: (
        "Libro binario de Excel (.xlsb)",
        "El archivo es un libro binario de Excel (.xlsb), que el sistema no puede validar; por favor ábralo en "
        f"Excel, elija {_SAVE_AS}, sin contraseña, {_REPLY}.",
    ),
    FileKind.EMPTY: (
        "Archivo vacío",
        "El archivo adjunto llegó vacío (sin contenido); por favor adjunte de nuevo el formato diligenciado, "
        f"guardado con {_SAVE_AS}, sin contraseña, {_REPLY}.",
    ),
    FileKind.CORRUPT_ZIP: (
        "Archivo dañado o incompleto",
        "El archivo está dañado o incompleto (no se puede abrir), quizá porque se interrumpió la descarga o el "
        "envío; por favor compruebe que abre bien en su computador, guárdelo con "
        f"{_SAVE_AS}, sin contraseña, y adjúntelo de nuevo como respuesta a este correo.",
    ),
    FileKind.PDF: (
        "Documento PDF",
        "El archivo es un PDF y el sistema solo puede validar el formato E-DE-F-010 diligenciado en Excel; por "
        f"favor abra el formato en Excel, guárdelo con {_SAVE_AS}, sin contraseña, {_REPLY}.",
    ),
    FileKind.ZIP_OTHER: (
        "Carpeta comprimida u otro documento",
        "El archivo es una carpeta comprimida (.zip) u otro documento, por ejemplo de Word, y no un libro de "
        f"Excel; por favor adjunte directamente el formato diligenciado, guardado con {_SAVE_AS}, sin comprimirlo "
        f"y sin contraseña, {_REPLY}.",
    ),
    FileKind.UNKNOWN: (
        "Otro tipo de archivo",
        "El archivo adjunto es de otro tipo de archivo y no un libro de Excel; por favor adjunte el formato "
        f"E-DE-F-010 diligenciado, guardado en Excel con {_SAVE_AS}, sin contraseña, {_REPLY}.",
    ),
}


def kind_finding(kind: FileKind) -> Finding:
    value, message = _KIND_MESSAGES[kind]
    return error("F01", None, None, value, message)


def problem(case: Problem, value: str | None = None, **facts: object) -> Finding:
    return error("F01", None, None, value, _PROBLEM_MESSAGES[case].format(**facts))


_PROBLEM_MESSAGES: Final[Mapping[Problem, str]] = {
    Problem.TOO_LARGE: (
        "El archivo pesa {size} y supera el máximo de {limit} que el sistema recibe; por favor quite del libro las "
        f"imágenes u hojas que no hacen parte del formato, guárdelo con {_SAVE_AS} {_REPLY}."
    ),
    Problem.TOO_MANY_PARTS: (
        "El libro tiene demasiadas partes internas (más de {limit}, como imágenes u objetos incrustados) y por "
        f"seguridad no se abrió; por favor quite los objetos añadidos, guárdelo con {_SAVE_AS} {_REPLY}."
    ),
    Problem.UNSAFE_NAMES: (
        "El archivo contiene rutas internas no permitidas (como «../», rutas absolutas o nombres repetidos), "
        "propias de archivos manipulados, y por seguridad no se abrió; por favor abra el formato en Excel, "
        f"guárdelo con {_SAVE_AS} {_REPLY}."
    ),
    Problem.ZIP_BOMB: (
        "El contenido del libro, una vez descomprimido, ocupa {size}, anormalmente grande para un plan de acción "
        "(se admiten hasta {limit}), y por seguridad no se abrió; por favor quite las imágenes, objetos u hojas "
        f"añadidas, o copie sus datos en el formato E-DE-F-010 que recibió, guárdelo con {_SAVE_AS} {_REPLY}."
    ),
    Problem.COMPRESSION_RATIO: (
        "Una parte interna del libro ({part}) está comprimida de forma anómala: al descomprimirla crece {ratio} "
        "veces, y un libro de Excel no pasa de {limit} veces; por seguridad no se abrió. Por favor copie sus datos "
        f"en el formato E-DE-F-010 que recibió, guárdelo con {_SAVE_AS} {_REPLY}."
    ),
    Problem.TOO_MANY_ELEMENTS: (
        "El libro tiene más de {limit} elementos internos (celdas, filas, formatos y textos), más de lo que cabe en "
        "un plan de acción de hasta {rows} filas y {columns} columnas, y no se procesó; por favor envíe solo el "
        "formato E-DE-F-010 diligenciado, sin hojas, tablas ni formatos añadidos (cópielo en el formato que "
        f"recibió si hace falta), guárdelo con {_SAVE_AS} {_REPLY}."
    ),
    Problem.FORBIDDEN_XML: (
        "El libro contiene definiciones XML no permitidas (DTD o entidades), que Excel no escribe y que son "
        "propias de archivos manipulados, y por seguridad no se abrió; por favor copie sus datos en el formato "
        f"E-DE-F-010 que recibió, guárdelo con {_SAVE_AS} {_REPLY}."
    ),
    Problem.SHEET_TOO_BIG: (
        "La hoja «{sheet}» tiene contenido en {where}, fuera del máximo de {rows} filas y {columns} columnas que "
        "admite el formato; por favor borre las filas o columnas sobrantes (o las hojas añadidas), guarde el libro "
        f"con {_SAVE_AS} {_REPLY}."
    ),
    Problem.UNREADABLE: (
        "El archivo no se pudo leer como libro de Excel; por favor ábralo en Excel, guárdelo de nuevo con "
        f"{_SAVE_AS}, sin contraseña, {_REPLY}; si el problema continúa, comuníquese con Planeación."
    ),
}


class Refused(Exception):
    """A refusal decided by the reader's own checks: carries the finding to answer with."""

    def __init__(self, finding: Finding, reason: str) -> None:
        super().__init__(reason)
        self.finding = finding
        self.reason = reason


def sheet_too_big(sheet: str, where: str, max_rows: int, max_columns: int) -> Refused:
    """Content of `sheet` at `where` (e.g. "la celda XFD9") beyond the caps every reader enforces."""
    finding = problem(
        Problem.SHEET_TOO_BIG, f"{sheet}: {where}", sheet=sheet, where=where, rows=max_rows, columns=max_columns
    )
    return Refused(finding, "sheet_too_big")


def megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB".replace(".", ",")
