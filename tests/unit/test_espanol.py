"""The Spanish helper every mail builds its sentences with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mailbot.domain import espanol
from mailbot.domain.fechas import fecha


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Secretaría de Hacienda", "de la Secretaría de Hacienda"),
        ("Despacho del Alcalde", "del Despacho del Alcalde"),
        ("Oficina Asesora Jurídica", "de la Oficina Asesora Jurídica"),
        ("Instituto de Cultura", "del Instituto de Cultura"),
        ("Dirección de Tránsito", "de la Dirección de Tránsito"),
        ("Alcaldía Local", "de la Alcaldía Local"),
        ("Departamento Administrativo de Planeación", "del Departamento Administrativo de Planeación"),
        ("Servicios Públicos", "de los Servicios Públicos"),
        ("La Oficina de Prensa", "de La Oficina de Prensa"),
        ("El Fondo de Vivienda", "del Fondo de Vivienda"),
        ("Unidad de Víctimas", "de la Unidad de Víctimas"),
        ("Tesorería", "de la Tesorería"),
    ],
)
def test_de_puts_the_article_of_the_first_noun(name: str, expected: str) -> None:
    assert espanol.de(name) == expected


def test_con_articulo() -> None:
    assert espanol.con_articulo("Secretaría de Salud") == "la Secretaría de Salud"
    assert espanol.con_articulo("Concejo Municipal") == "el Concejo Municipal"


@pytest.mark.parametrize(
    ("n", "expected"), [(0, "0 días hábiles"), (1, "1 día hábil"), (3, "3 días hábiles"), (1200, "1.200 días hábiles")]
)
def test_cantidad_agrees_with_the_number(n: int, expected: str) -> None:
    assert espanol.cantidad(n, "día hábil", "días hábiles") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234567, "1.234.567"),
        (-5000, "-5.000"),
        (Decimal("12.50"), "12,5"),
        (Decimal("1500.25"), "1.500,25"),
        (Decimal("-0.5"), "-0,5"),
        (Decimal("2E+3"), "2.000"),
    ],
)
def test_numero_writes_figures_the_colombian_way(value: int | Decimal, expected: str) -> None:
    assert espanol.numero(value) == expected


@pytest.mark.parametrize(
    ("dias", "expected"),
    [
        (0, "vence hoy"),
        (1, "vence en 1 día"),
        (3, "vence en 3 días"),
        (-1, "venció hace 1 día"),
        (-12, "venció hace 12 días"),
    ],
)
def test_plazo_agrees_with_the_days_left_or_past(dias: int, expected: str) -> None:
    assert espanol.plazo(dias) == expected


def test_enumeracion() -> None:
    assert espanol.enumeracion([]) == ""
    assert espanol.enumeracion(["T1"]) == "T1"
    assert espanol.enumeracion(["T1", "T2", "T3"]) == "T1, T2 y T3"


def test_tratamiento_never_guesses_a_gender() -> None:
    assert espanol.tratamiento("Diana Marcela Londoño Zapata", "Doctora") == "Doctora Diana Marcela Londoño Zapata"
    assert espanol.tratamiento(" Jhon Jairo Castaño Ríos ", None) == "Jhon Jairo Castaño Ríos"
    assert espanol.tratamiento("Luz Ángela Betancur", "") == "Luz Ángela Betancur"


@pytest.mark.parametrize(
    ("cargo", "dependencia", "lines"),
    [
        ("Secretaria de Hacienda", "Secretaría de Hacienda", ["Secretaria de Hacienda"]),
        ("Jefe Oficina Asesora Jurídica", "Oficina Asesora Jurídica", ["Jefe Oficina Asesora Jurídica"]),
        ("Secretario de Gobierno", "Secretaría de Gobierno y Convivencia", ["Secretario de Gobierno"]),
        (
            "Jefe de Oficina de Gestión del Riesgo",
            "Oficina de Gestión del Riesgo de Desastres",
            ["Jefe de Oficina de Gestión del Riesgo"],
        ),
        ("Alcalde Municipal", "Despacho del Alcalde", ["Alcalde Municipal", "Despacho del Alcalde"]),
        ("Profesional Especializado", "Secretaría de Salud", ["Profesional Especializado", "Secretaría de Salud"]),
    ],
)
def test_the_title_is_never_written_twice(cargo: str, dependencia: str, lines: list[str]) -> None:
    assert espanol.cargo_y_dependencia(cargo, dependencia) == lines


def test_trimestre() -> None:
    assert [espanol.trimestre(q) for q in (1, 2, 3, 4)] == [
        "primer trimestre",
        "segundo trimestre",
        "tercer trimestre",
        "cuarto trimestre",
    ]


def test_a_quien_gives_an_office_its_article_and_a_person_none() -> None:
    assert espanol.a_quien("Laura Gómez Ruiz") == "a Laura Gómez Ruiz"
    assert espanol.a_quien("Secretaría de Planeación") == "a la Secretaría de Planeación"
    assert espanol.a_quien("Planeación") == "a Planeación"


def test_fecha_writes_cutoffs_without_the_weekday() -> None:
    assert fecha(dt.date(2027, 3, 31)) == "31 de marzo de 2027"
    assert fecha(dt.date(2027, 9, 1)) == "1 de septiembre de 2027"


def test_prep_contracts_de_and_a_with_el() -> None:
    assert espanol.prep("a", "el Despacho del Alcalde") == "al Despacho del Alcalde"
    assert espanol.prep("de", "el Instituto de Cultura") == "del Instituto de Cultura"
    assert espanol.prep("a", "la Secretaría de Salud") == "a la Secretaría de Salud"
