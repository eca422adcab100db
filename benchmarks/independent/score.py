"""Score the real pipeline on the independent lists: pairwise precision, recall, F1, and what fails.

Why: a single F1 says how much is wrong, not what. This runs `survivor-link ingest` and
`link` (the command line, as a user would) on a generated folder into a scratch store,
exports the persons, and sorts every wrong pair by its kind: false links by how the two
men are related (twins, brothers, namesakes, one batch), missed links by the habits that
shaped the two rows (a blank district, a romanisation, the order, a date, a second return).

    .venv/bin/python benchmarks/independent/score.py --records 4000 --seed 1
    .venv/bin/python benchmarks/independent/score.py --data /tmp/indep40k --examples 5

The store is a temporary folder (or --home), never var/ or anyone else's. Examples print
the synthetic names as stored; they are made up, and this is a benchmark, not the product.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from indep.rates import parse_rates  # noqa: E402

KH_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
CLI = Path(sys.executable).with_name("survivor-link")

# Missed links: the first of these a pair shows is its main cause (most telling first).
MISS_CAUSES: list[tuple[str, tuple[str, ...]]] = [
    ("second return (re-trafficked)", ("@different_return",)),
    ("nickname or second given name", ("nickname", "second_given")),
    ("family/given columns swapped", ("order_columns_swapped",)),
    ("blank district", ("district_blank",)),
    ("NGO has his current address", ("moved",)),
    ("IOM wrote the entry point as home", ("home_is_entry",)),
    ("old province for the district", ("old_province",)),
    ("Khmer-script typo", ("typo_khmer_",)),
    ("Latin typo", ("typo_latin",)),
    ("birth date slip (wrong year, day/month)", ("dob_wrong_year", "date_swapped", "year_typed")),
    ("age only / age a year off", ("age_off_by_one", "age_only")),
    ("birth year only or blank", ("birth_year_only", "birth_blank")),
    ("compound name split", ("split_name",)),
    ("romanisation", ("romanisation",)),
    ("name order", ("order_family_first", "order_given_first")),
    ("ministry registered days later", ("registered_later",)),
    ("district spelling variant", ("district_variant",)),
    ("another village of his commune", ("village_slip",)),
    ("duplicate within one list", ("dup_in_list",)),
]


def _has(tags: set[str], keys: tuple[str, ...]) -> bool:
    return any(t.startswith(k) if k.endswith("_") else t == k for k in keys for t in tags)


def run_pipeline(data: Path, home: Path) -> dict[str, float]:
    """ingest, link and flag through the command line into a scratch home; seconds per phase and
    the peak memory of the largest step (GiB)."""
    env = dict(os.environ, SURVIVOR_LINK_HOME=str(home), SURVIVOR_LINK_DATA_DOCS="0", SURVIVOR_LINK_DB_URL="")
    env.pop("SURVIVOR_LINK_CONFIG", None)
    times = {}
    for phase, args in (("ingest", ["ingest", str(data / "landing")]), ("link", ["link"]),
                        ("flag", ["flag"]),  # so the review queue's tiers can be counted
                        ("export", ["export", "records", "-o", str(home / "records.csv")])):
        t = time.perf_counter()
        done = subprocess.run([str(CLI), *args], env=env, capture_output=True, text=True)
        times[phase] = time.perf_counter() - t
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
            raise SystemExit(f"survivor-link {phase} failed with exit code {done.returncode}")
    times["peak_gib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    return times


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def review_sizes(home: Path) -> tuple[int, int]:
    """Open pairs in the review queue officers are shown, and in the whole review band."""
    with sqlite3.connect(home / "survivor-link.db") as db:
        sql = ("select count(*), count(queue_value) from candidate_pair"
               " where band = 'review' and status = 'open'")
        band, queue = db.execute(sql).fetchone()
        return int(queue), int(band)


# The queue's tiers as `review list` orders them (linkage.match.review.QUEUE_REASONS): both
# records' persons flagged, one, none.
_TIERS_SQL = """
with flagged as (select distinct pr.record_id from person_record pr
                 join flag f on f.person_id = pr.person_id and f.status = 'open')
select (p.record_a in (select record_id from flagged)) + (p.record_b in (select record_id from flagged)),
       count(*)
from candidate_pair p where p.band = 'review' and p.status = 'open' and p.queue_value is not null
group by 1
"""


def queue_tiers(home: Path) -> dict[str, int]:
    """How many queued pairs join two flagged persons, touch one, or no flag."""
    names = {2: "two flagged persons", 1: "one flagged", 0: "no flag"}
    with sqlite3.connect(home / "survivor-link.db") as db:
        got = dict(db.execute(_TIERS_SQL).fetchall())
    return {names[k]: int(got.get(k, 0)) for k in (2, 1, 0)}


def pair_relation(a: dict, b: dict, persons: dict[str, dict]) -> str:
    """How two different men put into one person are related."""
    pa, pb = persons[a["person_id"]], persons[b["person_id"]]
    if pa["twin_of"] == pb["person_id"] or pb["twin_of"] == pa["person_id"]:
        return "twins"
    if pa["family_id"] == pb["family_id"]:
        return "brothers"
    same_name = (pa["family_name"], pa["given_name"]) == (pb["family_name"], pb["given_name"])
    if pa["namesake_of"] == pb["person_id"] or pb["namesake_of"] == pa["person_id"] or (
        same_name and pa["district_code"] == pb["district_code"]
    ):
        return "namesakes (same name, district, age)"
    if same_name:
        return "same name, other district"
    if pa["family_name"] == pb["family_name"] and pa["village_code"] == pb["village_code"]:
        return "same family name and village"
    if a["batch_id"] == b["batch_id"]:
        return "same return batch, other names"
    if pa["family_name"] == pb["family_name"]:
        return "same family name only"
    return "other"


def score(data: Path, home: Path, examples: int) -> None:  # noqa: C901 (a report printed top to bottom)
    truth_rows = read_csv(data / "truth.csv")
    persons = {p["person_id"]: p for p in read_csv(data / "persons.csv")}
    truth = {(t["source"], t["file"], t["record_id"]): t for t in truth_rows}
    for t in truth_rows:
        t["tagset"] = set(filter(None, t["tags"].split(";")))
    times = run_pipeline(data, home)
    stored = read_csv(home / "records.csv")
    pred: dict[tuple[str, str, str], str] = {}
    shown: dict[tuple[str, str, str], dict] = {}
    for r in stored:
        key = (r["source"], r["file"], r["source_record_id"].translate(KH_DIGITS))
        pred[key] = r["person_id"] or f"unlinked:{key}"
        shown[key] = r
    keys = [k for k in truth if k in pred]
    missing = len(truth) - len(keys)

    by_true: dict[str, list] = defaultdict(list)
    by_pred: dict[str, list] = defaultdict(list)
    for k in keys:
        by_true[truth[k]["person_id"]].append(k)
        by_pred[pred[k]].append(k)
    true_pairs = sum(len(v) * (len(v) - 1) // 2 for v in by_true.values())
    pred_pairs = sum(len(v) * (len(v) - 1) // 2 for v in by_pred.values())
    false_links: list[tuple[str, tuple, tuple]] = []
    in_big = 0  # false pairs inside persons of three or more records (chained through a third)
    for members in by_pred.values():
        for a, b in combinations(members, 2):
            if truth[a]["person_id"] != truth[b]["person_id"]:
                false_links.append((pair_relation(truth[a], truth[b], persons), a, b))
                in_big += len(members) >= 3
    tp = pred_pairs - len(false_links)
    missed: list[tuple[str, tuple, tuple]] = []
    habit_all: Counter[str] = Counter()
    habit_missed: Counter[str] = Counter()
    for members in by_true.values():
        for a, b in combinations(members, 2):
            ta, tb = truth[a], truth[b]
            tags = ta["tagset"] | tb["tagset"]
            if ta["episode_id"] != tb["episode_id"]:
                tags = tags | {"@different_return"}
            hit = pred[a] == pred[b]
            cause = next((name for name, ks in MISS_CAUSES if _has(tags, ks)), "none of the habits")
            for name, ks in MISS_CAUSES:
                if _has(tags, ks):
                    habit_all[name] += 1
                    if not hit:
                        habit_missed[name] += 1
            if not hit:
                missed.append((cause, a, b))
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    print(f"\nindependent lists: {data}")
    print(f"records written {len(truth):,}, stored {len(stored):,}, not stored {missing:,}; "
          f"true men {len(by_true):,}, persons made {len(by_pred):,}")
    print(f"pairwise precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}  "
          f"(true pairs {true_pairs:,}, linked pairs {pred_pairs:,}, right {tp:,})")
    queue, band = review_sizes(home)
    print(f"false links {len(false_links):,}, missed links {true_pairs - tp:,}, "
          f"review queue {queue:,} open pairs ({queue / max(1, len(stored)):.2%} of records), "
          f"review band {band:,} ({band / max(1, len(stored)):.2%})")
    print("review queue by tier: " + ", ".join(f"{k} {v:,}" for k, v in queue_tiers(home).items()))
    print(f"time: ingest {times['ingest']:.1f} s, link {times['link']:.1f} s "
          f"(command line, SQLite, data docs off); peak memory {times['peak_gib']:.2f} GiB")

    mixed = sum(1 for m in by_pred.values() if len({truth[k]["person_id"] for k in m}) > 1)
    print(f"persons holding more than one man {mixed:,}; false pairs inside persons of 3+ records "
          f"{in_big:,} of {len(false_links):,}")
    print("\nfalse links by how the two men are related")
    fl = Counter(k for k, _a, _b in false_links)
    for kind, n in fl.most_common():
        print(f"  {kind:<40} {n:>7,}  {n / max(1, len(false_links)):6.1%}")
    print("\nmissed links by main cause (first habit in the list the pair shows)")
    ml = Counter(k for k, _a, _b in missed)
    for kind, n in ml.most_common():
        print(f"  {kind:<40} {n:>7,}  {n / max(1, len(missed)):6.1%}")
    print("\nevery habit: true pairs that show it, and the share of those missed")
    for name, _ks in MISS_CAUSES:
        if habit_all[name]:
            print(f"  {name:<40} {habit_all[name]:>7,} pairs  missed {habit_missed[name]:>6,}"
                  f"  ({habit_missed[name] / habit_all[name]:6.2%})")
    if examples:
        _print_examples("false link", false_links, fl, shown, truth, examples)
        _print_examples("missed link", missed, ml, shown, truth, examples)


def _describe(r: dict, t: dict) -> str:
    name = " ".join(filter(None, [r["family_name"], r["given_name"]]))
    kh = " ".join(filter(None, [r["family_name_kh"], r["given_name_kh"]]))
    birth = r["birth_date"] or (f"~{r['birth_year']}" if r["birth_year"] else "-")
    return (f"{r['source']:<9} {name or '-'} [{kh or '-'}] born {birth} ({r['birth_precision'] or '-'}) "
            f"home {r['province_code'] or '-'}/{r['district_code'] or '-'}/{r['village_code'] or '-'} "
            f"back {r['return_date'] or r['intake_date'] or '-'} phone {'yes' if r['phone'] else '-'} "
            f"father {r['father_name'] or '-'} | {t['person_id']} {t['tags']}")


def _print_examples(what: str, pairs: list, counts: Counter, shown: dict, truth: dict, n: int) -> None:
    for kind, _count in counts.most_common(3):
        print(f"\n{what} examples: {kind}")
        for _k, a, b in [p for p in pairs if p[0] == kind][:n]:
            print("  - " + _describe(shown[a], truth[a]))
            print("    " + _describe(shown[b], truth[b]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="a folder generate.py wrote (else one is generated)")
    ap.add_argument("--records", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--home", type=Path, help="scratch store folder (default: a new temporary one)")
    ap.add_argument("--examples", type=int, default=0, help="print this many pairs of each top error kind")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="indep-score-") as tmp:
        data = a.data
        if data is None:
            data = Path(tmp) / "lists"
            t = time.perf_counter()
            info = generate(data, a.records, a.seed, parse_rates(a.rate))
            print(f"generated {info['records']:,} records in {time.perf_counter() - t:.1f} s")
        home = a.home or Path(tmp) / "home"
        if (home / "survivor-link.db").exists():
            raise SystemExit(f"{home} already holds a store; give an empty --home")
        home.mkdir(parents=True, exist_ok=True)
        score(data, home, a.examples)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
