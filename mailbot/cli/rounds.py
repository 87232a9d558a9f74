"""The rounds' mailings: the blank format to every secretaría, reminders and late notices, planeación's digest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from mailbot.domain.workbook_format import Ronda

if TYPE_CHECKING:  # the commands import their services lazily: `--version` and `validate` stay light
    pass
from mailbot.cli.root import (
    CliState,
    cli,
    flush_outbox,
    pass_state,
    today,
    vigencia_for,
)


@cli.group("campaign")
@pass_state
def campaign_group(state: CliState) -> None:
    """Start rounds and mail each dependencia its workbook."""
    state.require_secrets()


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
    year = vigencia_for(state, vigencia, Ronda(ronda))
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
    flush_outbox(app)


@campaign_group.command("resend")
@click.option("--dependencia", required=True)
@click.option("--vigencia", type=click.IntRange(2000, 2100), default=None)
@click.option("--ronda", type=click.Choice([r.value for r in Ronda]), default=Ronda.FORMULACION.value)
@pass_state
def campaign_resend(state: CliState, dependencia: str, vigencia: int | None, ronda: str) -> None:
    """Send a dependencia's mailing again, with the same token, and flush the outbox."""
    from mailbot.services import campaign

    app = state.app()
    year = vigencia_for(state, vigencia, Ronda(ronda))
    message_id = campaign.resend(app, dependencia.upper(), year, Ronda(ronda))
    click.echo(f"queued {message_id}")
    flush_outbox(app)


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
        flush_outbox(app)


@cli.group("reminders")
def reminders_group() -> None:
    """Reminders before the deadline and late notices after it."""


@reminders_group.command("send")
@pass_state
def reminders_send(state: CliState) -> None:
    """Queue today's reminders and late notices (working days only; never two a day) and send them."""
    from mailbot.services import reminders

    app = state.app()
    report = reminders.send_due(app, today(state))
    click.echo(f"reminders: {len(report.reminded)} reminder(s), {len(report.late)} late notice(s)")
    flush_outbox(app)
