"""inbound deliveries kept as received, for INTAKE_MODE=deferred

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import inbox.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", inbox.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", inbox.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inbound_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_deliveries_pending", ["processed_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_deliveries_pending")
    op.drop_table("inbound_deliveries")
