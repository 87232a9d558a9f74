"""What every mail's template receives, built in one place: who writes, to whom, the contact, and the round.

Mailings, answers and reminders each add their own facts on top of `common(...)` and `round_facts(...)`, so the
salutation, the contact in planeación and what a round means are written once (`templates/_base.*.j2` show them).
Keys are Spanish where the templates are; `saludo`, `secretario` and `ronda` keep their earlier meaning for
templates overridden by ops before these were added.
"""

from __future__ import annotations

from typing import Any

from mailbot.config import Dependencia, MailbotConfig
from mailbot.domain import espanol, rounds
from mailbot.domain.fechas import MONTH_NAMES, fecha
from mailbot.domain.workbook_format import QUARTER_MONTHS, Ronda

UNKNOWN_DEPENDENCIA = "su dependencia"


def contact(config: MailbotConfig) -> dict[str, str]:
    """Planeación's person for questions (`contact`, else smtp.from_name at smtp.from_address); "" when unset."""
    person = config.effective_contact
    return {
        "nombre": person.name,
        "a_quien": espanol.a_quien(person.name),  # "a Laura Gómez Ruiz" / "a la Secretaría de Planeación"
        "cargo": person.title or "",
        "telefono": person.phone or "",
        "correo": str(person.email),
    }


def dependencia(dep: Dependencia | None) -> dict[str, str]:
    """code, name and the name with its preposition and article ("de la Secretaría de Hacienda")."""
    if dep is None:
        return {"code": "", "name": UNKNOWN_DEPENDENCIA, "de": f"de {UNKNOWN_DEPENDENCIA}"}
    return {"code": dep.code, "name": dep.name, "de": espanol.de(dep.name)}


def addressee(
    dep: Dependencia | None, sender_address: str | None = None, sender_name: str = ""
) -> dict[str, Any] | None:
    """Who the salutation names: the head as configured (form of address, name, cargo) when the mail goes to the
    dependencia or comes from one of its registered addresses; else the sender's display name; else nobody."""
    if dep is not None and (sender_address is None or sender_address.lower() in (a.lower() for a in dep.addresses)):
        return {
            "nombre": espanol.tratamiento(dep.head.name, dep.head.form_of_address),
            "cargo": espanol.cargo_y_dependencia(dep.head.title, dep.name),
        }
    name = " ".join(sender_name.split())
    return {"nombre": name, "cargo": []} if name else None


def common(config: MailbotConfig, dep: Dependencia | None, to: dict[str, Any] | None) -> dict[str, Any]:
    """The keys every mail template may use (see templates/README.md)."""
    return {
        "municipio": config.municipality.name,
        "remitente": config.smtp.from_name,
        "contacto": contact(config),
        "dependencia": dependencia(dep),
        "destinatario": to,
        "saludo": to["nombre"] if to else "Cordial saludo",
        "secretario": {"name": dep.head.name, "title": dep.head.title} if dep else {"name": "", "title": ""},
        "titulo": "Plan de acción",
    }


def round_facts(config: MailbotConfig, ronda: Ronda | None, vigencia: int | None) -> dict[str, Any]:
    """What the round at hand is, in words: what is due, its cut-off, and what follows an acceptance."""
    ronda = ronda or Ronda.FORMULACION
    plan = f"el plan de acción {vigencia}" if vigencia else "el plan de acción"
    facts: dict[str, Any] = {
        "ronda": ronda.label.lower(),
        "es_seguimiento": ronda.quarter is not None,
        "trimestre": ronda.quarter,
        "nombre_trimestre": "",
        "periodo": "",
        "corte": "",
        "proximo_corte": "",
        "publicacion": f"31 de enero de {vigencia}" if vigencia else "el 31 de enero",
        "objeto": plan,
        "que_sigue": [],
    }
    if vigencia is None:
        return facts
    configured = config.rounds.days()
    cutoffs = [rounds.cutoff(configured, r, vigencia) for r in rounds.seguimiento_rondas()]
    if ronda.quarter is None:
        days = espanol.enumeracion([f"{d.day} de {MONTH_NAMES[d.month - 1]}" for d in cutoffs])
        facts["cortes"] = f"{days} de {vigencia}"
        facts["que_sigue"] = [
            "Planeación consolida los planes de todas las dependencias y los presenta al consejo de gobierno "
            "(Ley 152 de 1994, artículo 41).",
            f"El plan de acción consolidado se publica en la página web del municipio a más tardar el "
            f"{facts['publicacion']} (Ley 1474 de 2011, artículo 74).",
            f"Durante el año se hace el seguimiento trimestral, con cortes el {facts['cortes']}: el día de cada corte "
            "recibirá el formato de seguimiento con este plan ya cargado.",
        ]
        return facts
    q = ronda.quarter
    name = espanol.trimestre(q)
    facts |= {
        "nombre_trimestre": name,
        "periodo": QUARTER_MONTHS[q],
        "corte": fecha(cutoffs[q - 1]),
        "proximo_corte": fecha(cutoffs[q]) if q < 4 else "",
        "objeto": f"el seguimiento del {name} ({QUARTER_MONTHS[q]}) del {plan[3:]}",
    }
    facts["que_sigue"] = [
        f"Planeación consolida el seguimiento de todas las dependencias en la evaluación del {name}, que se "
        "presenta al consejo de gobierno.",
        f"El próximo corte es el {facts['proximo_corte']}: ese día recibirá el formato del seguimiento del "
        f"{espanol.trimestre(q + 1)}, con lo reportado hasta hoy ya cargado."
        if q < 4
        else "Con este reporte se cierra el seguimiento de la vigencia: la evaluación del cuarto trimestre es "
        "también el balance del año.",
    ]
    return facts
