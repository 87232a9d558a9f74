"""`mailbot demo`: formulación and a first quarter's seguimiento in under a minute, on an embedded mail server.

Everything runs the production paths: the real IMAP and SMTP adapters talk to an embedded server on loopback
(pymap + aiosmtpd), the real scheduler runs the real daemon jobs (IDLE watcher, outbox flush), and the real
campaign, inbox, outbox, digest and export services do the work. Only the secretarías are played: six of them
reply with realistic variety (a correct plan, a plan over its budget and later corrected, a plan without
responsables, an out-of-office auto-reply, a reply without the attachment, and a correct plan). Then the first
quarter's seguimiento goes to the three dependencias whose plan was accepted; they report, one meta of Educación
lagging, and the acceptances, the digest and the committee's evaluation workbook show the scores.
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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook
from mailbot.app import App, start_embedded_mail
from mailbot.config import load_config
from mailbot.domain import values
from mailbot.domain.context import AvailableBudget
from mailbot.domain.evaluation import Grade, MunicipalityEvaluation, percent
from mailbot.domain.money import format_percent
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.workbook_format import Ronda
from mailbot.services import campaign, digest, export, queries, seguimiento, setup
from mailbot.services.daemon import BackgroundDaemon
from mailbot.services.sample_plans import Meta, fill_plan, fill_seguimiento, sample_reports, valid_metas

if TYPE_CHECKING:
    from mailbot.adapters.embedded_mail import EmbeddedMailServer

DOMAIN = "villaesperanza.gov.co"
PLANEACION = f"planeacion@{DOMAIN}"
PASSWORD = "demo"  # noqa: S105 - the embedded server's throwaway password, on loopback only
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")

#: code, name, secretario, mailbox, (POAI, funcionamiento, cofinanciación), what the secretaría does
DEPENDENCIAS: tuple[tuple[str, str, str, str, tuple[int, int, int], str], ...] = (
    ("HAC", "Secretaría de Hacienda", "Diana Marcela Londoño", "hacienda", (380_000_000, 1_200_000_000, 0), "correct"),
    (
        "EDU",
        "Secretaría de Educación",
        "Sandra Milena Restrepo",
        "educacion",
        (4_800_000_000, 900_000_000, 1_200_000_000),
        "over_budget_then_fixed",
    ),
    (
        "SAL",
        "Secretaría de Salud",
        "Óscar Iván Quintero",
        "salud",
        (2_600_000_000, 480_000_000, 750_000_000),
        "no_responsables",
    ),
    (
        "GOB",
        "Secretaría de Gobierno",
        "Carlos Alberto Muñoz",
        "gobierno",
        (950_000_000, 640_000_000, 0),
        "out_of_office",
    ),
    (
        "INF",
        "Secretaría de Infraestructura",
        "Hernán Darío Giraldo",
        "infraestructura",
        (3_700_000_000, 520_000_000, 1_100_000_000),
        "no_attachment",
    ),
    (
        "SOC",
        "Secretaría de Desarrollo Social",
        "Luz Ángela Betancur",
        "social",
        (1_450_000_000, 410_000_000, 600_000_000),
        "correct",
    ),
)
#: Where each dependencia stands once the secretarías have replied, and after Educación's resubmission.
FIRST_ROUND = {
    "HAC": "accepted",
    "EDU": "correction_requested",
    "SAL": "correction_requested",
    "GOB": "pending",
    "INF": "pending",
    "SOC": "accepted",
}
EXPECTED = {**FIRST_ROUND, "EDU": "accepted"}
#: The first quarter's seguimiento: only the dependencias with an accepted plan get it, and all report it.
EXPECTED_T1 = {"HAC": "accepted", "EDU": "accepted", "SOC": "accepted"}
LAGGING_PACE = Decimal("0.4")  # Educación's first meta: 40 % of what was programmed (Rezagada)


@dataclass
class DemoResult:
    folder: Path
    states: dict[str, str]
    status: dict[str, Any]
    digest_html: Path
    consolidated: Path
    archive: Path
    seconds: float
    events: list[str] = field(default_factory=list)
    seguimiento: dict[str, str] = field(default_factory=dict)  # code → state of its T1 round
    evaluation: Path | None = None  # the committee's T1 workbook
    scores: dict[str, str] = field(default_factory=dict)  # code (and "municipio") → "87,5 % Sobresaliente"

    @property
    def as_expected(self) -> bool:
        return self.states == EXPECTED and self.seguimiento == EXPECTED_T1


def demo_config(folder: Path, imap_port: int, smtp_port: int) -> Path:
    """A sample municipality of six dependencias, pointed at the embedded server; every path inside `folder`."""
    data = {
        "municipality": {"name": "Municipio de Villa Esperanza", "dane_code": "68999", "domains": [DOMAIN]},
        "development_plan": {"name": "Villa Esperanza, territorio de oportunidades 2024-2027", "period": "2024-2027"},
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
        "dependencias": [
            {
                "code": code,
                "name": name,
                "head": {"name": person, "title": f"Secretario(a) – {name}"},
                "addresses": [f"{box}@{DOMAIN}"],
                "budget": {"poai": poai, "operating": operating, "cofinancing": cofinancing},
            }
            for code, name, person, box, (poai, operating, cofinancing), _ in DEPENDENCIAS
        ],
        "digest": {"recipients": [PLANEACION]},
        "storage": {"database_url": f"sqlite:///{folder / 'mailbot.db'}", "archive_dir": str(folder / "archivo")},
        "signing": {"secret": secrets.token_hex(16)},
    }
    path = folder / "mailbot.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_demo(
    folder: Path, *, port_base: int = 0, say: Callable[[str], None] = print, timeout: float = 50
) -> DemoResult:
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    users = [PLANEACION] + [f"{box}@{DOMAIN}" for _, _, _, box, _, _ in DEPENDENCIAS]
    server = start_embedded_mail(domains=[DOMAIN], users=users, password=PASSWORD, port_base=port_base)
    say(f"embedded mail server: IMAP 127.0.0.1:{server.imap_port}, SMTP 127.0.0.1:{server.smtp_port}")
    app = App(load_config(demo_config(folder, server.imap_port, server.smtp_port), environ={}))
    daemon = BackgroundDaemon(app)
    events: list[str] = []
    try:
        setup.upgrade_storage(app)
        vigencia = app.clock.today().year + 1
        daemon.start()
        report = campaign.start(app, vigencia)
        daemon.watcher.flush_outbox()
        say(f"formulación {vigencia}: {len(report.queued)} workbooks mailed (deadline {report.deadline})")
        _play_secretarias(app, server, say)
        left = max(timeout - (time.monotonic() - started), 5)
        states = _wait_for(app, FIRST_ROUND, decided=len(DEPENDENCIAS), timeout=left, say=say, events=events)
        _resubmit_corrected(app, server, say)
        left = max(timeout - (time.monotonic() - started), 5)
        states = _wait_for(app, EXPECTED, decided=len(DEPENDENCIAS) + 1, timeout=left, say=say, events=events)
        consolidated = folder / f"plan-de-accion-consolidado-{vigencia}.xlsx"
        export.export(app, vigencia, consolidated)
        t1 = campaign.start(app, vigencia, ronda=Ronda.SEGUIMIENTO_T1)
        daemon.watcher.flush_outbox()
        say(f"seguimiento T1 {vigencia}: {len(t1.queued)} workbooks mailed, to the dependencias with an accepted plan")
        _report_quarter(app, server, t1.queued, say)
        left = max(timeout - (time.monotonic() - started), 5)
        _wait_for(app, EXPECTED, decided=len(DEPENDENCIAS) + 1 + len(t1.queued), timeout=left, say=say, events=events)
        evaluation = folder / f"evaluacion-T1-{vigencia}.xlsx"
        quarter = seguimiento.export_evaluation(app, vigencia, Ronda.SEGUIMIENTO_T1, evaluation)
        result = digest.send(app, dry_run=folder / "resumen")
        status = queries.status(app, today=app.clock.today())
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
    )


def _round_states(status: dict[str, Any], ronda: Ronda) -> dict[str, str]:
    return {
        d["code"]: entry["state"] for d in status["dependencias"] for entry in d["rounds"] if entry["ronda"] == ronda
    }


def _scores(result: MunicipalityEvaluation) -> dict[str, str]:
    def shown(score: Decimal | None, grade: Grade | None) -> str:
        text = format_percent(None if score is None else percent(score), missing="sin metas programadas")
        return f"{text} {grade.name}" if grade else text

    scores = {d.code: shown(d.score, d.grade) for d in result.dependencias}
    return {**scores, "municipio": shown(result.score, result.grade)}


# ------------------------------------------------------------------------------------------------ secretarías


def _play_secretarias(app: App, server: EmbeddedMailServer, say: Callable[[str], None]) -> None:
    for code, name, person, box, _, behaviour in DEPENDENCIAS:
        address = f"{box}@{DOMAIN}"
        mailing = _mailing(server, address)
        dep = app.config.dependencia(code)
        budget = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
        metas = valid_metas(6, budget, dependencia=code)
        if behaviour == "out_of_office":
            raw = _reply(
                mailing,
                address,
                person,
                body="Estaré fuera de la oficina hasta el 15 de enero.",
                subject="Respuesta automática: Fuera de la oficina",
                headers={"Auto-Submitted": "auto-replied"},
            )
            say(f"{name}: Outlook's out-of-office assistant answers")
        elif behaviour == "no_attachment":
            raw = _reply(mailing, address, person, body="Buenas tardes, envío el plan de acción.")
            say(f"{name}: replies, but forgets the attachment")
        else:
            if behaviour == "over_budget_then_fixed":
                _over_budget(metas, budget)
                say(f"{name}: sends a plan over its available budget")
            elif behaviour == "no_responsables":
                for meta in metas[:2]:
                    meta["resp_name"] = meta["resp_title"] = meta["resp_email"] = None
                say(f"{name}: sends a plan with two metas lacking their responsables")
            else:
                say(f"{name}: sends a correct plan")
            workbook = fill_plan(_workbook(mailing), metas)
            raw = _reply(mailing, address, person, attachment=(f"Plan de acción {code}.xlsx", workbook))
        _send(app, raw, address, str(mailing["Reply-To"] or PLANEACION))


def _resubmit_corrected(app: App, server: EmbeddedMailServer, say: Callable[[str], None]) -> None:
    """Educación read its correction and sends the plan again, within budget."""
    code, _, person, box, _, _ = DEPENDENCIAS[1]
    address = f"{box}@{DOMAIN}"
    correction = _parse(server.messages(address)[-1])
    dep = app.config.dependencia(code)
    metas = valid_metas(
        6, AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing), dependencia=code
    )
    mailing = _mailing(server, address)
    raw = _reply(
        correction,
        address,
        person,
        attachment=(f"Plan de acción {code} corregido.xlsx", fill_plan(_workbook(mailing), metas)),
    )
    say("Secretaría de Educación: fixes the budget and sends version 2")
    _send(app, raw, address, str(correction["Reply-To"] or PLANEACION))


def _report_quarter(app: App, server: EmbeddedMailServer, codes: list[str], say: Callable[[str], None]) -> None:
    """Each dependencia mailed the T1 workbook fills it in and replies; Educación's first meta lags behind."""
    limits = ReaderLimits.from_config(app.config.limits)
    for code, name, person, box, _, _ in DEPENDENCIAS:
        if code not in codes:
            continue
        address = f"{box}@{DOMAIN}"
        mailing = _mailing(server, address, subject="Seguimiento")
        workbook = _workbook(mailing)
        parsed = read_workbook(workbook, limits)
        assert isinstance(parsed, ParsedWorkbook), "the demo's own workbook reads back"
        pace = None
        if code == "EDU":
            pace = {values.text(parsed.seguimiento[0].cell("meta_code").value): LAGGING_PACE}
            say(f"{name}: reports the first quarter, one meta at 40 % of what was programmed")
        else:
            say(f"{name}: reports the first quarter as programmed")
        filled = fill_seguimiento(workbook, 1, sample_reports(parsed, 1, pace))
        raw = _reply(
            mailing,
            address,
            person,
            body="Buenos días, adjunto el seguimiento del primer trimestre.",
            attachment=(f"Seguimiento T1 {code}.xlsx", filled),
        )
        _send(app, raw, address, str(mailing["Reply-To"] or PLANEACION))


def _over_budget(metas: list[Meta], budget: AvailableBudget) -> None:
    first = metas[0]
    first["poai_t2"] = int(str(first["poai_t2"])) + budget.poai  # twice what is available, in one quarter


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
    sender: str,
    person: str,
    *,
    body: str = "Buenos días, adjunto el plan de acción diligenciado.\n\nCordialmente,",
    subject: str | None = None,
    attachment: tuple[str, bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = f"{person} <{sender}>"
    message["To"] = str(original["Reply-To"] or PLANEACION)
    message["Subject"] = subject or f"RE: {original['Subject']}"
    message["In-Reply-To"] = str(original["Message-ID"])
    message["References"] = str(original["Message-ID"])
    message["Message-ID"] = make_msgid(domain=DOMAIN)
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(f"{body}\n{person}")
    if attachment is not None:
        message.add_attachment(attachment[1], maintype=XLSX[0], subtype=XLSX[1], filename=attachment[0])
    return message.as_bytes()


def _send(app: App, raw: bytes, sender: str, to: str) -> None:
    with smtplib.SMTP(app.config.smtp.host, app.config.smtp.effective_port, timeout=10) as smtp:
        smtp.sendmail(sender, [to], raw)


# ------------------------------------------------------------------------------------------------ watching


def _wait_for(
    app: App,
    expected: dict[str, str],
    *,
    decided: int,
    timeout: float,
    say: Callable[[str], None],
    events: list[str],
) -> dict[str, str]:
    """Report every decision as it happens; return once `decided` messages have an outcome, every dependencia is
    in its expected state and every answer has left, or when time is up."""
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
        status = queries.status(app, today=app.clock.today())
        states = {
            d["code"]: (d["rounds"][-1]["state"] if d["rounds"] else "no_mailing") for d in status["dependencias"]
        }
        answered = all(r["status"] == "sent" for r in queries.outbox_rows(app, limit=500))
        if (len(rows) >= decided and states == expected and answered) or time.monotonic() > deadline:
            return states
        time.sleep(0.2)
