"""OAuth2 without a network: the configuration, the SASL string, the token store and when a token is renewed.

The exchange with a real token endpoint, Dovecot and Postfix is in tests/integration/test_oauth2.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from mailbot.adapters import oauth2
from mailbot.adapters.oauth2 import OAuth2Tokens, StoredToken, TokenStore, xoauth2
from mailbot.cli import cli
from mailbot.config import MailbotConfig, load_config, secret_problems
from mailbot.errors import AuthenticationError, ConfigError
from mailbot.services.setup import check_oauth2
from tests.support.configs import EXAMPLE, write_config

SEED = "seed-refresh-token-0001"


def example_oauth2_block() -> dict[str, Any]:
    """The example's commented `oauth2:` block, uncommented: what the documentation shows must load."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("# oauth2:")
    block = []
    for line in lines[start:]:
        if not line.startswith("# "):
            break
        block.append(line[2:])
    data = yaml.safe_load("\n".join(block))
    assert isinstance(data, dict)
    return data


def oauth_config(tmp_path: Path, oauth: dict[str, Any] | None = None, **logins: Any) -> MailbotConfig:
    section = {
        "provider": "custom",
        "client_id": "mailbot",
        "token_url": "https://idp.example.test/token",
        "refresh_token": "${SEED:-}",
        "token_store": str(tmp_path / "store" / "token.json"),
        **(oauth or {}),
    }
    changes: dict[str, Any] = {"imap": {"password": None}, "smtp": {"password": None}, "oauth2": section, **logins}
    return load_config(write_config(tmp_path, changes), environ={"SEED": SEED})


def test_the_examples_oauth2_block_loads_and_imap_and_smtp_share_it(tmp_path: Path) -> None:
    changes = {**example_oauth2_block(), "imap": {"password": None}, "smtp": {"password": None}}
    config = load_config(write_config(tmp_path, changes), environ={})
    assert config.oauth2 is not None
    assert config.oauth2.provider == "microsoft"
    assert config.uses_oauth2(config.imap)  # as the example says: passwords left out
    assert config.uses_oauth2(config.smtp)
    assert oauth2.token_url(config.oauth2).startswith("https://login.microsoftonline.com/villaesperanza.gov.co/")
    assert "offline_access" in oauth2.scopes(config.oauth2)  # without it Microsoft sends no refresh token


@pytest.mark.parametrize(
    ("oauth", "logins", "expected"),
    [
        ({"token_url": None}, {}, "provider 'custom' needs token_url"),
        ({"token_url": "http://idp.example.test/token"}, {}, "must be an https:// URL"),
        ({}, {"imap": {"password": "x"}, "smtp": {"password": "y"}}, "no login uses it"),
        ({}, {"smtp": {"password": None, "user": "otra@villaesperanza.gov.co"}}, "imap.user and smtp.user differ"),
    ],
)
def test_an_oauth2_section_that_cannot_work_is_refused_by_name(
    tmp_path: Path, oauth: dict[str, Any], logins: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        oauth_config(tmp_path, oauth, **logins)


def test_a_login_with_a_password_keeps_it_and_the_other_uses_oauth2(tmp_path: Path) -> None:
    config = oauth_config(tmp_path, smtp={"password": "clave"})
    assert config.uses_oauth2(config.imap)
    assert not config.uses_oauth2(config.smtp)


def test_xoauth2_answers_once_then_an_empty_line_to_the_servers_error() -> None:
    respond = xoauth2("planeacion@municipio.test", "at-123")
    assert respond(b"") == "user=planeacion@municipio.test\x01auth=Bearer at-123\x01\x01"
    assert respond(b'{"status":"401"}') == ""  # not the token again: the server then says NO / 535


def test_the_token_store_is_owner_only_and_a_failed_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(tmp_path / "store" / "token.json")
    store.save(StoredToken("rt-1", "at-1", 100.0, 50.0, "f"))
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert store.load() == StoredToken("rt-1", "at-1", 100.0, 50.0, "f")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", broken)
    with pytest.raises(OSError, match="disk full"):
        store.save(StoredToken("rt-2"))
    assert store.load() == StoredToken("rt-1", "at-1", 100.0, 50.0, "f")
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["token.json"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Scripted(OAuth2Tokens):
    """The token endpoint replaced by a script: every refresh gives a token living `lifetime` seconds."""

    def __init__(self, config: MailbotConfig, clock: Clock, lifetime: float = 3600) -> None:
        assert config.oauth2 is not None
        super().__init__(config.oauth2, clock=clock)
        self.lifetime = lifetime
        self.spent: list[str] = []  # the refresh tokens used, in order
        self.revoked: set[str] = set()

    def _refresh(self, stored: StoredToken) -> StoredToken:
        self.spent.append(stored.refresh_token)
        if stored.refresh_token in self.revoked:
            raise AuthenticationError("OAuth2 refresh refused by the provider (invalid_grant)", "oauth2")
        n = len(self.spent)
        return StoredToken(f"rt-{n}", f"at-{n}", self._clock() + self.lifetime, self.lifetime, stored.issued_for)


def test_a_token_is_renewed_before_it_expires_and_once_after_a_refusal(tmp_path: Path) -> None:
    clock = Clock()
    tokens = Scripted(oauth_config(tmp_path), clock)
    assert tokens.access_token() == "at-1"
    assert tokens.spent == [SEED]
    clock.now += 3600 - 301  # more than the 5-minute margin left: kept
    assert tokens.access_token() == "at-1"
    clock.now += 2  # inside the margin: renewed with the rotated refresh token
    assert tokens.access_token() == "at-2"
    assert tokens.spent == [SEED, "rt-1"]

    assert tokens.renew_after_refusal("at-2") == "at-3"
    assert tokens.renew_after_refusal("at-2") == "at-3"  # a second thread refused the same token: renewed once


def test_a_short_lived_token_is_renewed_after_half_its_life(tmp_path: Path) -> None:
    clock = Clock()
    tokens = Scripted(oauth_config(tmp_path), clock, lifetime=5)
    assert tokens.access_token() == "at-1"
    clock.now += 2
    assert tokens.access_token() == "at-1"
    clock.now += 1
    assert tokens.access_token() == "at-2"


def test_the_store_survives_a_restart_and_a_new_configured_refresh_token_replaces_it(tmp_path: Path) -> None:
    clock = Clock()
    config = oauth_config(tmp_path)
    first = Scripted(config, clock)
    first.access_token()
    restarted = Scripted(config, clock)
    assert restarted.access_token() == "at-1"  # still valid: taken from the store, no refresh
    assert restarted.spent == []

    renewed = load_config(write_config(tmp_path, _changes(config)), environ={"SEED": "seed-2"})
    after_change = Scripted(renewed, clock)
    after_change.access_token()
    assert after_change.spent == ["seed-2"]  # ops set a new one (after a revocation): it wins over the store


def _changes(config: MailbotConfig) -> dict[str, Any]:
    assert config.oauth2 is not None
    return {
        "imap": {"password": None},
        "smtp": {"password": None},
        "oauth2": {
            "provider": "custom",
            "client_id": "mailbot",
            "token_url": "https://idp.example.test/token",
            "refresh_token": "${SEED:-}",
            "token_store": str(config.oauth2.token_store),
        },
    }


def test_without_any_refresh_token_the_error_says_to_run_auth_login(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, _changes(oauth_config(tmp_path))), environ={})
    assert config.oauth2 is not None
    with pytest.raises(AuthenticationError, match="mailbot auth login") as refused:
        OAuth2Tokens(config.oauth2).access_token()
    assert refused.value.service == "oauth2"
    report = check_oauth2(config)
    assert report.ok
    assert any("mailbot auth login" in warning for warning in report.warnings)


def test_config_check_shows_which_logins_use_oauth2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = oauth_config(tmp_path, smtp={"password": "clave"})
    assert config.oauth2 is not None
    monkeypatch.setenv("SEED", SEED)
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "mailbot.yaml"), "config", "check"])
    assert f"oauth2: custom for imap, token store {config.oauth2.token_store}" in result.output


def test_a_refused_refresh_token_is_not_tried_again_until_a_new_one_is_stored(tmp_path: Path) -> None:
    clock = Clock()
    config = oauth_config(tmp_path)
    tokens = Scripted(config, clock)
    tokens.revoked.add(SEED)
    for _ in range(3):
        with pytest.raises(AuthenticationError, match="invalid_grant"):
            tokens.access_token()
    assert tokens.spent == [SEED]  # the provider was asked once

    tokens.keep_login({"refresh_token": "rt-login", "access_token": "at-login", "expires_in": 1})
    clock.now += 1
    assert tokens.access_token() == "at-2"  # the new login's refresh token is used
    assert tokens.spent == [SEED, "rt-login"]


def test_two_processes_spend_a_rotated_refresh_token_once(tmp_path: Path) -> None:
    """The second process finds the first one's renewal in the store (under its lock) and refreshes nothing."""
    clock = Clock()
    config = oauth_config(tmp_path)
    fetcher, worker = Scripted(config, clock), Scripted(config, clock)
    assert fetcher.access_token() == "at-1"
    clock.now += 3600
    assert fetcher.access_token() == "at-2"
    assert worker.access_token() == "at-2"
    assert fetcher.spent == [SEED, "rt-1"]
    assert worker.spent == []


def test_a_login_through_oauth2_needs_no_password_but_google_needs_its_client_secret(tmp_path: Path) -> None:
    assert secret_problems(oauth_config(tmp_path)) == []
    google = oauth_config(tmp_path, {"provider": "google", "token_url": None, "client_secret": "${NONE:-}"})
    assert [p for p in secret_problems(google) if "oauth2.client_secret" in p]
