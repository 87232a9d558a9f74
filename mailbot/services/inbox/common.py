"""What every step of the inbox shares: the mailbox it works on, and reading a message back into values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mailbot.adapters.archive import Stored
from mailbot.adapters.mime import parse_message_file
from mailbot.adapters.workbook.reader import ReaderLimits
from mailbot.app import App
from mailbot.config import MailbotConfig
from mailbot.domain.inbound import AttachmentPart, ParsedMessage
from mailbot.errors import StorageError

Files = list[tuple[AttachmentPart, Stored]]  # a message's attachments with where the archive keeps them


@dataclass(frozen=True)
class Inbox:
    """One mailbox (the configuration's imap section) and the application whose adapters the steps use."""

    app: App
    account: str
    folder: str
    limits: ReaderLimits

    @classmethod
    def of(cls, app: App) -> Inbox:
        imap = app.config.imap
        account = f"{imap.user or ''}@{imap.host}:{imap.effective_port}"
        return cls(app, account, imap.folder, ReaderLimits.from_config(app.config.limits))

    @property
    def config(self) -> MailbotConfig:
        return self.app.config

    def names(self) -> dict[str, str]:
        """Dependencia code → name, as the attention items say them."""
        return {d.code: d.name for d in self.config.dependencias}


def parse_stored(inbox: Inbox, relative: Path | str, size: int) -> ParsedMessage:
    """A message from the archive, read from its file so that its size never decides the memory used: up to
    `max_message_bytes` parsed with its long bodies left in the file (`adapters.mime.spool`), a larger one by its
    headers only. An unreadable file is a StorageError (the message waits for the next attempt)."""
    limits = inbox.config.limits
    try:
        with inbox.app.archive.open(relative) as source:
            return parse_message_file(
                source,
                size,
                max_message_bytes=limits.max_message_bytes,
                max_attachment_bytes=limits.max_attachment_bytes,
            )
    except OSError as exc:
        raise StorageError(f"cannot read {relative} from the archive: {exc}") from exc


def store_attachments(inbox: Inbox, parsed: ParsedMessage) -> Files:
    """Content-addressed: the worker's call finds the fetcher's files and writes nothing."""
    archive = inbox.app.archive
    return [(part, archive.store_attachment(part.data, str(part.kind))) for part in parsed.attachments if part.data]


def text(value: str | None, limit: int) -> str | None:
    """What the sender wrote, fit for any database: NUL removed (PostgreSQL refuses it in text), cut to the column."""
    return None if value is None else value.replace("\x00", "")[:limit]
