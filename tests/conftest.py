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


# ------------------------------------------------------------------------------------------------ secrets in logs
# Issue 9: passwords and secrets never appear in logs. Every test's captured output (stdout, stderr and log
# records: where mailbot's structlog lines land) is scanned for the secrets the suite itself uses; a hit fails the
# session, naming the test.

_SECRETS_SEEN: list[str] = []


def _suite_secrets() -> tuple[str, ...]:
    from tests.support.configs import TEST_SECRET
    from tests.support.mailservers import PASSWORD

    return (TEST_SECRET, PASSWORD)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" or not report.passed:
        return  # a failing test's report may quote anything; it fails on its own
    captured = "\n".join(text for _, text in report.sections)
    for secret in _suite_secrets():
        if secret in captured:
            _SECRETS_SEEN.append(f"{report.nodeid}: a test secret appears in its captured output")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SECRETS_SEEN:
        for line in _SECRETS_SEEN:
            print(f"SECRET LEAK: {line}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
