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
from airflow.sdk import Asset, AssetWatcher, CronTriggerTimetable, Param, PokeReturnValue, dag, task
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
    settings = load_settings()
    sent = _send_mail(
        list(settings.alert_email),
        settings.report_from_email,
        f"survivor-link: {what} failed",
        f"<p>{what} failed after its retries. Open its log in the Airflow UI.</p>",
    )
    if not sent:
        log.info("no failure e-mail sent (no alert_email or no smtp_default connection)")


def send_report_email(report_id: int) -> int:
    """E-mail a delivered report through the smtp_default connection; the number of recipients."""
    from linkage.pipeline import report_email

    mail = report_email(load_settings(), report_id)
    sent = _send_mail(mail["to"], mail["from"], mail["subject"], mail["html"], mail["files"])
    if sent:
        log.info("report %s e-mailed to %s recipient(s)", report_id, sent)
    else:
        log.info("report %s: not e-mailed (no report_email or no smtp_default connection)", report_id)
    return sent


def _send_mail(to: list[str], sender: str, subject: str, html: str, files: list[str] | None = None) -> int:
    """Send through Airflow's smtp_default connection when there is one; how many it went to."""
    from airflow.sdk import BaseHook

    if not to:
        return 0
    try:
        BaseHook.get_connection("smtp_default")
    except Exception:  # AirflowNotFoundException: e-mail is optional
        return 0
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook() as hook:
        hook.send_email_smtp(to=to, from_email=sender, subject=subject, html_content=html, files=files)
    return len(to)


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
            # A file that cannot be read is rejected (with its reason in the store) and the
            # task goes on: one bad file never blocks its source's landing folder.
            log.info(
                "%s: %s deliveries (%s rejected), rows read %s, loaded %s, quarantined %s by reason %s",
                source,
                counts["deliveries"],
                counts["rejected"],
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
    @task.sensor(poke_interval=5, timeout=1800, mode="reschedule")
    def ingests_settled() -> PokeReturnValue:
        """Lists dropped together are linked together: wait while other ingests are running."""
        from linkage.pipeline import deliveries_in_flight

        in_flight = deliveries_in_flight(load_settings())
        log.info("deliveries still being ingested: %s", in_flight)
        return PokeReturnValue(is_done=in_flight == 0)

    # all_done: a delivery stuck in flight (its ingest failed for good) must not stop linkage.
    @task(outlets=[FLAGS], trigger_rule="all_done")
    def link_and_flag() -> dict:
        from linkage.pipeline import link_and_flag as run

        counts = run(load_settings())
        log.info("linkage and flags: %s", counts)
        return counts

    ingests_settled() >> link_and_flag()


link = link_dag()


class ReportApproval(ApprovalOperator):
    """The approval step, keeping the officer's answer (which, who, why) also when it is Reject.

    ApprovalOperator's own return value is not kept when it skips the delivery, and the
    rejection task needs the reason to record it.
    """

    def execute_complete(self, context, event):
        if isinstance(event, dict) and event.get("chosen_options"):
            context["ti"].xcom_push(
                key="decision",
                value={
                    "approved": event["chosen_options"][0] == self.APPROVE,
                    "by": (event.get("responded_by_user") or {}).get("name"),
                    "note": (event.get("params_input") or {}).get("note") or None,
                },
            )
        return super().execute_complete(context=context, event=event)


@dag(
    dag_id="weekly_report",
    # No start_date: a new deployment waits for the next Monday instead of building a report
    # for the last one before any list is in (run_immediately=False applies only then).
    schedule=CronTriggerTimetable("0 7 * * 1", timezone="Asia/Phnom_Penh", run_immediately=False),
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
    approve = ReportApproval(
        task_id="approve",
        subject="Weekly report of unreferred survivors: approve delivery to MoSVY?",
        body="Report {{ ti.xcom_pull('build')['week'] }}: {{ ti.xcom_pull('build')['open_flags'] }} open "
        "flags, {{ ti.xcom_pull('build')['new_this_week'] }} new this week. Open the workbook under the "
        "reports folder before approving; to reject, say why in the note.",
        params={"note": Param("", type="string", description="why (required to reject)")},
        response_timeout=dt.timedelta(days=3),
    )

    def _response(ti) -> tuple[bool, str | None, str | None]:
        decision = ti.xcom_pull(task_ids="approve", key="decision") or {}
        return bool(decision.get("approved")), decision.get("by"), decision.get("note")

    @task
    def deliver(report: dict, ti=None) -> dict:
        """Runs only when approved (a rejection skips it)."""
        from linkage.pipeline import decide_report, deliver_report

        approved, by, note = _response(ti)
        decide_report(load_settings(), report["report_id"], approved, by, note)
        delivered = deliver_report(load_settings(), report["report_id"])
        delivered["emailed_to"] = send_report_email(report["report_id"])
        return delivered

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
