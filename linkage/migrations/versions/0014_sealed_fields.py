"""sealed personal fields: the store's wrapped data keys, and text columns for ciphertext

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Values stored in clear before are sealed here, in the migration's transaction (a crash
leaves them as they were, and `survivor-link migrate` does it again): every personal column
of record, record_version and quarantine, with the master key of the settings that
linkage.store.db.migrate hands over. Text columns hold the ciphertext: a sealed phone does
not fit varchar(20), a sealed birth date is no date. The downgrade opens them again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

RECORD_TEXT = (
    "full_name",
    "family_name",
    "given_name",
    "name_latin",
    "name_kh",
    "family_name_kh",
    "given_name_kh",
    "phone",
    "national_id",
    "travel_doc_no",
    "father_name",
    "remarks",
)
CASTS = [("record", c, "text") for c in RECORD_TEXT] + [
    ("record", "birth_date", "text"),
    ("record", "raw", "text"),
    ("record", "extra", "text"),
    ("record_version", "values", "text"),
    ("quarantine", "raw", "text"),
]

# what this migration seals, frozen (linkage.seal.reseal's list grows with later migrations)
SEALED = {
    "record": (*RECORD_TEXT, "birth_date", "extra", "raw"),
    "record_version": ("values",),
    "quarantine": ("raw",),
}


ORIGINAL = {
    "full_name": sa.String(256),
    "family_name": sa.String(128),
    "given_name": sa.String(128),
    "name_latin": sa.String(256),
    "name_kh": sa.String(256),
    "family_name_kh": sa.String(128),
    "given_name_kh": sa.String(128),
    "phone": sa.String(20),
    "national_id": sa.String(16),
    "travel_doc_no": sa.String(32),
    "father_name": sa.String(128),
    "remarks": sa.Text(),
    "birth_date": sa.Date(),
    "raw": sa.JSON(),
    "extra": sa.JSON(),
    "values": sa.JSON(),
}


def _settings():
    settings = op.get_context().config.attributes.get("settings")
    if settings is None:
        raise RuntimeError("sealing the store needs its master key: run `survivor-link migrate`")
    return settings


def _has_rows(bind) -> bool:
    return any(
        bind.execute(sa.text(f'SELECT 1 FROM "{t}" LIMIT 1')).first() for t in ("record", "quarantine")
    )


def _retype(to_text: bool) -> None:
    bind = op.get_bind()
    by_table: dict[str, list[str]] = {}
    for table, column, _ in CASTS:
        by_table.setdefault(table, []).append(column)
    if bind.dialect.name == "postgresql":
        for table, columns in by_table.items():
            for column in columns:
                kind = "text" if to_text else ORIGINAL[column].compile(dialect=bind.dialect)
                op.execute(
                    f'ALTER TABLE {table} ALTER COLUMN "{column}" TYPE {kind} USING "{column}"::{kind}'
                )
        return
    if not to_text:
        return  # SQLite's copy would CAST a birth date text to a number; its text columns read as before
    # the record table is rebuilt under its children: linkage.store.db.migrate runs this with
    # foreign keys off and checks them before committing
    for table, columns in by_table.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                new, old = (sa.Text(), ORIGINAL[column]) if to_text else (ORIGINAL[column], sa.Text())
                batch.alter_column(column, type_=new, existing_type=old)


def upgrade() -> None:
    op.create_table(
        "store_key",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("master_id", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("wrapped", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "master_id"),
    )
    _retype(to_text=True)
    bind = op.get_bind()
    if not _has_rows(bind):
        return  # a new store: its keys are made on first use
    from linkage.seal.archive import rewrite_archive
    from linkage.seal.keyring import load_keyring
    from linkage.seal.reseal import is_sealed, rewrite

    settings = _settings()
    ring = load_keyring(bind, settings)
    rewrite_archive(settings, ring)  # files first: sealing them again is harmless

    def seal(table: str, column: str, value: str) -> str | None:
        if is_sealed(value):
            return None
        return ring.seal(value.encode("utf-8", "surrogatepass"), f"{table}.{column}".encode())

    rewrite(bind, seal, tables=SEALED)


def downgrade() -> None:
    bind = op.get_bind()
    if _has_rows(bind):
        from linkage.seal.archive import rewrite_archive
        from linkage.seal.keyring import load_keyring
        from linkage.seal.reseal import is_sealed, rewrite

        settings = _settings()
        ring = load_keyring(bind, settings, create=False)
        rewrite_archive(settings, ring, clear=True)

        def unseal(table: str, column: str, value: str) -> str | None:
            if not is_sealed(value):
                return None
            where = f"{table}.{column}"
            return ring.open(value, where.encode(), where).decode("utf-8", "surrogatepass")

        rewrite(bind, unseal, tables=SEALED)
    _retype(to_text=False)
    op.drop_table("store_key")
