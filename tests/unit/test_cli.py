"""The CLI contract: command names, exit codes and messages that scripts rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailbot import __version__
from mailbot.cli import EXIT_PROBLEMS, EXIT_UNUSABLE, cli
from tests.support.configs import EXAMPLE, storage_engine, write_config


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert __version__ in out


def test_config_check_on_the_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAILBOT_SECRET", raising=False)
    code, out, _ = run("--config", str(EXAMPLE), "config", "check")
    assert code == 0, out
    assert "dependencias: 12" in out
    assert "warning: signing.secret is the example's" in out
    assert out.rstrip().endswith("configuration OK")


def test_config_check_reports_invalid_file_with_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8").replace("  idle: true", "  idel: true"), "utf-8")
    code, _, err = run("--config", str(path), "config", "check")
    assert code == EXIT_PROBLEMS
    assert "imap.idel: unknown key" in err
    assert f"{path}:" in err


def test_config_check_missing_file_is_unusable(tmp_path: Path) -> None:
    code, _, err = run("--config", str(tmp_path / "none.yaml"), "config", "check")
    assert code == EXIT_UNUSABLE
    assert "configuration file not found" in err


def test_config_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILBOT_CONFIG", str(write_config(tmp_path)))
    code, out, _ = run("config", "check")
    assert code == 0, out


def test_config_check_flags_a_missing_catalogue(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"development_plan": {"catalogue": str(tmp_path / "pdm.csv")}})
    code, _, err = run("--config", str(path), "config", "check")
    assert code == EXIT_PROBLEMS
    assert "development_plan.catalogue: file" in err


@pytest.mark.storage
def test_db_upgrade_twice(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    code, out, _ = run("--config", str(path), "db", "upgrade")
    assert code == 0, out
    assert "database upgraded from empty to" in out
    assert storage_engine() != "sqlite" or (tmp_path / "state" / "mailbot.db").is_file()
    archive = tmp_path / "state" / "archivo"
    assert archive.is_dir()
    assert archive.stat().st_mode & 0o077 == 0
    code, out, _ = run("--config", str(path), "db", "upgrade")
    assert code == 0
    assert "nothing to do" in out


def test_other_commands_with_invalid_config_exit_unusable(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"imap": {"port": "not-a-port"}})
    code, _, err = run("--config", str(path), "db", "upgrade")
    assert code == EXIT_UNUSABLE
    assert "imap.port" in err
