"""attention items: the standing queue of what needs a person at planeación

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attention_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("dependencia_id", sa.Integer(), nullable=True),
        sa.Column("received_message_id", sa.Integer(), nullable=True),
        sa.Column("mailing_id", sa.Integer(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dependencia_id"], ["dependencias.id"], name=op.f("fk_attention_items_dependencia_id_dependencias")
        ),
        sa.ForeignKeyConstraint(["mailing_id"], ["mailings.id"], name=op.f("fk_attention_items_mailing_id_mailings")),
        sa.ForeignKeyConstraint(
            ["received_message_id"],
            ["received_messages.id"],
            name=op.f("fk_attention_items_received_message_id_received_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attention_items")),
        sa.UniqueConstraint("key", name=op.f("uq_attention_items_key")),
    )
    with op.batch_alter_table("attention_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attention_items_dependencia_id"), ["dependencia_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attention_items_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_attention_items_mailing_id"), ["mailing_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attention_items_received_message_id"), ["received_message_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attention_items_resolved_at"), ["resolved_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attention_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attention_items_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_attention_items_received_message_id"))
        batch_op.drop_index(batch_op.f("ix_attention_items_mailing_id"))
        batch_op.drop_index(batch_op.f("ix_attention_items_kind"))
        batch_op.drop_index(batch_op.f("ix_attention_items_dependencia_id"))
    op.drop_table("attention_items")
