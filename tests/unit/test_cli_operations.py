"""What an operator meets on the command line: secrets that cannot be forgotten, storage that explains itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailbot.cli import EXIT_UNUSABLE, cli
from mailbot.config import load_config
from tests.support.configs import write_config


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"imap": {"password": ""}}, "imap.password"),
        ({"smtp": {"password": ""}}, "smtp.password"),
        ({"signing": {"secret": "example-secret-change-me-0123456789"}}, "signing.secret"),
    ],
)
@pytest.mark.parametrize(
    "command", [["db", "upgrade"], ["poll", "--once"], ["run"], ["campaign", "start", "formulacion"]]
)
def test_live_commands_refuse_a_missing_secret(
    tmp_path: Path, changes: dict[str, object], setting: str, command: list[str]
) -> None:
    path = write_config(tmp_path, changes)
    code, out, err = run("--config", str(path), *command)
    assert code == EXIT_UNUSABLE, out + err
    assert err.count("\n") == 1, err
    assert err.startswith(f"mailbot: {setting} ")
    assert not (tmp_path / "state").exists()  # refused before anything was created


def test_an_oauth2_token_is_a_login_without_a_password(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"imap": {"password": None, "oauth2_token": "ya29.token"}})
    code, out, err = run("--config", str(path), "config", "check")
    assert code == 0, out + err
    assert "imap.password" not in err


def test_relative_paths_are_relative_to_the_configuration_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Started from anywhere (systemd, cron, another shell), one file means the same database and folders."""
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "pdm.csv").write_text("x\n", encoding="utf-8")
    path = write_config(
        folder,
        {
            "storage": {"database_url": "sqlite:///data/mailbot.db", "archive_dir": "data/archivo"},
            "development_plan": {"catalogue": "pdm.csv"},
            "smtp": {"templates_dir": "../plantillas"},
        },
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("etc") / path.name)
    assert config.storage.database_url == f"sqlite:///{folder / 'data' / 'mailbot.db'}"
    assert config.storage.archive_dir == folder / "data" / "archivo"
    assert config.development_plan.catalogue == folder / "pdm.csv"
    assert config.smtp.templates_dir == tmp_path / "plantillas"
    absolute = write_config(tmp_path, {"storage": {"archive_dir": str(tmp_path / "elsewhere")}})
    assert load_config(absolute).storage.archive_dir == tmp_path / "elsewhere"
