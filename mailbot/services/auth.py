"""`mailbot auth login`: obtain the first OAuth2 refresh token once; from then on the adapters renew it themselves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mailbot.adapters import oauth2
from mailbot.app import App
from mailbot.errors import ConfigError


def login(app: App, show: Callable[[str], None], *, port: int = 0) -> Path:
    """Sign the mailbox's account in and keep its tokens in `oauth2.token_store`; returns the store's path.

    Microsoft 365 and custom providers: the device-code flow (the person signs in on any device with the code
    shown; nothing needs to reach the server). Google: the installed-app flow with a loopback redirect on `port`
    (Google has no device flow for the Gmail scope and no longer accepts pasted codes).
    """
    config = app.config.oauth2
    if config is None or app.oauth2_tokens is None:
        raise ConfigError("no oauth2 section in the configuration: add one (see docs/OAUTH2.md) to sign in")
    if config.provider == "google":
        token = oauth2.loopback_login(config, show, port=port)
    else:
        token = oauth2.device_login(config, show)
    app.oauth2_tokens.keep_login(dict(token))
    return config.token_store
