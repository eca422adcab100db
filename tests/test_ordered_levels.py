"""A feature's ordered levels weigh no less as they agree more (the spec's `ordered`).

Why: each EM session learns from the pairs its passes find; where those pairs seldom show a
level, its m stays near nothing. On independent lists without phones whose IDs are the
ministry's alone (its rows give ages), "same date" weighed -3.6 bits beside +4.8 for "same
year", and more than half of the missed pairs were missed for it (seed 42 at 4,000 records:
recall 0.83).
"""

from __future__ import annotations

import numpy as np
import pytest

from linkage.match.compare import LEVELS
from linkage.match.model import MatchModel, in_order
from linkage.match.spec import SPEC_FILE, SpecError, default_spec, parse_spec

BIRTH = LEVELS["birth"]


def weights(model: MatchModel, feature: str) -> np.ndarray:
    return np.log2(model.m[feature]) - np.log2(model.u[feature])


def test_levels_out_of_order_share_one_ratio_and_m_still_sums_to_one() -> None:
    m = np.array([0.01, 0.30, 0.05, 0.64])
    u = np.array([0.70, 0.20, 0.05, 0.05])
    out = in_order(m, u, (0, 1, 2, 3))
    ratio = out / u
    assert np.all(np.diff(ratio) >= -1e-12)
    assert ratio[1] == pytest.approx(ratio[2]) and ratio[1] == pytest.approx(0.35 / 0.25)
    assert out.sum() == pytest.approx(1.0) and out[0] == m[0] and out[3] == m[3]


def test_levels_already_in_order_and_levels_left_out_keep_their_m() -> None:
    m = np.array([0.01, 0.09, 0.5, 0.4])
    u = np.array([0.7, 0.2, 0.06, 0.04])
    assert np.array_equal(in_order(m, u, (0, 1, 3)), m)  # level 2 is not in the chain


def test_same_date_learned_as_nothing_weighs_as_much_as_same_year() -> None:
    model = MatchModel()
    model.u = {f: np.full(len(v), 1 / len(v)) for f, v in LEVELS.items()}
    model.u["birth"] = np.array([0.67, 0.17, 0.04, 0.001, 0.045, 0.046, 0.023, 0.0001])
    # what EM left on lists whose pairs of one man never both gave a full date
    model.m["birth"] = np.array([1e-5, 1e-5, 1e-5, 1e-5, 1e-5, 0.344, 0.656, 1e-5])
    model.m["birth"] /= model.m["birth"].sum()
    before = weights(model, "birth")
    assert before[BIRTH.index("same date")] < 0 < before[BIRTH.index("same year")]
    model.keep_levels_in_order(default_spec().ordered_levels())
    after = weights(model, "birth")
    chain = [BIRTH.index(x) for x in default_spec().features["birth"].ordered]
    assert np.all(np.diff(after[chain]) >= -1e-9)
    assert after[BIRTH.index("same date")] == pytest.approx(after[BIRTH.index("same year")])
    # a slip is outside the chain: what EM said of it stands
    slip = BIRTH.index("dates differ by a slip")
    assert after[slip] == pytest.approx(before[slip])
    assert model.m["birth"].sum() == pytest.approx(1.0)


def test_the_spec_refuses_an_ordered_level_it_does_not_have_or_out_of_order() -> None:
    import yaml

    text = SPEC_FILE.read_text(encoding="utf-8")
    chain = "ordered: [different, similar, same]"
    assert chain in text
    with pytest.raises(SpecError, match="no level of it"):
        parse_spec(yaml.safe_load(text.replace(chain, "ordered: [different, alike, same]", 1)))
    with pytest.raises(SpecError, match="out of their order"):
        parse_spec(yaml.safe_load(text.replace(chain, "ordered: [same, similar, different]", 1)))


def test_every_feature_fitted_on_real_lists_keeps_its_ordered_levels_in_order(settings, synth_dir) -> None:
    """On the synthetic lists with their phones and most IDs taken away, as on the
    independent lists where the fault was seen."""
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
    recs[["phone", "travel_doc_no"]] = None
    recs.loc[recs.index % 10 != 0, "national_id"] = None
    spec = spec_for(settings)
    model = engine.link_records(recs, spec).model
    for feature, positions in spec.ordered_levels().items():
        w = weights(model, feature)[list(positions)]
        assert np.all(np.diff(w) >= -1e-9), feature
