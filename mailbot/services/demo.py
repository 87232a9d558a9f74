"""`mailbot demo`: formulación and a first quarter's seguimiento in under a minute, on an embedded mail server.

Everything runs the production paths: the real IMAP and SMTP adapters talk to an embedded server on loopback
(pymap + aiosmtpd), the real scheduler runs the real daemon jobs (IDLE watcher, outbox flush), and the real
campaign, inbox, outbox, digest and export services do the work. Only the secretarías are played, by `SCRIPT`:
seven of them reply with realistic variety (correct plans, a plan over its budget and later corrected, a plan
without responsables, an out-of-office auto-reply, a reply without the attachment and then a question in its
place, a reply with two workbooks and later with one). Then the first quarter's seguimiento goes to the
dependencias whose plan was accepted; they report it, one meta of Educación lagging, and the acceptances, the
digest and the committee's evaluation workbook show the scores. The question (forwarded to planeación's contact)
and the secretario away stay in the attention queue for a person. Each secretaría plans the sample metas of its
own field (`sample_metas`), and the demo's PDM catalogue and banco de proyectos are those same metas and projects,
so rules M06 and P05 check them.
"""

from __future__ import annotations

import datetime as dt
import secrets
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook
from mailbot.app import App, start_embedded_mail
from mailbot.config import load_config
from mailbot.domain import values
from mailbot.domain.attention import coverage_es
from mailbot.domain.context import AvailableBudget
from mailbot.domain.evaluation import Grade, MunicipalityEvaluation, percent
from mailbot.domain.money import format_percent
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.workbook_format import HeaderField, Ronda, Source, money_key
from mailbot.services import attention, campaign, digest, export, queries, seguimiento, setup
from mailbot.services.daemon import BackgroundDaemon
from mailbot.services.sample_metas import SAMPLE
from mailbot.services.sample_plans import (
    Meta,
    fill_plan,
    fill_seguimiento,
    sample_bpins,
    sample_catalogue_csv,
    sample_reports,
    valid_metas,
)

if TYPE_CHECKING:
    from mailbot.adapters.embedded_mail import EmbeddedMailServer

DOMAIN = "villaesperanza.gov.co"
PLANEACION = f"planeacion@{DOMAIN}"
CONTACT = f"laura.gomez@{DOMAIN}"  # planeación's contact: a person's mailbox (questions are forwarded there)
PASSWORD = "demo"  # noqa: S105 - the embedded server's throwaway password, on loopback only
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
LAGGING_PACE = Decimal("0.4")  # Educación's first meta: 40 % of what was programmed (Rezagada)
#: What Infraestructura asks instead of sending its plan: its placa huella meta (240202) is in square metres in
#: the PDM, while the works are contracted by the linear metre of road. Only a person can answer it.
QUESTION = (
    "Buenos días.\n\n"
    "¿La meta 240202 de placa huella se programa en metros cuadrados, como está en el PDM, o en metros lineales, "
    "como se contratan y se liquidan las obras? Si es en metros lineales, ¿cómo convertimos los 4.000 m² del "
    "cuatrienio? Enviamos el plan apenas nos confirmen.\n\n"
    "Quedo atento,"
)


@dataclass(frozen=True)
class DemoDependencia:
    code: str
    name: str
    head: str
    title: str
    form_of_address: str | None
    mailbox: str
    budget: tuple[int, int, int]  # POAI, funcionamiento, cofinanciación: as in config/mailbot.example.yaml

    @property
    def address(self) -> str:
        return f"{self.mailbox}@{DOMAIN}"


DEPENDENCIAS: tuple[DemoDependencia, ...] = (
    DemoDependencia(
        "HAC", "Secretaría de Hacienda", "Diana Marcela Londoño Zapata", "Secretaria de Hacienda", "Doctora",
        "hacienda", (380_000_000, 1_200_000_000, 0),
    ),
    DemoDependencia(
        "EDU", "Secretaría de Educación", "Sandra Milena Restrepo Cárdenas", "Secretaria de Educación", "Licenciada",
        "educacion", (14_800_000_000, 2_300_000_000, 3_200_000_000),
    ),
    DemoDependencia(
        "SAL", "Secretaría de Salud", "Óscar Iván Quintero Salazar", "Secretario de Salud", "Doctor",
        "salud", (9_600_000_000, 980_000_000, 2_750_000_000),
    ),
    DemoDependencia(
        "GOB", "Secretaría de Gobierno y Convivencia Ciudadana", "Carlos Alberto Muñoz Ortiz",
        "Secretario de Gobierno", "Doctor", "gobierno", (1_950_000_000, 640_000_000, 450_000_000),
    ),
    DemoDependencia(
        "INF", "Secretaría de Infraestructura", "Hernán Darío Giraldo Toro", "Secretario de Infraestructura",
        "Ingeniero", "infraestructura", (8_700_000_000, 520_000_000, 5_100_000_000),
    ),
    DemoDependencia(
        "SOC", "Secretaría de Desarrollo Social", "Luz Ángela Betancur Henao", "Secretaria de Desarrollo Social",
        "Doctora", "social", (2_450_000_000, 410_000_000, 600_000_000),
    ),
    DemoDependencia(
        "AMB", "Secretaría de Agricultura y Medio Ambiente", "Paula Andrea Correa Montoya",
        "Secretaria de Agricultura y Medio Ambiente", "Ingeniera", "ambiente",
        (1_300_000_000, 280_000_000, 700_000_000),
    ),
)  # fmt: skip
BY_CODE = {d.code: d for d in DEPENDENCIAS}


class Phase(Enum):
    FORMULACION = "the formulación mailing"  # replies to the workbook mailed in January
    CORRECTIONS = "mailbot's answers"  # replies to the answer a secretaría got
    SEGUIMIENTO_T1 = "the T1 mailing"  # replies to the first quarter's seguimiento workbook


@dataclass(frozen=True)
class Scripted:
    """One reply a secretaría sends, and what mailbot must make of it."""

    phase: Phase
    code: str
    act: str  # how the secretario replies: a key of `_ACTS`
    outcome: str  # the outcome mailbot records for the message
    state: str  # the dependencia's state in the phase's round afterwards
    answered: bool = True  # mailbot answers it (an automatic reply never is)
    leaves: str | None = None  # the attention item it leaves open for a person (no later reply of its own closes it)


#: Every reply of the scenario, in the order sent. A new kind of reply is one line here and one act in `_ACTS`.
SCRIPT: tuple[Scripted, ...] = (
    Scripted(Phase.FORMULACION, "HAC", "correct_plan", "accepted", "accepted"),
    Scripted(Phase.FORMULACION, "EDU", "over_budget", "correction_requested", "correction_requested"),
    Scripted(Phase.FORMULACION, "SAL", "no_responsables", "correction_requested", "correction_requested"),
    Scripted(Phase.FORMULACION, "GOB", "out_of_office", "automatic", "pending", answered=False, leaves="away"),
    Scripted(Phase.FORMULACION, "INF", "no_attachment", "no_attachment", "pending"),
    Scripted(Phase.FORMULACION, "SOC", "correct_plan", "accepted", "accepted"),
    Scripted(Phase.FORMULACION, "AMB", "two_workbooks", "several_attachments", "pending"),
    Scripted(Phase.CORRECTIONS, "EDU", "correct_plan", "accepted", "accepted"),
    Scripted(Phase.CORRECTIONS, "INF", "question", "question", "pending", leaves="question"),
    Scripted(Phase.CORRECTIONS, "AMB", "correct_plan", "accepted", "accepted"),
    Scripted(Phase.SEGUIMIENTO_T1, "HAC", "quarter_as_programmed", "accepted", "accepted"),
    Scripted(Phase.SEGUIMIENTO_T1, "EDU", "quarter_lagging", "accepted", "accepted"),
    Scripted(Phase.SEGUIMIENTO_T1, "SOC", "quarter_as_programmed", "accepted", "accepted"),
    Scripted(Phase.SEGUIMIENTO_T1, "AMB", "quarter_as_programmed", "accepted", "accepted"),
)


def expected_states(until: Phase) -> dict[str, str]:
    """Each dependencia's state in the round of `until` once the script has played up to it; in seguimiento, of
    the dependencias it goes to (those whose plan was accepted). A silent dependencia stays `pending`."""
    if until is Phase.SEGUIMIENTO_T1:
        followed = [c for c, state in expected_states(Phase.CORRECTIONS).items() if state == "accepted"]
        played = {s.code: s.state for s in SCRIPT if s.phase is until}
        return {code: played.get(code, "pending") for code in followed}
    phases = (Phase.FORMULACION,) if until is Phase.FORMULACION else (Phase.FORMULACION, Phase.CORRECTIONS)
    return {d.code: "pending" for d in DEPENDENCIAS} | {s.code: s.state for s in SCRIPT if s.phase in phases}


def expected_outcomes() -> dict[str, list[str]]:
    return {d.code: [s.outcome for s in SCRIPT if s.code == d.code] for d in DEPENDENCIAS}


def expected_attention() -> dict[str, list[str]]:
    """The attention queue at the end, by dependencia: the kinds of the items left open for a person."""
    out: dict[str, list[str]] = {}
    for step in SCRIPT:
        if step.leaves:
            out.setdefault(step.code, []).append(step.leaves)
    return out


def expected_forwards() -> dict[str, int]:
    """What planeación's contact receives: each question forwarded, by the dependencia that asked it."""
    out: dict[str, int] = {}
    for step in SCRIPT:
        if step.outcome == "question":
            out[step.code] = out.get(step.code, 0) + 1
    return out


def expected_mails() -> dict[str, int]:
    """What each secretaría's mailbox receives: the formulación mailing, an answer to each answered reply, and
    the T1 mailing when its plan was accepted."""
    followed = expected_states(Phase.SEGUIMIENTO_T1)
    return {
        d.code: 1 + sum(s.answered for s in SCRIPT if s.code == d.code) + (d.code in followed) for d in DEPENDENCIAS
    }


@dataclass
class DemoResult:
    folder: Path
    states: dict[str, str]  # code → state of its formulación round
    status: dict[str, Any]
    digest_html: Path
    consolidated: Path
    archive: Path
    seconds: float
    events: list[str] = field(default_factory=list)
    seguimiento: dict[str, str] = field(default_factory=dict)  # code → state of its T1 round
    evaluation: Path | None = None  # the committee's T1 workbook
    scores: dict[str, str] = field(default_factory=dict)  # code (and "municipio") → "87,5 % Sobresaliente"
    outcomes: dict[str, list[str]] = field(default_factory=dict)  # code → outcome of each of its replies, in order
    mails: dict[str, int] = field(default_factory=dict)  # code → messages its secretaría's mailbox received
    coverage: str = ""  # how many dependencias the municipal T1 score stands on ("4 de 7 dependencias reportaron")
    attention: list[dict[str, Any]] = field(default_factory=list)  # the open items, as `mailbot attention list`
    forwarded: dict[str, int] = field(default_factory=dict)  # code → its questions in the contact's mailbox

    @property
    def as_expected(self) -> bool:
        return not self.surprises()

    def surprises(self) -> list[str]:
        """What differs from the script: one line per dependencia and aspect, empty when all went as scripted."""
        checks = (
            ("formulación", self.states, expected_states(Phase.CORRECTIONS)),
            ("seguimiento T1", self.seguimiento, expected_states(Phase.SEGUIMIENTO_T1)),
            ("outcomes", self.outcomes, expected_outcomes()),
            ("mails received", self.mails, expected_mails()),
            ("questions forwarded to the contact", self.forwarded, expected_forwards()),
            ("needs a person", _kinds_by_dependencia(self.attention), expected_attention()),
        )
        return [
            f"{code} {aspect}: {got.get(code)} (expected {want.get(code)})"
            for aspect, got, want in checks
            for code in sorted(set(got) | set(want))
            if got.get(code) != want.get(code)
        ]


def _kinds_by_dependencia(items: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        out.setdefault(item["dependencia"] or "sin dependencia", []).append(item["kind"])
    return out


def demo_config(folder: Path, imap_port: int, smtp_port: int) -> Path:
    """The sample municipality, pointed at the embedded server; every path inside `folder`."""
    codes = [d.code for d in DEPENDENCIAS]
    catalogue = folder / "pdm.csv"
    catalogue.write_text(sample_catalogue_csv(codes), encoding="utf-8")
    projects = folder / "bpin.txt"
    projects.write_text("".join(f"{bpin}\n" for bpin in sample_bpins(codes)), encoding="utf-8")
    data = {
        "municipality": {"name": "Municipio de Villa Esperanza", "dane_code": "68999", "domains": [DOMAIN]},
        "development_plan": {
            "name": "Villa Esperanza, territorio de oportunidades 2024-2027",
            "period": "2024-2027",
            "catalogue": str(catalogue),
            "projects": str(projects),
        },
        "imap": {
            "host": "127.0.0.1",
            "port": imap_port,
            "security": "none",
            "user": PLANEACION,
            "password": PASSWORD,
            "idle": True,
            "poll_interval": 30,
            "timeout": 10,
        },
        "smtp": {
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "from_address": PLANEACION,
            "from_name": "Secretaría de Planeación – Plan de acción",
            "timeout": 10,
        },
        "contact": {
            "name": "Laura Gómez Ruiz",
            "title": "Profesional universitaria, Secretaría de Planeación",
            "phone": "(607) 555 0100 ext. 214",
            "email": CONTACT,
        },
        "dependencias": [
            {
                "code": d.code,
                "name": d.name,
                "head": {"name": d.head, "title": d.title, "form_of_address": d.form_of_address},
                "addresses": [d.address],
                "budget": dict(zip(("poai", "operating", "cofinancing"), d.budget, strict=True)),
            }
            for d in DEPENDENCIAS
        ],
        "digest": {"recipients": [PLANEACION]},
        "storage": {"database_url": f"sqlite:///{folder / 'mailbot.db'}", "archive_dir": str(folder / "archivo")},
        "signing": {"secret": secrets.token_hex(16)},
    }
    path = folder / "mailbot.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_demo(
    folder: Path, *, port_base: int = 0, say: Callable[[str], None] = print, timeout: float = 120
) -> DemoResult:
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    users = [PLANEACION, CONTACT, *(d.address for d in DEPENDENCIAS)]
    server = start_embedded_mail(domains=[DOMAIN], users=users, password=PASSWORD, port_base=port_base)
    say(f"embedded mail server: IMAP 127.0.0.1:{server.imap_port}, SMTP 127.0.0.1:{server.smtp_port}")
    app = App(load_config(demo_config(folder, server.imap_port, server.smtp_port), environ={}))
    daemon = BackgroundDaemon(app)
    events: list[str] = []
    play = _Secretarias(app, server, say)

    def wait(phase: Phase, ronda: Ronda) -> dict[str, str]:
        left = max(timeout - (time.monotonic() - started), 5)
        replies = sum(1 for s in SCRIPT if list(Phase).index(s.phase) <= list(Phase).index(phase))
        return _wait_for(app, ronda, expected_states(phase), decided=replies, timeout=left, say=say, events=events)

    try:
        setup.upgrade_storage(app)
        vigencia = app.clock.today().year + 1
        daemon.start()
        report = campaign.start(app, vigencia)
        daemon.watcher.flush_outbox()
        say(f"formulación {vigencia}: {len(report.queued)} workbooks mailed (deadline {report.deadline})")
        play.phase(Phase.FORMULACION)
        wait(Phase.FORMULACION, Ronda.FORMULACION)
        play.phase(Phase.CORRECTIONS)
        states = wait(Phase.CORRECTIONS, Ronda.FORMULACION)
        consolidated = folder / f"plan-de-accion-consolidado-{vigencia}.xlsx"
        export.export(app, vigencia, consolidated)
        t1 = campaign.start(app, vigencia, ronda=Ronda.SEGUIMIENTO_T1)
        daemon.watcher.flush_outbox()
        say(f"seguimiento T1 {vigencia}: {len(t1.queued)} workbooks mailed, to the dependencias with an accepted plan")
        play.phase(Phase.SEGUIMIENTO_T1)
        wait(Phase.SEGUIMIENTO_T1, Ronda.SEGUIMIENTO_T1)
        evaluation = folder / f"evaluacion-T1-{vigencia}.xlsx"
        quarter = seguimiento.export_evaluation(app, vigencia, Ronda.SEGUIMIENTO_T1, evaluation)
        result = digest.send(app, dry_run=folder / "resumen")
        status = queries.status(app, today=app.clock.today())
        outcomes = _outcomes(app)
        mails = {d.code: len(server.messages(d.address)) for d in DEPENDENCIAS}
        forwarded = _forwarded(server)
        needs_a_person = attention.list_rows(app)
    finally:
        daemon.stop()
        server.stop()
    return DemoResult(
        folder=folder,
        states=states,
        status=status,
        digest_html=result.written[1],
        consolidated=consolidated,
        archive=app.config.storage.archive_dir,
        seconds=time.monotonic() - started,
        events=events,
        seguimiento=_round_states(status, Ronda.SEGUIMIENTO_T1),
        evaluation=evaluation,
        scores=_scores(quarter.evaluation),
        outcomes=outcomes,
        mails=mails,
        coverage=coverage_es(len(quarter.evaluation.dependencias), len(app.config.dependencias)),
        attention=needs_a_person,
        forwarded=forwarded,
    )


def _round_states(status: dict[str, Any], ronda: Ronda) -> dict[str, str]:
    return {
        d["code"]: entry["state"] for d in status["dependencias"] for entry in d["rounds"] if entry["ronda"] == ronda
    }


def _outcomes(app: App) -> dict[str, list[str]]:
    """Each dependencia's replies by their sender address (an auto-reply may be filed without a dependencia)."""
    by_address = {d.address: d.code for d in DEPENDENCIAS}
    out: dict[str, list[str]] = {d.code: [] for d in DEPENDENCIAS}
    for row in reversed(queries.received_rows(app, limit=500)):
        code = next((c for a, c in by_address.items() if a in str(row["from"]).lower()), None)
        if code is not None:
            out[code].append(str(row["outcome"]))
    return out


def _forwarded(server: EmbeddedMailServer) -> dict[str, int]:
    """The questions in the contact's mailbox, by the dependencia whose secretario a «Responder» reaches."""
    by_address = {d.address: d.code for d in DEPENDENCIAS}
    out: dict[str, int] = {}
    for raw in server.messages(CONTACT):
        code = by_address.get(str(_parse(raw)["Reply-To"] or "").strip("<> ").lower())
        if code is not None:
            out[code] = out.get(code, 0) + 1
    return out


def _scores(result: MunicipalityEvaluation) -> dict[str, str]:
    def shown(score: Decimal | None, grade: Grade | None) -> str:
        text = format_percent(None if score is None else percent(score), missing="sin metas programadas")
        return f"{text} {grade.name}" if grade else text

    scores = {d.code: shown(d.score, d.grade) for d in result.dependencias}
    return {**scores, "municipio": shown(result.score, result.grade)}


# ------------------------------------------------------------------------------------------------ secretarías


class _Secretarias:
    """Plays the secretarías of `SCRIPT`: each act builds the reply a person would send."""

    def __init__(self, app: App, server: EmbeddedMailServer, say: Callable[[str], None]) -> None:
        self.app, self.server, self.say = app, server, say
        self.limits = ReaderLimits.from_config(app.config.limits)
        self.oficios = 40  # the oficios planeación has received this year before the plans

    def phase(self, phase: Phase) -> None:
        for step in (s for s in SCRIPT if s.phase is phase):
            dep = BY_CODE[step.code]
            original = self._original(dep, phase)
            reply = _ACTS[step.act](self, dep, original)
            _send(self.app, reply, dep.address, str(original["Reply-To"] or PLANEACION))

    def _original(self, dep: DemoDependencia, phase: Phase) -> EmailMessage:
        if phase is Phase.FORMULACION:
            return _mailing(self.server, dep.address)
        if phase is Phase.SEGUIMIENTO_T1:
            return _mailing(self.server, dep.address, subject="Seguimiento")
        return _parse(self.server.messages(dep.address)[-1])  # the answer it got

    def _metas(self, dep: DemoDependencia) -> list[Meta]:
        return valid_metas(len(SAMPLE[dep.code].metas), AvailableBudget(*dep.budget), dependencia=dep.code)

    def _plan(self, dep: DemoDependencia, metas: list[Meta]) -> tuple[str, bytes]:
        """The workbook mailed to `dep`, filled in today and sent under an oficio number of its own."""
        template = _workbook(_mailing(self.server, dep.address))
        self.oficios += 1
        header: dict[str, object] = {
            HeaderField.FECHA: self.app.clock.today(),
            HeaderField.OFICIO: f"{dep.code}-1.2-{self.oficios:03d}",
        }
        return f"Plan de acción {dep.name}.xlsx", fill_plan(template, metas, header)

    # -- acts ------------------------------------------------------------------------------------------------

    def correct_plan(self, dep: DemoDependencia, original: EmailMessage) -> bytes:
        self.say(f"{dep.name}: sends its plan ({len(SAMPLE[dep.code].metas)} metas)")
        return _reply(original, dep, attachments=[self._plan(dep, self._metas(dep))])

    def over_budget(self, dep: DemoDependencia, original: EmailMessage) -> bytes:
        metas = self._metas(dep)
        first = metas[0]
        first[money_key(Source.POAI, 2)] = int(str(first[money_key(Source.POAI, 2)])) + dep.budget[0] // 10
        self.say(f"{dep.name}: sends a plan over its available POAI (one meta grew by a tenth of it)")
        return _reply(original, dep, attachments=[self._plan(dep, metas)])

    def no_responsables(self, dep: DemoDependencia, original: EmailMessage) -> bytes:
        metas = self._metas(dep)
        for meta in metas[:2]:
            meta["resp_name"] = meta["resp_title"] = meta["resp_email"] = None
        self.say(f"{dep.name}: sends a plan with two metas lacking their responsables")
        return _reply(original, dep, attachments=[self._plan(dep, metas)])

    def out_of_office(self, dep: DemoDependencia, original: EmailMessage) -> bytes:
        self.say(f"{dep.name}: Outlook's out-of-office assistant answers")
        return _reply(
            original,
            dep,
            body="Estaré fuera de la oficina hasta el 15 de enero, sin acceso al correo.",
            subject="Respuesta automática: Fuera de la oficina",
            headers={"Auto-Submitted": "auto-replied"},
        )

    def no_attachment(self, dep: DemoDependencia, original: EmailMessage) -> bytes:
        self.say(f"{dep.name}: replies, but forgets the attachment")
        return _reply(original, dep, body="Buenas tardes, envío el plan de acción de la Secretaría.")

    def question(self, dep: DemoDependencia, original: EmailMessage) -> bytes:
        self.say(f"{dep.name}: answers with a question about how to program a meta, still without the plan")
        return _reply(original, dep, body=QUESTION)

    def two_workbooks(self, dep: DemoDependencia, original: EmailMessage) -> bytes:
        self.say(f"{dep.name}: attaches two workbooks, the filled plan and the blank one received")
        blank = ("E-DE-F-010 formato recibido.xlsx", _workbook(original))
        return _reply(original, dep, attachments=[self._plan(dep, self._metas(dep)), blank])

    def quarter_as_programmed(self, dep: DemoDependencia, original: EmailMessage) -> bytes:
        self.say(f"{dep.name}: reports the first quarter as programmed")
        return self._quarter(dep, original, lagging=False)

    def quarter_lagging(self, dep: DemoDependencia, original: EmailMessage) -> bytes:
        self.say(f"{dep.name}: reports the first quarter, one meta at 40 % of what was programmed")
        return self._quarter(dep, original, lagging=True)

    def _quarter(self, dep: DemoDependencia, original: EmailMessage, *, lagging: bool) -> bytes:
        workbook = _workbook(original)
        parsed = read_workbook(workbook, self.limits)
        assert isinstance(parsed, ParsedWorkbook), "the demo's own workbook reads back"
        first = values.text(parsed.seguimiento[0].cell("meta_code").value)
        filled = fill_seguimiento(workbook, 1, sample_reports(parsed, 1, {first: LAGGING_PACE} if lagging else None))
        return _reply(
            original,
            dep,
            body="Buenos días, adjunto el seguimiento del primer trimestre con los enlaces a las evidencias.",
            attachments=[(f"Seguimiento T1 {dep.name}.xlsx", filled)],
        )


_ACTS: dict[str, Callable[[_Secretarias, DemoDependencia, EmailMessage], bytes]] = {
    name: getattr(_Secretarias, name)
    for name in (
        "correct_plan",
        "over_budget",
        "no_responsables",
        "out_of_office",
        "no_attachment",
        "question",
        "two_workbooks",
        "quarter_as_programmed",
        "quarter_lagging",
    )
}


def _mailing(server: EmbeddedMailServer, address: str, subject: str = "") -> EmailMessage:
    """The first message in `address` whose subject holds `subject`, once it has arrived."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for raw in server.messages(address):
            message = _parse(raw)
            if subject in str(message["Subject"]):
                return message
        time.sleep(0.1)
    raise TimeoutError(f"the mailing for {address} never arrived")


def _workbook(message: EmailMessage) -> bytes:
    for part in message.iter_attachments():
        data = part.get_content()
        if str(part.get_filename() or "").endswith(".xlsx") and isinstance(data, bytes):
            return data
    raise ValueError("no workbook in the mailing")


def _parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _reply(
    original: EmailMessage,
    dep: DemoDependencia,
    *,
    body: str = "Buenos días, adjunto el plan de acción diligenciado.\n\nCordialmente,",
    subject: str | None = None,
    attachments: list[tuple[str, bytes]] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = f"{dep.head} <{dep.address}>"
    message["To"] = str(original["Reply-To"] or PLANEACION)
    replied = str(original["Subject"])
    # Outlook and Gmail add no second "RE:" to a subject that already has one (a reply to mailbot's answer)
    message["Subject"] = subject or (replied if replied.upper().startswith("RE:") else f"RE: {replied}")
    message["In-Reply-To"] = str(original["Message-ID"])
    message["References"] = str(original["Message-ID"])
    message["Message-ID"] = make_msgid(domain=DOMAIN)
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(f"{body}\n{dep.head}\n{dep.title}")
    for filename, data in attachments or []:
        message.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=filename)
    return message.as_bytes()


def _send(app: App, raw: bytes, sender: str, to: str) -> None:
    with smtplib.SMTP(app.config.smtp.host, app.config.smtp.effective_port, timeout=10) as smtp:
        smtp.sendmail(sender, [to], raw)


# ------------------------------------------------------------------------------------------------ watching


def _wait_for(
    app: App,
    ronda: Ronda,
    expected: dict[str, str],
    *,
    decided: int,
    timeout: float,
    say: Callable[[str], None],
    events: list[str],
) -> dict[str, str]:
    """Report every decision as it happens; return the states in `ronda` once `decided` messages have an outcome,
    every dependencia is in its expected state and every answer has left, or when time is up."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for r in queries.received_rows(app, limit=500) if r["outcome"] is not None]
        for row in reversed(rows):
            if row["id"] in seen:
                continue
            seen.add(row["id"])
            if len(seen) <= len(events):
                continue  # reported in an earlier phase
            line = f"message #{row['id']} from {row['from']}: {row['outcome']}" + (
                f" (radicado {row['radicado']})" if row["radicado"] else ""
            )
            events.append(line)
            say(f"  → {line}")
        states = _round_states(queries.status(app, today=app.clock.today()), ronda)
        states = {code: states.get(code, "no_mailing") for code in expected} | {
            code: state for code, state in states.items() if code not in expected
        }
        answered = all(r["status"] == "sent" for r in queries.outbox_rows(app, limit=500))
        if (len(rows) >= decided and states == expected and answered) or time.monotonic() > deadline:
            return states
        time.sleep(0.2)
