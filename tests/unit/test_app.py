"""The composition root: the real adapters from the configuration by default, any port replaced by a keyword."""

from __future__ import annotations

from pathlib import Path

from mailbot.adapters.archive import FileArchive
from mailbot.adapters.clock import SystemClock
from mailbot.adapters.imap import ImapMailbox
from mailbot.adapters.smtp import SmtpConnection
from mailbot.app import App
from mailbot.config import load_config
from tests.support.configs import write_config
from tests.support.fakes import FakeMailServer, FakeSmtpServer, MemoryArchive


def test_app_builds_the_real_adapters_from_the_configuration_and_opens_nothing(tmp_path: Path) -> None:
    """Each factory gives a new, unconnected adapter with its section of the configuration; no file is created."""
    config = load_config(write_config(tmp_path), environ={})
    app = App(config)
    mailbox, sender = app.mailboxes(), app.senders()
    assert isinstance(mailbox, ImapMailbox)
    assert mailbox.config == config.imap
    assert not mailbox.connected
    assert app.mailboxes() is not mailbox
    assert isinstance(sender, SmtpConnection)
    assert sender.config == config.smtp
    assert isinstance(app.archive, FileArchive)
    assert app.archive.root == config.storage.archive_dir
    assert isinstance(app.clock, SystemClock)
    assert str(app.clock.tz) == config.municipality.timezone
    assert not (tmp_path / "state").exists()  # neither the database nor the archive folder


def test_a_keyword_replaces_one_port_and_leaves_the_others_real(tmp_path: Path) -> None:
    """What tests and the demo rely on: the seam takes any implementation of the port."""
    mail, smtp, archive = FakeMailServer(), FakeSmtpServer(), MemoryArchive()
    app = App(load_config(write_config(tmp_path), environ={}), archive=archive, mailboxes=mail.mailbox)
    assert app.archive is archive
    assert app.mailboxes().server is mail
    assert isinstance(app.senders(), SmtpConnection)
    assert App(app.config, senders=smtp.sender).senders().server is smtp
