"""The workbook commands: a blank format, a validation at the desk, the consolidated plan and evaluations."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mailbot.domain.workbook_format import Ronda
from mailbot.errors import MailbotError

if TYPE_CHECKING:  # the commands import their services lazily: `--version` and `validate` stay light
    from mailbot.domain.seguimiento import Baseline
    from mailbot.services.validation import ValidationResult
from mailbot.cli.root import (
    EXIT_PROBLEMS,
    EXIT_UNUSABLE,
    CliState,
    OutputPath,
    cli,
    fail,
    pass_state,
    today,
    vigencia_for,
)


@cli.command("template")
@click.option("--dependencia", "dependencia", required=True, help="Code of the dependencia, e.g. HAC.")
@click.option("--ronda", type=click.Choice([r.value for r in Ronda]), default=Ronda.FORMULACION.value)
@click.option("--vigencia", type=click.IntRange(2000, 2100), default=None, help="Default: the coming plan year.")
@click.option("--out", "out", type=OutputPath(), required=True)
@pass_state
def template_command(state: CliState, dependencia: str, ronda: str, vigencia: int | None, out: Path) -> None:
    """Write one dependencia's pre-filled E-DE-F-010 workbook (not tied to a mailing: a fresh token).

    A seguimiento workbook is built on the dependencia's accepted plan, read from the database and archive.
    """
    from mailbot.services import templates

    config = state.config()
    year = vigencia_for(state, vigencia, Ronda(ronda))
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
    type=OutputPath(),
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
            today=today(state),
            baseline_of=lambda code, year, r: _stored_baseline(state, code, year, r),
        )
    except validation.UnknownContextError as exc:
        fail(str(exc), EXIT_UNUSABLE)
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
    from sqlalchemy.exc import SQLAlchemyError

    from mailbot.services import seguimiento

    database = state.config().storage.sqlite_file
    if database is not None and not database.exists():
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


def render_findings(file: Path, result: ValidationResult) -> str:
    """The findings grouped by sheet, one line each: severity, code, place (meta, column, cell), value, message."""
    from mailbot.domain.places import shown_sheet

    context = result.context
    where = f" for {context.dependencia} {context.ronda.value} {context.vigencia}" if context else ""
    verdict = "ACCEPTED" if result.accepted else "CORRECTIONS NEEDED"
    lines = [f"{file}{where}: {verdict} ({result.errors} error(s), {result.warnings} warning(s))"]
    for sheet, group in itertools.groupby(result.findings, key=lambda f: shown_sheet(f.sheet)):
        lines.append(f"\n  {sheet or 'el archivo'}")
        for finding in group:
            value = f" [se encontró: «{finding.value}»]" if finding.value else ""
            lines.append(f"    {finding.severity.value} {finding.code}  {finding.where}{value}: {finding.message}")
    return "\n".join(lines)


@cli.command("export")
@click.option("--vigencia", type=click.IntRange(2000, 2100), default=None)
@click.option("--ronda", type=click.Choice([r.value for r in Ronda]), default=Ronda.FORMULACION.value)
@click.option("--out", "out", type=OutputPath(), required=True)
@click.option(
    "--pdf",
    "pdf",
    type=OutputPath(),
    default=None,
    help="Formulación only: also write the «Publicación» table as a PDF (A3 landscape).",
)
@pass_state
def export_command(state: CliState, vigencia: int | None, ronda: str, out: Path, pdf: Path | None) -> None:
    """Write the consolidated action plan (formulación, ready to publish: Ley 1474, art. 74), or a quarter's
    evaluation for the management committee (seguimiento-T1..T4: per meta, per dependencia, municipality)."""
    from mailbot.services import export, seguimiento

    if pdf is not None and Ronda(ronda) is not Ronda.FORMULACION:
        fail("--pdf is for the consolidated plan (--ronda formulacion)", EXIT_UNUSABLE)
    year = vigencia_for(state, vigencia, Ronda(ronda))
    if Ronda(ronda) is not Ronda.FORMULACION:
        result = seguimiento.export_evaluation(state.app(), year, Ronda(ronda), out)
        score = result.evaluation.score
        shown = "no programmed metas" if score is None else f"score {score * 100:.1f} %"
        click.echo(
            f"{out}: {len(result.radicados)} accepted report(s), {len(result.missing)} dependencia(s) missing; "
            f"municipality {shown}"
        )
        return
    found = export.export(state.app(), year, out, Ronda(ronda), pdf=pdf)
    click.echo(f"{out}: {len(found.plans)} accepted plan(s), {len(found.missing)} dependencia(s) missing")
    if pdf is not None:
        click.echo(f"{pdf}: the «Publicación» table as PDF")
