"""delivery.file_name sealed: a sender may name a file after the man it is about

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

"sok_dara_intake.xlsx" was stored in clear. The column holds ciphertext now, as text (a
sealed 255-character Khmer name is longer than varchar(512)), each name sealed in this
migration's transaction with the store's keys. On SQLite the delivery table is rebuilt under
its children (linkage.store.db.migrate runs this with foreign keys off and checks them).
The downgrade opens them again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SEALED = {"delivery": ("file_name",)}


def _ring(create: bool):
    from linkage.seal.keyring import load_keyring

    settings = op.get_context().config.attributes.get("settings")
    if settings is None:
        raise RuntimeError("sealing file names needs the store's keys: run `survivor-link migrate`")
    return load_keyring(op.get_bind(), settings, create=create)


def _any_delivery() -> bool:
    return op.get_bind().execute(sa.text("SELECT 1 FROM delivery LIMIT 1")).first() is not None


def _retype(to_text: bool) -> None:
    new, old = (sa.Text(), sa.String(512)) if to_text else (sa.String(512), sa.Text())
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("delivery", "file_name", type_=new, existing_type=old, existing_nullable=False)
        return
    if not to_text:
        return  # SQLite's varchar and text are one: no rebuild (with foreign keys on, none could be)
    with op.batch_alter_table("delivery") as batch:
        batch.alter_column("file_name", type_=new, existing_type=old, existing_nullable=False)


def upgrade() -> None:
    bind = op.get_bind()
    _retype(to_text=True)
    if not _any_delivery():
        return  # a new store: its keys are made on first use
    from linkage.seal.reseal import is_sealed, rewrite

    ring = _ring(create=True)

    def seal(table: str, column: str, value: str) -> str | None:
        if is_sealed(value):
            return None
        return ring.seal(value.encode("utf-8", "surrogatepass"), f"{table}.{column}".encode())

    rewrite(bind, seal, tables=SEALED)


def downgrade() -> None:
    bind = op.get_bind()
    if _any_delivery():
        from linkage.seal.reseal import is_sealed, rewrite

        ring = _ring(create=False)

        def unseal(table: str, column: str, value: str) -> str | None:
            if not is_sealed(value):
                return None
            where = f"{table}.{column}"
            return ring.open(value, where.encode(), where).decode("utf-8", "surrogatepass")

        rewrite(bind, unseal, tables=SEALED)
    _retype(to_text=False)
