"""submissions filed_as: where the plan was filed under planes/, set after the commit that decided it

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL on every existing row: the inbox's next sweep files them again under the same names (idempotent)
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filed_as", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("filed_as")
