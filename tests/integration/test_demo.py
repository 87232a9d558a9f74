"""`mailbot demo` end to end, non-interactively: the README's first command must always work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from mailbot.cli import cli
from mailbot.services.demo import EXPECTED, EXPECTED_T1


@pytest.mark.sqlite_only  # the one-command demo keeps its own SQLite file, whatever the test run's engine
def test_demo_runs_the_whole_cycle_and_ends_where_the_scenario_expects(tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    run = CliRunner().invoke(cli, ["demo", "--keep", str(keep)])
    assert run.exit_code == 0, run.output
    out = run.stdout
    assert "every dependencia is where the scenario expects" in out
    for radicado in (r"PA-\d{4}-HAC-0001", r"PA-\d{4}-SOC-0001", r"PA-\d{4}-EDU-0002"):
        assert re.search(radicado, out), radicado  # Educación's second version is the one accepted
    rows = {
        found.group(0)
        for line in out.splitlines()
        if line.startswith("Secretaría") and (found := re.search(r"\bPA-\d{4}-[A-Z]+-\d{4}", line))
    }
    assert len(rows) == sum(1 for state in EXPECTED.values() if state == "accepted")
    assert "automatic" in out
    assert "no_attachment" in out
    digest = next(keep.glob("resumen/*.html")).read_text(encoding="utf-8")
    assert "Resumen del plan de acción" in digest
    assert "cid:" in digest
    consolidated = next(keep.glob("plan-de-accion-consolidado-*.xlsx"))
    assert load_workbook(consolidated).sheetnames[0] == "Plan de acción"
    assert any((keep / "archivo" / "planes").rglob("*.xlsx"))


@pytest.mark.sqlite_only  # the demo keeps its own SQLite file
def test_demo_follows_up_the_first_quarter(tmp_path: Path) -> None:
    """The accepted plans get their T1 seguimiento; Educación's lagging meta shows in its score and the digest."""
    from mailbot.services.demo import run_demo

    result = run_demo(tmp_path / "demo", say=lambda _line: None)
    assert result.seguimiento == EXPECTED_T1
    assert result.as_expected
    # Educación: six metas, one not programmed in T1 (left out), one at 40 %: (0.4 + 4 × 1) / 5 = 88 %.
    assert result.scores["EDU"] == "88,0 % Sobresaliente"
    assert result.scores["HAC"] == "100,0 % Sobresaliente"
    assert result.evaluation is not None
    assert load_workbook(result.evaluation).sheetnames == ["Municipio", "Por dependencia", "Por meta", "Pendientes"]
    digest = result.digest_html.read_text(encoding="utf-8")
    assert "Seguimiento del trimestre 1" in digest
    assert "Metas rezagadas" in digest
    assert "EDU – " in digest
