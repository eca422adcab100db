"""Great Expectations checks on canonical records: which rows break which rule.

Why GX: the rules live as JSON suites in expectations/, readable and changeable without
code. We keep only the failing row positions from GX results: its results can hold the
failing values themselves, which for personal fields must never be logged or stored.
"""

from __future__ import annotations

import gc
import json
import logging
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from linkage.ingest.canonical import Issue

logging.getLogger("great_expectations").setLevel(logging.WARNING)
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

CHECK_COLUMNS = (
    "source_record_id",
    "full_name",
    "sex",
    "birth_date",
    "return_date",
    "age",
    "phone",
    "national_id",
    "referral_date",
    "intake_date",
    "country",
)


@cache
def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    _no_fingerprints()
    return ctx


def _no_fingerprints() -> None:
    """GX hashes every cell of a batch held in memory into a fingerprint for its batch
    markers, which we never read: a twentieth of an ingest. It skips batches above
    HASH_THRESHOLD bytes; ours are all "above" it now. (If a GX release drops the
    setting, batches are hashed again and nothing else changes.)
    """
    from great_expectations.execution_engine import pandas_execution_engine

    if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        pandas_execution_engine.HASH_THRESHOLD = 0


@cache
def _batch_definition() -> Any:
    ds = _context().data_sources.add_pandas("survivor_link")
    return ds.add_dataframe_asset("records").add_batch_definition_whole_dataframe("all")


@cache
def warm_up() -> None:
    """Import GX, build its context, load the gazetteer and name tables (several seconds),
    then freeze them out of the garbage collector's sight. Once per process.

    Why: a batch of deliveries (and a long-running worker) needs all of them, and they live
    as long as the process; while they are in the collector's generations every full
    collection walks them all again, about a third of a second each time with GX loaded.
    The ingest of a batch calls this before its first delivery; the benchmark calls it
    first so that it measures rows.
    """
    from linkage.normalise import name_tables
    from linkage.normalise.places import gazetteer

    gazetteer()
    for table in (
        name_tables.khmer_to_latin_table,
        name_tables.surname_spellings,
        name_tables.given_spellings,
        name_tables.khmer_surnames,
        name_tables.khmer_given_names,
    ):
        table()
    _batch_definition()
    gc.collect()  # what is garbage now is not frozen
    gc.freeze()


def load_suite(path: Path) -> Any:
    """Read a suite JSON ({"name", "expectations": [{"type", "kwargs", "meta"}]})."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    data = json.loads(path.read_text(encoding="utf-8"))
    expectations = [
        ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta", {})).to_domain_obj()
        for e in data["expectations"]
    ]
    return gx.ExpectationSuite(name=data["name"], expectations=expectations)


def suites_for(source: str, expectations_dir: Path) -> list[Path]:
    paths = [expectations_dir / "canonical.json"]
    own = expectations_dir / f"{source}.json"
    if own.exists():
        paths.append(own)
    elif source.startswith("ngo-") and (expectations_dir / "ngo-default.json").exists():
        paths.append(expectations_dir / "ngo-default.json")
    return paths


def check_frame(
    columns: Mapping[str, list[Any]],
    source: str,
    expectations_dir: Path,
    today: pd.Timestamp,
    results: list[Any] | None = None,
) -> list[Issue]:
    """Run the canonical and the source's suite; return one Issue per failing row and rule.

    `columns` holds each canonical field's values, one per row, and "line". GX's own results
    are appended to `results` when given (for the Data Docs, which strip the values out of
    them before they are written anywhere).
    """
    lines = columns["line"]
    if not lines:
        return []
    frame = pd.DataFrame({c: columns[c] for c in CHECK_COLUMNS})
    for c in ("birth_date", "return_date", "referral_date", "intake_date"):
        frame[c] = pd.to_datetime(frame[c], errors="coerce")
    frame["age"] = pd.to_numeric(frame["age"], errors="coerce")
    frame["today"] = today
    frame = frame.replace({"": None})
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    issues: list[Issue] = []
    for path in suites_for(source, expectations_dir):
        suite = load_suite(path)
        result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
        if results is not None:
            results.append(result)
        for r in result.results:
            if r.success:
                continue
            meta = r.expectation_config.meta or {}
            kwargs = r.expectation_config.kwargs
            column = kwargs.get("column") or kwargs.get("column_A")
            reason = meta.get("reason") or r.expectation_config.type
            for idx in r.result.get("unexpected_index_list") or []:
                pos = idx if isinstance(idx, int) else int(next(iter(idx.values())))
                issues.append(
                    Issue(
                        lines[pos],
                        column,
                        meta.get("rule", r.expectation_config.type),
                        reason,
                        meta.get("severity", "error"),
                    )
                )
    return issues
