"""The import contracts of pyproject.toml (`lint-imports`, run by scripts/test.sh): the package keeps them, and
each one breaks when a copy of the package is given the import it forbids (so a contract cannot pass by
checking nothing)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with the repository's contracts on the `mailbot` package found in `package_parent`."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo", str(REPO / "pyproject.toml")],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_package_keeps_its_import_contracts() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        # the cycle the round calendar used to hide: an import inside a function still counts
        (
            "services/seguimiento.py",
            "def _planted() -> None:\n    from mailbot.services import campaign  # noqa: F401\n",
            "no import cycles",
        ),
        ("domain/calendar.py", "from mailbot.domain import rounds  # noqa: F401\n", "no import cycles"),
        ("domain/money.py", "import mailbot.config  # noqa: F401\n", "the domain imports no adapter"),
        ("domain/money.py", "from mailbot.adapters import clock  # noqa: F401\n", "the domain imports no adapter"),
        ("adapters/archive.py", "from mailbot.services import outbox  # noqa: F401\n", "adapters import no service"),
        ("app.py", "from mailbot.services import outbox  # noqa: F401\n", "layers: cli, services, app"),
    ],
)
def test_each_contract_breaks_on_the_import_it_forbids(tmp_path: Path, module: str, planted: str, broken: str) -> None:
    shutil.copytree(REPO / "mailbot", tmp_path / "mailbot", ignore=shutil.ignore_patterns("__pycache__"))
    with open(tmp_path / "mailbot" / module, "a", encoding="utf-8") as source:
        source.write("\n" + planted)
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken_section = result.stdout.split("Broken contracts", 1)[-1]
    assert broken in broken_section, result.stdout
