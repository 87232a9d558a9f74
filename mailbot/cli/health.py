"""`mailbot health`: is the daemon well, judged from what its processes wrote (it need not be reachable)."""

from __future__ import annotations

import json

import click

from mailbot.cli.root import CliState, cli, pass_state


@cli.command("health")
@click.option("--json", "as_json", is_flag=True, help="The verdict and every report read, as JSON.")
@click.option("--process", default=None, help="Only this process (names as in --json, e.g. worker@host#2).")
@click.option("--all", "everywhere", is_flag=True, help="Every process on every host (PostgreSQL), not this host's.")
@pass_state
def health_command(state: CliState, as_json: bool, process: str | None, everywhere: bool) -> None:
    """Exit 0 when the daemon is healthy, 1 when not (silent or stopped loops, refused credentials, old mail)."""
    from mailbot.services import health

    verdict = health.check(state.app(), process=process, everywhere=everywhere)
    if as_json:
        click.echo(json.dumps(verdict.as_json(), ensure_ascii=False, indent=2))
    else:
        for report in verdict.processes:
            idle = {True: "IDLE alive", False: "IMAP down", None: "-"}[report["idle_alive"]]
            click.echo(
                f"{report['process']}: {'healthy' if report['healthy'] else 'UNHEALTHY'}; last pass "
                f"{report['last_pass_at'] or 'never'}; {idle}; authentication {report['auth_state']}"
                + (f"; last error: {report['last_error']}" if report["last_error"] else "")
            )
        box = verdict.outbox
        click.echo(
            f"outbox: {box['waiting']} waiting" + (f" since {box['oldest_pending_since']}" if box["waiting"] else "")
        )
        for problem in verdict.problems:
            click.echo(f"problem: {problem}")
        click.echo("healthy" if verdict.healthy else "unhealthy")
    raise SystemExit(0 if verdict.healthy else 1)
