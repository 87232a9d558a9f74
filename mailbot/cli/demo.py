"""`mailbot demo`: the whole cycle on an embedded mail server, narrated."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mailbot.log import configure_logging

if TYPE_CHECKING:  # the commands import their services lazily: `--version` and `validate` stay light
    pass
from mailbot.cli.root import (
    EXIT_PROBLEMS,
    cli,
)


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
