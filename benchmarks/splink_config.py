"""Splink 5 configured as a competent user of our lists would configure it.

Why a module of its own: the benchmark compares survivor-link with Splink, and that is only
a fair comparison if Splink is set up well, the way its documentation recommends and the
way someone who knows these lists would. What such a user does (issue 19):

- builds Splink's input with our normalisers (Khmer names romanised, names tidied, our
  Khmer-aware phonetic keys), because Splink has no Khmer and no name folding of its own;
- compares names in either order (lists disagree on family/given order), with term-frequency
  adjustments, Jaro-Winkler levels at 0.92 and 0.85 and a "one part equal" level;
- birth by exact date, same year when one side only has a year, within 1 and 2 years;
  phone exact; home as one hierarchical comparison (district, else province); return date
  by absolute difference (3 and 60 days), an NGO's intake date standing in where a list has
  no return (without it F1 at 36,084 records is 0.8491 instead of 0.8806);
- blocks predictions on the name key, phone, birth date, birth year with initials, district
  with initials and district with birth year, tightened at a million records (see
  `prediction_rules`);
- estimates u by random sampling and m by EM on the name key, on district with birth year
  and on phone. u from 10 million pairs: 100 million (Splink's advice for a final model)
  took five times as long at 36,084 records for the same F1 (0.8800).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from linkage.normalise.khmer import has_khmer
from linkage.normalise.name_tables import conventional_spelling
from linkage.normalise.names import tidy_latin
from linkage.normalise.phonetic import phonetic_key
from linkage.normalise.romanise import romanise

# From this many records the nationwide rules are narrowed (see prediction_rules).
TIGHT_FROM_RECORDS = 500_000


def _spelling(text: object) -> str | None:
    """The name as written, in Latin (Khmer script romanised), tidied, spaces out."""
    if not isinstance(text, str) or not text.strip():
        return None
    latin = romanise(text) if has_khmer(text) else text
    return tidy_latin(latin).replace(" ", "") or None


def _key(spelling: str | None) -> str | None:
    """Our phonetic key of a spelling (a listed variant keys as its conventional form)."""
    if not spelling:
        return None
    return phonetic_key(conventional_spelling().get(spelling, spelling)).replace(" ", "") or None


def _per_distinct(series: pd.Series, fn) -> pd.Series:
    """fn once per distinct value: names repeat a lot, and romanising is the costly part."""
    table = {v: fn(v) for v in series.dropna().unique()}
    return series.map(table).astype("string")


def _either_order(a: pd.Series, b: pd.Series) -> pd.Series:
    """One value for a pair of name parts whichever order a list wrote them in."""
    lo = a.where(a.fillna("") <= b.fillna(""), b)
    hi = b.where(a.fillna("") <= b.fillna(""), a)
    return (lo.fillna("") + " " + hi.fillna("")).str.strip().replace("", pd.NA).astype("string")


def splink_input(records: pd.DataFrame) -> pd.DataFrame:
    """Splink's input columns from our canonical records, built with linkage.normalise."""
    fam_raw = records["family_name"].where(records["family_name"].notna(), records["family_name_kh"])
    giv_raw = records["given_name"].where(records["given_name"].notna(), records["given_name_kh"])
    fam = _per_distinct(fam_raw, _spelling)
    giv = _per_distinct(giv_raw, _spelling)
    fam_key = _per_distinct(fam, _key)
    giv_key = _per_distinct(giv, _key)

    ret = pd.to_datetime(records["return_date"], errors="coerce")
    # an NGO list has no return date; its intake (which follows a return) stands in for it
    event = ret.fillna(pd.to_datetime(records["intake_date"], errors="coerce"))
    day_known = records["birth_precision"].astype("string").eq("day").fillna(False).to_numpy()
    birth_date = pd.to_datetime(records["birth_date"], errors="coerce").where(day_known)
    year = pd.to_numeric(records["birth_year"], errors="coerce")
    year = year.fillna(event.dt.year - pd.to_numeric(records["age"], errors="coerce"))

    def code(col: str) -> pd.Series:
        s = records[col].astype("string").str.strip()
        return s.mask(s == "", pd.NA)

    return pd.DataFrame(
        {
            "unique_id": records["id"].astype("int64").to_numpy(),
            "fam": fam.to_numpy(),
            "giv": giv.to_numpy(),
            "full_name": _either_order(fam, giv).to_numpy(),
            "fam_key": fam_key.to_numpy(),
            "giv_key": giv_key.to_numpy(),
            "name_key": _either_order(fam_key, giv_key).to_numpy(),
            "fam_init": fam_key.str[:1].to_numpy(),
            "giv_init": giv_key.str[:1].to_numpy(),
            "birth_date": birth_date.dt.date.to_numpy(),
            "birth_year": year.astype("Int64").to_numpy(),
            "province": code("province_code").to_numpy(),
            "district": code("district_code").to_numpy(),
            "commune": code("commune_code").to_numpy(),
            "phone": code("phone").to_numpy(),
            "return_date": event.dt.date.to_numpy(),
        }
    )


def _both(cond: str) -> str:
    """A two-part name condition in either order: {a} and {b} stand for the two parts."""
    same = cond.format(a_l="fam_l", a_r="fam_r", b_l="giv_l", b_r="giv_r")
    swapped = cond.format(a_l="fam_l", a_r="giv_r", b_l="giv_l", b_r="fam_r")
    return f"(({same}) OR ({swapped}))"


def _jaro_winkler_both(threshold: float) -> str:
    return _both(
        f"jaro_winkler_similarity({{a_l}}, {{a_r}}) >= {threshold} "
        f"AND jaro_winkler_similarity({{b_l}}, {{b_r}}) >= {threshold}"
    )


def name_comparison():
    """Family and given name together, in either order, from exact to one part equal."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    levels = [
        cll.CustomLevel("(fam_l IS NULL AND giv_l IS NULL) OR (fam_r IS NULL AND giv_r IS NULL)").configure(
            is_null_level=True
        ),
        cll.CustomLevel("full_name_l = full_name_r", "same spelling, either order").configure(
            tf_adjustment_column="full_name"
        ),
        cll.CustomLevel("name_key_l = name_key_r", "same sound (our name key), either order").configure(
            tf_adjustment_column="name_key"
        ),
        cll.CustomLevel(_jaro_winkler_both(0.92), "Jaro-Winkler >= 0.92 on both parts"),
        cll.CustomLevel(_jaro_winkler_both(0.85), "Jaro-Winkler >= 0.85 on both parts"),
        cll.CustomLevel("fam_key_l = fam_key_r", "family name equal").configure(
            tf_adjustment_column="fam_key"
        ),
        cll.CustomLevel(
            "giv_key_l = giv_key_r OR fam_key_l = giv_key_r OR giv_key_l = fam_key_r",
            "one part equal",
        ).configure(
            # the level's own u is the base of its adjustment (it is not an exact match)
            tf_adjustment_column="giv_key",
            disable_tf_exact_match_detection=True,
        ),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(levels, output_column_name="name")


def birth_comparison():
    """Exact date; same year when one side only has a year; within one and two years."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        [
            cll.NullLevel("birth_year"),
            cll.CustomLevel("birth_date_l = birth_date_r", "same birth date"),
            cll.CustomLevel(
                "birth_year_l = birth_year_r AND (birth_date_l IS NULL OR birth_date_r IS NULL)",
                "same year, one side only a year",
            ),
            cll.AbsoluteDifferenceLevel("birth_year", 1),
            cll.AbsoluteDifferenceLevel("birth_year", 2),
            cll.ElseLevel(),
        ],
        output_column_name="birth",
    )


def home_comparison():
    """Home place as one hierarchy: the same district, else the same province."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        [
            cll.NullLevel("province"),
            cll.ExactMatchLevel("district"),
            cll.ExactMatchLevel("province"),
            cll.ElseLevel(),
        ],
        output_column_name="home",
    )


def comparisons() -> list:
    import splink.comparison_library as cl

    return [
        name_comparison(),
        birth_comparison(),
        cl.ExactMatch("phone"),
        home_comparison(),
        cl.AbsoluteDateDifferenceAtThresholds(
            "return_date", input_is_string=False, metrics=["day", "day"], thresholds=[3, 60]
        ),
    ]


# The six rules issue 19 names, as columns that must be equal (and given on both sides).
STANDARD_RULES: tuple[tuple[str, ...], ...] = (
    ("name_key",),
    ("phone",),
    ("birth_date",),
    ("birth_year", "fam_init", "giv_init"),
    ("district", "fam_init", "giv_init"),
    ("district", "birth_year"),
)

# At a million records (see prediction_rules for why each changed).
TIGHT_RULES: tuple[tuple[str, ...], ...] = (
    ("name_key", "province"),
    ("name_key", "birth_year"),
    ("phone",),
    ("birth_date",),
    ("birth_year", "fam_init", "giv_init", "province"),
    ("district", "fam_init", "giv_init"),
    ("district", "birth_year", "fam_init"),
)


def rule_columns(tight: bool) -> tuple[tuple[str, ...], ...]:
    return TIGHT_RULES if tight else STANDARD_RULES


def prediction_rules(tight: bool) -> list:
    """Blocking for predictions; `tight` for a million records and more.

    Why tighter at a million: a rule's blocks keep their keys (a name key, a birth year
    and initials, a district) as records grow, so its pairs grow with the square of the
    records. Counted as a Splink user counts them, with Splink's own
    `count_comparisons_from_blocking_rules` (benchmarks/splink_blocking.py; a 20% sample of
    records at a million, exact at 180k), on the independent drops (generate.py seed 11 at
    176,940 records, seed 7 at 981,187):

    - the six standard rules: 21.7 million pairs at 176,940 records (blocking recall
      0.9871); 668 million at 981,187 (0.9874), of which the name key alone 300 M (a common
      name such as Sok Dara is one key nationwide) and birth year with both initials 241 M,
      which finds only 12,592 true pairs first (2% of them);
    - so a competent user narrows those two nationwide rules to a province, which a true
      pair nearly always shares (the home province: every list has it), keeps a
      name-key-with-birth-year rule for a man whose province was written another way
      (an NGO's current address, a district under its old province), and gives district
      with birth year the family initial too (68 M pairs for 4,005 true pairs first):
      3.5 million pairs at 176,940 records (recall 0.9725), 104 million at 981,187 (0.9735),
      about the pairs per record the standard rules make at 180k. The standard rules' 1.4
      points more blocking recall would cost 564 million more pairs.
    """
    from splink import block_on

    return [block_on(*cols) for cols in rule_columns(tight)]


def settings(tight: bool):
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=prediction_rules(tight),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def train(linker, tight: bool) -> None:
    """u by random sampling; lambda from near-certain rules; m by EM in three sessions."""
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("name_key", "birth_date"),
            block_on("name_key", "phone"),
            block_on("name_key", "district", "birth_year"),
        ],
        recall=0.8,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    # at a million records district-with-year gives tens of millions of pairs: sample them
    em_pairs = 5e6 if tight else None
    for rule in (block_on("name_key"), block_on("district", "birth_year"), block_on("phone")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=em_pairs)


class DuckDBCaps(NamedTuple):
    """What a user on a shared machine tells DuckDB: memory, threads and where to spill."""

    memory_limit: str = "7GB"
    threads: int = 2
    temp_directory: str | None = None


def duckdb_api(caps: DuckDBCaps | None):
    """Splink's DuckDB backend, capped as DuckDB's own advice for large joins says.

    preserve_insertion_order off lets DuckDB stream joins and spill them instead of keeping
    rows in order in memory (no Splink step relies on row order without an ORDER BY).
    """
    import duckdb
    from splink.backends.duckdb import DuckDBAPI

    if caps is None:
        return DuckDBAPI()
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{caps.memory_limit}'")
    con.execute(f"SET threads = {int(caps.threads)}")
    con.execute("SET preserve_insertion_order = false")
    if caps.temp_directory:
        Path(caps.temp_directory).mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{caps.temp_directory}'")
    return DuckDBAPI(connection=con)


class SplinkRun(NamedTuple):
    labels: dict[float, np.ndarray]  # cluster label per record, per match-probability threshold
    extra_seconds: float  # clustering at the thresholds beyond one, which a user would not run
    steps: list[str]  # each phase's seconds (and the pairs kept), for the log


def run_splink(
    records: pd.DataFrame,
    thresholds: tuple[float, ...],
    tight: bool | None = None,
    caps: DuckDBCaps | None = None,
) -> SplinkRun:
    """Cluster labels per match-probability threshold, one prediction for all of them."""
    from splink import Linker

    if tight is None:
        tight = len(records) >= TIGHT_FROM_RECORDS
    clock = [time.perf_counter()]

    def lap() -> str:
        clock.append(time.perf_counter())
        return f"{clock[-1] - clock[-2]:.1f} s"

    df = splink_input(records)
    steps = [f"input {lap()}"]
    linker = Linker(duckdb_api(caps).register(df), settings(tight), log_level=40)
    train(linker, tight)
    steps.append(f"training {lap()}")
    predictions = linker.inference.predict(threshold_match_probability=min(thresholds))
    steps.append(f"predict {lap()} ({predictions.as_duckdbpyrelation().shape[0]:,} pairs kept)")
    out = {}
    for t in thresholds:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, t
        ).as_pandas_dataframe()
        by_id = dict(zip(clusters["unique_id"], clusters["cluster_id"], strict=True))
        out[t] = np.array([by_id.get(i, f"single-{i}") for i in df["unique_id"]], dtype=object)
    steps.append(f"clustering at {len(thresholds)} thresholds {lap()}")
    steps.insert(0, f"{'tight' if tight else 'standard'} rules")
    print("splink: " + ", ".join(steps), flush=True)
    clustering = clock[-1] - clock[-2]
    return SplinkRun(out, clustering * (len(thresholds) - 1) / len(thresholds), steps)
