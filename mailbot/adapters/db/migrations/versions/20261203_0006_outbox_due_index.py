"""outbox due index: the flush's claim of the oldest due pending row read from an index

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 16:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite next_attempt_at is stored after each row's raw bytes: without it a claim walks every pending mail
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at", "id"], unique=False)
    # it leads with status, so status's own index is only upkeep now
    op.drop_index("ix_outbox_status", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_status", "outbox", ["status"], unique=False)
    op.drop_index("ix_outbox_due", table_name="outbox")
