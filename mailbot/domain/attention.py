"""The attention queue: what needs a person at planeación, said in Spanish for that person, and what closes it.

An item is opened by an event of the reply pipeline (a quarantine, a question, an out-of-office…) and stays open
until a later event resolves it (an accepted plan, the dependencia writing again, the return date passing) or a
person does (`mailbot attention resolve`). The summaries are built from the structured signals of the decision,
never by translating the English `reason` kept for logs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from mailbot.domain.espanol import cantidad, con_articulo, prep
from mailbot.domain.fechas import fecha_larga
from mailbot.domain.matching import Match


class Kind(StrEnum):
    QUARANTINED = "quarantined"
    UNMATCHED = "unmatched"
    REJECTED_SENDER = "rejected_sender"
    ERROR = "error"
    WITHHELD = "withheld"  # an answer not sent: the sender reached the daily cap
    UNDELIVERED = "undelivered"  # a bounce, or a mail the server refused for good
    QUESTION = "question"  # forwarded to planeación's contact; a person answers it
    AWAY = "away"  # an out-of-office from a registered address
    ANSWER_FAILED = "answer_failed"  # the answer could not be built: a plain acknowledgement went instead


KIND_ES: Final[dict[str, str]] = {
    Kind.QUARANTINED: "En cuarentena",
    Kind.UNMATCHED: "Sin dependencia",
    Kind.REJECTED_SENDER: "Remitente no autorizado",
    Kind.ERROR: "Error al procesar",
    Kind.WITHHELD: "Respuesta retenida",
    Kind.UNDELIVERED: "Correo no entregado",
    Kind.QUESTION: "Consulta",
    Kind.AWAY: "Ausencia anunciada",
    Kind.ANSWER_FAILED: "Respuesta fallida",
}

#: What an accepted plan of the dependencia closes (for its mailing, or tied to none): the reasons a person was
#: needed for that plan are gone once it is in. Not a sender who may not submit (someone else tried: a person
#: decides), nor a question (a person answers it).
RESOLVED_BY_ACCEPTANCE: Final = frozenset(
    {Kind.QUARANTINED, Kind.UNMATCHED, Kind.ERROR, Kind.WITHHELD, Kind.ANSWER_FAILED}
)
#: What any message from the dependencia written by a person closes.
RESOLVED_BY_REPLY: Final = frozenset({Kind.AWAY})

#: The order in which signals say who wrote: the sender's registered address first, the workbook last.
_WRITER_SIGNALS: Final = ("sender", "thread", "plus_address", "subject_tag", "control")
_SIGNAL_ES: Final[dict[str, tuple[str, str]]] = {
    "control": ("el archivo es", "de"),
    "thread": ("responde el correo enviado", "a"),
    "plus_address": ("responde a la dirección", "de"),
    "subject_tag": ("el asunto nombra", "a"),
    "sender": ("el remitente está registrado en", ""),
}


@dataclass(frozen=True)
class Opening:
    """An item to open: its kind, the dependencia it concerns (a code, or None) and the sentence a person reads."""

    kind: Kind
    dependencia: str | None
    summary: str


def resolves_on_acceptance(kind: str) -> bool:
    return kind in RESOLVED_BY_ACCEPTANCE


def resolves_on_reply(kind: str) -> bool:
    return kind in RESOLVED_BY_REPLY


def away_expired(until: dt.date | None, today: dt.date) -> bool:
    """An away item closes by itself the day after the return date it gave."""
    return until is not None and today > until


def writer(match: Match) -> str | None:
    """The dependencia that wrote (whom to call about the item), from the strongest signal of who it is."""
    for name in _WRITER_SIGNALS:
        if name in match.signals:
            return match.signals[name]
    return match.dependencia


def _name(code: str | None, names: Mapping[str, str]) -> str:
    return con_articulo(names[code]) if code and code in names else (code or "una dependencia")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def unplaced(
    match: Match,
    sender: str,
    names: Mapping[str, str],
    *,
    tampered: bool = False,
    insider: bool = True,
) -> Opening:
    """A message no mailing could take: quarantined, unmatched, or from a sender who may not submit."""
    who = writer(match)
    sender = sender or "un remitente sin dirección"
    if match.status == "rejected_sender":
        target = _name(match.dependencia, names)
        if not insider:
            text = f"{sender}, de fuera del municipio, envió un plan para {target}"
        else:
            text = f"{sender}, que no está registrado en {target}, respondió por esa dependencia sin su archivo firmado"
        return Opening(Kind.REJECTED_SENDER, match.dependencia, text)  # an address keeps its case
    if match.status == "unmatched":
        if "sender" in match.signals:
            text = f"{_capital(_name(who, names))} escribió ({sender}), pero no tiene un formato enviado en curso"
        elif "subject_tag" in match.signals:
            text = (
                f"Mensaje de {sender} sin firma ni remitente registrado; solo el asunto nombra "
                f"{prep('a', _name(match.signals['subject_tag'], names))}"
            )
        else:
            text = f"Mensaje sin dependencia de {sender}: sin firma ni remitente registrado"
        return Opening(Kind.UNMATCHED, who, text)
    return Opening(Kind.QUARANTINED, who, _quarantine(match, sender, names, tampered=tampered))


def _quarantine(match: Match, sender: str, names: Mapping[str, str], *, tampered: bool) -> str:
    signals = match.signals
    if tampered:
        return f"El archivo que envió {sender} fue modificado en su hoja de control (firma inválida)"
    if not signals and match.dependencia:
        return f"{sender} envió un archivo {prep('de', _name(match.dependencia, names))} para una ronda sin envío"
    if not signals:
        return f"El mensaje de {sender} no pasó la verificación de autenticidad del remitente"
    who = next((signals[n] for n in _WRITER_SIGNALS if n in signals and n != "control"), None)
    file_of = signals.get("control")
    if who and file_of and who != file_of:
        return f"{_capital(_name(who, names))} envió el archivo {prep('de', _name(file_of, names))}"
    thread, sent_by = signals.get("thread"), signals.get("sender")
    if thread and sent_by and thread != sent_by:
        return f"{_capital(_name(sent_by, names))} respondió el correo enviado {prep('a', _name(thread, names))}"
    parts = []
    for name in sorted(n for n in signals if n in _SIGNAL_ES):
        said, preposition = _SIGNAL_ES[name]
        whose = _name(signals[name], names)
        parts.append(f"{said} {prep(preposition, whose) if preposition else whose}")
    return f"Mensaje de {sender} con datos que no coinciden: " + "; ".join(parts)


def told_to_sender(match: Match, names: Mapping[str, str]) -> str | None:
    """What happened, for the secretario's own notice (`en_revision`), when the signals say it plainly."""
    signals = match.signals
    who = next((signals[n] for n in _WRITER_SIGNALS if n in signals and n != "control"), None)
    file_of = signals.get("control")
    if who and file_of and who != file_of:
        return (
            f"El archivo que adjuntó es el formato {prep('de', _name(file_of, names))} y no el "
            f"{prep('de', _name(who, names))}."
        )
    thread, sent_by = signals.get("thread"), signals.get("sender")
    if thread and sent_by and thread != sent_by:
        return (
            f"Su mensaje responde el correo enviado {prep('a', _name(thread, names))}, pero su dirección está "
            f"registrada en {_name(sent_by, names)}."
        )
    return None


def error(sender: str, subject: str, dependencia: str | None) -> Opening:
    return Opening(
        Kind.ERROR,
        dependencia,
        f"No se pudo procesar el mensaje de {sender or 'remitente desconocido'} «{subject[:80]}»; "
        "el original está guardado en el archivo",
    )


def withheld(sender: str, limit: int, dependencia: str | None) -> Opening:
    return Opening(
        Kind.WITHHELD,
        dependencia,
        f"Se dejó de responder a {sender}: ya recibió hoy {limit} correos automáticos, el límite diario",
    )


def undelivered(addresses: Sequence[str], detail: str, dependencia: str | None) -> Opening:
    to = ", ".join(addresses) or "un destinatario"
    return Opening(
        Kind.UNDELIVERED, dependencia, f"Un correo a {to} no se pudo entregar{f' ({detail})' if detail else ''}"
    )


def question(
    code: str | None, sender: str, text: str, forwarded_to: str | None, names: Mapping[str, str], limit: int = 140
) -> Opening:
    """`forwarded_to`: the contact's name, or None when the contact is planeación's own mailbox (nothing to forward:
    the question is there already)."""
    words = " ".join(text.split())
    quoted = words if len(words) <= limit else words[: limit - 1] + "…"
    who = _capital(_name(code, names)) if code else sender
    where = f"se reenvió a {forwarded_to}" if forwarded_to else "está en el buzón de Planeación, sin responder"
    return Opening(Kind.QUESTION, code, f"{who} preguntó ({sender}): «{quoted}»; {where}")


def away(code: str, sender: str, until: dt.date | None, names: Mapping[str, str], head: str | None = None) -> Opening:
    """ "Carlos Alberto Muñoz Ortiz (Secretaría de Gobierno) está ausente hasta el …": the head is named, never
    "el secretario"/"la secretaria" guessed; without a head's name, the address that answered speaks for him."""
    back = f" hasta el {fecha_larga(until)}" if until else " (sin fecha de regreso en su respuesta automática)"
    office = names.get(code, code)
    who = f"{head.strip()} ({office})" if head and head.strip() else f"{sender} ({office})"
    said = f" ({sender})" if head and head.strip() else ""
    return Opening(Kind.AWAY, code, f"{who} está ausente{back}{said}")


def answer_failed(sender: str, dependencia: str | None) -> Opening:
    return Opening(
        Kind.ANSWER_FAILED,
        dependencia,
        f"La respuesta a {sender} no se pudo preparar; recibió solo un acuse de recibo y espera que una persona "
        "revise su mensaje",
    )


def coverage_es(reported: int, total: int) -> str:
    """ "3 de 6 dependencias reportaron": how much of the municipality a score stands on."""
    verb = "reportó" if reported == 1 else "reportaron"
    return f"{reported} de {total} dependencias {verb}"


def age_es(since: dt.date, today: dt.date) -> str:
    """ "desde hoy", "desde hace 1 día", "desde hace 3 días"."""
    days = (today - since).days
    return "desde hoy" if days <= 0 else f"desde hace {cantidad(days, 'día', 'días')}"
