"""blocking keys in one table (key, record, side, place) instead of a column per key

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

The key columns of person_record are dropped; the linker makes every linked record's keys
again into blocking_key on its next run (it finds the table empty), so nothing is lost.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KEYS = (
    "k_fam_year", "k_giv_year", "k_one_year", "k_fam_year_any", "k_giv_year_any", "k_fam_district",
    "k_giv_district", "k_fam_commune", "k_giv_commune", "k_phone", "k_id", "k_father", "k_return_fam",
    "k_return_giv", "k_dob_district", "k_dob_commune", "k_dob_fam", "k_dob_giv", "k_names_birth0",
    "k_names_birth1", "k_names_return0", "k_names_return1",
)
PLACES = ("r_province", "r_commune")
PLACE_INDEXES = (
    "ix_person_record_k_fam_year_place",
    "ix_person_record_k_giv_year_place",
    "ix_person_record_k_fam_district_place",
    "ix_person_record_k_giv_district_place",
)
UNSPLIT = ("k_fam_year", "k_giv_year", "k_fam_district", "k_giv_district")


def upgrade() -> None:
    op.create_table(
        "blocking_key",
        sa.Column("key", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("probe", sa.Boolean(), nullable=False),
        sa.Column("place", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key", "record_id", "probe"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("person_record", schema=None) as batch_op:
        for name in PLACE_INDEXES:
            batch_op.drop_index(name)
        for key in KEYS:
            if key not in UNSPLIT:
                batch_op.drop_index(f"ix_person_record_{key}")
        for column in (*KEYS, *PLACES):
            batch_op.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("person_record", schema=None) as batch_op:
        for column in (*KEYS, *PLACES):
            batch_op.add_column(sa.Column(column, sa.BigInteger(), nullable=True))
        for key in KEYS:
            if key not in UNSPLIT:
                batch_op.create_index(f"ix_person_record_{key}", [key], unique=False)
        for name, key in zip(PLACE_INDEXES, UNSPLIT, strict=True):
            place = "r_province" if "year" in key else "r_commune"
            batch_op.create_index(name, [key, place], unique=False)
    op.drop_table("blocking_key")
