"""The Spanish of a public office, as mails write it: articles, agreement, forms of address, numbers (es-CO).

Pure and small on purpose: every mail builds its sentences from these, so "de Secretaría de Hacienda",
"1 día(s) hábil(es)" or a title written twice cannot come back in one template and not in the others.
Dates live in `fechas`, pesos and percentages in `money`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

# Nouns that open dependencia names and do not follow the ending rules below.
_MASCULINE: Final = frozenset(
    {"despacho", "instituto", "departamento", "fondo", "concejo", "programa", "sistema", "centro", "comité", "banco"}
)
_FEMININE_ENDINGS: Final = ("a", "ión", "dad", "tad", "tud", "umbre", "ez")
_ARTICLES: Final = frozenset({"el", "la", "los", "las"})
ORDINAL_QUARTERS: Final = {1: "primer", 2: "segundo", 3: "tercer", 4: "cuarto"}


def _plain(text: str) -> str:
    """Lower case without accents, for comparisons only ("Secretaría" and "Secretaria" are one word to a reader)."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def articulo(nombre: str) -> str:
    """The definite article of a dependencia's name, from its first noun: "la", "el", "las" or "los"."""
    first = nombre.strip().split(" ", 1)[0].casefold()
    if first in _MASCULINE:
        return "el"
    if first.endswith(("as", "ones", "des")):
        return "las"
    if first.endswith(("os", "es")):
        return "los"
    return "la" if first.endswith(_FEMININE_ENDINGS) or first.endswith("ía") else "el"


def con_articulo(nombre: str) -> str:
    """ "Secretaría de Hacienda" → "la Secretaría de Hacienda"; a name that brings its article keeps it."""
    nombre = nombre.strip()
    if nombre.split(" ", 1)[0].casefold() in _ARTICLES:
        return nombre
    return f"{articulo(nombre)} {nombre}"


def prep(preposicion: str, frase: str) -> str:
    """ "de" + "el Despacho" → "del Despacho"; "a" + "el Despacho" → "al Despacho" (the contractions)."""
    if frase[:3].casefold() == "el " and preposicion in ("de", "a"):
        return f"{preposicion}l {frase[3:]}"
    return f"{preposicion} {frase}"


def de(nombre: str) -> str:
    """ "de la Secretaría de Hacienda", "del Despacho del Alcalde"."""
    return prep("de", con_articulo(nombre))


_OFFICES: Final = frozenset(
    {"secretaría", "secretaria", "oficina", "dirección", "departamento", "despacho", "subsecretaría", "unidad", "área"}
)


def a_quien(nombre: str) -> str:
    """ "a Laura Gómez Ruiz", but "a la Secretaría de Planeación": an office takes its article, a person does not."""
    first = nombre.strip().split(" ", 1)[0].casefold()
    return f"a {con_articulo(nombre)}" if first in _OFFICES else f"a {nombre.strip()}"


def numero(value: int | Decimal) -> str:
    """Figures the Colombian way: `1234567` → "1.234.567"; `Decimal("12.5")` → "12,5"."""
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    whole, _, decimals = format(value.normalize(), "f").partition(".")
    grouped = f"{int(whole):,}".replace(",", ".") if whole.lstrip("-").isdigit() else whole
    if whole.startswith("-") and not grouped.startswith("-"):
        grouped = f"-{grouped}"
    return f"{grouped},{decimals}" if decimals else grouped


def cantidad(n: int, singular: str, plural: str) -> str:
    """ "1 día hábil", "3 días hábiles", "0 días hábiles": the noun agrees with the number, never "día(s)"."""
    return f"{numero(n)} {singular if n == 1 else plural}"


def plazo(dias: int) -> str:
    """Days left to a deadline (negative: past it): "vence hoy", "vence en 1 día", "venció hace 3 días"."""
    if dias == 0:
        return "vence hoy"
    if dias > 0:
        return f"vence en {cantidad(dias, 'día', 'días')}"
    return f"venció hace {cantidad(-dias, 'día', 'días')}"


def enumeracion(items: Sequence[str]) -> str:
    """["T1", "T2", "T3"] → "T1, T2 y T3"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} y {items[-1]}"


def tratamiento(nombre: str, forma: str | None = None) -> str:
    """How a letter addresses a person: the configured form of address before the name, or the name alone
    ("Doctora Diana Marcela Londoño Zapata"). No gender is guessed: without a form, no "Señor(a)"."""
    forma = (forma or "").strip()
    return f"{forma} {nombre.strip()}" if forma else nombre.strip()


def cargo_y_dependencia(cargo: str, dependencia: str) -> list[str]:
    """The lines under the name: the cargo, and the dependencia only when the cargo does not already say it.

    "Secretaria de Hacienda" already names the Secretaría de Hacienda; "Jefe Oficina Asesora Jurídica" the
    Oficina Asesora Jurídica; "Secretario de Planeación" is the head of the Secretaría de Planeación y Desarrollo
    Urbano. The title is never written twice.
    """
    cargo, dependencia = cargo.strip(), dependencia.strip()
    if not cargo:
        return [dependencia] if dependencia else []
    if not dependencia or _names_it(_plain(cargo).split(), _plain(dependencia).split()):
        return [cargo]
    return [cargo, dependencia]


def _names_it(cargo: list[str], dependencia: list[str]) -> bool:
    whole, tail = " ".join(dependencia), " ".join(dependencia[1:])
    text, cargo_tail = " ".join(cargo), " ".join(cargo[1:])
    if whole in text or (tail and tail in text):
        return True
    if len(cargo) > 2 and tail.startswith(cargo_tail):  # "Secretario de Gobierno": Secretaría de Gobierno y ...
        return True
    # "Jefe de Oficina de Gestión del Riesgo": the Oficina de Gestión del Riesgo de Desastres
    return any(len(cargo) - i >= 3 and whole.startswith(" ".join(cargo[i:])) for i in range(len(cargo)))


def trimestre(q: int) -> str:
    """1 → "primer trimestre"."""
    return f"{ORDINAL_QUARTERS[q]} trimestre"
