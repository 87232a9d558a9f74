"""The composition root: builds the adapters from the configuration, the only module that knows all of them.

Services receive every port from `App` (mailbot/ports.py) and build none themselves, so a test can hand them the
fakes of tests/support/fakes.py instead: `App(config, mailboxes=FakeMailServer().mailbox, ...)`. The demo
goes through the same seam: its embedded server (`start_embedded_mail`) is reached by the real IMAP and SMTP
adapters, built here from the demo's configuration like any other.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from mailbot.adapters.archive import FileArchive
from mailbot.adapters.clock import SystemClock
from mailbot.adapters.db.engine import make_session_factory
from mailbot.adapters.db.migrate import open_current
from mailbot.adapters.imap import ImapMailbox
from mailbot.adapters.oauth2 import OAuth2Tokens
from mailbot.adapters.smtp import SmtpConnection
from mailbot.config import MailbotConfig
from mailbot.ports import Archive, Clock, MailboxFactory, SenderFactory, UnitOfWork

if TYPE_CHECKING:
    from mailbot.adapters.embedded_mail import EmbeddedMailServer


class App:
    """Lazily connected: building an App opens nothing, so `config check` never touches a server or a disk.

    Every port defaults to the real adapter built from `config`; a keyword replaces it (tests, the demo).
    """

    def __init__(
        self,
        config: MailbotConfig,
        *,
        clock: Clock | None = None,
        archive: Archive | None = None,
        mailboxes: MailboxFactory | None = None,
        senders: SenderFactory | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock(config.municipality.timezone)
        self.archive: Archive = archive or FileArchive(config.storage.archive_dir)
        # One token for IMAP and SMTP: the same account, one refresh token that may rotate (adapters.oauth2).
        self.oauth2_tokens = OAuth2Tokens(config.oauth2) if config.oauth2 is not None else None
        imap_tokens = self.oauth2_tokens if config.uses_oauth2(config.imap) else None
        smtp_tokens = self.oauth2_tokens if config.uses_oauth2(config.smtp) else None
        self.mailboxes: MailboxFactory = mailboxes or functools.partial(ImapMailbox, config.imap, tokens=imap_tokens)
        self.senders: SenderFactory = senders or functools.partial(SmtpConnection, config.smtp, tokens=smtp_tokens)

    @cached_property
    def engine(self) -> Engine:
        """The database, refused with a StorageError naming it unless it exists at this version's schema (only
        `setup.upgrade_storage` creates or migrates it)."""
        return open_current(self.config.storage.database_url)

    @cached_property
    def sessions(self) -> UnitOfWork:
        return make_session_factory(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def start_embedded_mail(
    *, domains: Iterable[str], users: Iterable[str], password: str, port_base: int = 0
) -> EmbeddedMailServer:
    """The demo's IMAP + SMTP server on loopback, started (IMAP on `port_base`, SMTP on the next; 0: any free).

    Imported here, not at the top: pymap and aiosmtpd take half a second to import, which no other command needs.
    """
    from mailbot.adapters.embedded_mail import EmbeddedMailServer

    server = EmbeddedMailServer(
        imap_port=port_base,
        smtp_port=port_base + 1 if port_base else 0,
        domains=domains,
        users=users,
        password=password,
    )
    server.start()
    return server
