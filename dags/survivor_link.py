"""survivor-link's DAGs: ingest per source (event-driven), link and flag, weekly report.

A picture of the flow, nothing more: each task calls one function of linkage.pipeline
and passes ids and counts on. One ingest DAG per source mapping (a new NGO's YAML file
gives it its own DAG), each woken by a watcher on its landing folder; a records asset
wakes the link DAG; the weekly report waits for a data officer's approval.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Asset, AssetWatcher, CronTriggerTimetable, Param, dag, task
from landing_trigger import LandingFolderTrigger

from linkage.settings import load_settings
from linkage.sources import load_mappings

log = logging.getLogger(__name__)
RECORDS = Asset("survivor-link://store/records")
FLAGS = Asset("survivor-link://store/flags")
DEFAULT_ARGS = {
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=1),
    "on_failure_callback": lambda context: notify_failure(context),
}


def notify_failure(context: dict) -> None:
    """Final failure: say which task failed (ids only), and e-mail when SMTP is set up."""
    ti = context.get("ti")
    what = f"{ti.dag_id}.{ti.task_id} run {ti.run_id}" if ti else "a survivor-link task"
    log.error("survivor-link: %s failed after its retries", what)
    try:
        from airflow.providers.smtp.notifications.smtp import send_smtp_notification

        send_smtp_notification(
            to=load_settings().extra.get("alert_email", ""), subject=f"survivor-link: {what} failed"
        ).notify(context)
    except Exception:  # no SMTP provider or connection: the log line above is the alert
        log.info("no SMTP alert sent (no SMTP connection configured)")


def _dag_id(source: str) -> str:
    return "ingest_" + re.sub(r"[^0-9a-zA-Z_]+", "_", source)


def ingest_dag(source: str):
    asset = Asset(
        f"survivor-link://landing/{source}",
        watchers=[
            AssetWatcher(name=f"landing_{_dag_id(source)}", trigger=LandingFolderTrigger(source=source))
        ],
    )

    @dag(
        dag_id=_dag_id(source),
        schedule=[asset],
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["survivor-link", "ingest", source],
        doc_md=f"Ingests every pending `{source}` list: validated rows load, bad rows are quarantined "
        "with reasons (see `survivor-link quarantine`).",
    )
    def ingest():
        @task(outlets=[RECORDS])
        def ingest_pending() -> dict:
            from linkage.pipeline import ingest_pending as run

            counts = run(load_settings(), source)
            log.info(
                "%s: %s deliveries, rows read %s, loaded %s, quarantined %s by reason %s",
                source,
                counts["deliveries"],
                counts["rows_read"],
                counts["rows_loaded"],
                counts["rows_quarantined"],
                counts["quarantined_by_rule"],
            )
            return counts

        ingest_pending()

    return ingest()


for _source in sorted(load_mappings(load_settings().sources_dir)):
    globals()[_dag_id(_source)] = ingest_dag(_source)


@dag(
    dag_id="link",
    schedule=[RECORDS],
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["survivor-link", "linkage"],
    doc_md="Links new records into persons and updates referral flags.",
)
def link_dag():
    @task(outlets=[FLAGS])
    def link_and_flag() -> dict:
        from linkage.pipeline import link_and_flag as run

        counts = run(load_settings())
        log.info("linkage and flags: %s", counts)
        return counts

    link_and_flag()


link = link_dag()


@dag(
    dag_id="weekly_report",
    schedule=CronTriggerTimetable("0 7 * * 1", timezone="Asia/Phnom_Penh"),
    start_date=dt.datetime(2026, 1, 5),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["survivor-link", "report"],
    doc_md="Builds the weekly report of unreferred survivors, waits for a data officer's "
    "approval, then delivers it to the outbox (and by e-mail when SMTP is configured).",
)
def weekly_report_dag():
    @task
    def build(logical_date=None) -> dict:
        from linkage.pipeline import build_report

        as_of = (logical_date or dt.datetime.now(dt.UTC)).date()
        counts = build_report(load_settings(), as_of)
        log.info("weekly report %s built: %s open flags", counts["week"], counts["open_flags"])
        return counts

    built = build()
    approve = ApprovalOperator(
        task_id="approve",
        subject="Weekly report of unreferred survivors: approve delivery to MoSVY?",
        body="Report {{ ti.xcom_pull('build')['week'] }}: {{ ti.xcom_pull('build')['open_flags'] }} open "
        "flags, {{ ti.xcom_pull('build')['new_this_week'] }} new this week. Open the workbook under the "
        "reports folder before approving; to reject, say why in the note.",
        params={"note": Param("", type="string", description="why (required to reject)")},
        response_timeout=dt.timedelta(days=3),
    )

    def _response(ti) -> tuple[bool, str | None, str | None]:
        response = ti.xcom_pull(task_ids="approve") or {}
        chosen = (response.get("chosen_options") or ["Reject"])[0]
        note = (response.get("params_input") or {}).get("note") or None
        by = (response.get("responded_by_user") or {}).get("name")
        return chosen == "Approve", by, note

    @task
    def deliver(report: dict, ti=None) -> dict:
        """Runs only when approved (a rejection skips it)."""
        from linkage.pipeline import decide_report, deliver_report

        approved, by, note = _response(ti)
        decide_report(load_settings(), report["report_id"], approved, by, note)
        return deliver_report(load_settings(), report["report_id"])

    @task(trigger_rule="all_done")
    def record_rejection(report: dict, ti=None) -> dict:
        """A rejection (or no answer in time) stops delivery; record it and why."""
        from linkage.pipeline import decide_report

        approved, by, note = _response(ti)
        if not approved:
            decide_report(load_settings(), report["report_id"], False, by, note or "no approval given")
        return {"report_id": report["report_id"], "approved": approved}

    delivered = deliver(built)
    built >> approve >> delivered >> record_rejection(built)


weekly_report = weekly_report_dag()
