"""One orchestrator: `survivor-link run` and the DAG tasks' steps give the same store.

Why this test: the CLI ingests a folder where it lies, the ingest DAG claims the same files
from landing/<source>/ into its inbox; both must then go through the pipeline's one ingest
and one link-then-flag, so the same lists give the same deliveries, persons, returns and
flags, whichever way they came in.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

from sqlalchemy import select

from linkage.cli import main
from linkage.pipeline import ingest_pending, link_and_flag
from linkage.settings import Settings, load_settings
from linkage.store.db import migrate, session_scope
from linkage.store.models import Delivery, Flag, PersonRecord, Record
from tests.conftest import write

AS_OF = dt.date(2026, 11, 30)


def outcome(settings: Settings) -> dict:
    """The store as a data officer sees it, by content: ids and counts, no values."""
    with session_scope(settings) as s:
        deliveries = {
            d.sha256: (d.source, d.file_name, d.status, d.rows_read, d.rows_loaded, d.rows_quarantined)
            for d in s.scalars(select(Delivery))
        }
        linked = s.execute(
            # a record by where it sits: a content key is keyed by each store's blind key
            select(Record.delivery_sha256, Record.line, PersonRecord.person_id, PersonRecord.event_id).join(
                PersonRecord, PersonRecord.record_id == Record.id
            )
        ).all()
        flags = {(f.person_id, f.event_id, f.status, f.reason) for f in s.scalars(select(Flag))}
    return {
        "deliveries": deliveries,
        "persons": {(sha, line): (person, event) for sha, line, person, event in linked},
        "flags": flags,
    }


def test_run_and_the_dag_steps_give_the_same_persons_and_flags(
    settings: Settings, synth_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    job = tmp_path / "job"
    shutil.copytree(synth_dir / "landing", job / "landing")
    write(job / "landing" / "iom" / "empty.csv", "")  # rejected the same way on both paths

    monkeypatch.setenv("SURVIVOR_LINK_HOME", str(settings.home))
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["run", str(job), "--as-of", AS_OF.isoformat()]) == 0
    printed = capsys.readouterr().out
    by_cli = outcome(settings)

    dags = load_settings(home=tmp_path / "dag-home", db_url="")
    migrate(dags)
    ingested = []
    for folder in sorted((job / "landing").iterdir()):
        shutil.copytree(folder, dags.landing_dir / folder.name)
        ingested.append(ingest_pending(dags, folder.name))
    counts = link_and_flag(dags, AS_OF)
    by_dags = outcome(dags)

    assert sum(c["rejected"] for c in ingested) == 1
    assert sum(c["ingested"] for c in ingested) == len(by_cli["deliveries"]) - 1
    assert by_dags["deliveries"] == by_cli["deliveries"]
    assert len(by_cli["persons"]) == sum(c["rows_loaded"] for c in ingested) > 0
    assert by_dags["persons"] == by_cli["persons"]  # the same men, under the same ids
    assert by_dags["flags"] == by_cli["flags"] and counts["flags_open"] > 0
    # what the link task passes on is what `run` printed
    for label, key in (
        ("records linked", "records_linked"),
        ("persons created", "persons_created"),
        ("unreferred past the grace period (open flags)", "flags_open"),
    ):
        assert re.search(rf"{re.escape(label)}\s*│\s*{counts[key]}\s*│", printed), label


def test_model_state_reads_the_spec_and_the_newest_weights_and_says_when_they_refit(
    settings: Settings,
) -> None:
    from linkage.match.model import MatchModel
    from linkage.pipeline import model_state
    from linkage.store.models import LinkModel

    state = model_state(settings)
    assert state.model is None and not state.refits  # nothing fitted yet
    digest = state.spec.weights_digest()
    with session_scope(settings) as s:  # weights from another spec, then from this one
        s.add(LinkModel(kind="em", params=MatchModel(weights_digest="other", records=7).to_params()))
    assert model_state(settings).model.records == 7 and model_state(settings).refits
    with session_scope(settings) as s:
        s.add(LinkModel(kind="em", params=MatchModel(weights_digest=digest, records=9).to_params()))
    state = model_state(settings)
    assert state.model.records == 9 and not state.refits
