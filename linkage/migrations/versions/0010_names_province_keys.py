"""blocking keys that need no district: both name keys with the province and a birth year or return bucket

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KEYS = ("k_names_birth0", "k_names_birth1", "k_names_return0", "k_names_return1")


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
