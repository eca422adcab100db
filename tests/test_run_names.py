"""Readable run ids: labels made safe for Airflow's run id pattern, times in Phnom Penh."""

from __future__ import annotations

import datetime as dt
import re

from linkage.pipeline.run_names import label_part, run_id

AIRFLOW_PATTERN = re.compile(r"^[A-Za-z0-9_.~:+-]+$")  # Airflow's default allowed_run_id_pattern
WHEN = dt.datetime(2026, 12, 2, 7, 9, 16, tzinfo=dt.UTC)


def test_run_ids_name_the_files_by_label_in_airflows_alphabet() -> None:
    one = run_id("ingest", ["iom_returns_2025_06.csv"], WHEN)
    assert one == "ingest__iom_returns_2025_06__20261202T140916"
    both = run_id("ingest", ["iom returns (2).xlsx", "mosvy delivery 3fa2c1d9e0b1", "a.csv", "b.csv"], WHEN)
    assert both == "ingest__iom_returns_2+mosvy_delivery_3fa2c1d9e0b1+2_more__20261202T140916"
    odd = ["..\\..\\list...csv", "", "x" * 400]
    for ids in (run_id("replay", odd, WHEN), run_id("ingest", [], WHEN)):
        assert AIRFLOW_PATTERN.match(ids) and ".." not in ids and len(ids) <= 250, ids
    assert label_part("..") == "file"
    naive = dt.datetime(2026, 12, 2, 7, 9, 16)  # a naive time is UTC, as the store keeps it
    assert run_id("ingest", ["a.csv"], naive).endswith("__20261202T140916")
