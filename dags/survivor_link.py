"""survivor-link's DAGs: ingest per source (event-driven), replay, link and flag, weekly report.

A picture of the flow, nothing more: each task calls one function of linkage.pipeline
and passes ids and counts on. One ingest DAG per source mapping (a new NGO's YAML file
gives it its own DAG), started by that source's landing DAG, which a watcher on its landing
folder wakes, under a run id naming the files; replay (the plugin's Replay button) reads
archived files again; a records asset wakes the link DAG; the weekly report waits for a data
officer's approval.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import (
    Asset,
    AssetWatcher,
    CronTriggerTimetable,
    Param,
    PokeReturnValue,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException
from landing_trigger import LandingFolderTrigger

from linkage.settings import load_settings

log = logging.getLogger(__name__)
RECORDS = Asset("survivor-link://store/records")
FLAGS = Asset("survivor-link://store/flags")
DEFAULT_ARGS = {
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=1),
    "on_failure_callback": lambda context: notify_failure(context),
}

INGEST_DOC = """
### Ingest `{source}` lists

**Runs on:** a file settling in `landing/{source}/`: the landing-folder watcher claims it and
wakes `landing_{dag_source}`, which starts this DAG under a run id naming the files waiting,
by their labels (`ingest__iom_returns_2025_06__20261202T140916`, Phnom Penh time; a file
whose name may name a man is named by source and hash). The run's note names each file and
what became of it. Triggered by hand, it takes in whatever waits, under Airflow's own id.

**Does:** reads each file (CSV or Excel), maps its columns with `sources/{source}.yaml`,
checks every row; good rows are loaded, bad rows are quarantined with line, column, rule
and reason. Then the `link` DAG runs.

**When it fails:** `no_file_rejected` failed means a whole file was rejected; its log and
the run's note say which file and why. The other files of the run were loaded. Open
**survivor-link > Deliveries**, fix the file and drop it again, or fix the mapping and
press **Replay**. Any other failed task: open its log (it never shows personal data) and
tell the maintainers.
"""

LANDING_DOC = """
### A file landed for `{source}`

**Runs on:** the landing-folder watcher of `landing/{source}/` (Airflow names these runs
itself, `asset_triggered__<time>`).

**Does:** names the files waiting in `{source}`'s inbox by their labels and starts
`ingest_{dag_source}` under a run id that says which (`ingest__<file>+<file>+<n>_more__<time>`).
It starts nothing when no file waits (the run before took it in) or when a run of
`ingest_{dag_source}` is already queued (that run takes these files in too); its note says so.

**When it fails:** the files wait in the inbox, nothing is lost: trigger `ingest_{dag_source}`
by hand, and tell the maintainers.
"""

REPLAY_DOC = """
### Replay deliveries after a fix

**Runs on:** **Replay** under **survivor-link > Deliveries** (run id `replay__<file>__<time>`,
or `replay__all__<time>`), or by hand with `delivery` set to a hash (or none: all).

**Does:** reads archived files again with today's mappings: a rejected file whole, a loaded
one's open quarantined rows. The note says what came of each file; then the `link` DAG runs.

**When it fails:** open its log (counts only, never a value) and tell the maintainers; once
fixed, press Replay again (a file already loaded is not loaded twice).
"""

LINK_DOC = """
### Link records into persons

**Runs on:** records loaded by an ingest run (or triggered by hand after review decisions).

**Does:** waits while other lists are still being ingested, then compares the new records
with the store, links them into persons with permanent ids, applies reviewers'
decisions, and opens or closes referral flags. When nothing new was loaded and no
decision waits, `anything_to_link` stops the run and `link_and_flag` shows as skipped.

**When it fails:** the store is left as before the run; it retries twice. Open the log of
`link_and_flag` (counts only) and tell the maintainers. Pairs it could not decide wait
under **survivor-link > Review**.
"""

REPORT_DOC = """
### Weekly report for MoSVY

**Runs on:** Mondays 07:00 Phnom Penh time.

**Does:** builds the workbook of unreferred survivors, then waits (up to 3 days) for a
data officer. Preview and download it under **survivor-link > Weekly report**, then
approve it (a note is optional) or reject it (say why). Approved: copied to the outbox and
e-mailed when SMTP is configured. Rejected: not delivered; the note is kept with it.

**When it fails:** `build` failed: open its log and tell the maintainers. `deliver` failed:
the report stays approved; clear the task to try again.
"""


def notify_failure(context: dict) -> None:
    """Final failure: say which task failed (ids only), and e-mail when SMTP is set up; a
    rejected file's e-mail names it and why (linkage.officer.alerts)."""
    from linkage.officer.alerts import failure_email

    ti = context.get("ti")
    what = f"{ti.dag_id}.{ti.task_id} run {ti.run_id}" if ti else "a survivor-link task"
    log.error("survivor-link: %s failed after its retries", what)
    settings = load_settings()
    try:  # the rejected files' names and reasons come from the store ...
        took = ti.xcom_pull(task_ids="ingest_pending") if ti and ti.task_id == "no_file_rejected" else None
        mail = failure_email(settings, what, (took or {}).get("sha256"))
    except Exception as exc:  # ... which may be what failed: then the ids-only alert still goes
        log.warning("failure e-mail without the files' reasons (%s)", type(exc).__name__)
        mail = failure_email(settings, what)
    sent = _send_mail(mail["to"], mail["from"], mail["subject"], mail["html"])
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


def log_at_true_levels() -> None:
    """recordlinkage writes its INFO lines through a stderr handler of its own, which Airflow
    shows as ERROR; without it they reach Airflow's own handler at their level."""
    from recordlinkage import rl_logging

    rl_logging._logger.removeHandler(rl_logging._handler)


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


def _landing_id(source: str) -> str:
    return "landing_" + _dag_id(source).removeprefix("ingest_")


def landing_dag(source: str):
    """The landing folder's watcher wakes this DAG, which starts the source's ingest DAG under
    a run id naming the files waiting (linkage.pipeline.run_names).

    Why a DAG between them: Airflow 3.3's scheduler names an asset-triggered run itself
    (`asset_triggered__<time>`, not asked of the timetable), so only a run started by a task
    (TriggerDagRunOperator's trigger_run_id) or by the API can carry the files' names.
    """
    asset = Asset(
        f"survivor-link://landing/{source}",
        watchers=[
            AssetWatcher(name=f"landing_{_dag_id(source)}", trigger=LandingFolderTrigger(source=source))
        ],
    )
    ingest_id = _dag_id(source)

    @dag(
        dag_id=_landing_id(source),
        schedule=[asset],
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["survivor-link", "landing", source],
        description=f"A file settled in landing/{source}/: starts {ingest_id} under a run id naming it",
        doc_md=LANDING_DOC.format(source=source, dag_source=ingest_id.removeprefix("ingest_")),
    )
    def landing():
        @task
        def name_ingest_run() -> dict:
            """The run id and conf of the ingest run to start; skipped when none is needed."""
            from airflow.sdk.exceptions import AirflowSkipException

            from linkage.pipeline.run_names import run_id, waiting_labels

            labels = waiting_labels(load_settings(), source)
            ti = get_current_context()["ti"]
            if not labels:
                why = "nothing waiting: the ingest run before this one took the file in"
            elif ti.get_dr_count(dag_id=ingest_id, states=["queued"]):
                why = f"a queued {ingest_id} run takes these in too: {', '.join(labels[:5])}"
            else:
                name = run_id("ingest", labels, dt.datetime.now(dt.UTC))
                ti.xcom_push(key="note", value=f"started {name}")
                return {"run_id": name, "files": labels[:50]}
            ti.xcom_push(key="note", value=why)
            raise AirflowSkipException(why)

        named = name_ingest_run()
        named >> TriggerDagRunOperator(
            task_id="start_ingest",
            trigger_dag_id=ingest_id,
            trigger_run_id=named["run_id"],
            conf=named,
            skip_when_already_exists=True,  # the same files in the same second: one run
        )

    return landing()


def ingest_dag(source: str):
    @dag(
        dag_id=_dag_id(source),
        schedule=None,  # started by landing_<source> (or by hand)
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["survivor-link", "ingest", source],
        description=f"Takes in every {source} list dropped into landing/{source}/",
        doc_md=INGEST_DOC.format(source=source, dag_source=_dag_id(source).removeprefix("ingest_")),
    )
    def ingest():
        @task(outlets=[RECORDS])
        def ingest_pending() -> dict:
            from linkage.pipeline import ingest_note, records_event
            from linkage.pipeline import ingest_pending as run

            settings = load_settings()
            counts = run(settings, source)
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
            context = get_current_context()
            note = ingest_note(settings, counts)
            context["ti"].xcom_push(key="note", value=note)  # the run's note (plugins/run_notes.py)
            # The asset event is the delivery ledger's line: counts and file hashes, no values.
            context["outlet_events"][RECORDS].extra = records_event(counts, note)
            return counts

        @task(retries=0)
        def no_file_rejected(counts: dict) -> None:
            """Fails the run, once and without retries, when a file was rejected: say which and why."""
            from linkage.pipeline import rejections

            rejected = rejections(load_settings(), counts["sha256"])
            if rejected is None:
                return
            for line in rejected.lines:
                log.error("%s", line)
            raise AirflowFailException(rejected.message)

        no_file_rejected(ingest_pending())

    return ingest()


def mapping_problem(exc: Exception, path) -> str:
    """A broken mapping in words: the file, the line when YAML says it, and what is wrong."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    mark = getattr(cause, "problem_mark", None)
    where = f"{path.name} line {mark.line + 1}" if mark is not None else path.name
    problem = getattr(cause, "problem", None) or str(exc).removeprefix(f"{path.name}: ")
    return f"{where}: {problem}"


def broken_mapping_dag(path, problem: str):
    """A source whose mapping cannot be read keeps a DAG that says so, and takes nothing in.

    Why not an import error: Airflow keeps import errors per DAG file, and one file holds every
    DAG, so raising would remove link and weekly_report too. This DAG has no watcher (the
    source's files wait in its landing folder, nothing is lost), starts paused, and fails
    with the problem if run; the other sources, link and the report go on.
    """
    log.error("sources/%s cannot be read, its ingest DAG is disabled: %s", path.name, problem)

    @dag(
        dag_id=_dag_id(path.stem),
        schedule=None,
        catchup=False,
        is_paused_upon_creation=True,
        tags=["survivor-link", "ingest", "broken mapping"],
        description=f"DISABLED: sources/{problem}"[:250],
        doc_md=f"### The mapping `sources/{path.name}` cannot be read\n\n**{problem}**\n\n"
        f"Fix the file; this DAG comes back on the next parse. Files dropped into the landing "
        f"folder meanwhile wait there, unread.",
    )
    def broken():
        @task(retries=0)
        def mapping_is_broken() -> None:
            raise AirflowFailException(f"sources/{problem}; fix the file, then drop the list again")

        mapping_is_broken()

    return broken()


def _ingest_dags() -> None:
    from linkage.sources import load_mapping

    seen: set[str] = set()
    for path in sorted(load_settings().sources_dir.glob("*.yaml")):
        try:
            source = load_mapping(path).source
            if source in seen:
                raise ValueError(f"source '{source}' is mapped twice")
        except Exception as exc:  # any problem in one mapping stays with that mapping
            globals()[_dag_id(path.stem)] = broken_mapping_dag(path, mapping_problem(exc, path))
            continue
        seen.add(source)
        globals()[_dag_id(source)] = ingest_dag(source)
        globals()[_landing_id(source)] = landing_dag(source)


_ingest_dags()


@dag(
    dag_id="link",
    schedule=[RECORDS],
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["survivor-link", "linkage"],
    description="Links new records into persons and brings the referral flags up to date",
    doc_md=LINK_DOC,
)
def link_dag():
    @task.sensor(poke_interval=5, timeout=1800, mode="reschedule")
    def ingests_settled() -> PokeReturnValue:
        """Lists dropped together are linked together: wait while other ingests are running."""
        from linkage.pipeline import deliveries_in_flight

        in_flight = deliveries_in_flight(load_settings())
        log.info("deliveries still being ingested: %s", in_flight)
        return PokeReturnValue(is_done=in_flight == 0)

    @task.short_circuit(trigger_rule="all_done")
    def anything_to_link() -> bool:
        """Stops here (link skipped) when no record waits and no decision is unapplied."""
        from linkage.pipeline import link_work

        work = link_work(load_settings())
        log.info("waiting to be linked: %s", work)
        if not any(work.values()):
            get_current_context()["ti"].xcom_push(key="note", value="nothing new to link")
        return any(work.values())

    # all_done: a delivery stuck in flight (its ingest failed for good) must not stop linkage.
    @task(outlets=[FLAGS], trigger_rule="all_done")
    def link_and_flag() -> dict:
        from linkage.pipeline import link_and_flag as run
        from linkage.pipeline import link_note

        log_at_true_levels()
        counts = run(load_settings())
        log.info("linkage and flags: %s", counts)
        context = get_current_context()
        context["outlet_events"][FLAGS].extra = counts
        context["ti"].xcom_push(key="note", value=link_note(counts))
        return counts

    ingests_settled() >> anything_to_link() >> link_and_flag()


link = link_dag()


@dag(
    dag_id="replay",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["survivor-link", "ingest"],
    description="Reads archived deliveries again after a fix (Replay on the Deliveries page)",
    doc_md=REPLAY_DOC,
    params={
        "delivery": Param(
            None, type=["null", "string"], description="a delivery's hash or its first 8+ digits; none: all"
        )
    },
)
def replay_dag():
    @task(outlets=[RECORDS])
    def replay_deliveries(params=None, dag_run=None) -> dict:
        """Replays under the login that asked (Airflow's triggering user, not the run's conf,
        which anyone who may trigger could write), so the store's audit names the officer."""
        from linkage.pipeline import ingest_note, records_event, replay
        from linkage.store.db import acting_as

        settings = load_settings()
        asked_by = getattr(dag_run, "triggering_user_name", None)
        with acting_as(f"airflow:{asked_by}") if asked_by else contextlib.nullcontext():
            counts = replay(settings, (params or {}).get("delivery") or None).counts()
        note = ingest_note(settings, counts) if counts["sha256"] else "nothing to replay"
        context = get_current_context()
        context["ti"].xcom_push(key="note", value=note)
        context["outlet_events"][RECORDS].extra = records_event(counts, note)
        log.info("replayed %s deliveries: %s rows loaded", counts["deliveries"], counts["rows_loaded"])
        return counts

    replay_deliveries()


replay_run = replay_dag()


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
    # for the last one before any list is in. run_immediately=False is not "never": Airflow
    # still runs the last Monday when it is less than a tenth of a week past (a deployment
    # started on a Monday built a report at once); a zero buffer is never.
    schedule=CronTriggerTimetable("0 7 * * 1", timezone="Asia/Phnom_Penh", run_immediately=dt.timedelta(0)),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["survivor-link", "report"],
    description="Weekly report for MoSVY: built Monday 07:00 Phnom Penh, delivered once approved",
    doc_md=REPORT_DOC,
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
        "survivor-link view (Weekly report) before approving; a note is optional to approve, "
        "and to reject say why.",
        params={
            "note": Param(None, type=["null", "string"], description="optional to approve; why, to reject")
        },
        response_timeout=dt.timedelta(days=3),
    )

    def _response(ti) -> tuple[bool, str | None, str | None]:
        decision = ti.xcom_pull(task_ids="approve", key="decision") or {}
        return bool(decision.get("approved")), decision.get("by"), decision.get("note")

    @task
    def deliver(report: dict, ti=None) -> dict:
        """Runs only when approved (a rejection skips it)."""
        from linkage.pipeline import deliver_decided

        delivered = deliver_decided(load_settings(), report["report_id"], *_response(ti))
        delivered["emailed_to"] = send_report_email(report["report_id"])
        return delivered

    @task(trigger_rule="all_done")
    def record_rejection(report: dict, ti=None) -> dict:
        """A rejection (or no answer in time) stops delivery; record it and why."""
        from linkage.pipeline import record_rejection as run

        return run(load_settings(), report["report_id"], *_response(ti))

    delivered = deliver(built)
    built >> approve >> delivered >> record_rejection(built)


weekly_report = weekly_report_dag()
