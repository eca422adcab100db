"""places that split large name blocks, indexed with the keys they split

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SPLIT = (
    ("k_fam_year", "r_province"),
    ("k_giv_year", "r_province"),
    ("k_fam_district", "r_commune"),
    ("k_giv_district", "r_commune"),
)


def upgrade() -> None:
    with op.batch_alter_table("person_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("r_province", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("r_commune", sa.BigInteger(), nullable=True))
        for key, place in SPLIT:
            batch_op.drop_index(batch_op.f(f"ix_person_record_{key}"))
            batch_op.create_index(f"ix_person_record_{key}_place", [key, place], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person_record", schema=None) as batch_op:
        for key, _place in SPLIT:
            batch_op.drop_index(f"ix_person_record_{key}_place")
            batch_op.create_index(batch_op.f(f"ix_person_record_{key}"), [key], unique=False)
        batch_op.drop_column("r_commune")
        batch_op.drop_column("r_province")
