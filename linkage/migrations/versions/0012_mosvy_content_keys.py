"""MoSVY records keyed by their content: records stored under a row number get the key a
re-saved list's rows will have, so the first re-save after the upgrade adds nothing

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Record ids do not change, only record_key. The key is frozen here as the code computed it
when this migration was written (sources/mosvy.yaml's content_key and
linkage.ingest.insert.content_keys). Where two stored records say the same (a list loaded
twice before this upgrade), the older one takes the key and the others keep theirs.
"""

import datetime as dt
import hashlib
import re
from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

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
LEGACY = re.compile(r"^[0-9a-f]{16}:")


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
    record = sa.table(
        "record", *(sa.column(c) for c in ("id", "source", "record_key", "delivery_sha256", "line", *FIELDS))
    )
    rows = bind.execute(
        sa.select(record).where(record.c.source == "mosvy").order_by(record.c.delivery_sha256, record.c.line)
    ).all()
    taken = {r.record_key for r in rows}
    seen: Counter = Counter()
    new_keys: dict[int, str] = {}
    for r in rows:
        if not LEGACY.match(r.record_key):
            continue
        text = "\x1f".join(_text(getattr(r, f)) for f in FIELDS)
        key = "c:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        seen[(r.delivery_sha256, key)] += 1
        n = seen[(r.delivery_sha256, key)]
        new_keys[r.id] = key if n == 1 else f"{key}#{n}"
    for record_id in sorted(new_keys):  # the older record first
        key = new_keys[record_id]
        if key in taken:
            continue
        bind.execute(sa.update(record).where(record.c.id == record_id).values(record_key=key))
        taken.add(key)


def downgrade() -> None:
    pass  # content keys are valid keys: nothing to undo
