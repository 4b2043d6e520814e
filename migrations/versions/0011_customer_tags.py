"""marketing tags on directory entries, for campaign audiences

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 23:59:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tag", sa.String(40), nullable=False),
        sa.UniqueConstraint("customer_id", "tag"),
    )
    op.create_index("ix_customer_tags_tag", "customer_tags", ["tag"])


def downgrade() -> None:
    op.drop_index("ix_customer_tags_tag", table_name="customer_tags")
    op.drop_table("customer_tags")
