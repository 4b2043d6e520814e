"""self-service: flow states and meter readings

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:45:00
"""

import sqlalchemy as sa
from alembic import op

import inbox.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "self_service_states",
        sa.Column("conversation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("step", sa.String(length=20), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("closed_notice_for", inbox.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", inbox.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", inbox.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_table(
        "meter_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_number", sa.String(length=40), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("contract", sa.String(length=40), nullable=False),
        sa.Column("meter", sa.String(length=20), nullable=False),
        sa.Column("index_value", sa.BigInteger(), nullable=False),
        sa.Column("confirmed_unusual", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("photo_attachment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", inbox.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["photo_attachment_id"], ["attachments.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt_number"),
    )
    with op.batch_alter_table("meter_readings", schema=None) as batch_op:
        batch_op.create_index("ix_meter_readings_contract", ["contract", "meter", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_meter_readings_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meter_readings_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meter_readings_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meter_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meter_readings_created_at"))
        batch_op.drop_index(batch_op.f("ix_meter_readings_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_meter_readings_contact_id"))
        batch_op.drop_index("ix_meter_readings_contract")
    op.drop_table("meter_readings")
    op.drop_table("self_service_states")
