"""business hours, holidays, the commitments' clock and languages

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:11:33.173319
"""

import sqlalchemy as sa
from alembic import op

import inbox.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("shortcut", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("validated", sa.Boolean(), nullable=False),
        sa.Column("validated_by_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", inbox.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", inbox.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["validated_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shortcut", "language"),
    )
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.create_index("ix_canned_replies_language", ["language"], unique=False)

    op.create_table(
        "holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("recurring", sa.Boolean(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["channel_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "recurring", "account_id"),
    )
    op.create_table(
        "sla_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("timer", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("due_at", inbox.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", inbox.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "timer", "level", "due_at"),
    )
    with op.batch_alter_table("sla_warnings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_warnings_created_at"), ["created_at"], unique=False)

    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("business_hours", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("first_response_minutes", sa.Integer(), nullable=True))

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("awaiting_since", inbox.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_response_due_at", inbox.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("answer_due_at", inbox.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("answered_at", inbox.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_conversations_awaiting", ["status", "awaiting_since"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_awaiting")
        batch_op.drop_column("answered_at")
        batch_op.drop_column("answer_due_at")
        batch_op.drop_column("next_response_due_at")
        batch_op.drop_column("awaiting_since")
        batch_op.drop_column("language")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.drop_column("first_response_minutes")
        batch_op.drop_column("business_hours")

    with op.batch_alter_table("sla_warnings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_warnings_created_at"))

    op.drop_table("sla_warnings")
    op.drop_table("holidays")
    op.drop_table("canned_replies")
