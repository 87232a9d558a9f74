"""process_health: each daemon process's own report (heartbeat, last pass, IDLE, authentication, last error)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "process_health",
        sa.Column("process", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("hostname", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("last_pass_at", sa.DateTime(), nullable=True),
        sa.Column("idle_alive", sa.Boolean(), nullable=True),
        sa.Column("auth_state", sa.String(length=20), nullable=False),
        sa.Column("auth_service", sa.String(length=20), nullable=True),
        sa.Column("auth_since", sa.DateTime(), nullable=True),
        sa.Column("auth_next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("process", name=op.f("pk_process_health")),
    )
    op.create_index(op.f("ix_process_health_hostname"), "process_health", ["hostname"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_process_health_hostname"), table_name="process_health")
    op.drop_table("process_health")
