"""the next-response delay settable per channel account, like the first take's

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 15:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_accounts") as batch_op:
        batch_op.add_column(sa.Column("next_response_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_accounts") as batch_op:
        batch_op.drop_column("next_response_minutes")
