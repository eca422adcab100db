"""Returns grouped from the batch in memory when the store links nothing else yet.

Why: a first link (or a rebuild, which unlinks every record first) of 981,187 records read
every person's records back from the store to group their returns (17 s), then set each
person_record row's event with one UPDATE a row. When no record outside the batch is
linked, every person's records are the batch's new records, so what grouping needs is
already in memory, and each person_record row can be written once, with its event.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.match.events import EventRow
from linkage.match.ids import id_number


def _coded(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes into a table of the distinct values (the table's last entry None, code -1)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = uniques
    return codes.astype(np.int32), table


@dataclass
class Returns:
    """What grouping returns needs of each record of a batch (by position), as codes into
    tables of distinct values: a million records hold a few thousand dates, so the batch
    keeps some 16 MB through scoring instead of four columns of objects."""

    # return date, country, point of entry, intake-else-load day, intake date
    codes: tuple[np.ndarray, ...]
    tables: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, records: pd.DataFrame) -> Returns:
        """From records as the store's reads give them (read_records): the values are the
        ones a read of person_record joined to record gives, so the groups are the same."""
        loaded_codes, loaded = pd.factorize(records["loaded_at"], use_na_sentinel=True)
        loaded_day = np.array([None if pd.isna(t) else t.date() for t in loaded] + [None], dtype=object)
        intake = records["intake_date"].to_numpy(dtype=object)
        other = np.where(pd.isna(intake), loaded_day[loaded_codes], intake)  # intake, else load day
        parts = [_coded(records[c]) for c in ("return_date", "country", "point_of_entry")]
        parts.append(_coded(other))
        parts.append(_coded(np.where(pd.isna(intake), None, intake)))
        return cls(
            tuple(c for c, _t in parts),  # type: ignore[arg-type]
            tuple(t for _c, t in parts),  # type: ignore[arg-type]
        )

    def __len__(self) -> int:
        return len(self.codes[0])


def event_rows(
    returns: Returns,
    record_ids: np.ndarray,
    persons: Sequence[str],
    previous: dict[int, str],
    batch: int,
) -> Iterator[dict[str, list[EventRow]]]:
    """The EventRows of the batch's records by person, `batch` persons at a time in id
    order (as the store's read gives them), each with the event it had before (a rebuild).

    persons: each record's person, by position; record_ids likewise."""
    number = np.fromiter((id_number(p) for p in persons), dtype=np.int64, count=len(persons))
    order = np.argsort(number, kind="stable").tolist()
    del number
    ret, country, entry, other, intake = (t[c] for c, t in zip(returns.codes, returns.tables, strict=True))
    rids = record_ids.tolist()
    out: dict[str, list[EventRow]] = {}
    for i in order:
        pid, rid = persons[i], rids[i]
        rows = out.get(pid)
        if rows is None:
            if len(out) >= batch:
                yield out
                out = {}
            rows = out[pid] = []
        rows.append(EventRow(rid, ret[i], country[i], entry[i], other[i], previous.get(rid), intake[i]))
    if out:
        yield out
