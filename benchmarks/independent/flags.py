"""Score referral flags on the independent lists: per true return, precision and recall of
"unreferred", and where each wrong or missing flag comes from.

Why: linkage F1 says nothing of whether the men flagged as never referred are the right
ones. A flag is wrong when a referral on another list was not joined to him (linkage split
him from his NGO intake), not read (a word or status typed another way) or counted for
another return; a flag is missing when another man's referral was merged into his return,
or his own from another return was. Each true return (episodes.csv, from what its rows
say) is scored once, however many store events its records fell into.

    .venv/bin/python benchmarks/independent/generate.py --records 40000 --seed 1 -o /tmp/i40k
    .venv/bin/python benchmarks/independent/flags.py --data /tmp/i40k --home /tmp/i40k-home

The home must be empty (then `survivor-link run` ingests, links and flags into it) or hold a
store linked from these lists (then only the flags are computed again, with today's code).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from indep.rates import parse_rates  # noqa: E402
from score import MISS_CAUSES, _has, pair_relation  # noqa: E402

KH_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
CLI = Path(sys.executable).with_name("survivor-link")
AS_OF = dt.date(2026, 1, 1)  # after every return and intake the generator writes, plus the grace
REGISTERED_LATE_DAYS = 30  # linkage.referral.flags: an intake this close before a return follows it
REFERRAL_TAGS = (
    "referral_org_variant",
    "referral_date_format",
    "referral_before_return",
    "no_referral_word",
    "status_variant",
    "remark_referred",
    "remark_not_referred",
    "intake_late",
    "referral_other_ngo",
    "status_written_out",
    "referral_not_yet",
    "remark_sent_home",
    "referral_carried",
)
WHAT = {"iom": "IOM referred_to", "ngo": "NGO case status", "remark": "ministry remark"}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def run_pipeline(data: Path, home: Path, as_of: dt.date) -> float:
    """`survivor-link run` into the scratch home (validation pages off); seconds."""
    env = dict(os.environ, SURVIVOR_LINK_HOME=str(home), SURVIVOR_LINK_DATA_DOCS="0", SURVIVOR_LINK_DB_URL="")
    env.pop("SURVIVOR_LINK_CONFIG", None)
    t = time.perf_counter()
    done = subprocess.run(
        [str(CLI), "run", str(data), "--as-of", as_of.isoformat()], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"survivor-link run failed with exit code {done.returncode}")
    return time.perf_counter() - t


@dataclass
class Store:
    """What the store made of the lists: each record's person and event, the events' flags,
    and each piece of referral evidence with the event it was counted for."""

    record: pd.DataFrame  # record_id -> person_id, event_id, key (source, file, id)
    status: pd.DataFrame  # event_id -> flagged, referred, person_id, return_date
    evidence: pd.DataFrame  # record_id, kind, date, assigned event_id


def read_store(home: Path, as_of: dt.date) -> Store:
    """The flags as `survivor-link flag --as-of` computes them, from the linkage code in use."""
    from linkage.referral import flags as fl
    from linkage.settings import load_settings
    from linkage.store.db import session_scope

    settings = load_settings(home=home, db_url="", data_docs=False)
    with session_scope(settings) as s:
        records = fl.load_event_records(s)
        status = fl.event_status(s, settings, as_of, records)
    rules = fl.ReferralRules.from_settings(settings)
    evidence = fl.referral_evidence(records, rules)
    evidence = evidence[evidence["date"].isna() | (evidence["date"] <= pd.Timestamp(as_of))]
    assigned = fl._assign_to_events(evidence, records, status, settings.intake_follows_days)
    records = records.assign(
        key=list(
            zip(
                records["source"],
                records["file"],
                records["source_record_id"].astype(str).str.translate(KH_DIGITS),
                strict=True,
            )
        )
    )
    return Store(
        records[["record_id", "person_id", "event_id", "key", "referral_date"]],
        status.set_index("event_id"),
        assigned,
    )


@dataclass
class Scores:
    episodes: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    not_stored: int = 0
    flags: int = 0
    flags_right: int = 0
    duplicate_flags: int = 0
    fp_kinds: Counter = field(default_factory=Counter)
    split_habits: Counter = field(default_factory=Counter)  # linkage splits: the rows' first habit
    merged_with: Counter = field(default_factory=Counter)  # merges: how the two men are related
    fn_kinds: Counter = field(default_factory=Counter)
    by_return: dict = field(default_factory=lambda: defaultdict(Counter))

    @staticmethod
    def line(name: str, c: Counter) -> str:
        """A group's returns: how many referred ones were flagged, and unreferred ones not."""
        referred, unreferred = c["fp"] + c["tn"], c["tp"] + c["fn"]
        return (
            f"  {name:<34} {c['n']:>7,} returns; flagged though referred {c['fp']:>5,} of {referred:>6,}"
            f" ({c['fp'] / max(1, referred):6.2%}); not flagged though unreferred {c['fn']:>4,} of"
            f" {unreferred:>6,} ({c['fn'] / max(1, unreferred):6.2%})"
        )


def score(data: Path, store: Store) -> Scores:  # noqa: C901 (one pass over the true returns)
    truth = read_csv(data / "truth.csv")
    episodes = {e["episode_id"]: e for e in read_csv(data / "episodes.csv")}
    persons = {p["person_id"]: p for p in read_csv(data / "persons.csv")}
    by_key = {(t["source"], t["file"], t["record_id"]): t for t in truth}
    rec = store.record
    stored = dict(zip(rec["key"], rec["record_id"], strict=True))
    rid_truth = {rid: by_key[k] for k, rid in stored.items() if k in by_key}
    rid_person = dict(zip(rec["record_id"], rec["person_id"], strict=True))
    rid_event = dict(zip(rec["record_id"], rec["event_id"], strict=True))
    ev = store.evidence
    read = {
        int(r): (k, e)
        for r, k, e in zip(ev["record_id"], ev["kind"], ev["event_id"], strict=True)
        if k == "referral"
    }
    refs_of_event: dict[str, list[int]] = defaultdict(list)
    for r, (_k, e) in read.items():
        if isinstance(e, str):
            refs_of_event[e].append(r)
    flagged = store.status["flagged"]
    ev_person = store.status["person_id"].to_dict()
    ev_episodes: dict[str, set[str]] = defaultdict(set)
    where: dict[str, set[str]] = defaultdict(set)
    for r, e in rid_event.items():
        if r in rid_truth:
            ev_episodes[e].add(rid_truth[r]["episode_id"])
            where[rid_truth[r]["episode_id"]].add(rid_person[r])
    ep_records: dict[str, list[dict[str, str]]] = defaultdict(list)
    for t in truth:
        ep_records[t["episode_id"]].append(t)
    sc = Scores()
    flag_owner: Counter = Counter()
    for eid, ep in episodes.items():
        rows = ep_records[eid]
        rids = [stored[k] for t in rows if (k := (t["source"], t["file"], t["record_id"])) in stored]
        if not rids:
            sc.not_stored += 1
            continue
        sc.episodes += 1
        events = sorted({rid_event[r] for r in rids})
        hit = [e for e in events if bool(flagged.get(e, False))]
        unreferred = ep["referred"] == "0"
        tags = {tag for t in rows for tag in t["tags"].split(";") if tag in REFERRAL_TAGS}
        groups = ["all returns", "first return" if ep["return_number"] == "1" else "second or later return"]
        groups += [f"rows with {tag}" for tag in sorted(tags)]
        if unreferred and hit:
            kind = "tp"
        elif unreferred:
            kind = "fn"
            why, other = _why_missing(eid, ep, events, refs_of_event, rid_truth, where)
            sc.fn_kinds[why] += 1
            if other is not None:
                sc.merged_with[pair_relation(rows[0], other, persons)] += 1
        elif hit:
            kind = "fp"
            why, habits = _why_flagged(rows, ev_person[hit[0]], stored, read, rid_person, ev_episodes, eid)
            sc.fp_kinds[why] += 1
            if habits:
                cause = next((name for name, ks in MISS_CAUSES if _has(habits, ks)), "none of the habits")
                sc.split_habits[cause] += 1
        else:
            kind = "tn"
        setattr(sc, kind, getattr(sc, kind) + 1)
        for g in groups:
            sc.by_return[g]["n"] += 1
            sc.by_return[g][kind] += 1
    # Flag level: each open flag belongs to the true return most of its records are from.
    majority: dict[str, Counter] = defaultdict(Counter)
    for r, e in rid_event.items():
        if r in rid_truth and bool(flagged.get(e, False)):
            majority[e][rid_truth[r]["episode_id"]] += 1
    for _e, c in majority.items():
        owner = c.most_common(1)[0][0]
        sc.flags += 1
        sc.flags_right += episodes[owner]["referred"] == "0"
        flag_owner[owner] += 1
    sc.duplicate_flags = sum(n - 1 for n in flag_owner.values())
    return sc


def _key(t: dict[str, str]) -> tuple[str, str, str]:
    return t["source"], t["file"], t["record_id"]


def _why_flagged(
    rows: list[dict[str, str]],
    person: str,
    stored: dict,
    read: dict,
    rid_person: dict,
    ev_episodes: dict[str, set[str]],
    eid: str,
) -> tuple[str, set[str]]:
    """Why a referred return is flagged (in an event of `person`): the nearest miss among the
    rows that show the referral, and for a linkage split the habits of the referral's row and
    of his rows it was not joined to."""
    here = set().union(
        *(set(t["tags"].split(";")) for t in rows if rid_person.get(stored.get(_key(t))) == person)
    )
    misses = []
    split_tags: set[str] = set()
    for t in rows:
        if t["referral"] not in WHAT:
            continue
        what = WHAT[t["referral"]]
        tag = next((x for x in t["tags"].split(";") if x in REFERRAL_TAGS), "")
        r = stored.get(_key(t))
        if r is None:
            misses.append((5, f"{what}: the record with the referral is not stored"))
        elif r not in read:
            misses.append((0, f"{what}: not read as a referral" + (f" ({tag})" if tag else "")))
        elif rid_person[r] != person:
            misses.append((4, f"{what}: linkage split him from the record with the referral"))
            split_tags = here | set(t["tags"].split(";"))
        elif not isinstance(read[r][1], str):
            early = f"{what}: dated over {REGISTERED_LATE_DAYS} days before his first return in the store"
            misses.append((1, early + (f" ({tag})" if tag else "")))
        else:
            own = eid in ev_episodes[read[r][1]]
            misses.append(
                (3, f"{what}: his return split into two events")
                if own
                else (2, f"{what}: counted for another return of his")
            )
    if not misses:
        return "no row shows the referral (truth)", set()
    best = min(misses)[1]
    return best, split_tags if best.endswith("the record with the referral") else set()


def _why_missing(
    eid: str, ep: dict[str, str], events: list[str], refs_of_event: dict, rid_truth: dict, where: dict
) -> str:
    """Why an unreferred return is not flagged: whose referral covered the event(s) it is in.

    where: each true return -> the store persons its records are in. With the reason, the
    truth row of the other man whose referral covered it (for how the two are related)."""
    reasons = []
    for e in events:
        refs = refs_of_event.get(e, [])
        if not refs:
            reasons.append((3, "not past the grace period, or no date", None))
            continue
        best: tuple[int, str, dict | None] = (9, "", None)
        for r in refs:
            t = rid_truth.get(r)
            if t is None:
                cand = (8, "a referral on a record the truth does not know", None)
            elif t["episode_id"] == eid:
                tag = next((x for x in t["tags"].split(";") if x in REFERRAL_TAGS), "")
                cand = (
                    0,
                    f"a no-referral value read as a referral ({t['source']}{', ' + tag if tag else ''})",
                    None,
                )
            elif t["person_id"] == ep["person_id"] and len(where[t["episode_id"]]) > 1:
                cand = (
                    1,
                    "his other return's referral (linkage split that return) counted for this one",
                    None,
                )
            elif t["person_id"] == ep["person_id"]:
                cand = (
                    1,
                    "his other return's referral (that return has no event of its own) counted for this one",
                    None,
                )
            else:
                cand = (2, "merged with another man's referral", t)
            best = min(best, cand, key=lambda c: c[0])
        reasons.append(best)
    worst = max(reasons, key=lambda c: c[0])
    return worst[1], worst[2]


def report(sc: Scores, data: Path, seconds: float | None) -> None:
    p = sc.tp / max(1, sc.tp + sc.fp)
    r = sc.tp / max(1, sc.tp + sc.fn)
    print(
        f"\nreferral flags on the independent lists: {data} (as of {AS_OF:%Y-%m-%d})"
        + (f"; survivor-link run {seconds:.0f} s" if seconds else "")
    )
    print(
        f"true returns with a stored record {sc.episodes:,} (none stored: {sc.not_stored:,}); "
        f"truly unreferred {sc.tp + sc.fn:,}"
    )
    print(
        f'per true return, "unreferred": precision {p:.4f}  recall {r:.4f}  '
        f"F1 {2 * p * r / max(p + r, 1e-9):.4f}  (flagged right {sc.tp:,}, "
        f"flagged though referred {sc.fp:,}, not flagged though unreferred {sc.fn:,})"
    )
    print(
        f"open flags {sc.flags:,}: on an unreferred return {sc.flags_right:,} "
        f"({sc.flags_right / max(1, sc.flags):.2%}); a second flag for one true return {sc.duplicate_flags:,}"
    )
    print("\nflagged though referred, by why the referral did not reach the flag")
    for k, n in sc.fp_kinds.most_common():
        print(f"  {k:<90} {n:>6,}  {n / max(1, sc.fp):6.1%}")
    print("\nnot flagged though unreferred, by whose referral covered it")
    for k, n in sc.fn_kinds.most_common():
        print(f"  {k:<90} {n:>6,}  {n / max(1, sc.fn):6.1%}")
    print("\nwrong flags from a linkage split, by the first habit his rows show (as score.py's missed links)")
    for k, n in sc.split_habits.most_common():
        print(f"  {k:<90} {n:>6,}")
    print("\nmissing flags from a merge, by how he and the man whose referral covered him are related")
    for k, n in sc.merged_with.most_common():
        print(f"  {k:<90} {n:>6,}")
    print("\nby kind of return")
    for g in sorted(sc.by_return, key=lambda g: (g != "all returns", g)):
        print(sc.line(g, sc.by_return[g]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="a folder generate.py wrote (else one is generated)")
    ap.add_argument("--records", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument(
        "--home", type=Path, help="empty folder, or a store linked from --data (default: temporary)"
    )
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="indep-flags-") as tmp:
        data = a.data
        if data is None:
            data = Path(tmp) / "lists"
            generate(data, a.records, a.seed, parse_rates(a.rate))
        home = a.home or Path(tmp) / "home"
        home.mkdir(parents=True, exist_ok=True)
        seconds = None
        if not (home / "survivor-link.db").exists():
            seconds = run_pipeline(data, home, AS_OF)
        report(score(data, read_store(home, AS_OF)), data, seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
