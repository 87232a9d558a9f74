"""A fresh virtual environment installs mailbot and checks the example: the Dockerfile's own steps."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.configs import ROOT


@pytest.mark.slow
def test_fresh_venv_install_then_config_check_and_db_upgrade(tmp_path: Path) -> None:
    # Same as the Dockerfile: copy pyproject.toml, README.md, mailbot/ and templates/, then `pip install .`.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("mailbot", "templates"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
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
    # The secrets the example names (empty or the example's, the live commands refuse to start).
    env |= {"MAILBOT_SECRET": "the-municipality-own-secret", "MAILBOT_IMAP_PASSWORD": "x", "MAILBOT_SMTP_PASSWORD": "x"}
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
    # The README's first command: the demo, with nothing but the installed package.
    demo = run("demo")
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "every dependencia is where the scenario expects" in demo.stdout
    # The mail templates ship inside the wheel (templates/ → mailbot/templates): a dry run renders them.
    dry = run("campaign", "start", "formulacion", "--dependencia", "HAC", "--dry-run", "eml")
    assert dry.returncode == 0, dry.stderr
    assert len(list((work / "eml").glob("*.eml"))) == 1


def test_every_package_is_listed_for_the_wheel() -> None:
    """pyproject lists packages explicitly (for the templates mapping): a new package must be added there."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "mailbot").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
