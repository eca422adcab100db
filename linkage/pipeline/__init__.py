"""The pipeline: the one place where the steps are sequenced, for the CLI and every DAG task.

Why one orchestrator: `survivor-link run` and the Airflow DAGs must give the same persons
and flags from the same lists, so they call the same steps here; the CLI only parses and
prints, and each DAG task calls one of these and passes its counts on. What a step returns
(and so what lands in XCom, the run's note and the logs) is ids, file names, hashes and
counts, never a name, phone, ID or birth date.
"""

from __future__ import annotations

from linkage.pipeline.ingest import (
    IngestRun,
    NoSuchPath,
    Rejections,
    files_to_ingest,
    ingest_landing,
    ingest_note,
    ingest_paths,
    ingest_pending,
    records_event,
    rejections,
    replay,
)
from linkage.pipeline.link import (
    Linked,
    deliveries_in_flight,
    flag_returns,
    link_and_flag,
    link_note,
    link_records,
    link_then_flag,
    link_work,
)
from linkage.pipeline.model import ModelState, model_state
from linkage.pipeline.observer import QUIET, Observer
from linkage.pipeline.report import (
    build_report,
    decide_report,
    deliver_decided,
    deliver_report,
    record_rejection,
    report_email,
    write_report,
)
from linkage.pipeline.run import RunResult, landing_of, run_folder

__all__ = [
    "QUIET",
    "IngestRun",
    "Linked",
    "ModelState",
    "NoSuchPath",
    "Observer",
    "Rejections",
    "RunResult",
    "build_report",
    "decide_report",
    "deliver_decided",
    "deliver_report",
    "deliveries_in_flight",
    "files_to_ingest",
    "flag_returns",
    "ingest_landing",
    "ingest_note",
    "ingest_paths",
    "ingest_pending",
    "landing_of",
    "link_and_flag",
    "link_note",
    "link_records",
    "link_then_flag",
    "link_work",
    "model_state",
    "record_rejection",
    "records_event",
    "rejections",
    "replay",
    "report_email",
    "run_folder",
    "write_report",
]
