"""blocking keys: a name key with the commune and the other initial; a name key with the birth date

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KEYS = ("k_fam_commune", "k_giv_commune", "k_dob_fam", "k_dob_giv")


def upgrade() -> None:
    with op.batch_alter_table("person_record", schema=None) as batch_op:
        for key in KEYS:
            batch_op.add_column(sa.Column(key, sa.BigInteger(), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_person_record_{key}"), [key], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person_record", schema=None) as batch_op:
        for key in KEYS:
            batch_op.drop_index(batch_op.f(f"ix_person_record_{key}"))
            batch_op.drop_column(key)
