"""Linkage pieces on small, hand-made inputs: comparisons, blocking, model, clustering, events."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from linkage.match.blocking import block_keys, candidate_pairs
from linkage.match.cluster import ONE_LIST, cluster
from linkage.match.compare import HOME_LEVELS, LEVELS, compare
from linkage.match.events import EventRow, group_returns
from linkage.match.frame import RECORD_COLUMNS, build_frame
from linkage.match.model import MatchModel


def records(*rows: dict) -> pd.DataFrame:
    """Records with every frame column; unspecified fields are missing."""
    base = {c: None for c in RECORD_COLUMNS}
    out = []
    for i, r in enumerate(rows):
        row = dict(base, id=i + 1, source="iom", delivery_sha256=f"d{i}", loaded_at=dt.datetime(2026, 1, 1))
        row.update(r)
        out.append(row)
    return pd.DataFrame(out, columns=RECORD_COLUMNS)


def levels_of(*rows: dict) -> pd.DataFrame:
    frame = build_frame(records(*rows))
    n = len(frame)
    left, right = np.triu_indices(n, k=1)
    return compare(frame, left.astype(np.int64), right.astype(np.int64))


def level(feature: str, value: int) -> str:
    return "missing" if value < 0 else LEVELS[feature][value]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("SOK", "SOKH"),
        ("CHEA", "CHIA"),
        ("KEO", "KAEV"),
        ("NGUON", "NGOUN"),
        ("SORN", "SON"),
        ("TOUCH", "TUCH"),
    ],
)
def test_romanisation_variants_of_a_surname_sound_the_same(a: str, b: str) -> None:
    lv = levels_of({"family_name": a, "given_name": "DARA"}, {"family_name": b, "given_name": "DARA"})
    assert level("family_name", lv["family_name"].iloc[0]) == "same sound"


@pytest.mark.parametrize(("a", "b"), [("KEO", "KEOV"), ("PICH", "PEACH"), ("SAM", "SOM"), ("KIM", "KYM")])
def test_listed_variants_that_no_sound_rule_folds_sound_the_same(a: str, b: str) -> None:
    lv = levels_of({"family_name": a, "given_name": "DARA"}, {"family_name": b, "given_name": "DARA"})
    assert level("family_name", lv["family_name"].iloc[0]) == "same sound"


@pytest.mark.parametrize(("a", "b"), [("SOVANN", "SOVON"), ("VANNAK", "VONAK"), ("VIREAK", "VIREK"),
                                      ("RATHA", "RODA"), ("PISIATH", "PISETH")])
def test_given_names_that_differ_only_in_a_vowel_before_a_consonant_have_the_same_consonants(
    a: str, b: str
) -> None:
    """How romanisers write one Khmer vowel (a or o for the inherent vowel, ea, e or i),
    past what the phonetic key and the table of spellings fold: its own level, above a
    close spelling, below one sound (EM weighs it: 3.3 bits on lists made apart from ours)."""
    lv = levels_of({"family_name": "KEO", "given_name": a}, {"family_name": "KEO", "given_name": b})
    assert level("given_name", lv["given_name"].iloc[0]) == "same consonants"


@pytest.mark.parametrize(("a", "b"), [("BORA", "BOREY"), ("CHANTHA", "CHANTHOU"), ("SOPHAL", "SOPHEAP")])
def test_given_names_whose_last_vowel_or_a_consonant_differs_are_not_the_same_consonants(
    a: str, b: str
) -> None:
    """Bora and Borey, Chantha and Chanthou are two names each: a last vowel says which."""
    lv = levels_of({"family_name": "KEO", "given_name": a}, {"family_name": "KEO", "given_name": b})
    assert lv["given_name"].iloc[0] < LEVELS["given_name"].index("same consonants")


def test_a_spelling_listed_for_two_names_is_not_folded_to_either() -> None:
    from linkage.normalise.name_tables import conventional_spelling

    table = conventional_spelling()
    assert table["KEOV"] == "KEO" and table["PEACH"] == "PICH"
    assert "SON" not in table and "OUM" not in table  # ស៊ុន Sun or សន Sorn; អ៊ុំ Um or ឱម Om
    assert "SUN" in table and "SORN" in table  # each conventional form is still itself


def test_a_stated_other_commune_weighs_against_a_missing_one_does_not() -> None:
    home = {"family_name": "HENG", "given_name": "SOTHEA", "province_code": "19", "district_code": "1902"}
    lv = levels_of(
        {**home, "commune_code": "190201"},
        {**home, "commune_code": "190203"},
        {**home},
    )
    labels = [level("context", v).split(";")[0] for v in lv["context"]]
    assert labels == [
        "home: same district, other commune",  # 1-2: both communes stated, different
        "home: same district",  # 1-3: the third has no commune
        "home: same district",  # 2-3
    ]


def test_khmer_script_and_latin_spelling_of_one_name_compare() -> None:
    lv = levels_of(
        {"family_name": "SOK", "given_name": "DARA"},
        {"family_name_kh": "សុខ", "given_name_kh": "ដារា"},
    )
    assert level("family_name", lv["family_name"].iloc[0]) in ("same sound", "same spelling")
    assert lv["given_name"].iloc[0] >= LEVELS["given_name"].index("same sound")


def test_swapped_name_order_is_found() -> None:
    lv = levels_of(
        {"family_name": "SOK", "given_name": "VANNAK"},
        {"family_name": "VANAK", "given_name": "SOK"},
    )
    assert bool(lv["swapped"].iloc[0])
    assert level("family_name", lv["family_name"].iloc[0]) in ("same sound", "same spelling")
    assert lv["given_name"].iloc[0] >= LEVELS["given_name"].index("same sound")


def test_joined_and_split_given_names_meet() -> None:
    lv = levels_of(
        {"family_name": "KEO", "given_name": "SOVANN RITH"},
        {"family_name": "KEO", "given_name": "SOVANNARITH"},
    )
    assert lv["given_name"].iloc[0] >= 2


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("THACH", "NARITH"), ("THCAH", "NARITH")),  # two letters swapped: key TAK becomes TCA
        (("PICH", "SOVANN"), ("PICH", "SOANN")),  # a letter dropped: key SUVAN becomes SUN
    ],
)
def test_a_typing_slip_keeps_a_name_close(a: tuple[str, str], b: tuple[str, str]) -> None:
    """The letters stay close when a slip moves the phonetic key far: at least 'similar'."""
    lv = levels_of(
        {"family_name": a[0], "given_name": a[1]},
        {"family_name": b[0], "given_name": b[1]},
    )
    assert lv["family_name"].iloc[0] >= 2
    assert lv["given_name"].iloc[0] >= 2


def test_different_names_with_a_few_shared_letters_stay_apart() -> None:
    lv = levels_of(
        {"family_name": "CHEA", "given_name": "SOPHEAP"},
        {"family_name": "CHEA", "given_name": "PISETH"},
    )
    assert level("given_name", lv["given_name"].iloc[0]) == "different"


def test_one_list_naming_a_man_twice_for_one_return_is_its_own_level() -> None:
    """Namesakes who came home together sit in one list; a man's two returns may too."""
    man = {"family_name": "CHEA", "given_name": "DARA", "delivery_sha256": "list-1"}
    lv = levels_of(
        dict(man, return_date=dt.date(2024, 9, 18)),
        dict(man, return_date=dt.date(2024, 9, 19)),  # one batch, one list
        dict(man, return_date=dt.date(2026, 2, 1)),  # the same list, another return
        dict(man, delivery_sha256="list-2", return_date=dt.date(2024, 9, 18)),
        dict(man, delivery_sha256="list-2", intake_date=dt.date(2024, 9, 20)),  # an intake list
        dict(man, delivery_sha256="list-2", intake_date=dt.date(2024, 9, 22)),
    )
    pairs = dict(zip(zip(*np.triu_indices(6, k=1), strict=True), lv["lists"], strict=True))
    assert level("lists", pairs[0, 1]) == "same list, same return"
    assert level("lists", pairs[0, 2]) == "same list"
    assert level("lists", pairs[0, 3]) == "different lists"
    assert level("lists", pairs[3, 4]) == "same list, same return"  # a return and an intake
    assert level("lists", pairs[4, 5]) == "same list, same return"


def test_blanks_are_missing_not_agreement() -> None:
    lv = levels_of(
        {"family_name": "SOK", "given_name": "DARA", "phone": "", "national_id": None},
        {"family_name": "SOK", "given_name": "DARA", "phone": "", "national_id": None},
    )
    assert level("phone", lv["phone"].iloc[0]) == "missing"
    assert level("id_document", lv["id_document"].iloc[0]) == "missing"
    assert level("birth", lv["birth"].iloc[0]) == "missing"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("+85512345678", "+85512345678", "same"),
        ("+85512345678", "+85512345679", "differs by a slip"),  # one digit another
        ("+85512345678", "+85512346578", "differs by a slip"),  # two neighbours swapped
        ("+85512345678", "+85512354687", "different"),  # two slips are another number
        ("+85512345678", "+855123456789", "different"),  # another length
        ("+85512345678 +85597111222", "+85597111223", "differs by a slip"),  # his other number
    ],
)
def test_a_mistyped_phone_is_its_own_level(a: str, b: str, expected: str) -> None:
    lv = levels_of({"phone": a}, {"phone": b})
    assert level("phone", int(lv["phone"].iloc[0])) == expected


def test_brothers_differ_on_given_name_and_birth() -> None:
    lv = levels_of(
        {"family_name": "CHEA", "given_name": "SOPHEAP", "birth_year": 1990, "district_code": "0607"},
        {"family_name": "CHEA", "given_name": "VIBOL", "birth_year": 1995, "district_code": "0607"},
    )
    assert level("given_name", lv["given_name"].iloc[0]) == "different"
    assert level("birth", lv["birth"].iloc[0]) == "3-5 years apart"


def test_a_shared_father_does_not_make_brothers_one_man() -> None:
    family = {"family_name": "SUN", "father_name": "KIM LENG", "district_code": "0406"}
    lv = levels_of(
        {**family, "given_name": "CHANTHOU"},
        {**family, "given_name": "NIMOL"},  # his brother
        {**family, "given_name": "CHANTOU"},  # the first man on another list
    )
    assert level("father", lv["father"].iloc[0]) == "missing"  # neither for nor against
    assert level("father", lv["father"].iloc[1]) == "same"


def test_age_at_return_gives_a_birth_year() -> None:
    lv = levels_of(
        {"family_name": "SOK", "given_name": "DARA", "age": 30, "return_date": dt.date(2024, 5, 1)},
        {"family_name": "SOK", "given_name": "DARA", "birth_year": 1994, "birth_precision": "year"},
    )
    assert level("birth", lv["birth"].iloc[0]) == "same year"


def test_two_dates_known_to_the_day_that_differ_are_their_own_level() -> None:
    man = {"family_name": "SOK", "given_name": "DARA", "birth_precision": "day"}
    lv = levels_of(
        {**man, "birth_date": dt.date(1990, 3, 12), "birth_year": 1990},
        {**man, "birth_date": dt.date(1991, 7, 2), "birth_year": 1991},  # another man's date
        {**man, "birth_date": dt.date(1990, 3, 12), "birth_year": 1990},  # the first again
        {**man, "birth_year": 1991, "birth_precision": "year"},  # a year only
    )
    # pairs in order: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
    assert [level("birth", v) for v in lv["birth"]] == [
        "two known dates differ",
        "same date",
        "a year apart",
        "two known dates differ",
        "same year",
        "a year apart",
    ]


def test_years_a_year_apart_are_kept_from_two_years_apart() -> None:
    # an age at return makes a year off by one for one man; brothers begin two years apart
    man = {"family_name": "SOK", "given_name": "DARA", "birth_precision": "year"}
    lv = levels_of({**man, "birth_year": 1990}, {**man, "birth_year": 1991}, {**man, "birth_year": 1992})
    assert [level("birth", v) for v in lv["birth"]] == ["a year apart", "2 years apart", "a year apart"]


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        (dt.date(1990, 3, 21), "dates differ by a slip"),  # two digits swapped
        (dt.date(1990, 12, 3), "dates differ by a slip"),  # day and month swapped
        (dt.date(1990, 3, 13), "dates differ by a slip"),  # one digit
        (dt.date(1980, 3, 12), "dates differ by a slip"),  # one digit, ten years by the year
        (dt.date(1987, 3, 12), "dates differ by a slip"),  # the year alone
        (dt.date(1990, 7, 2), "two known dates differ"),  # a namesake of his age
        (dt.date(1989, 11, 25), "two known dates differ"),
        (dt.date(1980, 7, 2), "over 5 years apart"),
    ],
)
def test_one_mans_two_dates_differ_by_a_slip_two_mens_anyhow(other: dt.date, expected: str) -> None:
    man = {"family_name": "SOK", "given_name": "DARA", "birth_precision": "day"}
    lv = levels_of(
        {**man, "birth_date": dt.date(1990, 3, 12), "birth_year": 1990},
        {**man, "birth_date": other, "birth_year": other.year},
    )
    assert level("birth", lv["birth"].iloc[0]) == expected


def test_an_ngo_intake_weeks_after_a_return_dates_that_return() -> None:
    man = {"family_name": "SOK", "given_name": "DARA", "district_code": "0607"}
    returned = {**man, "return_date": dt.date(2025, 3, 1), "country": "TH"}
    lv = levels_of(
        returned,
        {**man, "source": "ngo-hagar", "intake_date": dt.date(2025, 4, 10)},  # 40 days later
        {**man, "source": "ngo-hagar", "intake_date": dt.date(2024, 12, 1)},  # before it
        {**man, "source": "ngo-hagar", "intake_date": dt.date(2026, 1, 5)},  # ten months later
    )
    got = [level("context", v).split("; ")[1] for v in lv["context"].iloc[:3]]
    assert got == ["return: intake soon after return", "return unknown", "return unknown"]
    # two intakes say nothing of a return
    assert level("context", lv["context"].iloc[3]).endswith("return unknown")


def test_weights_fitted_under_another_spec_are_fitted_again(settings) -> None:
    from dataclasses import replace

    from linkage.match.linker import _refit_reason
    from linkage.match.spec import FeatureSpec, spec_for
    from linkage.store.db import migrate, session_scope

    migrate(settings)
    spec = spec_for(settings)
    changed = "the model spec changed since the weights were fitted"
    fitted = MatchModel(
        m={f: np.full(len(v), 1 / len(v)) for f, v in LEVELS.items()}, weights_digest=spec.weights_digest()
    )
    with session_scope(settings) as s:
        assert _refit_reason(s, fitted, settings, spec) is None
        # fewer levels than the spec has (stored before "two known dates differ" existed)
        fewer = MatchModel.from_params(fitted.to_params())
        fewer.m["birth"] = np.full(5, 0.2)
        assert _refit_reason(s, fewer, settings, spec) == changed
        # weights from before the spec existed (a numbered compare_version) are fitted again
        old = {k: v for k, v in fitted.to_params().items() if k != "weights_digest"}
        numbered = MatchModel.from_params({**old, "compare_version": 3})
        assert _refit_reason(s, numbered, settings, spec) == changed
        # a cut point moved: the same levels now hold other pairs
        birth = spec.features["birth"]
        moved = replace(spec, features={**spec.features, "birth": FeatureSpec(
            "birth", birth.levels, {**birth.cuts, "near_years": 1})})  # fmt: skip
        assert moved.weights_digest() != spec.weights_digest()
        assert moved.keys_digest() == spec.keys_digest()  # blocking keys need not be made again
        assert _refit_reason(s, fitted, settings, moved) == changed


def test_the_store_outgrew_the_weights_by_its_record_count_not_its_ids(settings) -> None:
    """The refit check bounds the count by the ids and counts only when the bound is not
    enough: ids with gaps must not pass for records, and a source only a delivery names
    (its records gone) is no new source."""
    from sqlalchemy import insert

    from linkage.match.linker import _refit_reason
    from linkage.match.spec import spec_for
    from linkage.store.db import session_scope
    from linkage.store.models import Delivery, Record

    spec = spec_for(settings)
    fitted = MatchModel(
        m={f: np.full(len(v), 1 / len(v)) for f, v in LEVELS.items()},
        weights_digest=spec.weights_digest(),
        records=4,
        sources=["iom"],
    )

    def add(s, source: str, ids: list[int]) -> None:
        sha = f"{source}{ids[0]:060d}"[:64]
        s.execute(
            insert(Delivery).values(
                sha256=sha, source=source, file_name="f.csv", size_bytes=1, status="ingested"
            )
        )
        s.execute(insert(Record), [
            {"id": i, "source": source, "record_key": f"k{i}", "source_record_id": str(i),
             "delivery_sha256": sha, "line": i} for i in ids])  # fmt: skip

    grew = "the store outgrew the weights"
    with session_scope(settings) as s:
        assert _refit_reason(s, fitted, settings, spec) is None  # an empty store
        add(s, "iom", [1, 2, 3, 4, 1000])  # ids up to 1,000, five records: under 1.5 x 4
        assert _refit_reason(s, fitted, settings, spec) is None
        add(s, "iom", [1001])  # six records: 1.5 times the four fitted on
        assert _refit_reason(s, fitted, settings, spec) == grew
        fitted.records = 100
        assert _refit_reason(s, fitted, settings, spec) is None
        s.execute(
            insert(Delivery).values(
                sha256="n" * 64, source="ngo-hagar", file_name="g.csv", size_bytes=1, status="ingested"
            )
        )
        assert _refit_reason(s, fitted, settings, spec) is None  # a delivery with no records
        add(s, "mosvy", [2000])
        assert _refit_reason(s, fitted, settings, spec) == grew  # a source the weights never saw
        fitted.sources = ["iom", "mosvy"]
        assert _refit_reason(s, fitted, settings, spec) is None


def test_blocking_finds_a_surname_spelled_apart_and_skips_huge_blocks() -> None:
    rows = [
        {"family_name": "KEO", "given_name": "PUTHY", "birth_year": 2004, "district_code": "0314"},
        {"family_name": "KAO", "given_name": "PUTHY", "birth_year": 2004, "district_code": "0314"},
        {"family_name": "KEV", "given_name": "PUTTHY", "district_code": "0314"},
    ]
    frame = build_frame(records(*rows))
    left, right, stats = candidate_pairs(block_keys(frame))
    assert {(0, 1), (0, 2), (1, 2)} <= set(zip(left.tolist(), right.tolist(), strict=True))
    distinct = [f"KA{a}A{b}" for a in "KLMNRSTV" for b in "KLMNP"][:30]  # 30 given names, one initial
    many = build_frame(
        records(*[{"family_name": "SOK", "given_name": g, "birth_year": 1990} for g in distinct])
    )
    _l, _r, stats = candidate_pairs(block_keys(many), max_block=10)
    assert stats.skipped_blocks["name_token_year"] == 1


def test_a_large_name_and_year_block_is_split_by_province_a_small_one_is_not() -> None:
    from dataclasses import replace

    from linkage.match.blocking import REFINE_ABOVE
    from linkage.match.spec import default_spec

    def men(n: int, first: str = "D") -> list[dict]:
        # one surname, one birth year, one given initial: a single name_token_year block
        rows = []
        for i in range(n):
            province = ("01", "02", None)[i % 3]  # two provinces, and some lists without one
            rows.append(
                {
                    "family_name": "SOK",
                    "given_name": f"{first}A{i:03d}",
                    "birth_year": 1990,
                    "province_code": province,
                }
            )
        return rows

    small = men(REFINE_ABOVE)
    left, right, stats = candidate_pairs(
        block_keys(build_frame(records(*small))), passes=("name_token_year",)
    )
    assert len(left) == REFINE_ABOVE * (REFINE_ABOVE - 1) // 2 and stats.refined_away == 0

    big = men(REFINE_ABOVE + 10)
    frame = build_frame(records(*big))
    left, right, stats = candidate_pairs(block_keys(frame), passes=("name_token_year",))
    province = frame["province"].fillna("none").to_numpy()
    assert all(province[a] == province[b] for a, b in zip(left, right, strict=True))  # one province meets
    parts = pd.Series(province).value_counts(dropna=False).to_numpy()
    assert len(left) == sum(k * (k - 1) // 2 for k in parts)
    spec = default_spec()
    unsplit = replace(spec, passes={n: replace(p, split_by=None) for n, p in spec.passes.items()})
    _l, _r, whole = candidate_pairs(block_keys(frame), passes=("name_token_year",), spec=unsplit)
    made = stats.pairs_by_pass["name_token_year"]
    assert stats.refined_away == whole.pairs_by_pass["name_token_year"] - made > 0
    n = len(big)

    # a delivery linked against the store meets the same men as a full run does
    is_new = np.zeros(n, dtype=bool)
    is_new[-5:] = True
    nl, nr, _ = candidate_pairs(block_keys(frame), is_new, passes=("name_token_year",))
    full = {(a, b) for a, b in zip(left.tolist(), right.tolist(), strict=True) if is_new[a] or is_new[b]}
    assert set(zip(nl.tolist(), nr.tolist(), strict=True)) == full


def test_both_names_misspelt_still_meet_through_birth_date_and_district() -> None:
    born = {"birth_date": dt.date(1988, 4, 2), "birth_year": 1988, "birth_precision": "day"}
    rows = [
        {"family_name": "CHHORN", "given_name": "VISAL", "district_code": "0314", **born},
        {"family_name": "JORN", "given_name": "WEASAL", "district_code": "0314", **born},
        {"family_name": "JORN", "given_name": "WEASAL", "district_code": "0909", **born},  # elsewhere
    ]
    left, right, stats = candidate_pairs(block_keys(build_frame(records(*rows))))
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1), (1, 2)]
    assert stats.pairs_by_pass["birth_date_place"] == 1


def test_a_mistyped_district_meets_through_the_commune_a_replaced_name_through_the_birth_date() -> None:
    """Lists that type district and commune apart (FEBRL's postcode and suburb) mistype one."""
    born = {"birth_date": dt.date(1987, 8, 15), "birth_year": 1987, "birth_precision": "day"}
    rows = [
        {"family_name": "MATTHEWS", "given_name": "JEREMY", "district_code": "3030", "commune_code": "CECIL"},
        {"family_name": "MATTHEWS", "given_name": "JEREMY", "district_code": "3035", "commune_code": "CECIL"},
        {"family_name": "PENDLE", "given_name": "JAYDEN", "district_code": "2164", **born},
        {"family_name": "PENDLE", "given_name": "BRAEDON", "district_code": "2614", **born},
    ]
    left, right, stats = candidate_pairs(block_keys(build_frame(records(*rows))))
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1), (2, 3)]
    assert stats.pairs_by_pass["name_token_commune"] >= 1
    assert stats.pairs_by_pass["birth_date_name"] >= 1


def test_common_surnames_weigh_less_than_rare_ones() -> None:
    rows = [{"family_name": "SOK", "given_name": f"G{i}"} for i in range(40)]
    rows += [{"family_name": "YOEUNG", "given_name": "DARA"}, {"family_name": "YOEUNG", "given_name": "DARA"}]
    rows += [{"family_name": "SOK", "given_name": "DARA"}]
    frame = build_frame(records(*rows))
    model = MatchModel(u={f: np.full(len(v), 1 / len(v)) for f, v in LEVELS.items()})
    model.fit_tf(frame)
    n = len(frame)
    lv = compare(frame, np.array([n - 3, 0]), np.array([n - 2, n - 1]))
    w = model.feature_weights(lv, frame)["family_name"].to_numpy()
    assert w[0] > w[1] + 2  # YOEUNG agreeing beats SOK agreeing by over 2 bits


@pytest.mark.parametrize("reversed_first", [False, True])
def test_a_swapped_name_order_weighs_its_names_as_written_order_does(reversed_first: bool) -> None:
    """Rare or common, a name is as rare when one list wrote it first, whichever side of the
    pair that list is on. With the reversed record on the left, its "family name" is his
    given name: read as it stands, SOK would be looked up as a given name (rare) and the
    pair gain bits for agreeing on Sok; the likelier reading of the names decides."""
    rows = [{"family_name": "SOK", "given_name": f"G{i}"} for i in range(40)]
    pair = [{"family_name": "SOK", "given_name": "VEASNA"}, {"family_name": "VEASNA", "given_name": "SOK"}]
    rows += [pair[1]] if reversed_first else []
    rows += [pair[0], pair[0]]
    rows += [] if reversed_first else [pair[1]]
    frame = build_frame(records(*rows))
    model = MatchModel(u={f: np.full(len(v), 1 / len(v)) for f, v in LEVELS.items()})
    model.fit_tf(frame)
    n = len(frame)
    # one pair as written (the two SOK VEASNA), one swapped (with VEASNA SOK)
    if reversed_first:  # VEASNA SOK, SOK VEASNA, SOK VEASNA
        written, swapped = (n - 2, n - 1), (n - 3, n - 2)
    else:  # SOK VEASNA, SOK VEASNA, VEASNA SOK
        written, swapped = (n - 3, n - 2), (n - 3, n - 1)
    lv = compare(frame, np.array([written[0], swapped[0]]), np.array([written[1], swapped[1]]))
    assert lv["swapped"].tolist() == [False, True]
    w = model.feature_weights(lv, frame)
    assert w["family_name"].iloc[0] == pytest.approx(w["family_name"].iloc[1])
    assert w["given_name"].iloc[0] == pytest.approx(w["given_name"].iloc[1])
    assert w["family_name"].iloc[1] < w["given_name"].iloc[1]  # Sok is common, Veasna is not


def test_clustering_refuses_to_chain_and_honours_decisions() -> None:
    # 0-1 strong, 1-2 strong, but 0-2 compared and clearly different: no chain.
    left, right = np.array([0, 1, 0]), np.array([1, 2, 2])
    prob = np.array([0.9999, 0.9995, 0.01])
    out = cluster(3, left, right, prob, 0.999, 30)
    assert out.labels[0] == out.labels[1] != out.labels[2]
    assert out.refused
    # a reviewer's "different" blocks a strong link; "same" joins without any score
    out = cluster(
        3, np.array([0]), np.array([1]), np.array([0.99999]), 0.999, 30, different=[(0, 1)], same=[(1, 2)]
    )
    assert out.labels[0] != out.labels[1] and out.labels[1] == out.labels[2]
    # size cap
    left, right = np.arange(0, 9), np.arange(1, 10)
    out = cluster(10, left, right, np.full(9, 0.99999), 0.999, 4)
    assert np.bincount(out.labels).max() <= 4


def test_two_rows_of_one_list_for_one_return_stay_two_men() -> None:
    """Two namesakes of one batch (rows 0 and 1 of one list, likelier two men than one) and
    two referral records without a birth date (2, 3) that link strongly to both: by the
    majority of compared pairs all four are one person; one list for one return says two."""
    left, right = np.array([0, 0, 2, 1, 1, 0]), np.array([2, 3, 3, 2, 3, 1])
    prob = np.array([0.9999, 0.9998, 0.9997, 0.9995, 0.9994, 0.2])
    chained = cluster(4, left, right, prob, 0.999, 30)
    assert len(set(chained.labels.tolist())) == 1  # what the majority alone allows
    one_list = np.array([False] * 5 + [True])
    out = cluster(4, left, right, prob, 0.999, 30, one_list=one_list)
    assert out.labels[0] == out.labels[2] == out.labels[3] != out.labels[1]
    assert {why for *_, why in out.refused} == {ONE_LIST}  # what the reviewer is told
    # the same pair from two lists is left to the majority
    assert len(set(cluster(4, left, right, prob, 0.999, 30, one_list=~one_list).labels.tolist())) == 1


def test_two_rows_of_one_list_join_only_on_their_own_evidence() -> None:
    """One IOM list's rows for two returns (a second return, or a namesake) and the
    ministry's row that links to both: the two IOM rows join only if their own pair reaches
    `one_list_at_least`, however strongly the third record links to each."""
    from linkage.match.compare import of_one_list

    man = {"family_name": "SOK", "given_name": "DARA", "birth_year": 1990, "delivery_sha256": "iom-list"}
    lv = levels_of(
        {**man, "return_date": dt.date(2019, 3, 1)},
        {**man, "return_date": dt.date(2023, 6, 1)},
        {**man, "delivery_sha256": "mosvy-list", "source": "mosvy", "return_date": dt.date(2023, 6, 3)},
    )
    assert of_one_list(lv).tolist() == [True, False, False]  # pairs (0, 1), (0, 2), (1, 2)
    left, right = np.array([0, 0, 1]), np.array([1, 2, 2])
    for own, together in ((0.9, False), (0.995, True)):
        prob = np.array([own, 0.99999, 0.99999])
        out = cluster(3, left, right, prob, 0.9999, 30, one_list=of_one_list(lv))
        assert bool(out.labels[0] == out.labels[1]) is together
        assert together or {why for *_, why in out.refused} == {ONE_LIST}


def _two_namesakes_on_two_lists(w_12: float, w_03: float = 20.5) -> tuple[np.ndarray, ...]:
    """Rows 0 and 1: one list's two namesakes of one batch; 2 and 3: the ministry's two rows
    for that return; 4: an NGO row that links to 0 (his phone). Pairs sorted, weights in bits."""
    w = {(0, 1): -5.0, (0, 2): 22.9, (0, 3): w_03, (0, 4): 21.5, (1, 2): w_12, (1, 3): 21.3, (1, 4): 17.1,
         (2, 3): -20.0, (2, 4): 19.0, (3, 4): 7.8}  # fmt: skip
    left, right = (np.array(side) for side in zip(*w, strict=True))
    weight = np.array(list(w.values()))
    prob = 2.0**weight / (1 + 2.0**weight)
    one_list = np.isin(np.arange(len(w)), [0, 7])  # (0, 1) and (2, 3)
    return left, right, prob, weight, one_list


def test_two_namesakes_on_two_lists_are_paired_as_a_whole_when_one_pairing_clearly_wins() -> None:
    """Record by record, 0 fits 2 barely better than 3, and 3 fits 1 barely better than 0,
    so both looked ambiguous, were left alone, and 1 (the weaker fit) took 2's person. As
    swaps, 0-2 with 1-3 beats 0-3 with 1-2 by 6.3 bits: the persons are {0, 2, 4}, {1, 3}."""
    left, right, prob, weight, one_list = _two_namesakes_on_two_lists(17.4)
    out = cluster(5, left, right, prob, 0.99997, 30, weight=weight, one_list=one_list).labels
    assert out[0] == out[2] == out[4] and out[1] == out[3] and out[0] != out[1]
    # when the two pairings are about as likely (0.4 bits), neither namesake is given the person
    left, right, prob, weight, one_list = _two_namesakes_on_two_lists(21.2, w_03=22.6)
    out = cluster(5, left, right, prob, 0.99997, 30, weight=weight, one_list=one_list).labels
    assert out[0] != out[2] and out[0] != out[3]


def _row(rid: int, ret: str | None, other: str | None = None, country: str | None = "TH") -> EventRow:
    parse = lambda s: dt.date.fromisoformat(s) if s else None  # noqa: E731
    return EventRow(rid, parse(ret), country if ret else None, None, parse(other), None)


def test_two_returns_make_two_events_and_an_intake_follows_its_return() -> None:
    rows = [
        _row(1, "2024-03-01"),
        _row(2, "2024-03-04"),  # same return, another list
        _row(3, "2025-06-10"),  # came home again
        _row(4, None, other="2025-07-01"),  # NGO intake after the second return
        _row(5, None, other="2024-04-01"),  # NGO intake after the first
    ]
    groups = group_returns(rows, window_days=45)
    assert [sorted(g.record_ids) for g in groups] == [[1, 2, 5], [3, 4]]
    assert groups[1].return_date == dt.date(2025, 6, 10)


def _intake(rid: int, intake: str) -> EventRow:
    """An NGO row: no return date, its intake date (also the date grouping falls back on)."""
    day = dt.date.fromisoformat(intake)
    return EventRow(rid, None, None, None, day, None, intake_date=day)


def test_an_intake_long_before_all_his_returns_is_a_return_of_its_own() -> None:
    """An NGO took him on in 2021 (an earlier return no other list wrote): that referral does
    not follow his 2023 return. An intake three weeks before a return registered late, or
    three days before a second return, follows that return."""
    rows = [
        _intake(1, "2021-05-01"),
        _intake(2, "2021-08-20"),  # a second NGO's intake of that earlier return
        _row(3, "2023-02-01"),
        _intake(4, "2023-01-11"),  # 21 days before: a return registered late
        _row(5, "2024-06-10"),
        _intake(6, "2024-06-07"),  # 3 days before the second return
    ]
    groups = group_returns(rows, window_days=45, follows_days=365)
    assert [sorted(g.record_ids) for g in groups] == [[1, 2], [3, 4], [5, 6]]
    assert groups[0].return_date is None  # known only from intakes
    # a load date says nothing of the return: such a row joins the latest return before it
    fallback = [EventRow(r.record_id, r.return_date, r.country, None, r.other_date, None) for r in rows]
    assert [sorted(g.record_ids) for g in group_returns(fallback, 45, 365)] == [[1, 2, 3, 4, 6], [5]]


def test_an_intake_long_after_his_last_return_follows_a_later_one() -> None:
    """An intake 20 months after his return follows a return no list dated, over
    follows_days; with 0 it follows however late. Intakes on either side of a dated return
    are never one return."""
    rows = [_intake(1, "2019-01-05"), _row(2, "2020-03-01"), _intake(3, "2020-05-01")]
    rows.append(_intake(4, "2021-11-15"))
    assert [sorted(g.record_ids) for g in group_returns(rows, 45, follows_days=365)] == [[1], [2, 3], [4]]
    assert [sorted(g.record_ids) for g in group_returns(rows, 45, follows_days=0)] == [[1], [2, 3, 4]]
    # ... unless a return registered at most 30 days after it (his second) is the one it follows
    second = [*rows, _intake(5, "2023-04-01"), _row(6, "2023-04-25")]
    assert [sorted(g.record_ids) for g in group_returns(second, 45, 365)] == [[1], [2, 3], [4], [5, 6]]
    only_intakes = [_intake(1, "2019-01-05"), _intake(2, "2019-03-01"), _intake(3, "2021-01-01")]
    assert [sorted(g.record_ids) for g in group_returns(only_intakes, 45, 365)] == [[1, 2], [3]]


def test_a_return_from_another_country_inside_the_window_is_another_event() -> None:
    groups = group_returns([_row(1, "2024-03-01", country="TH"), _row(2, "2024-03-10", country="MY")], 45)
    assert len(groups) == 2


def test_fast_compare_equals_recordlinkage_compute() -> None:
    from linkage.match.compare import compare_with_recordlinkage

    rows = [
        {
            "family_name": "SOK",
            "given_name": "DARA",
            "birth_year": 1990,
            "district_code": "0607",
            "phone": "+1",
        },
        {
            "family_name_kh": "សុខ",
            "given_name_kh": "ដារា",
            "birth_date": dt.date(1990, 3, 1),
            "birth_precision": "day",
            "district_code": "0607",
            "return_date": dt.date(2024, 1, 1),
        },
        {
            "family_name": "DARA",
            "given_name": "SOKH",
            "age": 34,
            "return_date": dt.date(2024, 1, 3),
            "country": "TH",
            "national_id": "123456789",
            "father_name": "ចាន់",
        },
        {"family_name": "KEO", "given_name": "SOVANN RITH", "travel_doc_no": "N123", "phone": "+1"},
    ]
    frame = build_frame(records(*rows))
    left, right = np.triu_indices(len(frame), k=1)
    fast = compare(frame, left.astype(np.int64), right.astype(np.int64))
    slow = compare_with_recordlinkage(frame, left.astype(np.int64), right.astype(np.int64))
    pd.testing.assert_frame_equal(fast[sorted(fast.columns)], slow[sorted(slow.columns)])
    lean = compare(frame, left.astype(np.int64), right.astype(np.int64), pair_index=False)
    assert (lean.index.to_numpy() == left).all()  # indexed by the left positions alone
    pd.testing.assert_frame_equal(lean.reset_index(drop=True), fast.reset_index(drop=True))


def test_blocking_keys_do_not_depend_on_the_other_records() -> None:
    """A record's keys are the same alone and beside a record with blanks: keys are 64-bit
    and a column with a blank once went through float64, rounding every key in it."""
    man = {
        "family_name": "SOK",
        "given_name": "DARA",
        "birth_year": 1990,
        "district_code": "0607",
        "province_code": "06",
        "commune_code": "060701",
        "return_date": dt.date(2025, 3, 1),
    }
    alone = block_keys(build_frame(records(man)))
    beside = block_keys(build_frame(records(man, {"family_name": "KEO"})))
    for column in alone.columns:
        assert (
            alone[column].iloc[0] is pd.NA
            and beside[column].iloc[0] is pd.NA
            or (int(alone[column].iloc[0]) == int(beside[column].iloc[0]))
        ), column


def test_a_blank_district_is_unknown_not_another_district() -> None:
    lv = levels_of(
        {"family_name": "SOK", "given_name": "DARA", "province_code": "06"},
        {"family_name": "SOK", "given_name": "DARA", "province_code": "06", "district_code": "0607"},
        {"family_name": "SOK", "given_name": "DARA", "province_code": "06", "district_code": "0601"},
    )
    pairs = dict(zip(lv.index.tolist(), lv["home"].tolist(), strict=True))
    home = ["home unknown", *HOME_LEVELS]
    assert home[pairs[(0, 1)] + 1] == "same province, a district unknown"
    assert home[pairs[(1, 2)] + 1] == "same province"
    assert pairs[(0, 1)] > pairs[(1, 2)]  # unknown is closer than a stated other district


def test_one_list_for_one_return_is_never_evidence_for_one_man() -> None:
    """However rarely two random rows share a list and a return, such a pair of one name
    is as often two namesakes of a batch: the level's weight is held at 0 bits at most,
    while the other levels keep what EM learned."""
    lists = LEVELS["lists"]
    lv = pd.DataFrame({"lists": np.arange(len(lists)), "swapped": False})
    model = MatchModel()
    model.u["lists"] = np.array([0.002, 0.034, 0.964])  # chance: rare
    model.m["lists"] = np.array([0.030, 0.002, 0.968])  # one man's duplicates: more often
    w = model.feature_weights(lv, features=("lists",))["lists"].to_numpy()
    assert w[lists.index("same list, same return")] == 0.0
    assert w[lists.index("same list")] < -4  # learnt, not held
    assert w[lists.index("different lists")] == pytest.approx(np.log2(0.968 / 0.964))


def test_a_man_with_no_district_meets_himself_with_a_year_off_or_a_later_return() -> None:
    """IOM leaves the district blank; its year from an age is a year or two off; MoSVY
    registers him days later. Both name keys and the province still bring them together."""
    iom = {
        "family_name": "HENG",
        "given_name": "VESAL",
        "province_code": "16",
        "birth_year": 1981,
        "return_date": dt.date(2026, 6, 7),
    }
    ngo = {
        "family_name": "VESAL",
        "given_name": "HENG",
        "province_code": "16",
        "birth_year": 1979,
        "district_code": "1603",
        "source": "ngo-hagar",
    }
    mosvy = {
        "family_name": "HENG",
        "given_name": "VESAL",
        "province_code": "16",
        "district_code": "1603",
        "return_date": dt.date(2026, 6, 16),
        "source": "mosvy",
    }
    keys = block_keys(build_frame(records(iom, ngo, mosvy)))
    left, right, _ = candidate_pairs(keys, passes=("names_province_birth",))
    assert (0, 1) in set(zip(left.tolist(), right.tolist(), strict=True))
    left, right, _ = candidate_pairs(keys, passes=("names_province_return",))
    assert (0, 2) in set(zip(left.tolist(), right.tolist(), strict=True))
    other = block_keys(build_frame(records(iom, {**mosvy, "province_code": "03"})))
    assert len(candidate_pairs(other, passes=("names_province_return",))[0]) == 0


# What two brothers share: family name, father, village and one phone.
BROTHERS_HOME = {
    "family_name": "CHEA",
    "father_name": "KIM",
    "province_code": "06",
    "district_code": "0607",
    "commune_code": "060701",
    "phone": "012345678",
}


def test_the_family_class_keeps_brothers_apart_and_one_man_together() -> None:
    """A model with the family class: brothers (one phone, father, village and return;
    other given names, births five years apart) are not one man; one man spelt two ways is."""
    from linkage.match.model import _default_f

    family = {**BROTHERS_HOME, "return_date": dt.date(2025, 3, 1)}
    frame = build_frame(
        records(
            {**family, "given_name": "SOPHEAP", "birth_year": 1990},
            {**family, "given_name": "VIBOL", "birth_year": 1995, "delivery_sha256": "other"},
            {**family, "given_name": "SOPHIAP", "birth_year": 1991, "delivery_sha256": "third"},
        )
    )
    left, right = np.array([0, 0]), np.array([1, 2])
    lv = compare(frame, left, right)
    u = {f: np.full(len(v), 1.0 / len(v)) for f, v in LEVELS.items()}
    u["family_name"] = np.array([0.9, 0.05, 0.03, 0.015, 0.005])  # chance rarely agrees on all this
    u["phone"] = np.array([0.9998, 0.0001, 0.0001])
    u["father"] = np.array([0.99, 0.005, 0.005])
    m = MatchModel().m  # fitted-like: one man's given name and birth mostly agree
    m["given_name"] = np.array([0.02, 0.01, 0.04, 0.04, 0.01, 0.38, 0.5])
    m["birth"] = np.array([0.01, 0.01, 0.03, 0.02, 0.08, 0.25, 0.4, 0.2])
    f = _default_f()  # brothers' given names hardly ever sound alike
    f["given_name"] = np.array([0.85, 0.05, 0.07, 0.015, 0.005, 0.008, 0.002])
    two = MatchModel(m=m, u=u, prior=0.1)
    three = MatchModel(m=m, u=u, prior=0.1, f=f, prior_family=0.2)
    _, p2 = two.score_levels(lv, frame)
    _, p3 = three.score_levels(lv, frame)
    assert p2[0] > 0.99  # against chance alone, the brothers look like one man
    assert p3[0] < 0.5  # against a family, they do not
    assert level("given_name", lv["given_name"].iloc[1]) == "same sound"
    assert p3[1] > 0.95  # one man spelt two ways stays one man
    assert three.family_odds(lv)[0] > 0 > three.family_odds(lv)[1]


def test_a_person_stays_coherent_when_a_third_record_links_two_brothers() -> None:
    """Two brothers each link strongly to a record without a birth date: without the check
    one 'person' holds both; with it they stay apart and the refusal says why. A reviewer's
    'same', or one ID card, still puts them together."""
    from linkage.match.coherence import WHY, Identity

    family = {"family_name": "CHEA", "district_code": "0607"}
    rows = [
        {**family, "given_name": "SOPHEAP", "birth_year": 1990},
        {**family, "given_name": "VIBOL", "birth_year": 1995},
        {**family, "given_name": "SOPHEAP VIBOL"},  # half of each, no birth: links to both
    ]
    frame = build_frame(records(*rows))
    left, right, prob = np.array([0, 1]), np.array([2, 2]), np.array([0.999999, 0.99999])
    plain = cluster(3, left, right, prob, 0.999, 30)
    assert len(set(plain.labels.tolist())) == 1
    checked = cluster(3, left, right, prob, 0.999, 30, identity=Identity.of(frame))
    assert checked.labels[0] != checked.labels[1]
    assert [why for *_pair, why in checked.refused] == [WHY]
    decided = cluster(3, left, right, prob, 0.999, 30, same=[(0, 1)], identity=Identity.of(frame))
    assert len(set(decided.labels.tolist())) == 1
    rows[0]["national_id"] = rows[1]["national_id"] = "012345678"
    one_id = cluster(3, left, right, prob, 0.999, 30, identity=Identity.of(build_frame(records(*rows))))
    assert len(set(one_id.labels.tolist())) == 1


def test_births_far_apart_keep_two_groups_apart_where_the_lists_say_so() -> None:
    """A father and son of one given name chained through a record with no birth (an NGO
    intake): births 14 years apart are two men whatever the names, on lists whose one man's
    births are never that far apart (EM's weight for the level is a veto); a year typed with
    two digits swapped is not; on lists with dates corrupted at random the check is off."""
    from linkage.match.coherence import WHY_BIRTHS, Identity
    from linkage.match.engine import births_decide
    from linkage.match.spec import default_spec

    man = {"family_name": "SOK", "given_name": "PISETH", "district_code": "0110"}
    rows = [{**man, "birth_year": 1974}, {**man, "birth_year": 1988}, {**man}]
    frame = build_frame(records(*rows))
    left, right, prob = np.array([0, 1]), np.array([2, 2]), np.array([0.999999, 0.99999])
    on = cluster(3, left, right, prob, 0.999, 30, identity=Identity.of(frame, births_alone=True))
    assert on.labels[0] != on.labels[1] and [why for *_pair, why in on.refused] == [WHY_BIRTHS]
    off = cluster(3, left, right, prob, 0.999, 30, identity=Identity.of(frame, births_alone=False))
    assert len(set(off.labels.tolist())) == 1
    rows[0]["birth_year"] = 1978  # 1987 typed 1978
    rows[1]["birth_year"] = 1987
    typed = Identity.of(build_frame(records(*rows)), births_alone=True)
    assert typed.two_men(0, 1) is None

    spec, far = default_spec(), LEVELS["birth"].index("over 5 years apart")
    model = MatchModel()
    model.u["birth"] = np.full(len(LEVELS["birth"]), 1 / len(LEVELS["birth"]))
    model.m["birth"] = np.r_[1e-8, np.full(len(LEVELS["birth"]) - 1, (1 - 1e-8) / (len(LEVELS["birth"]) - 1))]
    assert births_decide(model, spec)  # one man's births never that far apart: -24 bits
    model.m["birth"][far] = 0.06  # FEBRL's corrupted dates: -4 bits
    assert not births_decide(model, spec)


def test_one_lists_two_rows_for_one_return_with_other_given_names_are_two_men() -> None:
    """Twins on IOM's list for one return, each linking strongly to the other's ministry
    row: one list naming one man twice copies his name, so two given names that do not
    sound alike there keep the two apart, even as a link of its own; a copy with his name
    as written, or the same ID, does not."""
    from linkage.match.compare import one_list_one_return, one_list_other_names

    twin = {"family_name": "HENG", "birth_date": dt.date(1989, 7, 31), "return_date": dt.date(2021, 4, 24)}
    iom = {"delivery_sha256": "iom-list", "source": "iom"}
    rows = [
        {**twin, **iom, "given_name": "VICHET"},
        {**twin, **iom, "given_name": "VICHHEA"},
        {**twin, **iom, "given_name": "VICHET"},  # the first row copied
    ]
    lv = levels_of(*rows)
    apart = dict(zip(lv.index.tolist(), one_list_other_names(lv).tolist(), strict=True))
    assert one_list_one_return(lv).all()
    assert apart[(0, 1)] and apart[(1, 2)] and not apart[(0, 2)]
    one_id = levels_of(*[{**r, "national_id": "N0123"} for r in rows])
    assert not one_list_other_names(one_id).any()

    left, right = np.array([0, 0, 1]), np.array([1, 2, 2])
    prob = np.full(3, 0.999999)
    flags = one_list_other_names(lv)
    kept = cluster(3, left, right, prob, 0.999, 30, one_list=one_list_one_return(lv), one_list_apart=flags)
    assert kept.labels[0] == kept.labels[2] != kept.labels[1]
    assert {why for *_pair, why in kept.refused} == {ONE_LIST}
    plain = cluster(3, left, right, prob, 0.999, 30, one_list=one_list_one_return(lv))
    assert len(set(plain.labels.tolist())) == 1


def test_one_lists_two_rows_for_one_return_weigh_their_home_alone() -> None:
    """Two rows of one list for one return share the return because the list was made
    that way: their context keeps the home and leaves the return unknown; the same rows on
    two lists (or one list for two returns) keep both parts."""
    from linkage.match.compare import RETURN_LEVELS

    man = {"family_name": "HENG", "given_name": "VICHET", "province_code": "19", "district_code": "1902"}
    back = dt.date(2021, 4, 24)
    lv = levels_of(
        {**man, "delivery_sha256": "iom-list", "return_date": back},
        {**man, "delivery_sha256": "iom-list", "return_date": back},
        {**man, "delivery_sha256": "mosvy-list", "source": "mosvy", "return_date": back},
        {**man, "delivery_sha256": "iom-list", "return_date": dt.date(2024, 9, 2)},
    )
    context = dict(zip(lv.index.tolist(), (level("context", v) for v in lv["context"]), strict=True))
    assert level("lists", lv["lists"].loc[(0, 1)]) == "same list, same return"
    assert context[(0, 1)] == "home: same district; return unknown"
    assert context[(0, 2)] == "home: same district; return: same return"
    assert context[(0, 3)].startswith("home: same district; return: other return")
    assert RETURN_LEVELS[lv["return"].loc[(0, 1)]] == "same return"  # the level itself is kept


def test_a_pair_a_brother_explains_better_says_so_in_words() -> None:
    from linkage.match.linker import explanation

    family = BROTHERS_HOME
    lv = levels_of(
        {**family, "given_name": "SOPHEAP", "birth_year": 1990},
        {**family, "given_name": "VIBOL", "birth_year": 1995},
    )
    row = {f: int(lv[f].iloc[0]) for f in LEVELS}
    words = explanation(row, dict.fromkeys(LEVELS, 0.0), False, family_bits=3.0)["summary"]
    assert words.startswith("same family, likely another man: shares family name")
    assert "phone" in words and "home" in words
    assert "given names differ" in words and "births differ" in words
    assert "summary" not in explanation(row, dict.fromkeys(LEVELS, 0.0), False, family_bits=-3.0)


def test_the_model_spec_refuses_what_it_cannot_run() -> None:
    import copy

    import yaml

    from linkage.match.spec import SPEC_FILE, SpecError, parse_spec

    raw = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    spec = parse_spec(raw)
    assert "names_province_birth" in spec.passes and spec.passes["name_token_year"].split_by == "province"

    def broken(change) -> str:
        bad = copy.deepcopy(raw)
        change(bad)
        with pytest.raises(SpecError) as e:
            parse_spec(bad)
        return str(e.value)

    passes = lambda r: r["blocking"]["passes"]  # noqa: E731
    unknown_part = broken(lambda r: passes(r)["phone"].update(keys={"k_phone": ["surname"]}))
    assert "unknown parts ['surname']" in unknown_part
    assert "split_by" in broken(lambda r: passes(r)["phone"].update(split_by="village"))
    probes = lambda r: r["blocking"]["probe_passes"]  # noqa: E731
    assert spec.passes["names_birth_home_unsure"].max_block == 12
    assert "max_block must be at least 2" in broken(
        lambda r: probes(r)["names_birth_home_unsure"].update(max_block=1)
    )
    assert "unknown passes ['by_name']" in broken(
        lambda r: r["training"]["name_session"].update(passes=["by_name"])
    )
    assert "two blocking keys share a name" in broken(
        lambda r: passes(r)["phone"].update(keys={"k_id": ["phone"]})
    )
    assert "missing or malformed" in broken(lambda r: r.pop("cluster"))
    assert "no_evidence_for names no level" in broken(
        lambda r: r["features"]["lists"].update(no_evidence_for=["same batch"])
    )
    assert "cluster.one_list_at_least must lie strictly between 0 and 1" in broken(
        lambda r: r["cluster"].update(one_list_at_least=1.5)
    )
    assert "return_unknown_when names no level" in broken(
        lambda r: r["features"]["context"].update(return_unknown_when={"lists": ["same batch"]})
    )
    # a new pass is data: its keys are made and it proposes pairs, with no code change
    extra = copy.deepcopy(raw)
    passes(extra)["phone_year"] = {"keys": {"k_phone_year": ["phone", "year"]}}
    with_extra = parse_spec(extra)
    one_phone = {"birth_year": 1990, "phone": "012345678"}
    frame = build_frame(
        records(
            {"family_name": "SOK", "given_name": "DARA", **one_phone},
            {"family_name": "KEO", "given_name": "VISAL", **one_phone},
        )
    )
    keys = block_keys(frame, with_extra)
    assert keys["k_phone_year"].notna().all()
    _l, _r, stats = candidate_pairs(keys, passes=("phone_year",), spec=with_extra)
    assert stats.pairs_by_pass == {"phone_year": 1}


def test_a_district_that_moved_to_a_new_province_is_one_home_with_the_old_province() -> None:
    """Tboung Khmum was made from Kampong Cham in 2013; lists still say Kampong Cham."""
    from linkage.normalise.places import resolve_place

    moved = resolve_place("Kampong Cham", "Memot")
    assert moved.province_code == "25" and moved.district_code and moved.district_code.startswith("25")
    assert resolve_place("Kampong Cham", "Kampong Siem").province_code == "03"  # still Kampong Cham
    lv = levels_of(
        {"family_name": "EK", "given_name": "VIREAK", "province_code": "03"},  # old province, no district
        {"family_name": "EK", "given_name": "VIREAK", "province_code": "25", "district_code": "2503"},
        {"family_name": "EK", "given_name": "VIREAK", "province_code": "04", "district_code": "0401"},
    )
    homes = [level("context", v).split("; ")[0] for v in lv["context"]]
    assert homes[0] == "home: same province, a district unknown"  # 03 and 25 were one province
    assert homes[1] == "home: other province" and homes[2] == "home: other province"
    # and they meet in the passes that need no district
    frame = build_frame(records(
        {"family_name": "EK", "given_name": "VIREAK", "province_code": "03", "birth_year": 1990},
        {"family_name": "EK", "given_name": "VIREAK", "province_code": "25", "birth_year": 1991},
    ))  # fmt: skip
    left, _r, _stats = candidate_pairs(block_keys(frame), passes=("names_province_birth",))
    assert len(left) == 1


def test_a_case_files_current_address_elsewhere_is_its_own_level_not_another_home() -> None:
    """NGO case files keep where a man lives now (sources' `address: current`): in another
    district it is "lives elsewhere now" (a man who moved, or another man: EM weighs it),
    not "other province" (another man's home), and where it agrees it counts as home."""
    home = {"family_name": "MEAS", "given_name": "RATHA", "province_code": "02", "district_code": "0207"}
    lv = levels_of(
        home,
        {**home, "source": "ngo-hagar", "province_code": "20", "district_code": "2001"},  # moved
        {**home, "source": "ngo-hagar"},  # lives where he comes from
        {**home, "province_code": "20", "district_code": "2001"},  # a return list: another home
    )
    homes = [level("context", v).split("; ")[0] for v in lv["context"]]
    # pairs in order (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
    assert homes[0] == "home: lives elsewhere now" and homes[1] == "home: same district"
    assert homes[2] == "home: other province"


def test_the_engine_links_records_that_no_pass_pairs() -> None:
    """Two records with nothing in common: no candidate pair, each his own person."""
    from linkage.match import engine
    from linkage.match.spec import default_spec

    done = engine.link_records(
        records({"family_name": "SOK", "given_name": "DARA"}, {"family_name": "KEO", "given_name": "VISAL"}),
        default_spec(),
    )
    assert len(done.candidates) == 0 and len(set(done.labels.tolist())) == 2


def test_returns_compare_by_how_far_apart_they_are() -> None:
    man = {"family_name": "SOK", "given_name": "DARA", "district_code": "0607", "country": "TH"}
    lv = levels_of(
        {**man, "return_date": dt.date(2025, 3, 1)},
        {**man, "return_date": dt.date(2025, 3, 4)},  # the border and the province, 3 days apart
        {**man, "return_date": dt.date(2025, 3, 12)},  # registered 11 days later
        {**man, "return_date": dt.date(2025, 8, 1)},  # five months later: rarely one man again
        {**man, "return_date": dt.date(2028, 1, 1)},  # years later: trafficked again
        {**man, "return_date": None},  # no date: unknown, whatever the country says
    )
    got = [level("context", v).split("; ")[1] for v in lv["context"].iloc[:5]]
    assert got == [
        "return: same return",
        "return: within a month",
        "return: other return, months apart",
        "return: other return, years apart",
        "return unknown",
    ]


@pytest.mark.parametrize(("one", "both"), [("SOKHA", "SOKHA SOPHAL"), ("SOPHAL", "SOKHA SOPHAL")])
def test_one_of_two_given_names_alone_is_his_name(one: str, both: str) -> None:
    names = (one, both, "SOKHA", "DARA")
    lv = levels_of(*({"family_name": "CHHIM", "given_name": g} for g in names))
    assert level("given_name", lv["given_name"].iloc[0]) == "same sound"
    assert level("given_name", lv["given_name"].iloc[4]) in ("different", "similar")  # SOKHA SOPHAL, DARA


def test_a_family_class_whose_pairs_share_birth_dates_is_one_man_renamed() -> None:
    """FEBRL 4 has no brothers: EM's third class there held one man's pairs whose given name
    was retyped (same birth date), and kept as "brothers" it hid 8% of the true links."""
    from linkage.match.model import _default_f

    m = MatchModel().m
    f = _default_f()
    f["family_name"] = np.array([0.02, 0.02, 0.02, 0.04, 0.9])
    f["given_name"] = np.array([0.9, 0.05, 0.02, 0.005, 0.005, 0.01, 0.01])
    m["given_name"] = np.array([0.02, 0.01, 0.04, 0.04, 0.01, 0.38, 0.5])
    f["birth"] = np.array([0.3, 0.3, 0.1, 0.01, 0.2, 0.05, 0.03, 0.01])  # brothers: years apart
    assert MatchModel(m=m, f=dict(f), prior=0.1, prior_family=0.05).family_is_a_family()
    f["birth"] = m["birth"].copy()  # born on one day as often as one man is
    assert not MatchModel(m=m, f=dict(f), prior=0.1, prior_family=0.05).family_is_a_family()


@pytest.mark.parametrize(
    ("typed", "slip"),
    [
        ("KOE", True),  # two neighbours swapped
        ("KWO", True),  # W is beside E
        ("KEOO", True),  # a key pressed twice
        ("KEM", False),  # M is nowhere near O: another name, or another slip
        ("KE", False),  # too short to tell
    ],
)
def test_a_typing_slip_in_a_name_is_the_same_name(typed: str, slip: bool) -> None:
    from linkage.match.compare import _typing_slip

    assert _typing_slip("KEO", typed) is slip
    man = {"given_name": "SOPHEAP", "birth_year": 1990, "district_code": "0607"}
    lv = levels_of({**man, "family_name": "KEO"}, {**man, "family_name": typed})
    if slip:
        assert level("family_name", lv["family_name"].iloc[0]) in ("same sound", "same spelling")


def test_a_typing_slip_in_a_given_name_lifts_it_to_the_same_sound() -> None:
    man = {"family_name": "HONG", "birth_year": 1990, "district_code": "0607"}
    lv = levels_of(
        {**man, "given_name": "DARA"}, {**man, "given_name": "DARQ"}, {**man, "given_name": "DARY"}
    )
    assert level("given_name", lv["given_name"].iloc[0]) == "same sound"  # Q is beside A
    assert level("given_name", lv["given_name"].iloc[1]) != "same sound"  # Dary is another name


def test_a_home_that_is_only_where_he_crossed_is_unknown_where_it_differs() -> None:
    """IOM's desk at Poipet wrote Banteay Meanchey (01) for a man from Prey Veng (14): a
    province alone that is his point of entry's is no evidence either way."""
    man = {"family_name": "CHEA", "given_name": "SOKLY", "birth_year": 1990, "point_of_entry": "POIPET"}
    rows = (
        {**man, "province_code": "01"},  # the entry point's province, no district
        {**man, "province_code": "14", "district_code": "1404"},  # his home
        {**man, "province_code": "01", "district_code": "0102"},  # a man of Banteay Meanchey
        {**man, "province_code": "12", "point_of_entry": "PNH_AIRPORT"},  # Phnom Penh, no district
    )
    lv = levels_of(*rows)
    # pairs in order: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
    home = [level("context", v).split("; ")[0] for v in lv["context"]]
    assert home[0] == "home unknown"  # 01 by the desk against 14: unknown
    assert home[1] == "home unknown"  # nor for: the desk writes 01 for everyone at Poipet
    assert home[4] == "home unknown"  # Phnom Penh's airport: the desk wrote 12
    assert home[3] == "home: other province"  # two stated homes that differ still differ


def test_a_one_syllable_given_name_against_another_is_maybe_his_house_name() -> None:
    """Pov (the youngest), Khmao (dark): a list may write the name a man is called at home.
    Against his formal name that is "a house name", its own level; two formal names that
    differ stay "different", and so do two one-syllable names."""
    man = {"family_name": "BUN", "birth_year": 1990, "district_code": "0607"}
    lv = levels_of(*({**man, "given_name": g} for g in ("KHMAO", "SOPHAL", "VISAL", "POV")))
    # pairs in order: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
    got = [level("given_name", v) for v in lv["given_name"]]
    assert got[0] == got[1] == got[4] == got[5] == "a house name"
    assert got[2] == "different"  # Khmao, Pov: two house names (or two brothers')
    assert got[3] in ("different", "similar")  # Sophal, Visal: two formal names


def test_a_house_name_probes_his_family_name_in_the_province_and_year() -> None:
    """No name pass pairs Mom with Vichea (other initials); the house-name pass does, and
    only for a record whose given name is of one syllable."""
    from linkage.match.blocking import block_keys, candidate_pairs
    from linkage.match.frame import build_frame

    man = {"family_name": "KHIEV", "birth_year": 1979, "province_code": "01"}
    frame = build_frame(records({**man, "given_name": "MOM"}, {**man, "given_name": "VICHEA"},
                                {**man, "given_name": "SOPHAL"}))
    left, right, stats = candidate_pairs(block_keys(frame), passes=("house_name_year",))
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1), (0, 2)]


def test_villages_compare_only_inside_one_commune() -> None:
    """Namesakes of one commune are most often of two villages: the village says so, but
    only where both records name one commune, and not against a case file's current
    address (a man who moved is no other man)."""
    man = {"family_name": "LIM", "given_name": "DARA", "birth_year": 1998, "province_code": "18",
           "district_code": "1806", "commune_code": "180602"}
    lv = levels_of(
        {**man, "village_code": "18060201"},
        {**man, "village_code": "18060201"},  # same village
        {**man, "village_code": "18060203"},  # another village of the commune
        {**man, "commune_code": "180605", "village_code": "18060501"},  # another commune
        {**man, "village_code": None},  # no village
        {**man, "village_code": "18060204", "source": "ngo-hagar"},  # where he lives now
    )
    pairs = [(a, b) for a in range(6) for b in range(a + 1, 6)]
    got = {p: level("village", v) for p, v in zip(pairs, lv["village"], strict=True)}
    assert got[(0, 1)] == "same village"
    assert got[(0, 2)] == "other village of the commune"
    assert got[(0, 3)] == got[(0, 4)] == "missing"
    assert got[(0, 5)] == "missing"


def test_the_chance_of_one_village_counts_pairs_inside_each_commune() -> None:
    """u of the village: of the pairs of records in one commune, the share in one village
    (random pairs almost never share a commune, so they cannot measure it)."""
    from linkage.match.compare import village_chance

    # commune 010101: villages 01, 01, 02 -> 6 ordered pairs, 2 in one village;
    # commune 010102: villages 01, 01 -> 2 ordered pairs, 2 in one village
    frame = pd.DataFrame({"village": ["01010101", "01010101", "01010102", "01010201", "01010201", None]})
    frame["village_commune"] = frame["village"].str[:6]  # as build_frame derives it
    assert village_chance(frame) == pytest.approx([1 - 4 / 8, 4 / 8])


def _mutual(
    total: list[float], initial: list[int] | None = None, returns: int = 5, given: int | None = None
) -> list[bool]:
    """The one-to-one rule on four records: 0 and 1 on IOM's list, 2 and 3 on the ministry's;
    pairs (0,2) (0,3) (1,2) (1,3) (0,1) with these weights."""
    from linkage.match.mutual import mutual_best
    from linkage.match.spec import default_spec

    left, right = np.array([0, 0, 1, 1, 0]), np.array([2, 3, 2, 3, 1])
    lists = np.array([0, 0, 1, 1])
    chosen = mutual_best(
        left, right, np.array(total, dtype=float), lists, np.full(5, returns),
        default_spec().cluster.mutual_best, 14.0, None if initial is None else np.array(initial),
        None if given is None else np.full(5, given),
    )  # fmt: skip
    return chosen.tolist()


def test_two_lists_that_name_each_other_first_by_a_margin_link() -> None:
    """IOM's 0 ranks the ministry's 2 first (11 bits against 5), and 2 ranks 0 first (against
    6): one man on two lists for one return, linked below the link threshold."""
    assert _mutual([11, 5, 6, 3, 12]) == [True, False, False, False, False]


def test_no_one_to_one_link_without_a_margin_a_return_or_the_bits() -> None:
    assert _mutual([11, 9, 6, 3, 0]) == [False] * 5  # 0's second is 2 bits behind: a namesake?
    assert _mutual([11, 5, 9, 3, 0]) == [False] * 5  # 2's second is 2 bits behind
    assert _mutual([9, 3, 2, 1, 0]) == [False] * 5  # too little said for the pair itself
    assert _mutual([11, 5, 6, 3, 0], returns=0) == [False] * 5  # returns from other countries
    assert _mutual([15, 5, 6, 3, 0]) == [False] * 5  # links anyway: nothing to lift


def test_given_names_that_differ_outright_are_not_linked_one_to_one() -> None:
    """Twins on two lists, each the other list's only candidate: the lists' shape says "one
    man" only where the given names could be one man's (a house name counts)."""
    from linkage.match.compare import LEVELS

    assert _mutual([11, 5, 6, 3, 12], given=LEVELS["given_name"].index("different")) == [False] * 5
    house = LEVELS["given_name"].index("a house name")
    assert _mutual([11, 5, 6, 3, 12], given=house) == [True, False, False, False, False]


def test_a_stored_person_that_holds_the_list_already_is_not_linked_one_to_one() -> None:
    """Record 2 is stored in a person who already has a record of IOM's list (record 1)."""
    assert _mutual([11, 5, 6, 3, 0], initial=[-1, 0, 0, -1]) == [False] * 5
    assert _mutual([11, 5, 6, 3, 0], initial=[-1, -1, 0, -1]) == [True, False, False, False, False]


def test_a_family_class_stays_when_lists_write_house_names() -> None:
    """Lists that write a man's house name on one row in ten make one man's given names
    differ (at the house-name level) on a pair in six: that is no reason to drop brothers'
    class (it was, and brothers sharing a phone merged: precision 0.99 to 0.94)."""
    from linkage.match.model import _default_f

    m = MatchModel().m
    f = _default_f()
    f["family_name"] = np.array([0.02, 0.02, 0.02, 0.04, 0.9])
    f["given_name"] = np.array([0.85, 0.05, 0.05, 0.02, 0.01, 0.01, 0.01])
    f["birth"] = np.array([0.3, 0.3, 0.1, 0.01, 0.2, 0.05, 0.03, 0.01])
    m["given_name"] = np.array([0.02, 0.16, 0.02, 0.04, 0.01, 0.35, 0.4])
    assert MatchModel(m=m, f=f, prior=0.1, prior_family=0.05).family_is_a_family()
    m["given_name"] = np.array([0.16, 0.02, 0.02, 0.04, 0.01, 0.35, 0.4])  # wholly other names: no
    assert not MatchModel(m=m, f=f, prior=0.1, prior_family=0.05).family_is_a_family()


def test_a_house_name_with_no_birth_year_probes_his_family_name_in_the_district() -> None:
    """An NGO intake wrote KHMAO and no birth date: it meets the Ouch of his district."""
    from linkage.match.blocking import block_keys, candidate_pairs
    from linkage.match.frame import build_frame

    man = {"family_name": "OUCH", "province_code": "15", "district_code": "1506"}
    frame = build_frame(
        records(
            {**man, "given_name": "KHMAO"},
            {**man, "given_name": "VATTANA", "birth_year": 1975},
            {**man, "given_name": "SOPHAL", "district_code": "1501", "birth_year": 1975},
        )
    )
    left, right, _stats = candidate_pairs(block_keys(frame), passes=("house_name_district",))
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1)]


def test_a_house_name_meets_his_formal_name_on_a_return_days_apart_with_no_district() -> None:
    """IOM wrote TOUCH (his house name), an age two years off and no district; MoSVY his
    formal name, its district and a return eleven days later. The family name, the province
    and the return bring them together; a later return, another province or a formal
    given name on both sides does not come through this pass."""
    from linkage.match.blocking import block_keys, candidate_pairs
    from linkage.match.frame import build_frame

    iom = {"family_name": "KHUN", "given_name": "TOUCH", "province_code": "15", "birth_year": 1992,
           "return_date": dt.date(2026, 2, 21)}  # fmt: skip
    mosvy = {"family_name": "KHUN", "given_name": "PANHA", "province_code": "15", "district_code": "1502",
             "birth_year": 1994, "return_date": dt.date(2026, 3, 4), "source": "mosvy"}  # fmt: skip
    frame = build_frame(
        records(
            iom,
            mosvy,
            {**mosvy, "return_date": dt.date(2026, 5, 2)},
            {**mosvy, "province_code": "14", "district_code": "1402"},
            {**iom, "given_name": "SAMBATH"},
        )
    )
    left, right, _stats = candidate_pairs(block_keys(frame), passes=("house_name_return",))
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1), (0, 4)]


def test_a_relatives_number_beside_his_own_meets_a_list_that_gives_only_one() -> None:
    """A cell may hold two numbers (his own and a relative's); another list gives one of
    them: the pair shares a phone, and the phone pass proposes it."""
    lv = levels_of(
        {"family_name": "SOK", "given_name": "DARA", "phone": "+85512345678 +855971234567"},
        {"family_name": "CHEA", "given_name": "VISAL", "phone": "+855971234567"},
        {"family_name": "KEO", "given_name": "NARIN", "phone": "+85510999888"},
    )
    phone = dict(zip(lv.index.tolist(), lv["phone"].tolist(), strict=True))
    assert level("phone", phone[(0, 1)]) == "same"
    assert level("phone", phone[(0, 2)]) == level("phone", phone[(1, 2)]) == "different"
    frame = build_frame(
        records(
            {"family_name": "SOK", "given_name": "DARA", "phone": "+85512345678 +855971234567"},
            {"family_name": "CHEA", "given_name": "VISAL", "phone": "+855971234567"},
            {"family_name": "KEO", "given_name": "NARIN", "phone": "+85510999888"},
        )
    )
    left, right, stats = candidate_pairs(block_keys(frame))
    by_phone = stats.found_by("phone")
    assert list(zip(left[by_phone].tolist(), right[by_phone].tolist(), strict=True)) == [(0, 1)]


def test_a_given_name_written_in_khmer_apart_from_the_latin_one_is_his_other_name() -> None:
    """A case file writes his house name in Khmer (មុំ, Mom) and his papers' name in Latin
    letters; a list that knows him as Mom meets him through the Khmer one, with no birth."""
    iom = {"family_name": "SUON", "given_name": "MOM", "province_code": "20", "district_code": "2002",
           "birth_year": 2004}
    ngo = {"source": "ngo-x", "family_name": "SUON", "given_name": "SOPHAL RATHA", "family_name_kh": "សួន",
           "given_name_kh": "មុំ", "province_code": "20", "district_code": "2002"}
    other = {**iom, "given_name": "VISAL"}
    frame = build_frame(records(iom, ngo, other))
    assert frame["giv_alt"].tolist()[:2] == [pd.NA, frame["giv_key"].iat[0]]
    left, right, stats = candidate_pairs(block_keys(frame), passes=("name_token_district",))
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1)]
    lv = levels_of(iom, ngo, other)
    given = dict(zip(lv.index.tolist(), lv["given_name"].tolist(), strict=True))
    assert given[(0, 1)] >= LEVELS["given_name"].index("same sound")
    assert given[(1, 2)] < LEVELS["given_name"].index("same consonants")  # Visal is neither name


def test_a_short_given_name_does_not_turn_the_name_order_round() -> None:
    """MEAS SAR (his house name) against MEAS PISAL: the family names agree, the given
    names share no letter. The similarities of the crossed names (MAS-SA, PESAL-MAS) sum to
    more than one exact family name, but it is the order whose names agree that counts;
    a list that wrote the names the other way round is still turned round."""
    lv = levels_of(
        {"family_name": "MEAS", "given_name": "SAR"},
        {"family_name": "MEAS", "given_name": "PISAL"},
        {"family_name": "PISAL", "given_name": "MEAS"},
    )
    assert not bool(lv["swapped"].iloc[0])
    assert level("family_name", lv["family_name"].iloc[0]) in ("same sound", "same spelling")
    assert level("given_name", lv["given_name"].iloc[0]) == "a house name"
    assert bool(lv["swapped"].iloc[1])  # (0, 2): MEAS against MEAS, SAR against PISAL
    assert level("given_name", lv["given_name"].iloc[1]) == "a house name"
    assert bool(lv["swapped"].iloc[2])  # (1, 2): the same names, the order turned
    assert level("given_name", lv["given_name"].iloc[2]) == "same spelling"


def test_a_house_name_meets_his_formal_name_whatever_the_order_and_birth() -> None:
    """Three ways a house name used to miss his formal name: HUN TOUCH read with TOUCH as
    the family name (both are family names too); POV born a year before the bucket of his
    formal name's birth; POV with a birth year against an intake that gives none. Each now
    meets the formal name in his district; another family name does not."""
    formal = {"family_name": "HUN", "given_name": "PUNNA", "province_code": "14", "district_code": "1411",
              "birth_year": 1991, "source": "mosvy"}  # fmt: skip
    frame = build_frame(
        records(
            formal,
            {**formal, "family_name": "TOUCH", "given_name": "HUN", "source": "iom"},  # order turned
            {**formal, "given_name": "POV", "birth_year": 1989, "source": "iom"},  # a bucket before
            {**formal, "birth_year": None, "source": "ngo-hagar"},  # no birth
            {**formal, "family_name": "KEO", "given_name": "POV", "source": "iom"},  # another family
        )
    )
    house = ("house_name_years", "house_name_no_birth_other")
    left, right, _stats = candidate_pairs(block_keys(frame), passes=house)
    pairs = set(zip(left.tolist(), right.tolist(), strict=True))
    assert {(0, 1), (0, 2), (1, 3), (2, 3)} <= pairs
    assert not {p for p in pairs if 4 in p}


def test_a_record_whose_home_may_be_elsewhere_meets_his_names_and_birth_anywhere() -> None:
    """An NGO's case file writes where he lives now (he moved to Phnom Penh after his
    return), and a reception desk may write its own province (Poipet's, Banteay Meanchey)
    with no district: such records meet his names in either order with a birth a year off,
    whatever province the other record gives. Two lists that both say where a man is from
    do not meet through this pass across provinces, nor do births four years apart."""
    iom = {"family_name": "KEO", "given_name": "BUNNA", "province_code": "08", "birth_year": 1981}
    moved = {"province_code": "12", "district_code": "1201", "source": "ngo-hagar"}
    desk = {"province_code": "01", "point_of_entry": "POIPET", "birth_year": 1982}
    frame = build_frame(
        records(
            {**iom, "district_code": "0811"},
            {**moved, "family_name": "BUNNA", "given_name": "KEO", "birth_year": 1980},
            {**iom, **desk},
            {**iom, "province_code": "14", "district_code": "1402", "source": "mosvy"},
            {**iom, **moved, "birth_year": 1976},
        )
    )
    left, right, _stats = candidate_pairs(block_keys(frame), passes=("names_birth_home_unsure",))
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)]


def test_a_given_name_of_two_words_meets_a_list_that_writes_the_first_alone() -> None:
    """IOM wrote both his given names (Sarath Vuthey), the ministry the first alone and an
    age a year off, neither a district: they meet through the family name, the first given
    word, the province and the birth. Another first word, or another province, does not."""
    man = {"family_name": "CHHORN", "province_code": "03"}
    frame = build_frame(
        records(
            {**man, "given_name": "SARATH VUTHEY", "birth_year": 2006},
            {**man, "given_name": "SARATH", "birth_year": 2007, "source": "mosvy"},
            {**man, "given_name": "VUTHY", "birth_year": 2007, "source": "mosvy"},
            {**man, "given_name": "SARATH", "birth_year": 2006, "province_code": "14", "source": "mosvy"},
        )
    )
    left, right, _stats = candidate_pairs(block_keys(frame), passes=("first_given_province_birth",))
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1)]


def test_a_case_file_with_neither_his_home_nor_a_birth_meets_a_rare_name_anywhere() -> None:
    """An NGO's file gives where he lives now and no birth: it meets his two names in either
    order wherever the other list places him, but only while those names are rare (a block
    of more than 8 records is every namesake in the country), and a list that says where he
    is from does not probe so."""
    iom = {"family_name": "KEO", "given_name": "BUNNA", "province_code": "08", "birth_year": 1981}
    ngo = {"family_name": "BUNNA", "given_name": "KEO", "province_code": "12", "source": "ngo-hagar"}
    rows = [iom, ngo, {**iom, "birth_year": None, "province_code": "14"}]

    def pairs(frame: pd.DataFrame) -> list[tuple[int, int]]:
        left, right, _stats = candidate_pairs(block_keys(frame), passes=("names_home_unsure_no_birth",))
        return sorted(zip(left.tolist(), right.tolist(), strict=True))

    assert pairs(build_frame(records(*rows))) == [(0, 1), (1, 2)]
    common = [{**iom, "province_code": f"{p:02d}"} for p in range(1, 8)]
    assert pairs(build_frame(records(*rows, *common))) == []


def test_a_case_file_with_a_common_name_meets_a_return_in_the_months_before_its_intake() -> None:
    """An NGO's file gives where he lives now, no birth, and its intake date; his name is too
    common for the pass that meets names alone. It meets the returns of his two names in the
    five months before the intake, wherever they place him, and not a return of that name
    a year earlier, nor one months after the intake."""
    iom = {"family_name": "SOK", "given_name": "DARA", "province_code": "08", "birth_year": 1981}
    ngo = {"family_name": "DARA", "given_name": "SOK", "province_code": "12", "source": "ngo-hagar",
           "intake_date": dt.date(2024, 6, 20)}  # fmt: skip
    rows = [
        {**iom, "return_date": dt.date(2024, 3, 2)},  # 110 days before the intake
        ngo,
        {**iom, "return_date": dt.date(2023, 5, 1), "province_code": "14"},  # a year before
        {**iom, "return_date": dt.date(2024, 8, 20), "province_code": "02"},  # two months after it
        *({**iom, "province_code": f"{p:02d}", "return_date": dt.date(2020, p, 1)} for p in range(1, 10)),
    ]
    keys = block_keys(build_frame(records(*rows)))
    left, right, _stats = candidate_pairs(keys, passes=("names_intake_home_unsure",))
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1)]
    left, _right, _stats = candidate_pairs(keys, passes=("names_home_unsure_no_birth",))
    assert not len(left)  # the name is too common to meet by itself


def _groups_by_unions(n: int, initial: list[int]):
    """The stored persons' groups as a union per record makes them (the reference)."""
    from linkage.match.cluster import _Groups

    groups, first = _Groups(n), {}
    for pos, lab in enumerate(initial):
        if lab >= 0:
            if lab in first:
                groups.union(first[lab], pos)
            else:
                first[lab] = pos
    return groups


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stored_persons_start_as_the_groups_unions_make(seed: int) -> None:
    """Roots, parents and member lists (in position order) as unions give them, so the
    clustering that follows merges the same roots; new records (-1) stay alone."""
    from linkage.match.cluster import _start

    rng = np.random.default_rng(seed)
    n = 500
    initial = rng.integers(-1, 60, n)  # persons of 1-20 records, shuffled among new ones
    initial[rng.random(n) < 0.3] = -1
    want = _groups_by_unions(n, initial.tolist())
    got = _start(n, initial, [(3, 7), (7, 400)])
    for a, b in [(3, 7), (7, 400)]:
        want.union(a, b)
    assert [got.find(i) for i in range(n)] == [want.find(i) for i in range(n)]
    assert got.members == want.members
    assert np.array_equal(got.labels(), want.labels())
    assert len({got.find(i) for i in np.flatnonzero(initial == -1).tolist()}) >= 1
    none = _start(5, np.full(5, -1), None)
    assert none.parent == list(range(5)) and none.members == {}


def test_a_batch_numbers_its_stored_persons_in_order_of_first_record() -> None:
    """Stored records' starting labels: one code per person, numbered as first met, -1 for
    the new records (the clustering's ties follow these codes)."""
    from linkage.match.linker import _Batch

    frame = pd.DataFrame({"record_id": [10, 11, 5, 6, 7, 8, 9]})
    stored = {5: "P-0009", 6: "P-0002", 7: "P-0009", 8: "P-0005", 9: "P-0002"}
    batch = _Batch(frame, pd.DataFrame(), 2, stored, {}, None)  # type: ignore[arg-type]
    assert batch.initial().tolist() == [-1, -1, 0, 1, 0, 2, 1]
    alone = _Batch(frame.iloc[:2], pd.DataFrame(), 2, {}, {}, None)  # type: ignore[arg-type]
    assert alone.initial().tolist() == [-1, -1]


def test_ids_chosen_for_clusters_from_their_stored_persons() -> None:
    """Each cluster holding stored records keeps the oldest of their persons' ids and the
    others merge into it; a cluster of new records only gets none here."""
    from linkage.match.linker import _choose_ids, _persons_of_clusters

    rid = np.array([1, 2, 3, 4, 5, 6, 7, 8])
    is_new = np.array([True, True, False, False, False, False, False, True])
    labels = np.array([0, 5, 0, 0, 2, 5, 5, 9])
    stored = {3: "P-0007", 4: "P-0003", 5: "P-0004", 6: "P-0011", 7: "P-0011"}
    assert _persons_of_clusters(rid, is_new, labels, stored) == {
        0: {"P-0007", "P-0003"}, 2: {"P-0004"}, 5: {"P-0011"},
    }  # fmt: skip
    c = _choose_ids(rid, is_new, labels, stored, {})
    assert c.chosen == {0: "P-0003", 5: "P-0011", 2: "P-0004"}
    assert c.merges == {"P-0007": "P-0003"}
    assert list(c.clusters) == [0, 5, 2, 9]
    assert _persons_of_clusters(rid, np.ones(8, bool), labels, stored) == {}


@pytest.mark.parametrize("seed", [0, 1])
def test_a_stored_persons_list_answers_the_pairs_a_test_per_pair_would(seed: int) -> None:
    """A pair is answered where a stored side's person already holds a record of the other
    side's list: the same pairs as asking each pair in turn (the reference below)."""
    from linkage.match.mutual import _list_answered

    rng = np.random.default_rng(seed)
    n, m = 400, 3000
    initial = np.where(rng.random(n) < 0.3, -1, rng.integers(0, 80, n))
    lists = rng.integers(0, 4, n) * 5 + 2  # list codes need not be 0..k-1
    left, right = rng.integers(0, n, m), rng.integers(0, n, m)
    held = {(int(initial[i]), int(lists[i])) for i in range(n) if initial[i] >= 0}
    want = [
        (initial[a] >= 0 and (int(initial[a]), int(lists[b])) in held)
        or (initial[b] >= 0 and (int(initial[b]), int(lists[a])) in held)
        for a, b in zip(left.tolist(), right.tolist(), strict=True)
    ]
    got = _list_answered(left, right, lists, initial)
    assert got.tolist() == want and 0 < got.sum() < m
    assert not _list_answered(left, right, lists, np.full(n, -1)).any()
