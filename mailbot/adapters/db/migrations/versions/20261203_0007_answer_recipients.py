"""answer recipients: one row per recipient of an automatic answer, so the daily cap is one indexed count; partial
indexes of the messages not yet moved and the submissions not yet filed, which every pass looks for

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 18:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The outbox kinds of automatic answers as this revision knows them (`answering.ANSWER_KINDS`): a migration keeps
# the list of its own day, whatever the code later adds.
ANSWER_KINDS = (
    "aceptacion",
    "correccion",
    "duplicado",
    "sin_adjunto",
    "enlace_nube",
    "muy_grande",
    "varios_adjuntos",
    "en_revision",
    "consulta_recibida",
    "acuse_recibo",
)
ADDRESS_LENGTH = 320
BATCH = 500


def upgrade() -> None:
    op.create_table(
        "answer_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=ADDRESS_LENGTH), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_answer_recipients_outbox_id_outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_recipients")),
        sa.UniqueConstraint("outbox_id", "address", name=op.f("uq_answer_recipients_outbox_id_address")),
    )
    op.create_index(
        "ix_answer_recipients_address_created_at", "answer_recipients", ["address", "created_at"], unique=False
    )
    _backfill()
    unmoved, unfiled = sa.text("moved_to IS NULL"), sa.text("filed_as IS NULL")
    op.create_index(
        "ix_received_messages_unmoved",
        "received_messages",
        ["account", "folder", "id"],
        unique=False,
        sqlite_where=unmoved,
        postgresql_where=unmoved,
    )
    op.create_index(
        "ix_submissions_unfiled", "submissions", ["id"], unique=False, sqlite_where=unfiled, postgresql_where=unfiled
    )


def _backfill() -> None:
    """Every answer already in the outbox gets its rows, so today's cap counts what it counted before the upgrade."""
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("recipients", sa.JSON()),
        sa.column("created_at", sa.DateTime()),
    )
    recipients = sa.table(
        "answer_recipients",
        sa.column("outbox_id", sa.Integer()),
        sa.column("address", sa.String()),
        sa.column("created_at", sa.DateTime()),
    )
    bind = op.get_bind()
    answers = bind.execute(
        sa.select(outbox.c.id, outbox.c.recipients, outbox.c.created_at)
        .where(outbox.c.kind.in_(ANSWER_KINDS))
        .order_by(outbox.c.id)
    ).all()
    rows = [
        {"outbox_id": outbox_id, "address": address, "created_at": created_at}
        for outbox_id, addresses, created_at in answers
        for address in dict.fromkeys(str(a)[:ADDRESS_LENGTH] for a in addresses or [])
    ]
    for start in range(0, len(rows), BATCH):
        bind.execute(recipients.insert(), rows[start : start + BATCH])


def downgrade() -> None:
    op.drop_index("ix_submissions_unfiled", table_name="submissions")
    op.drop_index("ix_received_messages_unmoved", table_name="received_messages")
    op.drop_index("ix_answer_recipients_address_created_at", table_name="answer_recipients")
    op.drop_table("answer_recipients")
