"""blocking key: full birth date with commune (beside district)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("k_dob_commune", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_person_record_k_dob_commune"), ["k_dob_commune"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_record_k_dob_commune"))
        batch_op.drop_column("k_dob_commune")
