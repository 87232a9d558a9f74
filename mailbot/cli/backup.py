"""`mailbot backup OUT`: a consistent copy of the database (SQLite) and the archive, checked."""

from __future__ import annotations

from pathlib import Path

import click

from mailbot.cli.root import EXIT_PROBLEMS, CliState, OutputPath, cli, fail, pass_state


@cli.command("backup")
@click.argument("out", type=OutputPath(dir_okay=True))
@pass_state
def backup_command(state: CliState, out: Path) -> None:
    """Copy the database and the archive into OUT (a new or empty folder) while the daemon runs; exit 1 when the
    copy misses a file its database names. Restore: docs/DEPLOY.md."""
    from mailbot.services import backup

    app = state.app()
    try:
        report = backup.backup(app, out)
    finally:
        app.close()
    if report.database is not None:
        click.echo(f"database: {report.database}")
    click.echo(f"archive: {report.folder / backup.ARCHIVE_FOLDER} ({report.files} files)")
    if report.pg_dump is not None:
        click.echo(f"PostgreSQL: the database is not in this copy; run before it: {report.pg_dump}")
    for path in report.missing:
        click.echo(f"missing from the copy: {path}", err=True)
    if report.missing:
        fail(f"{len(report.missing)} archived files the database names are missing or altered", EXIT_PROBLEMS)
    if report.database is not None:
        click.echo(f"checked: the {report.checked} files the database names are in the copy, SHA-256 verified")
