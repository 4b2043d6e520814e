"""campaigns on Messenger and X: the campaign's message tag, per-account campaign rate and daily cap

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch_op:
        batch_op.add_column(sa.Column("tag", sa.String(length=40), nullable=True))
    with op.batch_alter_table("channel_accounts") as batch_op:
        batch_op.add_column(sa.Column("campaign_rate", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("campaign_daily_cap", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_accounts") as batch_op:
        batch_op.drop_column("campaign_daily_cap")
        batch_op.drop_column("campaign_rate")
    with op.batch_alter_table("campaigns") as batch_op:
        batch_op.drop_column("tag")
