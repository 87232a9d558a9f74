"""OAuth2 that renews itself, against the real Dovecot and Postfix checking every bearer token.

The identity provider is the one stand-in (tests/support/oauth_idp.py); its tokens live 5 seconds and its refresh
token rotates every second refresh, so a few minutes of a real provider's life pass in seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner

from mailbot.adapters import oauth2
from mailbot.adapters.imap import ImapMailbox
from mailbot.adapters.oauth2 import OAuth2Tokens
from mailbot.adapters.smtp import SmtpConnection
from mailbot.app import App
from mailbot.cli import cli
from mailbot.config import MailbotConfig, load_config
from mailbot.errors import AuthenticationError
from mailbot.services import campaign, outbox, setup
from tests.integration.test_daemon import send_plan
from tests.support.configs import SERVER_DEPENDENCIAS, server_config
from tests.support.oauth_idp import CLIENT_ID, CLIENT_SECRET, USER_CODE
from tests.support.oauth_mailservers import OAuthMailServers
from tests.support.replies import parse, reply
from tests.support.settle import log_events, wait_until

pytestmark = pytest.mark.mailserver

PLANEACION = "planeacion@municipio.test"
VIGENCIA = 2027


@pytest.fixture(scope="module")
def oauth_mail() -> Iterator[OAuthMailServers]:
    """Dovecot and Postfix with the oauth2 passdb and SASL submission, and the stand-in identity provider."""
    reason = OAuthMailServers.available()
    if reason is not None:
        pytest.skip(reason)
    with OAuthMailServers(lifetime=5, rotate_every=2) as servers:
        yield servers


def oauth_config(folder: Path, servers: OAuthMailServers, refresh_token: str) -> Path:
    """IMAP and SMTP submission (STARTTLS, verified) both logging in with the one renewed token, no password."""
    path = server_config(
        folder,
        servers,
        {
            "smtp": {
                "port": servers.submission_port,
                "security": "starttls",
                "ca_file": str(servers.ca_file),
                "user": PLANEACION,
            },
            "oauth2": {
                "provider": "custom",
                "client_id": CLIENT_ID,
                "client_secret": "${TEST_OAUTH2_SECRET}",
                "token_url": servers.idp.token_url,
                "refresh_token": "${TEST_OAUTH2_REFRESH}",
                "token_store": str(folder / "state" / "oauth2-token.json"),
                "ca_file": str(servers.ca_file),
                "timeout": 10,
            },
        },
    )
    data = yaml.safe_load(path.read_text())
    for login in ("imap", "smtp"):
        data[login].pop("password", None)  # the test configurations give one by default
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def environ(refresh_token: str) -> dict[str, str]:
    return {"TEST_OAUTH2_SECRET": CLIENT_SECRET, "TEST_OAUTH2_REFRESH": refresh_token}


def loaded(path: Path, refresh_token: str) -> MailbotConfig:
    config = load_config(path, environ=environ(refresh_token))
    assert config.uses_oauth2(config.imap)
    assert config.uses_oauth2(config.smtp)
    return config


def test_refused_token_is_renewed_once_rotation_is_kept_and_revocation_is_an_authentication_error(
    tmp_path: Path, oauth_mail: OAuthMailServers
) -> None:
    first = oauth_mail.idp.grant(PLANEACION)
    config = loaded(oauth_config(tmp_path, oauth_mail, first), first)
    assert config.oauth2 is not None
    tokens = OAuth2Tokens(config.oauth2)
    refreshes = oauth_mail.idp.refreshes

    with ImapMailbox(config.imap, tokens=tokens) as box:
        assert box.select("INBOX").uidvalidity > 0
    with SmtpConnection(config.smtp, tokens=tokens):
        pass
    assert oauth_mail.idp.refreshes == refreshes + 1  # one token for IMAP and SMTP
    store = config.oauth2.token_store
    assert store.stat().st_mode & 0o777 == 0o600

    oauth_mail.idp.expire_access_tokens()  # the server refuses a token the client still thinks valid
    with ImapMailbox(config.imap, tokens=tokens) as box:
        box.select("INBOX")
    oauth_mail.idp.expire_access_tokens()
    with SmtpConnection(config.smtp, tokens=tokens):
        pass
    assert oauth_mail.idp.refreshes == refreshes + 3
    assert oauth_mail.idp.rotations >= 1

    # The rotated refresh token is in the store, and only it works now: a new process must take it from there.
    rotated = json.loads(store.read_text())["refresh_token"]
    assert rotated != first
    assert first not in store.read_text()
    oauth_mail.idp.expire_access_tokens()
    restarted = OAuth2Tokens(config.oauth2)
    with ImapMailbox(config.imap, tokens=restarted) as box:
        box.select("INBOX")

    oauth_mail.idp.revoke(PLANEACION)
    with pytest.raises(AuthenticationError) as refused:
        ImapMailbox(config.imap, tokens=restarted).connect()
    assert refused.value.service == "oauth2"
    assert "invalid_grant" in str(refused.value)
    assert "mailbot auth login" in str(refused.value)
    assert rotated not in str(refused.value)


def test_a_fixed_oauth2_token_still_logs_in_and_when_expired_names_the_setting(
    tmp_path: Path, oauth_mail: OAuthMailServers
) -> None:
    """The old way: `imap.oauth2_token` / `smtp.oauth2_token` given as they are, never renewed."""
    first = oauth_mail.idp.grant(PLANEACION)
    (tmp_path / "seed").mkdir()
    seeded = loaded(oauth_config(tmp_path / "seed", oauth_mail, first), first)
    assert seeded.oauth2 is not None
    access = OAuth2Tokens(seeded.oauth2).access_token()
    path = oauth_config(tmp_path, oauth_mail, first)
    data = yaml.safe_load(path.read_text())
    del data["oauth2"]
    data["imap"]["oauth2_token"] = data["smtp"]["oauth2_token"] = "${TEST_FIXED_TOKEN}"
    path.write_text(yaml.safe_dump(data))
    config = load_config(path, environ={"TEST_FIXED_TOKEN": access})
    with ImapMailbox(config.imap) as box:
        box.select("INBOX")
    with SmtpConnection(config.smtp):
        pass

    bearer_password = load_config(path, environ={"TEST_FIXED_TOKEN": oauth_mail.password})
    with pytest.raises(AuthenticationError):  # only the identity provider's tokens pass XOAUTH2
        ImapMailbox(bearer_password.imap).connect()

    oauth_mail.idp.expire_access_tokens()
    with pytest.raises(AuthenticationError, match=r"imap\.oauth2_token") as refused:
        ImapMailbox(config.imap).connect()
    assert refused.value.service == "imap"
    assert access not in str(refused.value)


def test_auth_login_signs_in_with_a_device_code_and_keeps_the_tokens_for_the_adapters(
    tmp_path: Path, oauth_mail: OAuthMailServers
) -> None:
    path = oauth_config(tmp_path, oauth_mail, "")
    data = yaml.safe_load(path.read_text())
    data["oauth2"]["refresh_token"] = None
    data["oauth2"]["device_authorization_url"] = oauth_mail.idp.device_url
    path.write_text(yaml.safe_dump(data))
    done = subprocess.run(
        [sys.executable, "-m", "mailbot", "--config", str(path), "auth", "login"],
        capture_output=True, text=True, timeout=60, check=False, env={**os.environ, **environ("")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert USER_CODE in done.stdout  # what the person types at the provider's sign-in page
    config = load_config(path, environ=environ(""))
    assert config.oauth2 is not None
    store = config.oauth2.token_store
    assert store.stat().st_mode & 0o777 == 0o600
    kept = json.loads(store.read_text())
    assert kept["refresh_token"] not in done.stdout + done.stderr
    oauth_mail.idp.expire_access_tokens()  # the adapters must renew from the stored refresh token
    with ImapMailbox(config.imap, tokens=OAuth2Tokens(config.oauth2)) as box:
        box.select("INBOX")


def test_googles_loopback_sign_in_sends_the_pkce_verifier_and_keeps_the_refresh_token(
    tmp_path: Path, oauth_mail: OAuthMailServers
) -> None:
    """The browser is played by requests: it opens the printed address and follows the redirect to mailbot."""
    path = oauth_config(tmp_path, oauth_mail, "")
    data = yaml.safe_load(path.read_text())
    data["oauth2"].update(provider="google", refresh_token=None)  # token_url: the stand-in's
    path.write_text(yaml.safe_dump(data))
    config = load_config(path, environ=environ(""))
    assert config.oauth2 is not None
    browsers: list[threading.Thread] = []

    def show(text: str) -> None:
        address = text.split()[-1]
        assert "code_challenge=" in address
        assert "access_type=offline" in address  # Google sends a refresh token only then
        browser = threading.Thread(target=requests.get, args=(address,), kwargs={"verify": str(oauth_mail.ca_file)})
        browser.start()
        browsers.append(browser)

    token = oauth2.loopback_login(config.oauth2, show, wait=30, authorization_url=oauth_mail.idp.authorization_url)
    for browser in browsers:
        browser.join(timeout=30)
    tokens = OAuth2Tokens(config.oauth2)
    tokens.keep_login(dict(token))
    oauth_mail.idp.expire_access_tokens()
    with ImapMailbox(config.imap, tokens=tokens) as box:  # renewed from the refresh token the sign-in gave
        box.select("INBOX")


@pytest.mark.slow
@pytest.mark.storage
@pytest.mark.engine_neutral  # OAuth2 renewals; the heartbeat `status` reads is tested on both engines
def test_daemon_answers_across_refreshes_and_a_rotation_and_says_once_when_revoked(
    tmp_path: Path, oauth_mail: OAuthMailServers
) -> None:
    oauth_mail.clear_mailboxes()
    first = oauth_mail.idp.grant(PLANEACION)
    path = oauth_config(tmp_path, oauth_mail, first)
    app = App(loaded(path, first))
    setup.upgrade_storage(app)
    campaign.start(app, VIGENCIA)
    outbox.flush(app.sessions, app.senders, app.clock.now)  # the mailings, over XOAUTH2 submission
    refreshes, rotations = oauth_mail.idp.refreshes, oauth_mail.idp.rotations

    log = tmp_path / "run.log"
    command = [
        sys.executable,
        "-m",
        "mailbot",
        "--config",
        str(path),
        "--log-format",
        "json",
        "--log-level",
        "debug",
        "run",
    ]
    env = {**os.environ, **environ(first)}
    with log.open("wb") as err, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env) as daemon:
        try:
            wait_until(
                lambda: daemon.poll() is not None or "watcher_idle" in [e.get("event") for e in log_events(log)],
                "the daemon never reported its first pass done",
            )
            for code in ("HAC", "EDU", "SAL"):  # three answers, each after every earlier token expired
                # Every token issued so far has expired: this answer needs a renewed one.
                wait_until(oauth_mail.idp.all_expired, "the access tokens never expired", timeout=20)
                send_plan(app, oauth_mail, code)
                answers = oauth_mail.wait_for(SERVER_DEPENDENCIAS[code], count=2, timeout=30)
                assert "PA-2027-" in answers[1].decode("utf-8", "replace")
            assert oauth_mail.idp.refreshes - refreshes >= 3
            assert oauth_mail.idp.rotations - rotations >= 1

            oauth_mail.idp.revoke(PLANEACION)
            hacienda = SERVER_DEPENDENCIAS["HAC"]
            mailing = parse(oauth_mail.wait_for(hacienda, count=2)[0])
            oauth_mail.send(reply(mailing, sender=hacienda, attachments=[]), hacienda, [PLANEACION])  # to answer
            wait_until(lambda: bool(refusals(log)), "the daemon never said that the refresh was refused", timeout=30)

            def status() -> str:
                return str(CliRunner().invoke(cli, ["--config", str(path), "status"], env=environ(first)).stdout)

            # The operator sees it in `mailbot status` too, with what to do.
            wait_until(lambda: "mailbot auth login" in status(), "status never showed the refused refresh", timeout=30)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
    text = log.read_text(errors="replace")
    refused = refusals(log)
    assert len(refused) == 1, text[-3000:]
    assert "OAuth2 refresh refused" in str(refused[0]["error"])
    assert "mailbot auth login" in str(refused[0]["error"])
    assert int(str(refused[0]["retry_in_seconds"])) > 60  # the daemon backs off instead of asking again soon
    assert app.config.oauth2 is not None
    store = json.loads(app.config.oauth2.token_store.read_text())
    for secret in (first, store["refresh_token"], store["access_token"], CLIENT_SECRET):
        assert secret not in text  # tokens are never logged


def refusals(log: Path) -> list[dict[str, object]]:
    """The daemon's one error line for credentials the provider refused (its backoff keys on the service)."""
    return [e for e in log_events(log) if e.get("event") == "authentication_refused" and e.get("service") == "oauth2"]
