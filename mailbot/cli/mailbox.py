"""The daemon and what it leaves behind: poll, run, the outbox, received messages, attention queue, status."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the commands import their services lazily: `--version` and `validate` stay light
    pass
from mailbot.cli.root import (
    CliState,
    cli,
    exit_while_mail_waits,
    fail,
    flush_outbox,
    pass_state,
    shown_time,
    today,
)


@cli.group("outbox")
def outbox_group() -> None:
    """The mails waiting to be sent, sent, or failed."""


@outbox_group.command("flush")
@pass_state
def outbox_flush(state: CliState) -> None:
    """Send every due mail over one SMTP connection (retries wait for their backoff)."""
    flush_outbox(state.app())


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

    state.require_secrets()
    app = state.app()
    with daemon.exclusive_mailbox(app):
        watcher = daemon.Watcher(app, threading.Event())
        try:
            report = watcher.once()
        finally:
            watcher.close()
    click.echo(f"inbox: {report.summary()}")
    exit_while_mail_waits(app)  # as `outbox flush`: answers that could not leave yet mean "not done, retry later"


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

    state.require_secrets()
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
            f"{row['id']:>6} {shown_time(row['received_at'])} {row['outcome'] or '(processing)':<21} "
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
            f"{row['id']:>6} {shown_time(row['since'])} {row['dependencia'] or '-':<5} {row['kind']:<15} "
            f"{row['summary']}"
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
        fail(f"attention: no open item with id {item_id}", 1)
    click.echo(f"attention: item {item_id} resolved")


@cli.command("status")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def status_command(state: CliState, as_json: bool) -> None:
    """Per dependencia, the state of each round: pending, correction_requested, accepted or late."""
    from mailbot.services import health, queries

    app = state.app()
    data = queries.status(app, today=today(state))
    data["daemon"] = health.check(app, everywhere=True).processes  # incl. a refused login, until it works again
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for report in data["daemon"]:
        if report["auth_state"] == "refused":
            click.echo(
                f"daemon {report['process']}: {report['auth_service']} refused the credentials since "
                f"{report['auth_since']}; next attempt at {report['auth_next_attempt_at']}: {report['last_error']}"
            )
    for dep in data["dependencias"]:
        if not dep["rounds"]:
            click.echo(f"{dep['code']:<5} {dep['name']}: no mailing yet")
        for entry in dep["rounds"]:
            extra = entry["radicado"] or (f"{entry['open_findings']} open finding(s)" if entry["open_findings"] else "")
            click.echo(
                f"{dep['code']:<5} {entry['ronda']} {entry['vigencia']}: {entry['state']:<21} "
                f"deadline {entry['deadline']}  last activity {shown_time(entry['last_activity'])}  {extra}"
            )
