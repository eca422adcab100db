"""Column types that seal on write and open on read: personal fields at rest are ciphertext.

Why column types: every write path (the ingest's executemany, ORM updates, record versions)
goes through SQLAlchemy's bind processors, so no path can store a personal value in clear,
and the code that reads a column gets the value back as before. Each value is sealed on its
own, with a fresh nonce: equal names do not give equal ciphertexts.

Stored as bytes (linkage/seal/cipher.py's binary format) since migration 0018: bytea on
PostgreSQL; on SQLite the columns stay declared TEXT, whose affinity keeps a BLOB as it is,
so no table is rebuilt. Values sealed before as ``s1:`` text still open.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import orjson
from sqlalchemy import LargeBinary, Text
from sqlalchemy.types import TypeDecorator

from linkage.seal import current


class Sealed(TypeDecorator[Any]):
    """Base: bytes in the database (older values ``s1:<key id>:...`` text); the column's
    name is authenticated."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context
        self._aad = context.encode()

    def load_dialect_impl(self, dialect: Any) -> Any:
        # SQLite: TEXT as migrations 0014 and 0016 made it (a BLOB keeps its bytes there)
        return dialect.type_descriptor(Text() if dialect.name == "sqlite" else LargeBinary())

    def to_bytes(self, value: Any) -> bytes:
        return str(value).encode("utf-8", "surrogatepass")

    def from_bytes(self, data: bytes) -> Any:
        return data.decode("utf-8", "surrogatepass")

    def column_bytes(self, values: list[Any]) -> list[bytes]:
        """to_bytes of each value (none None): a subclass may do a column faster."""
        return [self.to_bytes(v) for v in values]

    def seal_column(self, values: list[Any], dialect: Any) -> list[Any]:
        """What the bind processor gives for each of `values`, a column in one pass.

        Why: the ingest writes a delivery column by column (linkage/ingest/insert.py), and
        sealing a column at once (Keyring.seal_many_binary) costs about half of sealing it
        value by value through SQLAlchemy's processor; every value still has a nonce of its
        own. The bytes go to the driver as they are (sqlite3 binds them as a BLOB, psycopg
        as bytea), without the per-value wrapper of LargeBinary's processor.
        """
        present = [v for v in values if v is not None]
        sealed: list[Any] = current.ring().seal_many_binary(self.column_bytes(present), self._aad)
        if len(present) == len(values):
            return sealed
        it = iter(sealed)
        return [None if v is None else next(it) for v in values]

    def from_column(self, data: list[bytes]) -> list[Any]:
        """from_bytes of each opened value: a subclass may do a column faster."""
        return [self.from_bytes(d) for d in data]

    def open_column(self, values: list[Any]) -> list[Any]:
        """What the result processor gives for each of `values` (as stored, or None), a
        column in one pass: the counterpart of seal_column for reads of many rows."""
        present = [v for v in values if v is not None]
        opened = self.from_column(current.ring().open_many(present, self._aad, self.context))
        if len(present) == len(values):
            return opened
        it = iter(opened)
        return [None if v is None else next(it) for v in values]

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return current.ring().seal_binary(self.to_bytes(value), self._aad)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return self.from_bytes(current.ring().open(value, self._aad, self.context))


class SealedText(Sealed):
    """A personal text field (name, phone, ID number, remarks)."""

    cache_ok = True

    def column_bytes(self, values: list[Any]) -> list[bytes]:
        # nearly every value is already text: encoded without a method call per value
        to_bytes = self.to_bytes
        return [v.encode("utf-8", "surrogatepass") if v.__class__ is str else to_bytes(v) for v in values]

    def from_column(self, data: list[bytes]) -> list[Any]:
        return [d.decode("utf-8", "surrogatepass") for d in data]


class SealedDate(Sealed):
    """A personal date (birth date), sealed as its ISO text."""

    cache_ok = True

    def to_bytes(self, value: Any) -> bytes:
        if isinstance(value, dt.datetime):
            value = value.date()
        return value.isoformat().encode("ascii") if isinstance(value, dt.date) else str(value).encode()

    def from_bytes(self, data: bytes) -> dt.date:
        return dt.date.fromisoformat(data.decode("ascii"))


class SealedJSON(Sealed):
    """A row as received, or old values of a record: JSON, sealed as one value."""

    cache_ok = True

    def to_bytes(self, value: Any) -> bytes:
        try:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:  # a lone surrogate, an integer past 64 bits
            return json.dumps(value, separators=(",", ":")).encode()

    def from_bytes(self, data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:  # what only the standard encoder wrote
            return json.loads(data)


class SealedBytes(Sealed):
    """Bytes made by the store's own code (a record's cached comparison row, frame_cache.py),
    sealed as they are: they hold personal values (phonetic keys, spellings, phones)."""

    cache_ok = True

    def to_bytes(self, value: Any) -> bytes:
        return bytes(value)

    def from_bytes(self, data: bytes) -> bytes:
        return data

    def column_bytes(self, values: list[Any]) -> list[bytes]:
        return [v if v.__class__ is bytes else bytes(v) for v in values]

    def from_column(self, data: list[bytes]) -> list[Any]:
        return data
