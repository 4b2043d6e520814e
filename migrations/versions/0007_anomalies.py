"""claims due J+1, anomalies

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import inbox.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("answer_due_at", inbox.db.UTCDateTime(), nullable=True))
    op.create_table(
        "anomalies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("occurred_at", inbox.db.UTCDateTime(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("noted_by_id", sa.Integer(), nullable=True),
        sa.Column("noted_at", inbox.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", inbox.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["noted_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_anomalies_month", "anomalies", ["month", "occurred_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_anomalies_month", table_name="anomalies")
    op.drop_table("anomalies")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("answer_due_at")
