"""record_frame: each linked record's comparison row, sealed as one value

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

Why: a 1,000-record delivery against a million stored records met some 37,000 of them, and
reading and opening their fifteen sealed columns (0.7 s warm, 1.4 s cold) and deriving
their comparison frame (0.4-0.5 s) were most of its link. A link now keeps each record's
finished row (linkage/match/frame_cache.py), so a delivery reads one value per stored
record it meets. Empty here (no key is needed to migrate): a delivery makes the rows of
the stored records it meets that have none, and `survivor-link link --fill-cache` makes
every missing one at once. The row is sealed like the record's own fields (bytea on
PostgreSQL, a BLOB in a TEXT column on SQLite, as revision 0018 keeps them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "record_frame",
        sa.Column("record_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("frame_version", sa.String(length=16), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.Column("row", sa.Text() if sqlite else sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("record_id"),
    )


def downgrade() -> None:
    op.drop_table("record_frame")
