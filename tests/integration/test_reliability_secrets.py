"""Issue 9, item 8: no password or secret in any log, owner-only storage, TLS verified unless told the CA."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mailbot.adapters.imap import ImapMailbox
from mailbot.config import load_config
from mailbot.errors import PermanentError
from tests.integration.test_daemon import mailbot, prepared, send_plan
from tests.support.configs import TEST_SECRET, server_config, storage_engine
from tests.support.mailservers import MailServers

pytestmark = pytest.mark.storage  # runs on SQLite and on PostgreSQL (scripts/test.sh)

PLANEACION = "planeacion@municipio.test"
WRONG_PASSWORD = "Clave-Equivocada-7731"


@pytest.mark.engine_neutral  # what the logs hold; the test database's URL has no password on either engine
def test_passwords_and_the_signing_secret_never_reach_the_logs(tmp_path: Path, mail: MailServers) -> None:
    app, config = prepared(tmp_path, mail)
    send_plan(app, mail, "HAC")
    mail.wait_for(PLANEACION, count=1, timeout=30)
    storage = app.config.storage
    (tmp_path / "wrong").mkdir()
    wrong = server_config(
        tmp_path / "wrong",
        mail,
        {
            "imap": {"password": "${MAILBOT_IMAP_PASSWORD}"},
            "storage": {"database_url": storage.database_url, "archive_dir": str(storage.archive_dir)},
        },
    )
    runs = [
        mailbot(config, "--log-level", "debug", "config", "check"),
        mailbot(config, "--log-level", "debug", "poll", "--once"),
        mailbot(config, "--log-level", "debug", "--log-format", "console", "outbox", "list"),
        # A refused login: the error path must not echo what was tried.
        mailbot(wrong, "--log-level", "debug", "poll", "--once", env={"MAILBOT_IMAP_PASSWORD": WRONG_PASSWORD}),
    ]
    assert runs[1].returncode == 0, runs[1].stderr[-2000:]
    assert "accepted" in runs[1].stdout + runs[1].stderr
    assert runs[3].returncode != 0
    assert "imap" in runs[3].stderr.lower()
    for run in runs:
        captured = run.stdout + run.stderr
        for secret in (mail.password, WRONG_PASSWORD, TEST_SECRET):
            assert secret not in captured, f"{' '.join(map(str, run.args[3:]))} printed a secret"


def test_database_and_archive_are_readable_by_the_owner_only(tmp_path: Path, mail: MailServers) -> None:
    old = os.umask(0o022)  # the usual default: files would be world-readable unless mailbot restricts them
    try:
        app, config = prepared(tmp_path, mail)
        send_plan(app, mail, "HAC")
        mail.wait_for(PLANEACION, count=1, timeout=30)
        done = mailbot(config, "poll", "--once")
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        os.umask(old)
    state = tmp_path / "state"
    database = state / "mailbot.db"
    archive = app.config.storage.archive_dir
    assert any(archive.rglob("*.eml")), "the reply was archived"
    assert any((archive / "planes").rglob("*.xlsx")), "the accepted plan was filed"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o700, "nothing inside the archive is reachable by others"
    loose = [
        f"{p} {stat.filemode(p.stat().st_mode)}"
        for p in [*state.glob("mailbot.db*"), *(p for p in archive.rglob("*") if p.is_file())]
        if p.stat().st_mode & 0o077
    ]
    assert loose == []
    assert database.exists() or storage_engine() == "postgresql"  # there the server's own files are its business


def imaps(tmp_path: Path, mail: MailServers, ca_file: Path | None) -> ImapMailbox:
    changes: dict[str, object] = {"imap": {"security": "ssl", "port": mail.imaps_port, "host": "localhost"}}
    if ca_file is not None:
        changes = {"imap": {**changes["imap"], "ca_file": str(ca_file)}}  # type: ignore[dict-item]
    folder = tmp_path / ("with-ca" if ca_file else "default")
    folder.mkdir()
    return ImapMailbox(load_config(server_config(folder, mail, changes), environ={}).imap)


def test_tls_is_verified_by_default_and_a_private_ca_is_trusted_only_when_configured(
    tmp_path: Path, mail: MailServers
) -> None:
    default = imaps(tmp_path, mail, None)
    with pytest.raises(PermanentError, match="could not be verified"):
        default.connect()
    assert not default.connected

    trusted = imaps(tmp_path, mail, mail.ca_file)
    trusted.connect()
    try:
        assert trusted.connected
        assert trusted.select("INBOX").uidvalidity > 0
    finally:
        trusted.close()
