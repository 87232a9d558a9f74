"""A fresh virtual environment installs mailbot and checks the example: the Dockerfile's own steps."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.configs import ROOT

pytestmark = pytest.mark.slow


def test_fresh_venv_install_then_config_check_and_db_upgrade(tmp_path: Path) -> None:
    # Same as the Dockerfile: copy pyproject.toml, README.md and mailbot/, then `pip install .`.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "mailbot", source / "mailbot", ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]

    work = tmp_path / "app"
    (work / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "mailbot.example.yaml", work / "config" / "mailbot.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    env["MAILBOT_CONFIG"] = "config/mailbot.yaml"  # as the Dockerfile sets it (relative to WORKDIR)
    mailbot = str(venv / "bin" / "mailbot")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [mailbot, *args], cwd=work, env=env, capture_output=True, text=True, check=False, timeout=120
        )

    version = run("--version")
    assert version.returncode == 0, version.stderr
    check = run("config", "check")
    assert check.returncode == 0, check.stderr
    assert "configuration OK" in check.stdout
    for expected in ("database upgraded from empty", "nothing to do"):
        upgrade = run("db", "upgrade")
        assert upgrade.returncode == 0, upgrade.stderr
        assert expected in upgrade.stdout
    assert (work / "storage" / "mailbot.db").is_file()
    assert (work / "storage" / "archivo").is_dir()
