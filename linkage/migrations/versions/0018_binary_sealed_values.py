"""sealed values stored as bytes: bytea on PostgreSQL, BLOBs in SQLite's text columns

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

Why: a sealed value as ``s1:<key id>:<base64>`` text cost an ingest a base64 pass and a
string built per value, and a third more bytes written; linkage/seal/cipher.py's binary
format has neither. New values are written binary from this revision on; values sealed
before stay as they are and still open (nothing is opened or re-sealed here, no key is
needed): on PostgreSQL the columns become bytea holding the bytes of their text, on SQLite
nothing changes at all (a TEXT column keeps a BLOB as it is: no table is rebuilt). A key
rotation re-seals every value, binary. The downgrade writes binary values back as s1: text
(again with no key), which revisions 0014 and 0016 then read.
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# the columns sealed at this revision (frozen: linkage.privacy's list may grow)
SEALED = {
    "record": (
        "full_name",
        "family_name",
        "given_name",
        "name_latin",
        "name_kh",
        "family_name_kh",
        "given_name_kh",
        "birth_date",
        "phone",
        "national_id",
        "travel_doc_no",
        "father_name",
        "remarks",
        "extra",
        "raw",
    ),
    "record_version": ("values",),
    "quarantine": ("raw",),
    "delivery": ("file_name",),
}


def _alter(table: str, columns: tuple[str, ...], kind: str, using: str) -> None:
    """One ALTER TABLE for a table's columns: PostgreSQL rewrites the table once."""
    changes = ", ".join(f'ALTER COLUMN "{c}" TYPE {kind} USING {using.format(c=c)}' for c in columns)
    op.execute(f'ALTER TABLE "{table}" {changes}')


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: new values are BLOBs in the same TEXT columns
    for table, columns in SEALED.items():
        _alter(table, columns, "bytea", "convert_to(\"{c}\", 'UTF8')")


# a binary value (first byte 1, its key id's length, the id, nonce, ciphertext and tag) as
# s1:<key id>:<base64> text; PostgreSQL's base64 breaks lines every 76 characters
_AS_TEXT = (
    "CASE WHEN get_byte(\"{c}\", 0) = 1 THEN 's1:' || "
    "convert_from(substring(\"{c}\" from 3 for get_byte(\"{c}\", 1)), 'UTF8') || ':' || "
    "translate(encode(substring(\"{c}\" from 3 + get_byte(\"{c}\", 1)), 'base64'), E'\\n', '') "
    "ELSE convert_from(\"{c}\", 'UTF8') END"
)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table, columns in SEALED.items():
            _alter(table, columns, "text", _AS_TEXT)
        return
    from linkage.seal.cipher import as_text
    from linkage.seal.reseal import rewrite

    def to_text(table: str, column: str, value: object) -> str | None:
        return as_text(value) if isinstance(value, bytes) else None

    rewrite(bind, to_text, tables=SEALED)
