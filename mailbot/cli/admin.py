"""Setting up: check the configuration, create or upgrade the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mailbot.domain.money import format_pesos
from mailbot.errors import ConfigError, ConfigNotFoundError

if TYPE_CHECKING:  # the commands import their services lazily: `--version` and `validate` stay light
    pass
from mailbot.cli.root import (
    EXIT_PROBLEMS,
    EXIT_UNUSABLE,
    CliState,
    cli,
    fail,
    log,
    pass_state,
)


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
        fail(str(exc), EXIT_UNUSABLE)
    except ConfigError as exc:
        fail(str(exc), EXIT_PROBLEMS)
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
    if config.oauth2 is not None:
        logins = [name for name, login in (("imap", config.imap), ("smtp", config.smtp)) if config.uses_oauth2(login)]
        click.echo(
            f"  oauth2: {config.oauth2.provider} for {' and '.join(logins)}, token store {config.oauth2.token_store}"
        )
    from mailbot.adapters.db.engine import database_label  # a PostgreSQL URL's password is never printed

    click.echo(f"  storage: {database_label(config.storage.database_url)}, archive {config.storage.archive_dir}")
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

    state.require_secrets()
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
