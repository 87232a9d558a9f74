"""Shared fixtures.

Mail servers: one real Dovecot + Postfix pair per test session (tests/support/mailservers.py);
each test that asks for `mail` gets it with every mailbox emptied.

Databases: every test that touches storage is marked `storage` and runs twice in `scripts/test.sh`: on SQLite,
then with `MAILBOT_TEST_DATABASE=postgresql` (which keeps only the `storage` tests) on the session's PostgreSQL server
(tests/support/postgres.py; each test configuration gets a fresh database from tests/support/configs.py).
The marker is checked, not trusted: a test that opens a database connection without it fails, and in the
PostgreSQL run a `storage` test that opens a SQLite database fails (it bypassed the switch). Tests that use
SQLite on purpose (its pragmas, the one-command demo) are marked `sqlite_only` instead. A `storage` test whose point
does not depend on the engine (an IMAP reconnect, OAuth2 renewals, secrets kept out of logs) is also marked
`engine_neutral`: it runs in the SQLite pass only, which keeps the PostgreSQL pass to what it can prove.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from sqlalchemy import Connection, Engine, event
from sqlalchemy.pool import Pool

from mailbot.domain.addresses import allow_test_domains
from tests.support import postgres
from tests.support.configs import storage_engine
from tests.support.mailservers import MailServers

_MAIL_SERVER_FIXTURES = frozenset({"mail_servers", "mail", "hosting_servers", "hosting"})

# The test servers' addresses are under the reserved `.test` domain, also in tests that parse mail without loading
# a configuration; a configuration from tests/support/configs.py says `municipality.test_domains: true` too, so
# the mailbot processes the tests start accept them as well. Production never calls this (domain.addresses).
allow_test_domains()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses the mail servers, so `-m "not mailserver"` leaves them out; start the slow tests
    first.

    In the PostgreSQL run (MAILBOT_TEST_DATABASE=postgresql) only the `storage` tests are kept (not the
    `sqlite_only` nor the `engine_neutral` ones): the others do not touch storage, or prove nothing that depends on
    the engine, and already ran in the SQLite run. A `-m` given on the command line still applies on top.
    """
    for item in items:
        if _MAIL_SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.mailserver)
    # Files with slow tests first (a stable sort: each file whole and in its order, so a module-scoped fixture is
    # built once), so that under pytest-xdist the longest tests do not start last and leave the other workers idle
    # at the end of the pass.
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
    if storage_engine() != "postgresql":
        return
    kept, dropped = [], []
    for item in items:
        names = {m.name for m in item.iter_markers()}
        (kept if "storage" in names and not names & {"sqlite_only", "engine_neutral"} else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def mail_servers() -> Iterator[MailServers]:
    """Dovecot and Postfix on loopback for the whole session (skipped where not installed)."""
    yield from _started(MailServers)


@pytest.fixture
def mail(mail_servers: MailServers) -> MailServers:
    """The session's mail servers, every user's mailbox empty and with only an INBOX."""
    mail_servers.clear_mailboxes()
    return mail_servers


#: A second loopback address: Dovecot counts 127.0.0.1 → 127.0.0.1 as secured, this one not (FIELD-NOTES).
SECURE_ADDRESS = "127.0.0.14"


@pytest.fixture(scope="session")
def hosting_servers() -> Iterator[MailServers]:
    """A second Dovecot + Postfix pair shaped like a hosting provider's (cPanel): LOGIN refused before TLS on
    SECURE_ADDRESS, submission (STARTTLS + AUTH) and SMTPS (AUTH) through Dovecot's SASL, and the `INBOX.`
    namespace with "." as separator. Started only by the tests that ask for it."""
    yield from _started(
        functools.partial(
            MailServers, secure_address=SECURE_ADDRESS, submission=True, namespace_prefix="INBOX.", separator="."
        )
    )


def _started(make: Callable[[], MailServers]) -> Iterator[MailServers]:
    """A pair of servers started for the session and stopped after it (the test skips where they are missing)."""
    reason = MailServers.available()
    if reason is not None:
        pytest.skip(reason)
    servers = make()
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def hosting(hosting_servers: MailServers) -> MailServers:
    """The hosting-like servers, every user's mailbox empty and with only an INBOX."""
    hosting_servers.clear_mailboxes()
    return hosting_servers


@pytest.fixture(autouse=True)
def _storage_marker_is_honest(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose database use does not match its marker (see the module's docstring)."""
    engines: set[str] = set()
    used: dict[int, Engine] = {}  # strong references: an engine dropped mid-test must not be collected with its
    # connections open (psycopg warns; sqlite3 in Python 3.11 says nothing); they are disposed after the test

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        engines.add("sqlite" if isinstance(dbapi_connection, sqlite3.Connection) else "postgresql")

    def on_engine_connect(connection: Connection) -> None:
        used.setdefault(id(connection.engine), connection.engine)

    event.listen(Pool, "connect", on_connect)
    event.listen(Engine, "engine_connect", on_engine_connect)
    try:
        yield
    finally:
        event.remove(Pool, "connect", on_connect)
        event.remove(Engine, "engine_connect", on_engine_connect)
        for engine in used.values():  # tests rarely close their App: free the server's connections now
            engine.dispose()
    marked = {m.name for m in request.node.iter_markers()} & {"storage", "sqlite_only"}
    if engines and not marked:
        pytest.fail(f"opened a {'/'.join(sorted(engines))} database but is not marked storage (or sqlite_only)")
    if storage_engine() == "postgresql" and "sqlite" in engines and "sqlite_only" not in marked:
        pytest.fail("marked storage but opened a SQLite database in the PostgreSQL run (use configs.database_url)")


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
    from tests.support.oauth_idp import CLIENT_SECRET

    return (TEST_SECRET, PASSWORD, CLIENT_SECRET)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" or not report.passed:
        return  # a failing test's report may quote anything; it fails on its own
    captured = "\n".join(text for _, text in report.sections)
    for secret in _suite_secrets():
        if secret in captured:
            _SECRETS_SEEN.append(f"{report.nodeid}: a test secret appears in its captured output")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    postgres.stop_session_server()  # by the PID it started, if this session started one
    if _SECRETS_SEEN:
        for line in _SECRETS_SEEN:
            print(f"SECRET LEAK: {line}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
