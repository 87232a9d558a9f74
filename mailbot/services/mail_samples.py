"""Realistic sample contexts for every mail template, built by the same functions the daemon uses.

`mailbot config check` renders every template (the shipped ones and the `smtp.templates_dir` overrides) with these,
for every round, and the template tests do the same: a template whose variables drift from what the code passes
fails there, not on a secretario's reply. A new template needs one entry in `SAMPLES` (its mail name → a function
of the configuration and the round returning its contexts); the rest is found from the templates folder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

from mailbot.config import Dependencia, MailbotConfig
from mailbot.domain import attention
from mailbot.domain.espanol import cantidad, plazo
from mailbot.domain.evaluation import evaluate_dependencia
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.inbound import MessageFacts
from mailbot.domain.rounds import RoundDays
from mailbot.domain.seguimiento import PlannedMeta, QuarterReport
from mailbot.domain.summary import PlanSummary, SourceSummary
from mailbot.domain.workbook_format import Ronda, Source
from mailbot.services.answers import AnswerFacts, answer_context
from mailbot.services.campaign import (
    Format,
    mailing_context,
    seguimiento_extra,
    seguimiento_filename,
    workbook_filename,
)
from mailbot.services.mail_context import common, round_facts
from mailbot.services.reminders import reminder_context
from mailbot.services.round_dates import round_deadline
from mailbot.services.seguimiento import for_mail

SAMPLE_VIGENCIA = 2027
SAMPLE_TODAY = dt.date(2027, 1, 14)

_DEADLINES: dict[tuple[RoundDays, Ronda, int], dt.date] = {}

Samples = Callable[[MailbotConfig, Ronda], list[dict[str, Any]]]


def rondas() -> tuple[Ronda, ...]:
    return tuple(Ronda)


def contexts(config: MailbotConfig, name: str) -> Iterator[dict[str, Any]]:
    """Every sample context of mail `name`, over every round it applies to; none for an unknown name."""
    for ronda in rondas():
        yield from for_round(config, name, ronda) or []


def for_round(config: MailbotConfig, name: str, ronda: Ronda) -> list[dict[str, Any]] | None:
    """The sample contexts of mail `name` in one round ([] when it is not sent then); None without sample data.
    Partials (`_base`, macros) get what every mail shares."""
    build = SAMPLES.get(name, _frame if name.startswith("_") else None)
    return None if build is None else build(config, ronda)


def sample_dependencia(config: MailbotConfig) -> Dependencia:
    """The configuration's own dependencia, preferring one whose head has a form of address (the full salutation)."""
    return next((d for d in config.dependencias if d.head.form_of_address), config.dependencias[0])


def _vigencia(config: MailbotConfig) -> int:
    return config.rounds.vigencia or SAMPLE_VIGENCIA


def _deadline(config: MailbotConfig, ronda: Ronda) -> dt.date:
    key = (config.rounds.days(), ronda, _vigencia(config))
    if key not in _DEADLINES:  # the holiday calendar is slow to build: `config check` renders ~250 samples
        _DEADLINES[key] = round_deadline(config, ronda, _vigencia(config))
    return _DEADLINES[key]


def _frame(config: MailbotConfig, ronda: Ronda) -> list[dict[str, Any]]:
    """Partials (`_base.*`, macros) alone: what every mail shares."""
    dep = sample_dependencia(config)
    return [{**common(config, dep, None), **round_facts(config, ronda, _vigencia(config))}]


# ------------------------------------------------------------------------------------------------ mailings


def _seguimiento_extra(ronda: Ronda, dep: Dependencia) -> dict[str, Any]:
    q = ronda.quarter
    assert q is not None
    radicado = f"PA-{SAMPLE_VIGENCIA}-{dep.code}-0002"
    return seguimiento_extra(q, radicado, list(range(1, q)), [q])


def _mailing(kind: Ronda | None) -> Samples:
    """formulacion goes out in the formulación round, seguimiento in the four quarters."""

    def build(config: MailbotConfig, ronda: Ronda) -> list[dict[str, Any]]:
        if (ronda is Ronda.FORMULACION) != (kind is Ronda.FORMULACION):
            return []
        dep = sample_dependencia(config)
        extra = {} if ronda.quarter is None else _seguimiento_extra(ronda, dep)
        return [mailing_context(config, dep, _vigencia(config), _deadline(config, ronda), extra, ronda)]

    return build


def _reminder(late: bool) -> Samples:
    def build(config: MailbotConfig, ronda: Ronda) -> list[dict[str, Any]]:
        dep = sample_dependencia(config)
        extra = {} if ronda.quarter is None else _seguimiento_extra(ronda, dep)
        vigencia = _vigencia(config)
        name = (
            workbook_filename(dep, vigencia)
            if ronda.quarter is None
            else seguimiento_filename(dep, vigencia, ronda.quarter)
        )
        expected = Format(b"", name, extra)
        pending = [f.to_json() for f in _findings() if f.severity is Severity.ERROR]
        out = []
        for days, findings in ((None if late else 3, []), (None if late else 1, pending), (None if late else 0, [])):
            out.append(
                reminder_context(
                    config,
                    dep,
                    ronda,
                    _vigencia(config),
                    _deadline(config, ronda),
                    late=late,
                    working_days_left=days,
                    pending=findings,
                    expected=expected,
                )
            )
        return out

    return build


# ------------------------------------------------------------------------------------------------ answers


def _findings() -> tuple[Finding, ...]:
    """Findings as the rules leave them: named by the meta's N°, code and text and the column's label."""
    meta_3 = "Meta N° 3 (220103 – Dotar 12 sedes educativas rurales…)"
    return (
        Finding(
            "P03",
            Severity.ERROR,
            "Metas",
            "U8",
            "$ 412.000.000",
            "El presupuesto POAI programado ($ 412.000.000) supera el disponible ($ 380.000.000) en $ 32.000.000: "
            "reduzca este valor en $ 32.000.000, o reparta la reducción entre otras metas de esa fuente.",
            meta=3,
            column="POAI T2",
            place=f"{meta_3}, columna «POAI T2» (celda U8)",
        ),
        Finding(
            "R01",
            Severity.ERROR,
            "Metas",
            "AK7",
            None,
            "Escriba «Responsable directo»: la persona que responde directamente por la meta.",
            meta=2,
            column="Responsable directo",
            place="Meta N° 2 (220102 – Beneficiar 600 personas mayores…), columna «Responsable directo» (celda AK7)",
        ),
        Finding(
            "M08",
            Severity.WARNING,
            "Metas",
            "L8",
            "14",
            "La meta vigencia (14) supera la meta del cuatrienio (12); verifique las cifras.",
            meta=3,
            column="Meta vigencia",
            place=f"{meta_3}, columna «Meta vigencia» (celda L8)",
        ),
        Finding("F01", Severity.ERROR, None, None, None, "Guarde el archivo como Libro de Excel (.xlsx)."),
    )


def _summary(dep: Dependencia) -> PlanSummary:
    b = dep.budget
    return PlanSummary(
        metas=6,
        sources=(
            SourceSummary(Source.POAI, _quarters(b.poai), b.poai),
            SourceSummary(Source.FUNCIONAMIENTO, _quarters(b.operating), b.operating),
            SourceSummary(Source.COFINANCIACION, _quarters(b.cofinancing), b.cofinancing),
        ),
    )


def _quarters(total: int) -> tuple[int, int, int, int]:
    share = total // 5
    return (share, share, share, share)


def _evaluation(config: MailbotConfig, dep: Dependencia, quarter: int) -> dict[str, Any]:
    """A real evaluation of three metas, one lagging, one over-executed, through the domain's formulas."""
    metas = (
        PlannedMeta(
            1,
            "020301",
            "Predios con avalúo catastral actualizado",
            "Número",
            "Incremento",
            Decimal(2000),
            (Decimal(500),) * 4,
            (90_000_000,) * 4,
        ),
        PlannedMeta(
            2,
            "020302",
            "Recaudo del impuesto predial",
            "Porcentaje",
            "Mantenimiento",
            Decimal(85),
            (Decimal(85),) * 4,
            (20_000_000,) * 4,
        ),
        PlannedMeta(
            3,
            "020303",
            "Contribuyentes atendidos en jornadas móviles",
            "Número",
            "Incremento",
            Decimal(400),
            (Decimal(100),) * 4,
            (5_000_000,) * 4,
        ),
    )
    pace = {"020301": Decimal("0.4"), "020302": Decimal(1), "020303": Decimal("1.3")}
    reports = {
        m.meta_code: {
            q: QuarterReport(m.planned(q) * pace[m.meta_code], committed=m.budget_to(q), obligated=m.budget_to(q) // 2)
            for q in range(1, quarter + 1)
        }
        for m in metas
    }
    evaluation = evaluate_dependencia(dep.code, dep.name, metas, reports, quarter, config.evaluation.rules())
    return for_mail(evaluation, config.evaluation.lag_below_percent)


def _answer(kind: str) -> Samples:
    def build(config: MailbotConfig, ronda: Ronda) -> list[dict[str, Any]]:
        dep = sample_dependencia(config)
        vigencia = _vigencia(config)
        registered = MessageFacts(
            from_address=dep.addresses[0], from_name=dep.head.name, subject=f"Plan de acción {dep.name}"
        )
        assistant = MessageFacts(
            from_address=f"auxiliar.{dep.code.lower()}@example.gov.co", from_name="Marta Lucía Ríos", subject="RV:"
        )
        base = AnswerFacts(
            dependencia=dep.code,
            vigencia=vigencia,
            ronda=ronda.value,
            deadline=_deadline(config, ronda),
            token="0123456789abcdef",  # noqa: S106 - a sample mailing token, not a secret
        )
        number = f"{'S' if ronda.quarter else ''}PA-{vigencia}-{dep.code}-0003"
        facts: list[tuple[MessageFacts, AnswerFacts]]
        if kind == "aceptacion":
            extra = {"evaluacion": _evaluation(config, dep, ronda.quarter)} if ronda.quarter else {}
            accepted = _replace(
                base,
                version=3,
                radicado=number,
                sha256="ab" * 32,
                findings=tuple(f for f in _findings() if f.severity is Severity.WARNING),
                summary=_summary(dep),
                extra=extra,
            )
            facts = [(registered, accepted), (assistant, _replace(accepted, findings=()))]
        elif kind == "correccion":
            corrected = _replace(base, version=2, findings=_findings(), annotated=b"xlsx", annotated_name="c.xlsx")
            shorter = _replace(corrected, findings=_findings()[:1], annotated=None)
            facts = [(registered, corrected), (assistant, shorter)]
        elif kind == "duplicado":
            first = dt.datetime(2027, 1, 12, 15, 30, tzinfo=dt.UTC)
            facts = [
                (registered, _replace(base, first_date=first, first_radicado=number)),
                (assistant, _replace(base, first_date=first, first_state="con correcciones pendientes")),
            ]
        elif kind == "varios_adjuntos":
            names = (f"Plan de acción {vigencia} – {dep.name}.xlsx", f"Plan de acción {vigencia} – {dep.name} (2).xlsx")
            facts = [(registered, _replace(base, attachment_names=names))]
        elif kind == "en_revision":
            other = "El archivo que adjuntó es el formato de la Secretaría de Hacienda y no el de la suya."
            facts = [
                (assistant, AnswerFacts()),
                (MessageFacts(subject=""), AnswerFacts()),
                (registered, AnswerFacts(extra={"motivo": other})),
            ]
        elif kind == "muy_grande":
            facts = [(registered, _replace(base, extra={"limite": "25,0 MB"}))]
        else:
            facts = [(registered, base), (MessageFacts(from_address="otro@example.org"), base)]
        return [answer_context(config, received, f) for received, f in facts]

    return build


def _replace(facts: Any, **changes: Any) -> Any:
    return replace(facts, **changes)


# ------------------------------------------------------------------------------------------------ the digest


def _digest(config: MailbotConfig, ronda: Ronda) -> list[dict[str, Any]]:
    """planeación's digest (services/digest.py builds it inline): the same keys, sample values."""
    if ronda is not Ronda.FORMULACION:
        return []
    rows = [
        {
            "codigo": d.code,
            "nombre": d.name,
            "ronda": "Formulación",
            "estado": "Pendiente",
            "color": "#eeeeee",
            "radicado": None,
            "hallazgos": i % 3,
            "correcciones": cantidad(i % 3, "punto por corregir", "puntos por corregir") if i % 3 else None,
            "dias": plazo(2 - i),
        }
        for i, d in enumerate(config.dependencias)
    ]
    seguimiento = {
        "trimestre": 1,
        "vigencia": _vigencia(config),
        "municipio_puntaje": "86,0 %",
        "municipio_calificacion": "Sobresaliente",
        "municipio_color": "#548235",
        "filas": [
            {
                "codigo": "HAC",
                "nombre": "Secretaría de Hacienda",
                "puntaje": "86,0 %",
                "calificacion": "Sobresaliente",
                "color": "#548235",
                "radicado": "SPA-2027-T1-HAC-0001",
            }
        ],
        "cobertura": "1 de 6 dependencias reportaron",
        "umbral_rezago": "60,0 %",
        "rezagadas": ["HAC 020301 Predios con avalúo catastral actualizado: 40,0 %"],
    }
    head = config.dependencias[-1]
    away = attention.away(
        head.code,
        head.addresses[0],
        dt.date(_vigencia(config), 1, 18),
        {d.code: d.name for d in config.dependencias},
        head=head.head.name,
    )
    base = {
        "municipio": config.municipality.name,
        "remitente": config.smtp.from_name,
        "titulo": f"Resumen del plan de acción {_vigencia(config)}",
        "vigencia": _vigencia(config),
        "fecha": "jueves 14 de enero de 2027",
        "filas": rows,
        "totales": [("Pendiente", len(rows)), ("Aceptado", 0)],
        "novedades": ["HAC: plan aceptado (PA-2027-HAC-0003)"],
        "atencion": [
            "En cuarentena · GOB · desde hace 2 días · Mensaje #3: La Secretaría de Gobierno envió el archivo "
            "de la Secretaría de Hacienda (ítem 1)"
        ],
        "ausentes": [away.summary],
        "consolidado": "1 de 12 dependencias",
        "cid_estados": "estados@mailbot",
        "cid_presupuesto": "presupuesto@mailbot",
        "cid_cumplimiento": "cumplimiento@mailbot",
    }
    return [{**base, "seguimiento": seguimiento}, {**base, "seguimiento": None, "consolidado": None}]


SAMPLES: dict[str, Samples] = {
    "formulacion": _mailing(Ronda.FORMULACION),
    "seguimiento": _mailing(None),
    "recordatorio": _reminder(late=False),
    "aviso_vencido": _reminder(late=True),
    "aceptacion": _answer("aceptacion"),
    "correccion": _answer("correccion"),
    "duplicado": _answer("duplicado"),
    "sin_adjunto": _answer("sin_adjunto"),
    "enlace_nube": _answer("enlace_nube"),
    "muy_grande": _answer("muy_grande"),
    "varios_adjuntos": _answer("varios_adjuntos"),
    "en_revision": _answer("en_revision"),
    "consulta_recibida": _answer("consulta_recibida"),
    "resumen": _digest,
}
