"""record versions: what a corrected record said before, and which delivery said it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("delivery_sha256", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("replaced_by_sha256", sa.String(length=64), nullable=False),
        sa.Column("replaced_at", sa.DateTime(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_record_version_record_id"), "record_version", ["record_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_record_version_record_id"), table_name="record_version")
    op.drop_table("record_version")
