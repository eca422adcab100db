"""A pair's explanation as the review and person pages draw it: one bar per compared field.

Apart from the pages so it is tested without Airflow.
"""

from __future__ import annotations

from typing import Any

SCALE = 6.0  # pixels per bit
HEADROOM = 40  # bits of headroom for negatives

# Which of a record's shown values goes beside which compared field.
_VALUE_OF = {
    "family_name": "name",
    "given_name": "name",
    "birth": "birth",
    "context": "home",
    "phone": "phone",
}


def fields(explanation: dict, a=None, b=None) -> list[dict[str, Any]]:
    """Each compared field: level, agree/disagree/missing, weight, and its waterfall bar."""
    out, running = [], 0.0
    for name, v in explanation.items():
        if not isinstance(v, dict):
            continue
        w = float(v.get("weight", 0.0))
        kind = (
            "missing"
            if v.get("level") == "missing"
            else "agree"
            if w > 0
            else "disagree"
            if w < 0
            else "missing"
        )
        start = running if w >= 0 else running + w
        running += w
        out.append(
            {
                "name": name,
                "level": v.get("level"),
                "kind": kind,
                "weight": w,
                "start": int(max(0.0, start + HEADROOM) * SCALE),
                "width": max(1, int(abs(w) * SCALE)),
                "a": _value_for(name, a),
                "b": _value_for(name, b),
            }
        )
    return out


def _value_for(field: str, ref) -> str:
    if ref is None or not ref.values:
        return ""
    key = _VALUE_OF.get(field)
    return "" if key is None else str(ref.values.get(key) or "")
