"""Shared fixtures.

Mail servers: one real Dovecot + Postfix pair per test session (tests/support/mailservers.py);
each test that asks for `mail` gets it with every mailbox emptied.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from tests.support.mailservers import MailServers

_MAIL_SERVER_FIXTURES = frozenset({"mail_servers", "mail"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the mail servers, so `-m "not mailserver"` leaves them out."""
    for item in items:
        if _MAIL_SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.mailserver)


@pytest.fixture(scope="session")
def mail_servers() -> Iterator[MailServers]:
    """Dovecot and Postfix on loopback for the whole session (skipped where not installed)."""
    reason = MailServers.available()
    if reason is not None:
        pytest.skip(reason)
    servers = MailServers()
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def mail(mail_servers: MailServers) -> MailServers:
    """The session's mail servers, every user's mailbox empty and with only an INBOX."""
    mail_servers.clear_mailboxes()
    return mail_servers


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """CLI commands configure structlog for the whole process (the demo raises the level): undo it per test."""
    yield
    structlog.reset_defaults()
