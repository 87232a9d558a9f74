"""The `mailbot` command: parse arguments, build the app, call one service, map errors to exit codes.

Exit codes (a contract: planeación's scripts rely on them):
    0   done / valid
    1   the thing checked has problems (e.g. `config check` found errors)
    2   the input cannot be used: bad arguments, missing or invalid configuration file
    3   the storage (database, archive folder) cannot be used
    75  a temporary failure (a server is down): try again later
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from mailbot import __version__
from mailbot.config import MailbotConfig, load_config, resolve_config_path
from mailbot.domain.money import format_pesos
from mailbot.domain.rounds import default_vigencia, vigencia_of
from mailbot.domain.workbook_format import Ronda
from mailbot.errors import ConfigError, ConfigNotFoundError, MailbotError, StorageError, TemporaryError
from mailbot.log import configure_logging, get_logger

if TYPE_CHECKING:  # the commands import their services lazily: `--version` and `validate` stay light
    from mailbot.app import App
    from mailbot.domain.seguimiento import Baseline
    from mailbot.services.validation import ValidationResult

EXIT_PROBLEMS = 1
EXIT_UNUSABLE = 2
EXIT_STORAGE = 3
EXIT_TEMPORARY = 75

log = get_logger("mailbot.cli")


@dataclass
class CliState:
    config_path: Path
    _config: MailbotConfig | None = field(default=None, init=False)

    def config(self) -> MailbotConfig:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def app(self) -> App:
        from mailbot.app import App

        return App(self.config())


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"mailbot: {message}", err=True)
    raise SystemExit(code)


class MailbotGroup(click.Group):
    """Turns mailbot's own errors into one readable line and the documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            _fail(str(exc), EXIT_UNUSABLE)
        except StorageError as exc:
            _fail(str(exc), EXIT_STORAGE)
        except TemporaryError as exc:
            _fail(f"{exc} (temporary: try again later)", EXIT_TEMPORARY)
        except MailbotError as exc:
            _fail(str(exc), EXIT_PROBLEMS)


@click.group(cls=MailbotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Configuration file. Default: $MAILBOT_CONFIG, else config/mailbot.yaml.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    default="auto",
    show_default=True,
    help="auto: a readable console on a terminal, JSON lines otherwise.",
)
@click.version_option(__version__, prog_name="mailbot")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, log_level: str, log_format: str) -> None:
    """mailbot runs the E-DE-F-010 action-plan process of a municipality by e-mail."""
    configure_logging(log_level, log_format)  # type: ignore[arg-type]
    ctx.obj = CliState(resolve_config_path(config_path))


pass_state = click.make_pass_decorator(CliState)


@cli.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@pass_state
def config_check(state: CliState) -> None:
    """Validate the configuration file and what it points at; exit 1 when something is wrong."""
    try:
        config = state.config()
    except ConfigNotFoundError as exc:
        _fail(str(exc), EXIT_UNUSABLE)
    except ConfigError as exc:
        _fail(str(exc), EXIT_PROBLEMS)
    from mailbot.services import setup

    report = setup.check_configuration(config)
    m = config.municipality
    budget = sum(d.budget.total for d in config.dependencias)
    click.echo(f"{state.config_path}: {m.name} (DANE {m.dane_code}), plan {config.development_plan.name}")
    click.echo(f"  dependencias: {len(config.dependencias)}, available budget {format_pesos(budget)}")
    click.echo(
        f"  imap: {config.imap.user or '-'} at {config.imap.host}:{config.imap.effective_port} "
        f"({config.imap.security}), folder {config.imap.folder}"
    )
    click.echo(
        f"  smtp: {config.smtp.host}:{config.smtp.effective_port} ({config.smtp.security}), "
        f"from {config.smtp.from_address}"
    )
    click.echo(f"  storage: {config.storage.database_url}, archive {config.storage.archive_dir}")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")
    for problem in report.problems:
        click.echo(f"  error: {problem}", err=True)
    if not report.ok:
        raise SystemExit(EXIT_PROBLEMS)
    click.echo("configuration OK")


@cli.group("db")
def db_group() -> None:
    """Manage the database."""


@db_group.command("upgrade")
@pass_state
def db_upgrade(state: CliState) -> None:
    """Create the database and the archive folder, or bring them to this version. Safe to repeat."""
    from mailbot.services import setup

    app = state.app()
    try:
        result = setup.upgrade_storage(app)
    finally:
        app.close()
    if result.changed:
        click.echo(f"database upgraded from {result.before or 'empty'} to {result.after}")
        log.info("database_upgraded", before=result.before, after=result.after)
    else:
        click.echo(f"database already at {result.after}: nothing to do")
    click.echo(f"archive folder: {result.archive_dir}")


def _flush_outbox(app: App) -> None:
    """Send what is due now over the app's sender, and say how it went."""
    from mailbot.services import outbox

    click.echo(f"outbox: {outbox.flush(app.sessions, app.senders, app.clock.now).summary()}")


def _today(state: CliState) -> dt.date:
    return state.app().clock.today()


def _vigencia(state: CliState, given: int | None, ronda: Ronda = Ronda.FORMULACION) -> int:
    """Formulación: the coming plan year; a seguimiento: the year of that quarter's latest cut-off."""
    if ronda is not Ronda.FORMULACION and given is None and state.config().rounds.vigencia is None:
        return vigencia_of(state.config().rounds.days(), ronda, _today(state))
    return default_vigencia(_today(state), given or state.config().rounds.vigencia)


@cli.command("template")
@click.option("--dependencia", "dependencia", required=True, help="Code of the dependencia, e.g. HAC.")
@click.option("--ronda", type=click.Choice([r.value for r in Ronda]), default=Ronda.FORMULACION.value)
@click.option("--vigencia", type=click.IntRange(2000, 2100), default=None, help="Default: the coming plan year.")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@pass_state
def template_command(state: CliState, dependencia: str, ronda: str, vigencia: int | None, out: Path) -> None:
    """Write one dependencia's pre-filled E-DE-F-010 workbook (not tied to a mailing: a fresh token).

    A seguimiento workbook is built on the dependencia's accepted plan, read from the database and archive.
    """
    from mailbot.services import templates

    config = state.config()
    year = _vigencia(state, vigencia, Ronda(ronda))
    if Ronda(ronda) is Ronda.FORMULACION:
        data = templates.make_template(
            config, dependencia, vigencia=year, ronda=Ronda(ronda), token=templates.new_token()
        )
    else:
        from mailbot.services import seguimiento

        data = seguimiento.preview(state.app(), dependencia.upper(), year, Ronda(ronda), templates.new_token())
    out.write_bytes(data)
    dep = config.dependencia(dependencia)
    click.echo(f"{out}: {dep.name}, {Ronda(ronda).value} {year} ({len(data):,} bytes)")


@cli.command("validate")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--dependencia", default=None, help="Expected dependencia; default: the workbook's _control.")
@click.option("--ronda", type=click.Choice([r.value for r in Ronda]), default=None)
@click.option("--vigencia", type=click.IntRange(2000, 2100), default=None)
@click.option("--json", "as_json", is_flag=True, help='Print {"accepted": bool, "findings": [...]}.')
@click.option(
    "--annotated",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write a copy of the workbook with every finding marked on its cell.",
)
@pass_state
def validate_command(
    state: CliState,
    file: Path,
    dependencia: str | None,
    ronda: str | None,
    vigencia: int | None,
    as_json: bool,
    annotated: Path | None,
) -> None:
    """Check a returned plan with the daemon's rules: exit 0 accepted, 1 errors, 2 unusable input."""
    from mailbot.services import validation

    config = state.config()
    try:
        result = validation.validate_bytes(
            config,
            file.read_bytes(),
            dependencia=dependencia.upper() if dependencia else None,
            ronda=Ronda(ronda) if ronda else None,
            vigencia=vigencia,
            today=_today(state),
            baseline_of=lambda code, year, r: _stored_baseline(state, code, year, r),
        )
    except validation.UnknownContextError as exc:
        _fail(str(exc), EXIT_UNUSABLE)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_findings(file, result))
    if annotated is not None:
        copy = validation.annotate(file.read_bytes(), result)
        if copy is None:
            click.echo("no annotated copy: the file could not be read as a workbook", err=True)
        else:
            annotated.write_bytes(copy)
            if not as_json:
                click.echo(f"annotated copy: {annotated}")
    raise SystemExit(0 if result.accepted else EXIT_PROBLEMS)


def _stored_baseline(state: CliState, code: str, year: int, ronda: Ronda) -> Baseline | None:
    """The accepted plan a seguimiento answers, when this machine's storage has it (else the file alone is checked)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from mailbot.services import seguimiento

    url = make_url(state.config().storage.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        click.echo(f"note: no database here: S03 and S05 of {ronda.value} were not checked", err=True)
        return None
    app = state.app()
    try:
        with app.sessions() as session:
            found = seguimiento.baseline(app, session, year, code, ronda)
    except (MailbotError, SQLAlchemyError) as exc:
        click.echo(f"note: no stored plan to check {ronda.value} against ({exc.__class__.__name__})", err=True)
        return None
    if found is None:
        click.echo(f"note: no accepted {year} plan of {code} in storage: S03 and S05 were not checked", err=True)
        return None
    return found[0]


@cli.group("campaign")
def campaign_group() -> None:
    """Start rounds and mail each dependencia its workbook."""


@campaign_group.command("start")
@click.argument("ronda", type=click.Choice([r.value for r in Ronda]))
@click.option("--vigencia", type=click.IntRange(2000, 2100), default=None, help="Default: the coming plan year.")
@click.option("--dependencia", "dependencias", multiple=True, help="Only these codes (repeatable).")
@click.option(
    "--dry-run",
    "dry_run",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write one .eml per dependencia to this folder; store and send nothing.",
)
@pass_state
def campaign_start(
    state: CliState, ronda: str, vigencia: int | None, dependencias: tuple[str, ...], dry_run: Path | None
) -> None:
    """Queue each dependencia's mailing (once: a rerun sends nothing new) and send the outbox."""
    from mailbot.services import campaign

    app = state.app()
    year = _vigencia(state, vigencia, Ronda(ronda))
    codes = [code.upper() for code in dependencias] or None
    report = campaign.start(app, year, ronda=Ronda(ronda), only=codes, dry_run=dry_run)
    if dry_run is not None:
        for path in report.written:
            click.echo(f"wrote {path}")
    else:
        click.echo(
            f"{ronda} {year} (deadline {report.deadline.isoformat()}): {len(report.queued)} mailing(s) queued"
            + (f" [{', '.join(report.queued)}]" if report.queued else "")
            + f", {len(report.already)} already mailed"
        )
    if report.no_plan:
        click.echo(f"no accepted {year} plan to follow up (not mailed): {', '.join(report.no_plan)}")
    if dry_run is not None:
        return
    _flush_outbox(app)


@campaign_group.command("resend")
@click.option("--dependencia", required=True)
@click.option("--vigencia", type=click.IntRange(2000, 2100), default=None)
@click.option("--ronda", type=click.Choice([r.value for r in Ronda]), default=Ronda.FORMULACION.value)
@pass_state
def campaign_resend(state: CliState, dependencia: str, vigencia: int | None, ronda: str) -> None:
    """Send a dependencia's mailing again, with the same token, and flush the outbox."""
    from mailbot.services import campaign

    app = state.app()
    year = _vigencia(state, vigencia, Ronda(ronda))
    message_id = campaign.resend(app, dependencia.upper(), year, Ronda(ronda))
    click.echo(f"queued {message_id}")
    _flush_outbox(app)


@cli.group("outbox")
def outbox_group() -> None:
    """The mails waiting to be sent, sent, or failed."""


@outbox_group.command("flush")
@pass_state
def outbox_flush(state: CliState) -> None:
    """Send every due mail over one SMTP connection (retries wait for their backoff)."""
    _flush_outbox(state.app())


@outbox_group.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]), default=None)
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@pass_state
def outbox_list(state: CliState, status: str | None, as_json: bool, limit: int) -> None:
    """The most recent outgoing mails with their status, attempts and last error."""
    from mailbot.services import queries

    rows = queries.outbox_rows(state.app(), status=status, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        error = f"  {row['last_error']}" if row["last_error"] else ""
        click.echo(
            f"{row['id']:>6} {row['status']:<8} {row['kind']:<11} attempts={row['attempts']} "
            f"{','.join(row['recipients'])}{error}"
        )


@cli.command("poll")
@click.option("--once", is_flag=True, required=True, help="One pass: fetch, process, flush the outbox, exit.")
@pass_state
def poll_command(state: CliState, once: bool) -> None:
    """Process every new reply in the mailbox once, send the answers, and exit."""
    import threading

    from mailbot.services import daemon

    app = state.app()
    with daemon.exclusive_mailbox(app):
        watcher = daemon.Watcher(app, threading.Event())
        try:
            report = watcher.once()
        finally:
            watcher.close()
    click.echo(f"inbox: {report.summary()}")


@cli.command("run")
@click.option(
    "--role",
    type=click.Choice(["all", "fetcher", "worker"]),
    default="all",
    show_default=True,
    help="all: one process does everything. With PostgreSQL only: fetcher (watch the mailbox, archive, record; "
    "one active per mailbox, others stand by) or worker (decide and answer; any number, any machine).",
)
@pass_state
def run_command(state: CliState, role: str) -> None:
    """The daemon: watch the mailbox (IDLE or poll), answer, retry the outbox; SIGTERM/SIGINT stop it cleanly."""
    from mailbot.services import daemon

    daemon.run(state.app(), next(r for r in daemon.ROLES if r == role))  # click.Choice: one of them


@cli.command("messages")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=50, show_default=True)
@click.option("--outcome", default=None, help="Only this outcome (accepted, quarantined, ...).")
@pass_state
def messages_command(state: CliState, as_json: bool, limit: int, outcome: str | None) -> None:
    """Every received message with its outcome, dependencia, radicado and reason (newest first)."""
    from mailbot.services import queries

    rows = queries.received_rows(state.app(), limit=limit, outcome=outcome)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['id']:>6} {row['received_at'][:19]} {row['outcome'] or '(processing)':<21} "
            f"{row['dependencia'] or '-':<5} {row['radicado'] or '':<17} {row['from'] or '-'}  {row['reason'] or ''}"
        )


@cli.group("attention")
def attention_group() -> None:
    """What needs a person at planeación: the standing queue (the digest's first section)."""


@attention_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def attention_list(state: CliState, as_json: bool) -> None:
    """The open items, oldest first: id, since, dependencia, kind and what happened (in Spanish)."""
    from mailbot.services import attention

    rows = attention.list_rows(state.app())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['id']:>6} {row['since'][:16]} {row['dependencia'] or '-':<5} {row['kind']:<15} {row['summary']}"
        )
    if not rows:
        click.echo("attention: nothing open")


@attention_group.command("resolve")
@click.argument("item_id", metavar="ID", type=int)
@click.option("--note", default=None, help="What was done, kept with the item.")
@pass_state
def attention_resolve(state: CliState, item_id: int, note: str | None) -> None:
    """Close one open item (exit 1 when there is no open item with that id)."""
    from mailbot.services import attention

    if not attention.resolve(state.app(), item_id, note):
        _fail(f"attention: no open item with id {item_id}", 1)
    click.echo(f"attention: item {item_id} resolved")


@cli.command("status")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def status_command(state: CliState, as_json: bool) -> None:
    """Per dependencia, the state of each round: pending, correction_requested, accepted or late."""
    from mailbot.services import queries

    data = queries.status(state.app(), today=_today(state))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for dep in data["dependencias"]:
        if not dep["rounds"]:
            click.echo(f"{dep['code']:<5} {dep['name']}: no mailing yet")
        for entry in dep["rounds"]:
            extra = entry["radicado"] or (f"{entry['open_findings']} open finding(s)" if entry["open_findings"] else "")
            click.echo(
                f"{dep['code']:<5} {entry['ronda']} {entry['vigencia']}: {entry['state']:<21} "
                f"deadline {entry['deadline']}  last activity {(entry['last_activity'] or '-')[:19]}  {extra}"
            )


@cli.group("digest")
def digest_group() -> None:
    """Planeación's digest."""


@digest_group.command("send")
@click.option(
    "--dry-run",
    "dry_run",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write the digest (.eml and .html) to this folder; store and send nothing.",
)
@click.option("--force", is_flag=True, help="Send even when nothing changed and skip_when_unchanged is on.")
@pass_state
def digest_send(state: CliState, dry_run: Path | None, force: bool) -> None:
    """Build today's digest for planeación and send it (at most one a day)."""
    from mailbot.services import digest

    app = state.app()
    result = digest.send(app, dry_run=dry_run, force=force)
    for path in result.written:
        click.echo(f"wrote {path}")
    if dry_run is None:
        click.echo(f"digest: {result.reason}")
        _flush_outbox(app)


@cli.group("reminders")
def reminders_group() -> None:
    """Reminders before the deadline and late notices after it."""


@reminders_group.command("send")
@pass_state
def reminders_send(state: CliState) -> None:
    """Queue today's reminders and late notices (working days only; never two a day) and send them."""
    from mailbot.services import reminders

    app = state.app()
    report = reminders.send_due(app, _today(state))
    click.echo(f"reminders: {len(report.reminded)} reminder(s), {len(report.late)} late notice(s)")
    _flush_outbox(app)


@cli.command("export")
@click.option("--vigencia", type=click.IntRange(2000, 2100), default=None)
@click.option("--ronda", type=click.Choice([r.value for r in Ronda]), default=Ronda.FORMULACION.value)
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@pass_state
def export_command(state: CliState, vigencia: int | None, ronda: str, out: Path) -> None:
    """Write the consolidated action plan (formulación, ready to publish: Ley 1474, art. 74), or a quarter's
    evaluation for the management committee (seguimiento-T1..T4: per meta, per dependencia, municipality)."""
    from mailbot.services import export, seguimiento

    year = _vigencia(state, vigencia, Ronda(ronda))
    if Ronda(ronda) is not Ronda.FORMULACION:
        result = seguimiento.export_evaluation(state.app(), year, Ronda(ronda), out)
        score = result.evaluation.score
        shown = "no programmed metas" if score is None else f"score {score * 100:.1f} %"
        click.echo(
            f"{out}: {len(result.radicados)} accepted report(s), {len(result.missing)} dependencia(s) missing; "
            f"municipality {shown}"
        )
        return
    found = export.export(state.app(), year, out, Ronda(ronda))
    click.echo(f"{out}: {len(found.plans)} accepted plan(s), {len(found.missing)} dependencia(s) missing")


@cli.command("demo")
@click.option(
    "--port-base", type=click.IntRange(0, 65000), default=0, help="IMAP on N, SMTP on N+1 (default: free ports)."
)
@click.option(
    "--keep",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Keep everything (database, archive, digest, consolidated plan) in this folder.",
)
def demo_command(port_base: int, keep: Path | None) -> None:
    """See the whole cycle in under a minute: an embedded mail server, seven simulated secretarías, the real daemon."""
    import tempfile

    from mailbot.services import demo

    configure_logging("warning")  # the demo narrates; the daemon's info lines would drown it
    click.echo("mailbot demo: Municipio de Villa Esperanza, formulación del plan de acción y seguimiento T1")
    with contextlib.ExitStack() as stack:
        folder = keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mailbot-demo-")))
        result = demo.run_demo(folder, port_base=port_base, say=lambda line: click.echo(f"{_clock()} {line}"))
        click.echo("")
        click.echo(f"{'dependencia':<46} {'formulación':<21} {'radicado':<17} {'seguimiento T1':<22} replies")
        for dep in result.status["dependencias"]:
            entry: dict[str, Any] = next((r for r in dep["rounds"] if r["ronda"] == "formulacion"), {})
            t1 = result.scores.get(dep["code"], "")
            replies = ", ".join(result.outcomes.get(dep["code"], []))
            click.echo(
                f"{dep['name']:<46} {entry.get('state', '-'):<21} {entry.get('radicado') or '':<17} {t1:<22} {replies}"
            )
        click.echo(f"{'municipio':<46} {'':<21} {'':<17} {result.scores.get('municipio', ''):<22} {result.coverage}")
        click.echo("")
        click.echo(f"needs a person (mailbot attention list): {len(result.attention) or 'nothing'} open")
        for item in result.attention:
            click.echo(f"  #{item['id']:<3} {item['dependencia'] or '-':<4} {item['kind']:<12} {item['summary']}")
        click.echo("")
        where = "" if keep else " (temporary: use --keep DIR to keep it)"
        click.echo(f"digest (HTML):       {result.digest_html}{where}")
        click.echo(f"archive:             {result.archive}{where}")
        click.echo(f"consolidated plan:   {result.consolidated}{where}")
        click.echo(f"T1 evaluation:       {result.evaluation}{where}")
        for surprise in result.surprises():
            click.echo(f"unexpected: {surprise}")
        click.echo(
            f"{'every dependencia is where the scenario expects' if result.as_expected else 'UNEXPECTED STATES'}"
            f" ({result.seconds:.1f} s)"
        )
    if not result.as_expected:
        raise SystemExit(EXIT_PROBLEMS)


def _clock() -> str:
    return dt.datetime.now().strftime("%H:%M:%S")  # noqa: DTZ005 - the viewer's wall clock, for display only


def render_findings(file: Path, result: ValidationResult) -> str:
    """The findings grouped by sheet, one line each: severity, code, cell, value, message (Spanish)."""
    context = result.context
    where = f" for {context.dependencia} {context.ronda.value} {context.vigencia}" if context else ""
    verdict = "ACCEPTED" if result.accepted else "CORRECTIONS NEEDED"
    lines = [f"{file}{where}: {verdict} ({result.errors} error(s), {result.warnings} warning(s))"]
    for sheet, group in itertools.groupby(result.findings, key=lambda f: f.sheet):
        lines.append(f"\n  {sheet or '(file)'}")
        for finding in group:
            value = f" [{finding.value}]" if finding.value else ""
            cell = finding.cell or "-"
            lines.append(f"    {finding.severity.value} {finding.code}  {cell:<10}{value} {finding.message}")
    return "\n".join(lines)


def main() -> None:
    cli(prog_name="mailbot")
