"""flag_pending, flag_state, flag_status: flags recomputed only for the persons that changed

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

Why: a flag run recomputed every return of the store (42 CPU s of a 1,000-record delivery's
run at a million records). Writers now queue the persons they change (flag_pending); a run
recomputes those (and the returns its as-of date moved across the grace period) when the
rules are those of the last run (flag_state), and sums its counts over flag_status. Empty
tables here: the first run after this revision recomputes everything and fills them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flag_pending",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "flag_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("rules", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "flag_status",
        sa.Column("event_id", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.String(length=16), nullable=False),
        sa.Column("return_known", sa.Boolean(), nullable=False),
        sa.Column("dated", sa.Boolean(), nullable=False),
        sa.Column("referred", sa.Boolean(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("status_unknown", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(op.f("ix_flag_status_person_id"), "flag_status", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_flag_status_person_id"), table_name="flag_status")
    op.drop_table("flag_status")
    op.drop_table("flag_state")
    op.drop_table("flag_pending")
