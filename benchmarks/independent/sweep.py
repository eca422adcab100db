"""Linkage on independent lists with one habit (or a set) turned far up or off, as a table.

Why: a figure on the default lists says little about lists made otherwise, and the ones we
will be judged on are. Each setting is generated (`generate.py --rate ...`, same seed),
ingested into a scratch home as a user would (`survivor-link ingest`), linked in this
process by the engine (`engine.link_records`, no store writes) and scored pairwise against
the truth. With --code DIR the same stores are linked by another checkout too (a `git
archive` of an earlier commit, say), for a before/after on the same records.

    .venv/bin/python benchmarks/independent/sweep.py --records 10000 --seed 41 \\
        --setting base --setting "iom_phone=0 mosvy_phone=0 ngo_phone=0" --setting twins=0.06

Settings are space-separated rates of indep/rates.py; "base" is the defaults. Data go under
--work (kept: a second run reuses them). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PY = sys.executable

SCORE = r"""
import sys
from pathlib import Path
import pandas as pd
sys.path.insert(0, sys.argv[3])
from sqlalchemy import select
from linkage.match import engine
from linkage.match.evaluate import pair_scores
from linkage.match.frame import RECORD_COLUMNS
from linkage.match.spec import spec_for
from linkage.match.stored import in_content_order
from linkage.settings import load_settings
from linkage.store.db import session_scope
from linkage.store.models import Delivery, Record
from linkage.store.sealed import read_records_frame

data, home = Path(sys.argv[1]), Path(sys.argv[2])
settings = load_settings(home=home, db_url="")
with session_scope(settings) as s:
    cols = [getattr(Record, c) for c in RECORD_COLUMNS]
    stmt = select(*cols, Delivery.file_name, Record.source_record_id).join(
        Delivery, Delivery.sha256 == Record.delivery_sha256)
    rec = in_content_order(read_records_frame(s.connection(), stmt)).reset_index(drop=True)
truth = pd.read_csv(data / "truth.csv", dtype=str)
truth["file_name"] = truth["file"].map(lambda f: Path(f).name)
rec["file_name"] = rec["file_name"].map(lambda f: Path(str(f)).name)
rec["source_record_id"] = rec["source_record_id"].astype(str)
key = ["source", "file_name", "source_record_id"]
truth = truth.rename(columns={"record_id": "source_record_id"})
m = rec.merge(truth[[*key, "person_id"]], on=key, how="left")
labels = engine.link_records(rec[RECORD_COLUMNS], spec_for(settings)).labels
person = m["person_id"].fillna(pd.Series("?" + m.index.astype(str), index=m.index))
scores = pair_scores("sweep", pd.Series(labels), person)
tp = scores.true_positives
false, missed = scores.predicted_pairs - tp, scores.true_pairs - tp
print(f"{scores.precision:.4f} {scores.recall:.4f} {scores.f1:.4f} {false} {missed}")
"""


def prepare(setting: str, records: int, seed: int, work: Path) -> tuple[Path, Path]:
    """The setting's lists and an ingested home (made once, reused)."""
    tag = setting.replace(" ", "_").replace("=", "-")
    data, home = work / tag, work / f"{tag}.home"
    if not (home / "ingested").exists():
        rates = [] if setting == "base" else [x for r in setting.split() for x in ("--rate", r)]
        subprocess.run([PY, str(HERE / "generate.py"), "--records", str(records), "--seed", str(seed),
                        *rates, "-o", str(data)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "SURVIVOR_LINK_HOME": str(home), "SURVIVOR_LINK_DATA_DOCS": "0"}
        subprocess.run([str(Path(PY).parent / "survivor-link"), "ingest", str(data / "landing")],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        (home / "ingested").touch()
    return data, home


def scored(data: Path, home: Path, code: Path) -> str:
    out = subprocess.run([PY, "-c", SCORE, str(data), str(home), str(code)], check=True,
                         capture_output=True, text=True, cwd=code)  # fmt: skip
    p, r, f1, false, missed = out.stdout.split()[-5:]
    return f"{p} | {r} | **{f1}** | {false} | {missed}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=41)
    ap.add_argument("--setting", action="append", default=[], help='e.g. "iom_phone=0 travel_doc=0"')
    ap.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "sweep")
    ap.add_argument("--code", type=Path, help="another checkout to link the same stores with (before)")
    a = ap.parse_args(argv)
    head = "| setting | P | R | F1 | false | missed |"
    if a.code:
        head += " before P | R | F1 | false | missed |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for setting in a.setting or ["base"]:
        data, home = prepare(setting, a.records, a.seed, a.work)
        row = f"| {setting} | {scored(data, home, ROOT)} |"
        if a.code:
            row += f" {scored(data, home, a.code)} |"
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
