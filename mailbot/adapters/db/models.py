"""The database schema: everything that must survive a crash lives here before its side effect happens.

Portable on purpose (SQLite and PostgreSQL): no engine-specific types; times are stored as UTC and come back
timezone-aware; money never appears as a float; large identifiers (IMAP UIDs, UIDVALIDITY) are BigInteger.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: The longest address kept in a column (RFC 5321 allows 254 in a path): a longer one is kept cut to it.
ADDRESS_LENGTH = 320

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every engine (SQLite forgets the offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database: pass an aware one")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Dependencia(Base):
    """A dependencia as known to the database; the configuration is the source of its details."""

    __tablename__ = "dependencias"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]


class Round(Base):
    """One round of a vigencia: formulación, or the seguimiento of one quarter."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("vigencia", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vigencia: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # formulacion | seguimiento-T1 .. seguimiento-T4
    deadline: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime]

    mailings: Mapped[list[Mailing]] = relationship(back_populates="round")


class Mailing(Base):
    """The format sent to one dependencia for one round: the anchor every reply is matched to."""

    __tablename__ = "mailings"
    __table_args__ = (UniqueConstraint("round_id", "dependencia_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    dependencia_id: Mapped[int] = mapped_column(ForeignKey("dependencias.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]

    round: Mapped[Round] = relationship(back_populates="mailings")
    dependencia: Mapped[Dependencia] = relationship()


class ReceivedMessage(Base):
    """A message seen in the mailbox; its outcome is NULL only while it is being processed."""

    __tablename__ = "received_messages"
    __table_args__ = (
        UniqueConstraint("account", "folder", "uidvalidity", "uid"),
        # Every pass looks for the messages not yet moved: only those are in this index, not the folder's history.
        Index(
            "ix_received_messages_unmoved",
            "account",
            "folder",
            "id",
            sqlite_where=text("moved_to IS NULL"),
            postgresql_where=text("moved_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(250))
    folder: Mapped[str] = mapped_column(String(250))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    raw_path: Mapped[str] = mapped_column(String(1000))
    from_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime]
    outcome: Mapped[str | None] = mapped_column(String(30), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    dependencia_id: Mapped[int | None] = mapped_column(ForeignKey("dependencias.id"), index=True)
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id"), index=True)
    decided_at: Mapped[dt.datetime | None]
    moved_to: Mapped[str | None] = mapped_column(String(250))

    attachments: Mapped[list[Attachment]] = relationship(back_populates="message")


class Attachment(Base):
    """An attachment, archived with its SHA-256 before anything is decided about it."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_message_id: Mapped[int] = mapped_column(ForeignKey("received_messages.id"), index=True)
    filename: Mapped[str | None] = mapped_column(String(500))  # as the sender named it, for display only
    content_type: Mapped[str | None] = mapped_column(String(200))
    detected_kind: Mapped[str] = mapped_column(String(30))  # sniffed from the bytes: xlsx, xls, ods, ...
    archive_path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)

    message: Mapped[ReceivedMessage] = relationship(back_populates="attachments")


class Submission(Base):
    """One version of a dependencia's plan for a round; the accepted one is the plan of record."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("mailing_id", "version"),
        # The filing sweep of every pass reads the versions not yet filed from here, not every version ever
        # (on SQLite each row's filed_as is stored after its plan).
        Index(
            "ix_submissions_unfiled",
            "id",
            sqlite_where=text("filed_as IS NULL"),
            postgresql_where=text("filed_as IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    findings: Mapped[list[Any]]
    decision: Mapped[str] = mapped_column(String(30))  # accepted | correction_requested
    radicado: Mapped[str | None] = mapped_column(String(40), unique=True)
    plan: Mapped[dict[str, Any] | None]  # the parsed plan of an accepted version, for exports
    created_at: Mapped[dt.datetime]
    filed_as: Mapped[str | None] = mapped_column(String(1000))  # planes/…, set once filed (after the commit)


class OutboxMail(Base):
    """A mail to send, committed before any SMTP traffic: a crash delays it, never loses or repeats it."""

    __tablename__ = "outbox"
    # The flush's claim (the oldest due pending row) read from the index: on SQLite each row's next_attempt_at is
    # stored after the mail's bytes, and a claim among 1,000 pending answers walked them all.
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)  # one row per logical mail
    kind: Mapped[str] = mapped_column(String(30))  # mailing | acceptance | correction | reminder | digest ...
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    envelope_from: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[list[Any]]
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20))  # pending | sending | sent | failed (ix_outbox_due leads with it)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[dt.datetime | None]  # when the current attempt began (recorded before any SMTP traffic)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    recipient_results: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id"), index=True)
    received_message_id: Mapped[int | None] = mapped_column(ForeignKey("received_messages.id"), index=True)


class AnswerRecipient(Base):
    """One recipient (To or Cc) of an automatic answer, written with it: the per-address daily cap is one indexed
    count instead of reading the JSON recipients of every answer of the day (on SQLite each after its mail's bytes).
    """

    __tablename__ = "answer_recipients"
    __table_args__ = (
        UniqueConstraint("outbox_id", "address"),
        Index("ix_answer_recipients_address_created_at", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    created_at: Mapped[dt.datetime]  # the answer's own created_at


class ImapCheckpoint(Base):
    """Where the last pass stopped, so a pass reads only new UIDs whatever the mailbox holds."""

    __tablename__ = "imap_checkpoints"
    __table_args__ = (UniqueConstraint("account", "folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(250))
    folder: Mapped[str] = mapped_column(String(250))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime]


class AuditEvent(Base):
    """An append-only trail of every decision and every mail, for planeación and the auditors."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(50))
    subject_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any]]


class AttentionItem(Base):
    """Something a person at planeación must look at; open until a later event or a person resolves it."""

    __tablename__ = "attention_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # one item per event: a re-decided message opens none
    kind: Mapped[str] = mapped_column(String(30), index=True)  # domain.attention.Kind
    summary: Mapped[str] = mapped_column(Text)  # Spanish, for a person
    dependencia_id: Mapped[int | None] = mapped_column(ForeignKey("dependencias.id"), index=True)
    received_message_id: Mapped[int | None] = mapped_column(ForeignKey("received_messages.id"), index=True)
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id"), index=True)
    until: Mapped[dt.date | None] = mapped_column(Date)  # an away item: the return date the secretario gave
    created_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200))  # "person", "accepted PA-2027-HAC-0002", …
    note: Mapped[str | None] = mapped_column(Text)


class ProcessHealth(Base):
    """What each daemon process last said about itself, so `mailbot health` can judge it without asking it.

    One row per process name (role and host, plus `MAILBOT_INSTANCE` when several run on one host), written by
    the process's own loops; read by `mailbot health`, `mailbot status` and the Docker HEALTHCHECK.
    """

    __tablename__ = "process_health"

    process: Mapped[str] = mapped_column(String(200), primary_key=True)  # e.g. "all@mail01", "worker@mail02#2"
    role: Mapped[str] = mapped_column(String(20))
    hostname: Mapped[str] = mapped_column(String(200), index=True)
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime]
    heartbeat_at: Mapped[dt.datetime]  # the loops were alive at this time (also while waiting on purpose)
    stopped_at: Mapped[dt.datetime | None]  # set on a clean stop; cleared on the next start
    last_pass_at: Mapped[dt.datetime | None]  # the last successful pass (watcher) or batch (worker)
    idle_alive: Mapped[bool | None]  # the IMAP connection is up and waiting for news; None for a worker
    auth_state: Mapped[str] = mapped_column(String(20), default="ok")  # ok | refused
    auth_service: Mapped[str | None] = mapped_column(String(20))  # imap | smtp | oauth2
    auth_since: Mapped[dt.datetime | None]
    auth_next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None]
