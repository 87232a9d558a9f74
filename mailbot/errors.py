"""The errors mailbot raises on purpose, and what an operator does about each.

    MailbotError                 base; every message says what to do
    ├── ConfigError              the YAML is wrong: fix the file and run `mailbot config check`
    │   └── ConfigNotFoundError  there is no file at the given path
    ├── StorageError             the database or archive cannot be used: check the path, permissions, disk
    ├── TemporaryError           a server is down or busy: mailbot retries by itself later
    └── PermanentError           a server refused for good (e.g. 5xx): a person must look
        └── AuthenticationError  the server refused the credentials: fix them; retrying soon locks the account

The CLI maps them to exit codes (see `mailbot.cli`).
"""

from __future__ import annotations


class MailbotError(Exception):
    """Base class: an expected failure with a message fit for an operator."""


class ConfigError(MailbotError):
    """The configuration file cannot be used as written."""


class ConfigNotFoundError(ConfigError):
    """The configuration file does not exist."""


class StorageError(MailbotError):
    """The database or the archive folder cannot be used."""


class TemporaryError(MailbotError):
    """A failure that goes away by itself: retry with backoff."""


class PermanentError(MailbotError):
    """A failure that will repeat until a person changes something."""


class AuthenticationError(PermanentError):
    """The server refused the login or the token (password wrong, token revoked, SMTP AUTH disabled).

    Separate from other permanent failures because of what the daemon does about it: it backs off to long
    intervals (a provider locks an account after repeated failed logins) and says so once, instead of retrying
    every pass. `service` names the server ("imap", "smtp", "oauth2").
    """

    def __init__(self, message: str, service: str) -> None:
        super().__init__(message)
        self.service = service
