"""The `Instrucciones` text read from templates/workbook/instrucciones.yaml: shipped, overridable, checked."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from mailbot.adapters.workbook.writer import instruction_text, spec_from_config, template_bytes
from mailbot.config import MailbotConfig, load_config
from mailbot.domain.rules import REGISTRY
from mailbot.domain.workbook_format import SHEET_INSTRUCTIONS, Ronda
from mailbot.services.setup import check_configuration
from tests.support.configs import ROOT, write_config

SHIPPED = ROOT / "templates" / "workbook" / "instrucciones.yaml"
READER_RULES = {"F01"}  # decided by the reader (not a .xlsx), not by a registered rule


def _instructions(config: MailbotConfig) -> list[str]:
    spec = spec_from_config(
        config, "HAC", ronda=Ronda.FORMULACION, vigencia=2027, deadline=dt.date(2027, 1, 20), token="t", catalogue=None
    )
    ws = openpyxl.load_workbook(io.BytesIO(template_bytes(spec)))[SHEET_INSTRUCTIONS]
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


def _override(folder: Path, old: str, new: str) -> Path:
    (folder / "workbook").mkdir(parents=True)
    (folder / "workbook" / "instrucciones.yaml").write_text(SHIPPED.read_text("utf-8").replace(old, new, 1), "utf-8")
    return folder


@pytest.mark.parametrize("ronda", [Ronda.FORMULACION, Ronda("seguimiento-T2")])
def test_the_instructions_explain_exactly_the_rules_of_each_ronda(ronda: Ronda) -> None:
    """A rule added to the engine without a sentence for the secretario (or a sentence for no rule) fails here."""
    text = instruction_text()
    shown = text.seguimiento.rules if ronda.quarter else text.formulacion.rules
    applied = {r.code for r in REGISTRY if ronda in r.rondas} | READER_RULES
    assert sorted(shown) == sorted(applied)


def test_ops_copy_in_templates_dir_replaces_the_shipped_text(tmp_path: Path) -> None:
    """A copy in `smtp.templates_dir` is what the workbook says; without one, the shipped text."""
    folder = _override(tmp_path / "mine", "Colores", "Colores del formato")
    changed = load_config(write_config(tmp_path, {"smtp": {"templates_dir": str(folder)}}), environ={})
    (tmp_path / "shipped").mkdir()
    shipped = load_config(write_config(tmp_path / "shipped"), environ={})
    assert "Colores del formato" in _instructions(changed)
    assert "Colores del formato" not in _instructions(shipped)
    assert "Colores" in _instructions(shipped)


def test_placeholders_are_filled_in(tmp_path: Path) -> None:
    """The deadline appears as a long Colombian date and no brace is left on the sheet."""
    texts = _instructions(load_config(write_config(tmp_path), environ={}))
    assert any("miércoles 20 de enero de 2027" in t for t in texts)
    assert not any("{" in t for t in texts)


def test_a_misspelt_placeholder_names_the_file_and_the_key(tmp_path: Path) -> None:
    """The error points at the step that holds the typo, not at a KeyError halfway through a mailing."""
    folder = _override(tmp_path, "a más tardar el {fecha_limite}", "a más tardar el {fecha_limte}")
    with pytest.raises(ValueError, match=r"instrucciones\.yaml: formulacion\.pasos\.7: unknown placeholder"):
        instruction_text(folder)


def test_a_rule_listed_but_not_described_is_refused(tmp_path: Path) -> None:
    """A round that lists a code with no description would show an empty rule: refused when read."""
    folder = _override(tmp_path, "  F01:\n", "  X01:\n")
    with pytest.raises(ValueError, match=r"formulacion\.reglas: F01 is not described under reglas"):
        instruction_text(folder)


def test_config_check_reports_a_broken_copy_before_any_workbook_is_mailed(tmp_path: Path) -> None:
    """`mailbot config check` names the broken copy; the shipped text passes."""
    folder = _override(tmp_path / "mine", "a más tardar el {fecha_limite}", "a más tardar el {fecha}")
    config = load_config(write_config(tmp_path, {"smtp": {"templates_dir": str(folder)}}), environ={})
    problems = check_configuration(config).problems
    assert [p for p in problems if p.startswith("smtp.templates_dir: ") and "unknown placeholder {fecha}" in p]
    assert check_configuration(load_config(write_config(tmp_path), environ={})).ok
