"""`mailbot check` against the real servers: each failure it names, in an operator's words, and a clean pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mailbot.app import App
from mailbot.cli import EXIT_PROBLEMS, cli
from mailbot.config import load_config
from mailbot.services import setup
from tests.support.configs import hosting_changes, merge, server_config
from tests.support.mailservers import MailServers
from tests.support.replies import parse

pytestmark = pytest.mark.storage  # the check reads the database (SQLite, or PostgreSQL in that run)

PLANEACION = "planeacion@municipio.test"
HACIENDA = "hacienda@municipio.test"
EXAMPLE_SECRET = "example-secret-change-me-0123456789"


def _check(config: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["--config", str(config), "check", "--json", *args])
    return result.exit_code, json.loads(result.stdout)


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"]}


def _upgraded(config: Path) -> Path:
    app = App(load_config(config, environ={}))
    try:
        setup.upgrade_storage(app)
    finally:
        app.close()
    return config


def test_check_passes_on_a_cpanel_like_host_creating_folders_and_proving_plus_addressing(
    tmp_path: Path, hosting: MailServers
) -> None:
    config = _upgraded(server_config(tmp_path, hosting, hosting_changes(hosting)))

    code, report = _check(config, "--create-folders", "--plus-test", "--wait", "20", "--send-test", HACIENDA)

    checks = _by_name(report)
    assert (code, report["ok"]) == (0, True), report
    assert 'prefix "INBOX.", delimiter "."' in checks["imap.namespace"]["detail"]
    assert "created: INBOX.mailbot.procesados" in checks["imap.outcome_folders"]["detail"]
    assert "IDLE yes" in checks["imap.capabilities"]["detail"]
    assert "server offers PLAIN LOGIN" in checks["smtp.login"]["detail"]
    assert "arrived in 'INBOX'" in checks["smtp.plus_addressing"]["detail"]
    (plus_mail,) = hosting.wait_for(PLANEACION, folder="INBOX.mailbot.ignorados")  # filed away, not left to answer
    assert parse(plus_mail)["Delivered-To"].startswith("planeacion+check")
    (test_mail,) = hosting.wait_for(HACIENDA)
    assert parse(test_mail)["Subject"] == "mailbot: prueba de envío"
    assert set(checks) == {
        "imap.login", "imap.capabilities", "imap.namespace", "imap.folder", "imap.outcome_folders", "imap.junk",
        "smtp.login", "smtp.send_test", "smtp.plus_addressing", "signing.secret", "storage.database",
    }  # fmt: skip

    code, report = _check(config)  # the folders are there now
    assert code == 0
    assert _by_name(report)["imap.outcome_folders"]["detail"].startswith("present: INBOX.mailbot.procesados")


def test_check_names_wrong_passwords_refused_smtp_auth_the_example_secret_and_a_missing_database(
    tmp_path: Path, hosting: MailServers
) -> None:
    changes = merge(
        hosting_changes(hosting),
        {
            "imap": {"password": "no-es-la-clave"},
            "smtp": {"password": "tampoco-es"},
            "signing": {"secret": EXAMPLE_SECRET},
        },
    )
    config = server_config(tmp_path, hosting, changes)

    code, report = _check(config)

    checks = _by_name(report)
    assert code == EXIT_PROBLEMS
    assert report["ok"] is False
    assert "IMAP login refused for 'planeacion@municipio.test'" in checks["imap.login"]["detail"]
    assert "imap.password" in checks["imap.login"]["detail"]
    assert "imap.folder" not in checks  # nothing more to ask of a mailbox that refused the login
    assert "SMTP login refused" in checks["smtp.login"]["detail"]
    assert "example's" in checks["signing.secret"]["detail"]
    assert "MAILBOT_SECRET" in checks["signing.secret"]["detail"]
    assert "mailbot db upgrade" in checks["storage.database"]["detail"]
    assert not checks["storage.database"]["ok"]
    assert not (tmp_path / "state" / "mailbot.db").exists()  # checking created nothing
    assert "no-es-la-clave" not in json.dumps(report)
    table = CliRunner().invoke(cli, ["--config", str(config), "check"])  # the same, for a person
    assert table.exit_code == EXIT_PROBLEMS
    assert "FAIL  imap.login " in table.stdout
    assert "ok    storage.database" not in table.stdout
    assert table.stdout.rstrip().endswith("4 check(s) failed: fix them before going live")


def test_check_lists_the_folders_when_the_watched_one_is_missing_and_warns_of_the_junk_folder(
    tmp_path: Path, mail: MailServers
) -> None:
    with mail.mailbox(PLANEACION) as mailbox:
        mailbox.folder.create("Junk")
        mailbox.folder.create("Respuestas")
    config = _upgraded(server_config(tmp_path, mail, {"imap": {"folder": "Bandeja de entrada"}}))

    code, report = _check(config)

    checks = _by_name(report)
    assert code == EXIT_PROBLEMS
    assert not checks["imap.folder"]["ok"]
    assert "'Bandeja de entrada' cannot be opened" in checks["imap.folder"]["detail"]
    assert "the folders on the server are: INBOX, Junk, Respuestas" in checks["imap.folder"]["detail"]
    assert "'Junk' exists: a reply the provider files there as spam is never seen" in checks["imap.junk"]["detail"]
    assert not checks["imap.outcome_folders"]["ok"]
    assert "--create-folders" in checks["imap.outcome_folders"]["detail"]
    assert 'no prefix, delimiter "/"' in checks["imap.namespace"]["detail"]
    assert checks["storage.database"]["ok"]
    assert checks["signing.secret"]["ok"]


def test_poll_on_a_missing_folder_names_the_folders_that_exist(tmp_path: Path, mail: MailServers) -> None:
    config = _upgraded(server_config(tmp_path, mail, {"imap": {"folder": "Bandeja de entrada"}}))

    result = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"])

    assert result.exit_code == EXIT_PROBLEMS
    assert "the folders on the server are: INBOX" in result.stderr
    assert "check imap.folder" in result.stderr
