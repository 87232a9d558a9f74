"""`mailbot check`: the configured servers, folders, secret and database, asked for real before going live."""

from __future__ import annotations

import json

import click

from mailbot.cli.root import EXIT_PROBLEMS, CliState, cli, pass_state


@cli.command("check")
@click.option("--json", "as_json", is_flag=True, help='Print {"ok", "checks": [{"name", "ok", "detail"}]}.')
@click.option("--create-folders", is_flag=True, help="Create the missing outcome folders on the IMAP server.")
@click.option("--send-test", metavar="ADDRESS", help="Also send one test mail to ADDRESS.")
@click.option(
    "--plus-test", is_flag=True, help="Also mail planeación's own plus address and wait for it in imap.folder."
)
@click.option("--wait", type=click.FloatRange(min=1), default=60, show_default=True, help="Seconds --plus-test waits.")
@pass_state
def check(
    state: CliState, as_json: bool, create_folders: bool, send_test: str | None, plus_test: bool, wait: float
) -> None:
    """Connect with the configured settings and say what holds; exit 1 when anything must be fixed first."""
    from mailbot.services import check as checks

    app = state.app()
    try:
        report = checks.run(
            app,
            checks.CheckOptions(create_folders=create_folders, send_test=send_test, plus_test=plus_test, wait=wait),
        )
    finally:
        app.close()
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        width = max(len(c.name) for c in report.checks)
        for item in report.checks:
            click.echo(f"{'ok' if item.ok else 'FAIL':<4}  {item.name:<{width}}  {item.detail}")
        failed = sum(not c.ok for c in report.checks)
        click.echo("all checks passed" if not failed else f"{failed} check(s) failed: fix them before going live")
    if not report.ok:
        raise SystemExit(EXIT_PROBLEMS)
