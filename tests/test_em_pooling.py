"""EM sessions that saw few pairs add to what an earlier session learned, not replace it.

Why: on lists that give few phones or IDs, the pairs sharing one are a handful of odd
pairs (one list's duplicates sharing a ministry ID); the session on them used to set the
context's and the lists' m alone, and recall fell from 0.978 to 0.912.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkage.match.blocking import BlockingStats
from linkage.match.compare import FEATURES, LEVELS, MISSING
from linkage.match.model import MatchModel
from linkage.match.spec import default_spec
from linkage.match.training import _family_sessions

SAME_LIST = LEVELS["lists"].index("same list, same return")
OTHER_LISTS = LEVELS["lists"].index("different lists")


def pairs(n: int, **levels: int) -> pd.DataFrame:
    """n pairs at these levels, every other feature missing."""
    cols = {f: np.full(n, levels.get(f, MISSING), dtype=np.int8) for f in FEATURES}
    return pd.DataFrame(cols)


def model() -> MatchModel:
    """Chance agreement where one list's rows for one return are rare, names informative."""
    m = MatchModel()
    m.u = {f: np.full(len(v), 1 / len(v)) for f, v in LEVELS.items()}
    m.u["lists"] = np.array([0.005, 0.03, 0.965])
    m.prior = 0.5
    return m


def test_a_session_alone_sets_m_from_its_own_pairs() -> None:
    both = pd.concat([pairs(40, lists=SAME_LIST, family_name=4), pairs(40, lists=OTHER_LISTS, family_name=4)])
    fitted = model()
    learned = fitted.fit_em(both, ignore={"family_name"}, update={"lists"})
    assert fitted.m["lists"][SAME_LIST] > 0.3  # half its pairs: it learns what it saw
    assert 0 < learned["lists"] <= 80


def test_an_earlier_session_counts_as_the_pairs_it_learned_from() -> None:
    few = pd.concat([pairs(40, lists=SAME_LIST, family_name=4), pairs(40, lists=OTHER_LISTS, family_name=4)])
    earlier = model()
    earlier.m["lists"] = np.array([0.02, 0.01, 0.97])
    alone, pooled = MatchModel.from_params(earlier.to_params()), MatchModel.from_params(earlier.to_params())
    alone.u, pooled.u = earlier.u, earlier.u
    alone.fit_em(few, ignore={"family_name"}, update={"lists"})
    learned = pooled.fit_em(few, ignore={"family_name"}, update={"lists"}, learned_from={"lists": 3000.0})
    # 3,000 pairs against at most 80: the earlier m barely moves, and the count grows
    assert pooled.m["lists"][SAME_LIST] < 0.05 < alone.m["lists"][SAME_LIST]
    assert 3000 < learned["lists"] <= 3080


def test_the_shared_session_pools_only_where_it_saw_few_pairs() -> None:
    """A shared session of a few one-list pairs leaves the lists' m near the name
    session's; with as many pairs as the name session had, it learns on its own."""
    spec = default_spec()
    session = spec.shared_session
    assert session.pools_below > 0
    start = model()
    start.m["lists"] = np.array([0.02, 0.01, 0.97])
    all_pairs = pairs(100, lists=OTHER_LISTS)
    stats = BlockingStats()
    one_list = pairs(30, lists=SAME_LIST, family_name=4, given_name=5)
    few = pd.concat([one_list, pairs(5, lists=OTHER_LISTS, given_name=5)])
    thin = _family_sessions(start, few, all_pairs, stats, session, False, {"lists": 3000.0})
    assert thin.m["lists"][SAME_LIST] < 0.05
    many = _family_sessions(start, few, all_pairs, stats, session, False, {"lists": 20.0})
    assert many.m["lists"][SAME_LIST] > 0.5


def test_lists_with_no_phone_and_no_id_learn_names_where_births_agree(settings, synth_dir) -> None:
    """With no pair sharing a phone or an ID, names and births used to keep EM's starting
    guesses (recall 0.81 on independent lists without them); the fallback session learns
    them on pairs of one birth date and district."""
    import dataclasses

    from linkage.ingest.load import Ingestor
    from linkage.match import engine
    from linkage.match.spec import spec_for
    from linkage.match.stored import read_records
    from linkage.store.db import session_scope

    ingestor = Ingestor(settings)
    for f in sorted((synth_dir / "landing").rglob("*.*")):
        ingestor.ingest_path(f)
    with session_scope(settings) as s:
        recs = read_records(s, None)
    recs[["phone", "national_id", "travel_doc_no"]] = None
    spec = spec_for(settings)
    start = MatchModel().m["given_name"]
    learned = engine.link_records(recs, spec).model.m["given_name"]
    assert not np.allclose(learned, start, atol=0.02)
    without = dataclasses.replace(spec.shared_session, fallback=None)
    plain = dataclasses.replace(spec, shared_session=without)
    assert np.allclose(engine.link_records(recs, plain).model.m["given_name"], start, atol=0.02)


def test_a_thin_shared_session_learns_from_the_fallbacks_pairs_too_each_masked_by_its_pass() -> None:
    """Under `below_pairs` pairs sharing a phone or an ID, the fallback's pairs (one birth
    date and district) join them; each pair leaves out what its own pass makes agree."""
    from linkage.match.training import _with_fallback

    session = default_spec().shared_session
    assert session.fallback is not None and session.fallback_below > 0
    levels = pairs(4, phone=2, id_document=1, birth=7, context=55, given_name=5)
    stats = BlockingStats(
        pass_bits={"phone": 1, "birth_date_place": 2}, pass_mask=np.array([1, 2, 3, 0], np.int32)
    )
    joined, spec = _with_fallback(levels, stats, session)
    assert len(joined) == 3  # the pair neither pass found is not in the session
    assert joined["phone"].tolist() == [MISSING, 2, MISSING]
    assert joined["id_document"].tolist() == [MISSING, 1, MISSING]
    assert joined["birth"].tolist() == [7, MISSING, MISSING]
    assert joined["context"].tolist() == [55, MISSING, MISSING]
    assert joined["given_name"].tolist() == [5, 5, 5]
    assert spec.ignore == () and spec.fallback is None


def test_a_feature_no_pair_of_a_session_gives_keeps_what_was_learned() -> None:
    """A session whose pairs all lack a feature has nothing to learn of it: its m (and the
    family class's f) stay, where they used to become near uniform."""
    fitted = model()
    fitted.m["birth"] = np.array([0.0, 0.0, 0.01, 0.02, 0.05, 0.3, 0.37, 0.25])
    before_m, before_f = fitted.m["birth"].copy(), fitted.f["birth"].copy()
    fitted.prior_family = 0.1
    fitted.fit_em(pairs(50, given_name=5, lists=OTHER_LISTS), family=set(FEATURES))
    assert np.array_equal(fitted.m["birth"], before_m)
    assert np.array_equal(fitted.f["birth"], before_f)
