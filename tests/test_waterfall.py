"""The review and person pages' waterfall: kinds, bars that run on from each other, values beside."""

from __future__ import annotations

from survivor_link_ui.waterfall import fields

from linkage.match.review import RecordRef


def test_bars_run_on_and_negatives_start_where_they_end() -> None:
    explanation = {
        "family_name": {"level": "exact", "weight": 5.0},
        "birth": {"level": "years apart", "weight": -2.0},
        "phone": {"level": "missing", "weight": 0.0},
        "total": 3.0,  # not a field: skipped
    }
    got = fields(explanation)
    assert [(f["name"], f["kind"]) for f in got] == [
        ("family_name", "agree"),
        ("birth", "disagree"),
        ("phone", "missing"),
    ]
    # 40 bits of headroom, 6 px a bit: +5 starts at 40, -2 ends where +5 ended (45), so starts at 43
    assert [(f["start"], f["width"]) for f in got] == [(240, 30), (258, 12), (258, 1)]
    assert all(f["a"] == f["b"] == "" for f in got)


def test_values_go_beside_their_field_only_when_shown() -> None:
    a = RecordRef(1, "src", "f.csv", 2, "r1", "P1", None, values={"name": "A B", "phone": "012"})
    b = RecordRef(2, "src", "f.csv", 3, "r2", "P2", None)  # values not asked for
    got = {f["name"]: f for f in fields({"given_name": {"weight": 1}, "phone": {"weight": 1}}, a, b)}
    assert got["given_name"]["a"] == "A B" and got["phone"]["a"] == "012"
    assert got["given_name"]["b"] == got["phone"]["b"] == ""
