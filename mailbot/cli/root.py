"""The `mailbot` command: parse arguments, build the app, call one service, map errors to exit codes.

Exit codes (a contract: planeación's scripts rely on them):
    0   done / valid
    1   the thing checked has problems (e.g. `config check` found errors)
    2   the input cannot be used: bad arguments, missing or invalid configuration file
    3   the storage (database, archive folder) cannot be used
    75  a temporary failure (a server is down): try again later
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from zoneinfo import ZoneInfo

import click

from mailbot import __version__
from mailbot.config import MailbotConfig, load_config, resolve_config_path, secret_problems
from mailbot.domain.rounds import default_vigencia, vigencia_of
from mailbot.domain.workbook_format import Ronda
from mailbot.errors import ConfigError, MailbotError, StorageError, TemporaryError
from mailbot.log import configure_logging, get_logger

if TYPE_CHECKING:  # the commands import their services lazily: `--version` and `validate` stay light
    from mailbot.app import App

EXIT_PROBLEMS = 1
EXIT_UNUSABLE = 2
EXIT_STORAGE = 3
EXIT_TEMPORARY = 75

log = get_logger("mailbot.cli")


@dataclass
class CliState:
    config_path: Path
    log_level: str = "info"
    _config: MailbotConfig | None = field(default=None, init=False)

    def config(self) -> MailbotConfig:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def app(self) -> App:
        from mailbot.app import App

        return App(self.config())

    def require_secrets(self) -> None:
        """For the commands that log in or sign (run, poll, campaign, db upgrade): a missing secret stops them now,
        one line naming the setting, exit 2, before any server sees a failed login."""
        problems = secret_problems(self.config())
        for problem in problems:
            click.echo(f"mailbot: {problem}", err=True)
        if problems:
            raise SystemExit(EXIT_UNUSABLE)


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"mailbot: {message}", err=True)
    raise SystemExit(code)


class MailbotGroup(click.Group):
    """Turns mailbot's own errors, and what an operator can cause (a missing folder, permissions, a full disk), into
    one readable line and the documented exit code; `--log-level debug` adds the traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, global_options_first(args))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            _fail_from(ctx, exc, str(exc), EXIT_UNUSABLE)
        except StorageError as exc:
            _fail_from(ctx, exc, str(exc), EXIT_STORAGE)
        except TemporaryError as exc:
            _fail_from(ctx, exc, f"{exc} (temporary: try again later)", EXIT_TEMPORARY)
        except MailbotError as exc:
            _fail_from(ctx, exc, str(exc), EXIT_PROBLEMS)
        except OSError as exc:
            if isinstance(exc, ConnectionError | TimeoutError) or exc.errno not in _OPERATOR_ERRNOS:
                raise
            where = exc.filename if exc.filename is not None else "a file"
            code = EXIT_STORAGE if _in_storage(ctx, where) else EXIT_UNUSABLE
            _fail_from(ctx, exc, f"{where}: {exc.strerror}", code)
        except Exception as exc:
            from sqlalchemy.exc import OperationalError  # here, not at the top: `--version` stays light

            if not isinstance(exc, OperationalError):
                raise
            from mailbot.adapters.db.engine import database_label
            from mailbot.adapters.db.migrate import describe

            state = ctx.find_object(CliState)
            where = database_label(state.config().storage.database_url) if state else "the database"
            _fail_from(ctx, exc, f"{where}: the database cannot be used: {describe(exc)}", EXIT_STORAGE)


GLOBAL_OPTIONS = ("--config", "--log-level", "--log-format")


def global_options_first(args: list[str]) -> list[str]:
    """`mailbot config check --config X` means `mailbot --config X config check`: the global options (each takes a
    value) are moved before the subcommand, wherever they were written, up to a `--`."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            takes_next = "=" not in arg and i + 1 < len(args)
            front.extend(args[i : i + 2] if takes_next else [arg])
            i += 2 if takes_next else 1
            continue
        rest.append(arg)
        i += 1
    return front + rest


#: What an operator causes and fixes: a missing folder, permissions, a read-only mount, a full disk or quota.
_OPERATOR_ERRNOS = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}
)


def _fail_from(ctx: click.Context, exc: BaseException, message: str, code: int) -> NoReturn:
    state = ctx.find_object(CliState)
    if state is not None and state.log_level == "debug":
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    fail(message, code)


def _in_storage(ctx: click.Context, filename: object) -> bool:
    """Whether a failed path is the storage's (exit 3) rather than a file the command was given (exit 2)."""
    state = ctx.find_object(CliState)
    if state is None or not isinstance(filename, str | Path):
        return False
    try:
        storage = state.config().storage
    except ConfigError:
        return False
    path = Path(filename).absolute()
    roots = [storage.archive_dir.absolute()]
    if storage.sqlite_file is not None:
        roots.append(storage.sqlite_file.absolute().parent)
    return any(path == root or root in path.parents for root in roots)


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
    ctx.obj = CliState(resolve_config_path(config_path), log_level=log_level.lower())


pass_state = click.make_pass_decorator(CliState)


class OutputPath(click.Path):
    """A file or folder a command writes: its folder must exist, or the command stops with a sentence (exit 2)
    before doing any work, instead of a traceback at the end."""

    def __init__(self, *, dir_okay: bool = False) -> None:
        super().__init__(path_type=Path, dir_okay=dir_okay, file_okay=not dir_okay)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        folder = Path(os.fsdecode(path)).absolute().parent
        if not folder.is_dir():
            self.fail(f"the folder {folder} does not exist: create it first, or write elsewhere", param, ctx)
        return path


def flush_outbox(app: App) -> None:
    """Send what is due now over the app's sender and say how it went; exit 75 while mail still waits.

    Mail that could not go out now (server down, credentials refused, a retry not yet due) stays in the outbox
    and the daemon sends it later: the command says when the next attempt is due and why, and exits 75 so that
    a script knows the job is not finished.
    """
    from mailbot.errors import PermanentError
    from mailbot.services import outbox

    try:
        report = outbox.flush_due(app.sessions, app.senders, app.clock.now)
        click.echo(f"outbox: {report.summary()}")
        if report.waiting_for_server:  # the daemon logs an outage once; a command run says it each time
            log.warning("outbox_server_unreachable", error=report.connection_error)
    except PermanentError as exc:  # e.g. the SMTP server refused the credentials: the mail waits, said below
        click.echo(f"outbox: nothing sent: {exc}")
    exit_while_mail_waits(app)


def exit_while_mail_waits(app: App) -> None:
    """Say how much mail waits, when it is tried next and why, and exit 75; nothing when all mail is out."""
    from mailbot.services import outbox

    waiting = outbox.next_waiting(app.sessions)
    if waiting is not None:
        local = waiting.next_attempt_at.astimezone(ZoneInfo(app.config.municipality.timezone))
        why = f": {waiting.last_error}" if waiting.last_error else ""
        fail(
            f"{waiting.count} mail(s) waiting to be sent; next attempt at {local.isoformat(timespec='seconds')}"
            f" by `mailbot run` or `mailbot outbox flush`{why}",
            EXIT_TEMPORARY,
        )


def shown_time(iso: str | None) -> str:
    """A listing's moment for people: the municipality's time to the second with its offset, "-" when none."""
    if iso is None:
        return "-"
    return dt.datetime.fromisoformat(iso).replace(microsecond=0).isoformat(sep=" ")


def today(state: CliState) -> dt.date:
    """The municipality's date, without building the App: `validate` needs no database (alembic and SQLAlchemy
    would cost a second of start-up); it is the same clock the App builds from the configuration."""
    from mailbot.adapters.clock import SystemClock

    return SystemClock(state.config().municipality.timezone).today()


def vigencia_for(state: CliState, given: int | None, ronda: Ronda = Ronda.FORMULACION) -> int:
    """Formulación: the coming plan year; a seguimiento: the year of that quarter's latest cut-off."""
    if ronda is not Ronda.FORMULACION and given is None and state.config().rounds.vigencia is None:
        return vigencia_of(state.config().rounds.days(), ronda, today(state))
    return default_vigencia(today(state), given or state.config().rounds.vigencia)
