"""What an operator meets on the command line: secrets that cannot be forgotten, storage that explains itself."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mailbot.adapters.db import migrate
from mailbot.adapters.db.engine import database_label, make_engine
from mailbot.cli import EXIT_STORAGE, EXIT_UNUSABLE, cli
from mailbot.cli.root import MailbotGroup
from mailbot.config import load_config
from mailbot.log import configure_logging, get_logger
from tests.support.configs import storage_engine, write_config


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


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "command", [["status"], ["messages"], ["outbox", "list"], ["attention", "list"], ["run"], ["poll", "--once"]]
)
def test_a_command_before_db_upgrade_says_so_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    path = write_config(tmp_path)
    code, out, err = run("--config", str(path), *command)
    assert code == EXIT_STORAGE, out + err
    database = tmp_path / "state" / "mailbot.db"
    assert err == f"mailbot: {database}: there is no database here yet: run `mailbot db upgrade`\n"
    assert not (tmp_path / "state").exists()


@pytest.mark.storage
def test_a_database_behind_this_version_asks_for_db_upgrade(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    url = load_config(path).storage.database_url
    engine = make_engine(url)
    migrate.upgrade(engine, "0003")
    engine.dispose()
    code, out, err = run("--config", str(path), "status")
    assert code == EXIT_STORAGE, out + err
    assert err.count("\n") == 1, err
    assert err.startswith(f"mailbot: {database_label(url)}: the database is at schema 0003, this version needs ")
    assert err.rstrip().endswith("run `mailbot db upgrade`")
    code, out, _ = run("--config", str(path), "db", "upgrade")
    assert code == 0, out
    code, out, err = run("--config", str(path), "status")
    assert code == 0, out + err


@pytest.mark.sqlite_only
def test_an_unusable_storage_path_is_a_sentence_naming_it(tmp_path: Path) -> None:
    """A path through a regular file (as good as a missing mount or a wrong permission): no traceback, exit 3."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    path = write_config(tmp_path, {"storage": {"database_url": f"sqlite:///{blocker / 'db' / 'mailbot.db'}"}})
    code, out, err = run("--config", str(path), "db", "upgrade")
    assert code == EXIT_STORAGE, out + err
    assert err.count("\n") == 1, err
    assert f"{blocker / 'db'}" in err
    assert "Traceback" not in err
    path = write_config(tmp_path, {"storage": {"archive_dir": str(blocker / "archivo")}})
    code, out, err = run("--config", str(path), "db", "upgrade")
    assert code == EXIT_STORAGE, out + err
    assert err.startswith(f"mailbot: cannot create the archive folder {blocker / 'archivo'}: ")
    code, _, err = run("--config", str(path), "--log-level", "debug", "db", "upgrade")
    assert code == EXIT_STORAGE
    assert "Traceback (most recent call last)" in err  # debug adds it, for a developer
    assert err.rstrip().splitlines()[-1].startswith("mailbot: cannot create the archive folder")


def test_global_options_work_after_the_subcommand_too(tmp_path: Path) -> None:
    """The issue's `mailbot config check --config X` said "No such option"; `=` forms and a `--` are respected."""
    path = write_config(tmp_path)
    for args in (
        ["config", "check", "--config", str(path)],
        ["config", "--log-level", "debug", "check", f"--config={path}"],
        ["--log-format", "json", "config", "check", "--config", str(path)],
    ):
        code, out, err = run(*args)
        assert code == 0, (args, out, err)
        assert out.rstrip().endswith("configuration OK")
    code, _, err = run("--config", str(path), "validate", "--", "--config")
    assert code == EXIT_UNUSABLE
    assert "'--config' does not exist" in err  # after `--` it is a file name, left where it was


@pytest.mark.parametrize(
    "command",
    [
        ["template", "--dependencia", "HAC", "--out"],
        ["export", "--vigencia", "2027", "--out"],
        ["validate", "PLAN", "--annotated"],
        ["backup"],
    ],
)
def test_writing_into_a_missing_folder_is_a_sentence(tmp_path: Path, command: list[str]) -> None:
    path = write_config(tmp_path)
    plan = tmp_path / "plan.xlsx"
    plan.write_bytes(b"PK")
    target = tmp_path / "no-such-folder" / "out.xlsx"
    args = [str(plan) if arg == "PLAN" else arg for arg in command]
    code, out, err = run("--config", str(path), *args, str(target))
    assert code == EXIT_UNUSABLE, out + err
    assert f"the folder {target.parent} does not exist: create it first" in err
    assert "Traceback" not in err


@pytest.mark.storage
def test_backup_on_either_engine_copies_the_archive_and_says_what_else(tmp_path: Path) -> None:
    """SQLite: the database is in the copy; PostgreSQL: the archive, and the pg_dump line to run first."""
    path = write_config(tmp_path)
    assert run("--config", str(path), "db", "upgrade")[0] == 0
    (tmp_path / "state" / "archivo" / "recibidos").mkdir()
    (tmp_path / "state" / "archivo" / "recibidos" / "a.eml").write_bytes(b"x")
    code, out, err = run("--config", str(path), "backup", str(tmp_path / "copia"))
    assert code == 0, out + err
    assert (tmp_path / "copia" / "archivo" / "recibidos" / "a.eml").read_bytes() == b"x"
    if storage_engine() == "sqlite":
        assert (tmp_path / "copia" / "mailbot.db").is_file()
        assert "pg_dump" not in out
    else:
        assert not (tmp_path / "copia" / "mailbot.db").exists()
        assert f"pg_dump --format=custom --file {tmp_path / 'copia' / 'mailbot.pgdump'} 'postgresql://" in out


@pytest.mark.sqlite_only
def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "mailbot.db").write_bytes(b"not a database, a copy gone wrong" * 100)
    code, out, err = run("--config", str(path), "status")
    assert code == EXIT_STORAGE, out + err
    assert err == f"mailbot: {tmp_path / 'state' / 'mailbot.db'}: cannot open the database: file is not a database\n"


def test_a_full_disk_or_a_missing_folder_is_a_sentence_not_a_traceback() -> None:
    """What the operator can cause, raised anywhere below a command: one line with the path (the group's rule)."""

    @click.group(cls=MailbotGroup)
    def group() -> None:
        pass

    @group.command()
    @click.argument("number", type=int)
    def fail(number: int) -> None:
        raise OSError(number, os.strerror(number), "/srv/mailbot/archivo/x.eml")

    for number in (errno.ENOSPC, errno.ENOENT, errno.EACCES):
        result = CliRunner().invoke(group, ["fail", str(number)])
        assert result.exit_code == EXIT_UNUSABLE
        assert result.stderr == f"mailbot: /srv/mailbot/archivo/x.eml: {os.strerror(number)}\n"
    result = CliRunner().invoke(group, ["fail", str(errno.ECONNREFUSED)])  # not the operator's: a real bug
    assert isinstance(result.exception, OSError)


@pytest.mark.sqlite_only
def test_db_upgrade_names_the_database_it_cannot_open(tmp_path: Path) -> None:
    """The issue's "unable to open database file" without a path: now the path comes first."""
    path = write_config(tmp_path)
    (tmp_path / "state" / "mailbot.db").mkdir(parents=True)  # a folder where the file should be
    code, out, err = run("--config", str(path), "db", "upgrade")
    assert code == EXIT_STORAGE, out + err
    database = tmp_path / "state" / "mailbot.db"
    assert err == f"mailbot: {database}: cannot upgrade the database: unable to open database file\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_logs_carry_colour_codes_only_on_a_terminal() -> None:
    """`--log-format console` into a file or journald is plain text; a person at a terminal gets colours."""
    for stream, coloured in ((io.StringIO(), False), (_Terminal(), True)):
        configure_logging("info", "console", stream)
        get_logger("t").info("outbox_flushed", sent=1)
        assert "outbox_flushed" in stream.getvalue()
        assert ("\x1b[" in stream.getvalue()) is coloured
    configure_logging("info", "auto", io.StringIO())


def test_config_check_never_prints_the_database_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://mailbot:pg-s3cr3t-password@db.example/mailbot"
    code, out, err = run("--config", str(write_config(tmp_path, {"storage": {"database_url": url}})), "config", "check")
    assert code == 0, out + err
    assert "storage: postgresql+psycopg://mailbot:***@db.example/mailbot" in out
    assert "pg-s3cr3t-password" not in out + err
