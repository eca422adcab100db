"""Great Expectations Data Docs: a page per validated delivery that an officer can open.

GX keeps results in a file-backed context under `<home>/gx/`, and renders them to
`<home>/data_docs/index.html`. What it is given is stripped first: a GX result can carry the
failing values themselves (a wrong birth date, a phone), so only the counts and shares stay.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import cache
from pathlib import Path
from typing import Any

from linkage.settings import Settings

log = logging.getLogger(__name__)
SITE = "survivor_link"  # not "local_site", which GX builds under uncommitted/ by default
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


# The index page lists this many of the newest validations (two per delivery: 200
# deliveries). Each build reads every result its index lists again: uncapped, a build took
# 1.5 ms longer per delivery ever stored (0.64 s after 400); capped at 100 it took 0.34 s
# there, the rest being GX listing the folders. Every page stays, under
# data_docs/validations/<suite>/<source>-<first 12 of the delivery's SHA-256>/.
INDEX_LIMIT = 400


def _site_config(home: str) -> dict[str, Any]:
    """Our Data Docs site: pages under <home>/data_docs, an index of the newest validations."""
    return {
        "class_name": "SiteBuilder",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(Path(home) / "data_docs"),
        },
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": INDEX_LIMIT,
        },
    }


@cache
def _context(home: str) -> Any:
    import great_expectations as gx

    ctx = gx.get_context(mode="file", project_root_dir=home)
    sites = ctx.get_config().data_docs_sites or {}
    if SITE not in sites:
        ctx.add_data_docs_site(SITE, _site_config(home))
    elif sites[SITE] != _site_config(home):  # a store made before the index was limited
        ctx.update_data_docs_site(SITE, _site_config(home))
    return ctx


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
        keys = []
        for results, source, sha in deliveries:
            run = RunIdentifier(run_name=f"{source}-{sha[:12]}", run_time=dt.datetime.now(dt.UTC))
            for result in results:
                key = ValidationResultIdentifier(
                    expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
                    run_id=run,
                    batch_identifier=sha[:16],
                )
                ctx.validation_results_store.set(key, strip_values(result))
                keys.append(key)
        ctx.build_data_docs(site_names=[SITE], resource_identifiers=keys)
    except Exception as exc:  # noqa: BLE001 - a view, not the data: say so and go on
        log.warning("Data Docs not updated (last delivery %s): %s", sha[:12], type(exc).__name__)
        return None
    return docs_dir(settings) / "index.html"
