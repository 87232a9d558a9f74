"""The secrets a live command cannot do without, checked apart from the schema (see `secret_problems`)."""

from __future__ import annotations

from pydantic import SecretStr

from mailbot.config.schema import MailbotConfig, Section

EXAMPLE_SECRET_PREFIX = "example-secret"  # noqa: S105 - the example's public marker, refused as a secret


def secret_problems(config: MailbotConfig) -> list[str]:
    """The secrets a live command cannot do without, one line each naming the setting.

    Separate from validation because `${VAR:-}` makes an unset variable an empty value that validates: `config
    check` reports these as errors and every command that logs in or signs (run, poll, campaign, db upgrade) refuses
    to start, so a forgotten variable is found at once instead of as failed logins or forgeable workbooks.
    """
    problems: list[str] = []
    for name, login in (("imap", config.imap), ("smtp", config.smtp)):
        if not login.user:
            if name == "imap":
                problems.append("imap.user is empty: the mailbox needs a login")
            continue  # SMTP without a user: a relay that needs no login
        if not _has_credential(login) and not config.uses_oauth2(login):
            problems.append(
                f"{name}.password is empty and there is no {name}.oauth2_token for {login.user}: set the variable "
                f"the configuration names (MAILBOT_{name.upper()}_PASSWORD in the example)"
            )
    oauth2 = config.oauth2
    if oauth2 is not None and oauth2.provider == "google" and not _secret(oauth2.client_secret):
        problems.append(
            "oauth2.client_secret is empty: Google's desktop client needs it (MAILBOT_OAUTH2_CLIENT_SECRET in the "
            "example)"
        )
    if config.signing.secret.get_secret_value().startswith(EXAMPLE_SECRET_PREFIX):
        problems.append(
            "signing.secret is the example's public value: set a secret of your own (MAILBOT_SECRET in the example)"
        )
    return problems


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value().strip() if value is not None else ""


def _has_credential(login: Section) -> bool:
    """A password OR a token OR an OAuth2 set-up: any non-empty secret of the login, or any `oauth…` setting given,
    so a way of logging in added to the schema later is not mistaken for a missing password."""
    for name in type(login).model_fields:
        value = getattr(login, name)
        if isinstance(value, SecretStr) and value.get_secret_value().strip():
            return True
        if name.startswith("oauth") and not isinstance(value, SecretStr) and value:
            return True
    return False
