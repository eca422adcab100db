"""content record keys keyed by the store's blind key: `c:` + sha256 becomes `k:` + HMAC

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

A content key (MoSVY: what the row says of the man) was an unkeyed SHA-256 of names, birth
date and village, so anyone holding the store could confirm a guessed name. The new key is
HMAC-SHA256 of that digest under the store's blind key (frozen here as
linkage.seal.blind.keyed_record_key computes it), so the upgrade rekeys the stored keys
without opening a sealed value and a list delivered again finds the same records. Record
ids do not change; a "#2" of namesakes stays. The blind key is kept across key rotations,
so rotation leaves record keys as they are. The downgrade opens the key fields again and
writes the unkeyed keys the code before computed.
"""

import datetime as dt
import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

LABEL = b"survivor-link record key\x1f"
# 0012's content_key fields, and which of them are sealed since 0014
FIELDS = (
    "name_kh",
    "family_name",
    "given_name",
    "birth_date",
    "age",
    "father_name",
    "village_text",
    "commune_text",
    "district_text",
    "province_text",
    "return_date",
)
SEALED = {"name_kh", "family_name", "given_name", "birth_date", "father_name"}


def _ring():
    from linkage.seal.keyring import load_keyring

    settings = op.get_context().config.attributes.get("settings")
    if settings is None:
        raise RuntimeError("rekeying record keys needs the store's keys: run `survivor-link migrate`")
    return load_keyring(op.get_bind(), settings)


def _split(key: str) -> tuple[str, str]:
    """("<hex>", "#n" or "") of "c:<hex>#n" or "k:<hex>#n"."""
    body, _, n = key[2:].partition("#")
    return body, f"#{n}" if n else ""


def _keyed(blind_key: bytes, digest: str) -> str:
    return "k:" + hmac.digest(blind_key, LABEL + digest.encode("ascii"), "sha256").hex()[:32]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).casefold().split())


def upgrade() -> None:
    bind = op.get_bind()
    record = sa.table("record", sa.column("id"), sa.column("record_key"))
    rows = bind.execute(sa.select(record).where(record.c.record_key.like("c:%"))).all()
    if not rows:
        return  # a new store, or no source keyed by content: no key needed
    blind_key = _ring().blind_key
    for r in rows:
        digest, n = _split(r.record_key)
        new = _keyed(blind_key, digest) + n
        bind.execute(sa.update(record).where(record.c.id == r.id).values(record_key=new))


def downgrade() -> None:
    bind = op.get_bind()
    record = sa.table("record", *(sa.column(c) for c in ("id", "record_key", *FIELDS)))
    rows = bind.execute(sa.select(record).where(record.c.record_key.like("k:%"))).all()
    if not rows:
        return
    ring = _ring()

    def cell(r: sa.Row, field: str) -> object:
        value = getattr(r, field)
        if field in SEALED and value is not None:
            where = f"record.{field}"
            return ring.open(value, where.encode(), where).decode("utf-8", "surrogatepass")
        return value

    for r in rows:
        text = "\x1f".join(_text(cell(r, f)) for f in FIELDS)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        new = "c:" + digest + _split(r.record_key)[1]
        bind.execute(sa.update(record).where(record.c.id == r.id).values(record_key=new))
