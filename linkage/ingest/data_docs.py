"""Validation pages (our Data Docs): a page per validated delivery that an officer can open.

GX keeps its results in a file-backed context under `<home>/gx/` (GX's own record, readable
with its tools); the pages under `<home>/data_docs/` are ours (validation_pages.py says why:
GX's own pages are blank offline). What either is given is stripped first: a GX result can
carry the failing values themselves (a wrong birth date, a phone), so only the counts stay.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import cache
from pathlib import Path
from typing import Any

from linkage.ingest.validation_pages import page_name, write_index, write_page
from linkage.settings import Settings

log = logging.getLogger(__name__)
KEEP = frozenset(
    {
        "element_count",
        "missing_count",
        "missing_percent",
        "unexpected_count",
        "unexpected_percent",
        "unexpected_percent_nonmissing",
        "unexpected_percent_total",
    }
)


def docs_dir(settings: Settings) -> Path:
    return settings.home / "data_docs"


def strip_values(result: Any) -> Any:
    """The validation result with counts only: no unexpected values, indices or observed values."""
    for r in result.results:
        r.result = {k: v for k, v in (r.result or {}).items() if k in KEEP}
        raised = _raised(r.exception_info or {})
        r.exception_info = {
            "raised_exception": raised,
            "exception_message": "the check raised an error (details kept out: they can hold values)"
            if raised
            else "",
            "exception_traceback": "",
        }
    result.meta = {k: v for k, v in (result.meta or {}).items() if k in ("great_expectations_version",)}
    return result


def _raised(info: dict) -> bool:
    """GX keeps either one exception record or one per metric."""
    if "raised_exception" in info:
        return bool(info["raised_exception"])
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


@cache
def _context(home: str) -> Any:
    import great_expectations as gx

    return gx.get_context(mode="file", project_root_dir=home)


def publish(settings: Settings, deliveries: list[tuple[list[Any], str, str]]) -> Path | None:
    """Add deliveries' validation results (results, source, sha) to the Data Docs in one build;
    the index page, or None on failure.

    Docs are a view for people: a failure to render them is logged, never fails the ingest.
    """
    if not deliveries:
        return None
    sha = deliveries[-1][2]
    try:
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        settings.home.mkdir(parents=True, exist_ok=True)
        ctx = _context(str(settings.home.resolve()))
        for results, source, sha in deliveries:
            run = RunIdentifier(run_name=f"{source}-{sha[:12]}", run_time=dt.datetime.now(dt.UTC))
            for result in results:
                key = ValidationResultIdentifier(
                    expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
                    run_id=run,
                    batch_identifier=sha[:16],
                )
                ctx.validation_results_store.set(key, strip_values(result))
        _render(settings, [(results, sha) for results, _source, sha in deliveries])
    except Exception as exc:  # noqa: BLE001 - a view, not the data: say so and go on
        log.warning("Data Docs not updated (last delivery %s): %s", sha[:12], type(exc).__name__)
        return None
    return docs_dir(settings) / "index.html"


def _render(settings: Settings, validated: list[tuple[list[Any], str]]) -> None:
    """Our pages (validation_pages.py): one per delivery just validated, then the index."""
    from linkage.officer.deliveries import list_deliveries

    docs = docs_dir(settings)
    now = dt.datetime.now(dt.UTC)
    every = list_deliveries(settings)  # the index lists them all; the new pages need a few
    views = {d.sha256: d for d in every}
    for results, sha in validated:
        if sha in views:
            write_page(docs, views[sha], results, now)
    write_index(docs, every)


def page_for(settings: Settings, sha256: str) -> Path | None:
    """A delivery's validation page, when it has one (a file rejected before its rows were
    checked has none)."""
    path = docs_dir(settings) / page_name(sha256)
    return path if path.is_file() else None


def kept_results(settings: Settings) -> set[str]:
    """The deliveries (first 16 hex digits of their hash) whose checks GX kept under gx/.

    Why: GX's stripped results have been kept since before our validation pages were, so a
    delivery checked before the pages came has results and no page; the Deliveries page says
    so instead of "not checked". One walk of GX's folders (suite/run/time/<hash 16>.json).
    """
    root = settings.home / "gx" / "uncommitted" / "validations"
    return {p.stem for p in root.glob("*/*/*/*.json")} if root.is_dir() else set()
