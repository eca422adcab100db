"""Flags recomputed only for the persons that changed give what recomputing everyone gives."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sqlalchemy import select

from linkage.ingest.load import Ingestor
from linkage.match.linker import link
from linkage.match.review import record_decision
from linkage.referral.history import FlagRun, update_flags
from linkage.settings import Settings, load_settings
from linkage.store.db import dispose_engines, session_scope
from linkage.store.models import Flag, FlagPending, FlagStatus, Person, PersonRecord, Record
from tests.conftest import write
from tests.helpers import iom_csv, iom_row, ngo_csv, ngo_row

JUNE, JULY = dt.date(2025, 6, 30), dt.date(2025, 7, 31)


def _ingest(settings: Settings, folder: Path) -> None:
    ingestor = Ingestor(settings)
    for f in sorted(folder.rglob("*.*")):
        assert ingestor.ingest_path(f).status in {"ingested", "duplicate"}, f


def _flags(settings: Settings) -> list[tuple]:
    """Every flag row but its id and update time (the two runs' clocks differ)."""
    cols = (Flag.event_id, Flag.person_id, Flag.status, Flag.opened_on, Flag.closed_on)
    cols += (Flag.reason, Flag.close_reason, Flag.return_date)
    with session_scope(settings) as s:
        return sorted(tuple(r) for r in s.execute(select(*cols)).all())


def _statuses(settings: Settings) -> list[tuple]:
    with session_scope(settings) as s:
        rows = s.execute(select(FlagStatus.__table__)).all()
    return sorted(tuple(r) for r in rows)


def _person_of(settings: Settings, source_record_id: str) -> tuple[int, str]:
    with session_scope(settings) as s:
        rid, pid = s.execute(
            select(Record.id, PersonRecord.person_id)
            .join(PersonRecord, PersonRecord.record_id == Record.id)
            .where(Record.source_record_id == source_record_id)
        ).one()
    return int(rid), pid


def _open_flag(settings: Settings, person: str) -> bool:
    with session_scope(settings) as s:
        return s.scalar(select(Flag.id).where(Flag.person_id == person, Flag.status == "open")) is not None


def _copy(settings: Settings, to: Path) -> Settings:
    """The same store in another home (engines closed first: the copy is whole)."""
    dispose_engines()
    shutil.copytree(settings.home, to)
    return load_settings(home=to, db_url="", data_docs=False)


def _same_as_everyone(settings: Settings, tmp_path: Path, as_of: dt.date) -> FlagRun:
    """This store's run (only the changed persons) against everyone's on a copy: equal rows."""
    whole = _copy(settings, tmp_path / "whole")
    some = update_flags(settings, as_of)
    every = update_flags(whole, as_of, everything=True)
    assert some.persons >= 0 and every.persons == -1  # the first recomputed only some
    assert _flags(settings) == _flags(whole)
    assert _statuses(settings) == _statuses(whole)
    assert (some.opened, some.closed, some.open, some.counts) == (
        every.opened,
        every.closed,
        every.open,
        every.counts,
    )
    with session_scope(settings) as s:
        assert s.scalar(select(FlagPending.id)) is None  # the queue it read is done
    return some


def test_a_delivery_recomputes_the_persons_it_changed_as_everyone_would(
    store: Settings, synth_dir: Path, tmp_path: Path
) -> None:
    s = store
    land = tmp_path / "landing"
    shutil.copytree(synth_dir / "landing", land)
    write(
        land / "iom" / "scenario.csv",
        iom_csv(
            [
                iom_row(
                    "T-A1", name="DARAVUTH YOEUNG", dob="12/03/1990", ret="05/01/2025", phone="097 111 2233"
                ),
                iom_row(
                    "T-M1", name="SOPHEAK CHANTHOU", dob="01/01/1991", ret="01/02/2025", phone="097 222 3344"
                ),
                iom_row(
                    "T-M2", name="VIBOL KEOMANY", dob="05/05/1985", ret="02/02/2025", phone="097 555 6677"
                ),
            ]
        ),
    )
    _ingest(s, land)
    link(s)
    first = update_flags(s, JUNE)
    assert first.persons == -1  # a first run: everyone
    (_ra, a), (m1, p1), (m2, p2) = (_person_of(s, r) for r in ("T-A1", "T-M1", "T-M2"))
    assert p1 != p2 and all(_open_flag(s, p) for p in (a, p1, p2))

    # The delivery: an NGO takes A into an active case (his flag closes), two new men come
    # home unreferred, and a reviewer says M1 and M2 are one man (a merge).
    write(
        land / "ngo-hagar" / "h2.csv",
        ngo_csv(
            [ngo_row("H-2", "YOEUNG DARAVUTH", "1990-03-12", "2025-07-10", "Active", phone="097 111 2233")]
        ),
    )
    write(
        land / "iom" / "delivery.csv",
        iom_csv(
            [
                iom_row(
                    "T-N1", name="RITHY SOKHOM", dob="09/09/1992", ret="02/04/2025", phone="097 888 0001"
                ),
                iom_row("T-N2", name="MAKARA PHAL", dob="10/10/1994", ret="03/05/2025", phone="097 888 0002"),
            ]
        ),
    )
    _ingest(s, land)
    with session_scope(s) as ss:
        record_decision(ss, m1, m2, "same")
    link(s)
    assert _person_of(s, "H-2")[1] == a and _person_of(s, "T-M1")[1] == _person_of(s, "T-M2")[1]
    with session_scope(s) as ss:
        merged = ss.get(Person, max((p1, p2)))
        assert merged is not None and merged.status == "merged"
        persons = len(ss.scalars(select(Person.person_id).where(Person.status == "active")).all())

    some = _same_as_everyone(s, tmp_path, JULY)
    assert 0 < some.persons < persons / 4  # not everyone
    assert some.closed >= 1 and some.opened >= 2
    assert not _open_flag(s, a)


def _two_returns_linked(s: Settings, tmp_path: Path) -> None:
    """Two men's IOM returns, ingested and linked: one in June 2025, one in January."""
    write(
        tmp_path / "landing" / "iom" / "one.csv",
        iom_csv(
            [
                iom_row(
                    "T-G1", name="DARAVUTH YOEUNG", dob="12/03/1990", ret="10/06/2025", phone="097 111 2233"
                ),
                iom_row(
                    "T-G2", name="BORAMY TOUCH", dob="03/03/1985", ret="10/01/2025", phone="097 777 8899"
                ),
            ]
        ),
    )
    _ingest(s, tmp_path / "landing")
    link(s)


def test_a_return_past_its_grace_period_is_flagged_with_no_new_records(
    store: Settings, tmp_path: Path
) -> None:
    s = store
    _two_returns_linked(s, tmp_path)
    update_flags(s, JUNE)  # 20 days after his return: within the grace period
    _rid, g1 = _person_of(s, "T-G1")
    assert not _open_flag(s, g1) and _open_flag(s, _person_of(s, "T-G2")[1])
    some = _same_as_everyone(s, tmp_path, JULY)  # 51 days: past it
    assert some.opened == 1 and some.persons == 1 and _open_flag(s, g1)
    # and back to June, as a past week is computed again: the same rows as everyone's
    again = _same_as_everyone(s, tmp_path / "back", JUNE)
    assert again.closed == 1 and not _open_flag(s, g1)


def test_on_postgresql_a_full_recompute_after_the_changed_persons_changes_nothing(
    pg_settings: Settings, tmp_path: Path
) -> None:
    s = pg_settings
    _two_returns_linked(s, tmp_path)
    update_flags(s, JUNE)
    write(
        tmp_path / "landing" / "ngo-hagar" / "h.csv",
        ngo_csv([ngo_row("H-1", "TOUCH BORAMY", "1985-03-03", "2025-07-01", "Active", phone="097 777 8899")]),
    )
    _ingest(s, tmp_path / "landing")
    link(s)
    some = update_flags(s, JULY)  # G1 past his grace period, G2 referred
    assert (some.opened, some.closed) == (1, 1) and some.persons == 2
    before = (_flags(s), _statuses(s))
    every = update_flags(s, JULY, everything=True)
    assert (every.opened, every.closed, every.counts) == (0, 0, some.counts)
    assert (_flags(s), _statuses(s)) == before
