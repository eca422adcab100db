"""The independent generator's own promises (benchmarks/independent/, issue 18), not linkage scores.

Every row it writes has exactly one truth row, its files are read by the real ingest with
nothing rejected or quarantined, and the same seed writes the same lists.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from linkage.ingest.load import Ingestor
from linkage.settings import load_settings
from linkage.store.db import dispose_engines, migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "independent"))

from generate import generate  # noqa: E402

KH_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")


def _record_ids(path: Path) -> list[str]:
    """The record ids a list file holds, read as a person would (no product code)."""
    if path.suffix == ".xlsx":
        ws = openpyxl.load_workbook(path, read_only=True).active
        rows = list(ws.iter_rows(values_only=True))
        start = next(i for i, r in enumerate(rows) if r and r[0] == "ល.រ") + 1
        return [str(r[0]).translate(KH_DIGITS) for r in rows[start:] if r and r[0] is not None]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    column = "iom_case_no" if "iom_case_no" in rows[0] else "client_id"
    return [r[column] for r in rows]


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("indep")
    generate(out, records=160, seed=7, by_year=False)
    return out


def _truth(out: Path) -> list[dict[str, str]]:
    with (out / "truth.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_truth_covers_every_row_once(lists: Path) -> None:
    truth = _truth(lists)
    in_files = Counter()
    for path in sorted((lists / "landing").rglob("*.*")):
        for rid in _record_ids(path):
            in_files[(path.parent.name, path.name, rid)] += 1
    in_truth = Counter((t["source"], t["file"], t["record_id"]) for t in truth)
    assert in_files == in_truth
    assert max(in_files.values()) == 1  # a record id is unique within its file
    persons = {r["person_id"] for r in csv.DictReader((lists / "persons.csv").open(encoding="utf-8"))}
    assert {t["person_id"] for t in truth} <= persons
    assert {t["source"] for t in truth} == {"iom", "mosvy", "ngo-hagar", "ngo-lscw"}
    # The habits the test bed exists for are in it, even at this size.
    tags = Counter(tag for t in truth for tag in t["tags"].split(";") if tag)
    for habit in ("district_blank", "romanisation", "registered_later", "age_only", "phone_relative"):
        assert tags[habit] > 0, habit


def test_files_ingest_without_rejection(lists: Path, tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home", db_url="", data_docs=False)
    migrate(settings)
    expected = Counter(t["file"] for t in _truth(lists))
    try:
        with Ingestor(settings) as ingestor:
            results = [ingestor.ingest_path(p) for p in sorted((lists / "landing").rglob("*.*"))]
    finally:
        dispose_engines()
    assert len(results) == 4
    for r in results:
        assert (r.status, r.rows_quarantined, r.reason) == ("ingested", 0, None), r.file_name
        assert r.rows_loaded == expected[r.file_name], r.file_name


def test_same_seed_same_lists(lists: Path, tmp_path: Path) -> None:
    generate(tmp_path, records=160, seed=7, by_year=False)
    for name in ("truth.csv", "persons.csv"):
        assert (tmp_path / name).read_bytes() == (lists / name).read_bytes()
    for path in (lists / "landing").rglob("*.csv"):
        assert (tmp_path / path.relative_to(lists)).read_bytes() == path.read_bytes()
    generate(tmp_path, records=160, seed=8, by_year=False)
    assert (tmp_path / "truth.csv").read_bytes() != (lists / "truth.csv").read_bytes()


def test_episodes_say_which_returns_were_referred(lists: Path) -> None:
    """episodes.csv holds each written return once, referred exactly when one of its rows
    shows a referral (truth.csv's referral column)."""
    truth = _truth(lists)
    with (lists / "episodes.csv").open(encoding="utf-8", newline="") as fh:
        episodes = {e["episode_id"]: e for e in csv.DictReader(fh)}
    assert set(episodes) == {t["episode_id"] for t in truth}
    shown: dict[str, set[str]] = {}
    for t in truth:
        shown.setdefault(t["episode_id"], set()).add(t["referral"])
    for eid, kinds in shown.items():
        referred = kinds & {"iom", "ngo", "remark"}
        assert episodes[eid]["referred"] == str(int(bool(referred))), eid
        assert episodes[eid]["referral_kinds"] == ";".join(sorted(referred))
    assert {"0", "1"} <= {e["referred"] for e in episodes.values()}


def test_returns_holds_every_return_those_on_no_list_too(lists: Path) -> None:
    """returns.csv names every return once, each written one with exactly the sources of its
    rows, and some with none (the men no list reached, whom the estimate must find)."""
    truth = _truth(lists)
    with (lists / "returns.csv").open(encoding="utf-8", newline="") as fh:
        returns = {r["episode_id"]: r for r in csv.DictReader(fh)}
    held: dict[str, set[str]] = {}
    for t in truth:
        held.setdefault(t["episode_id"], set()).add(t["source"])
    assert set(held) <= set(returns)
    for eid, r in returns.items():
        assert r["lists"] == ";".join(sorted(held.get(eid, ()))), eid
    assert sum(r["lists"] == "" for r in returns.values()) > 0
    with (lists / "persons.csv").open(encoding="utf-8", newline="") as fh:
        assert sum(int(p["returns"]) for p in csv.DictReader(fh)) == len(returns)


def test_referral_variants_ingest_without_quarantine(tmp_path: Path) -> None:
    """Referrals written the other desks' ways ('--', Khmer, dates in other formats, other
    statuses) are all read by the real ingest: the variation costs flags, never rows."""
    from indep.rates import parse_rates

    out = tmp_path / "lists"
    generate(out, records=300, seed=5, rates=parse_rates(["referral_variant=0.6"]), by_year=False)
    tags = Counter(tag for t in _truth(out) for tag in t["tags"].split(";") if tag)
    for habit in ("referral_org_variant", "referral_date_format", "no_referral_word", "status_variant"):
        assert tags[habit] > 0, habit
    settings = load_settings(home=tmp_path / "home", db_url="", data_docs=False)
    migrate(settings)
    try:
        with Ingestor(settings) as ingestor:
            results = [ingestor.ingest_path(p) for p in sorted((out / "landing").rglob("*.*"))]
    finally:
        dispose_engines()
    for r in results:
        assert (r.status, r.rows_quarantined) == ("ingested", 0), r.file_name


def test_a_typed_year_is_one_slip_off_and_off_by_default(lists: Path, tmp_path: Path) -> None:
    """year_typed writes a full birth date's year with two neighbouring digits swapped or one
    digit a key off; at its default (0) no row carries it and no random draw is spent on it."""
    import random

    from indep.lists import _typed_year
    from indep.rates import parse_rates

    rng = random.Random(1)
    for year in (1987, 1990, 2001):
        for _ in range(50):
            typed = str(_typed_year(year, rng))
            diff = [i for i, (a, b) in enumerate(zip(typed, str(year), strict=True)) if a != b]
            assert len(diff) in (1, 2) and (len(diff) == 1 or diff[1] == diff[0] + 1)
    assert not any("year_typed" in t["tags"] for t in _truth(lists))
    generate(tmp_path, records=160, seed=7, rates=parse_rates(["year_typed=0.5"]), by_year=False)
    assert any("year_typed" in t["tags"] for t in _truth(tmp_path))


def test_a_late_intake_follows_its_return_by_months_and_is_off_by_default(
    lists: Path, tmp_path: Path
) -> None:
    """ngo_late_intake dates an NGO intake 4 months to 3 years after the return it is about,
    at least two months before his next return; at its default (0) no row carries it."""
    import datetime as dt

    from indep.rates import parse_rates

    assert not any("intake_late" in t["tags"] for t in _truth(lists))
    generate(tmp_path, records=600, seed=7, rates=parse_rates(["ngo_late_intake=0.5"]), by_year=False)
    with (tmp_path / "episodes.csv").open(encoding="utf-8", newline="") as fh:
        episodes = list(csv.DictReader(fh))
    returned = {e["episode_id"]: dt.date.fromisoformat(e["return_date"]) for e in episodes}
    returns_of: dict[str, list[dt.date]] = {}
    for e in episodes:
        returns_of.setdefault(e["person_id"], []).append(returned[e["episode_id"]])
    intake = {}
    for path in (tmp_path / "landing").glob("ngo-*/*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                text = row["intake_date"]
                day = (
                    dt.date.fromisoformat(text)
                    if "-" in text
                    else dt.datetime.strptime(text, "%d/%m/%Y").date()
                )
                intake[(path.parent.name, path.name, row["client_id"])] = day
    late = [t for t in _truth(tmp_path) if "intake_late" in t["tags"].split(";")]
    assert len(late) > 10
    for t in late:
        day, ret = intake[(t["source"], t["file"], t["record_id"])], returned[t["episode_id"]]
        assert 121 <= (day - ret).days <= 1095
        assert all(day <= nxt - dt.timedelta(days=60) for nxt in returns_of[t["person_id"]] if nxt > ret)
    assert any(
        (intake[(t["source"], t["file"], t["record_id"])] - returned[t["episode_id"]]).days > 365
        for t in late
    )


def test_a_mistyped_phone_is_one_slip_off_and_off_by_default(lists: Path, tmp_path: Path) -> None:
    """phone_typo writes a number with one digit another or two neighbours swapped, never the
    leading 0; at its default (0) no row carries it."""
    import random

    from indep.lists import phone_slip
    from indep.rates import parse_rates

    rng = random.Random(3)
    for number in ("012345678", "0977123456", "0101010101"):
        for _ in range(50):
            typed = phone_slip(number, rng)
            diff = [i for i, (a, b) in enumerate(zip(typed, number, strict=True)) if a != b]
            assert typed[0] == "0" and len(typed) == len(number)
            assert len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1)
    assert not any("phone_typo" in t["tags"] for t in _truth(lists))
    generate(tmp_path, records=300, seed=7, rates=parse_rates(["phone_typo=0.5"]), by_year=False)
    assert any("phone_typo" in t["tags"] for t in _truth(tmp_path))
