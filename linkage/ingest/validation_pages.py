"""The validation pages people open: one per delivery, named by its file, and an index.

Why our own pages and not Great Expectations' Data Docs: GE's pages load jQuery, Bootstrap,
bootstrap-table, Font Awesome and Vega from five CDNs, and its index table is drawn by those
scripts, so offline (where officers work) the index is blank. Vendoring them means shipping
about a megabyte of third-party scripts pinned to whatever versions GE's templates name, and
checking again on every GE upgrade; rewriting GE's links at build time breaks as silently
when its templates change. GE's pages also call a list "Failed" when any row failed a check,
and name a validation by its run, not by the file. These pages are plain HTML with their
style inline and no script at all: they open from a file, offline, in any browser, and say
what became of the file in our words (loaded, loaded with quarantined rows, rejected).

What they show is counts, rules and reasons from the stripped GE results and the store's
delivery row: never a value from a row.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, select_autoescape

PHNOM_PENH = ZoneInfo("Asia/Phnom_Penh")
INDEX_LIMIT = 200  # deliveries on the index, newest first; every page stays on disk

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 75em; }
table { border-collapse: collapse; margin: .8em 0; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.ok { color: #17692b; } .warn { color: #8a5a00; } .bad { color: #a11; }
.muted { color: #666; font-size: .9em; }
td.num { text-align: right; }
"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ d.label }}: validation</title>
<style>{{ style }}</style></head><body>
<p class="muted"><a href="../index.html">All validations</a></p>
<h1 id="file">{{ d.label }}</h1>
<p class="muted">{{ d.source }} · received {{ d.received_at | local }} · checked {{ checked | local }}
· file SHA-256 {{ d.sha256[:16] }}…</p>
<p id="outcome" class="{{ outcome.kind }}"><b>{{ outcome.title }}</b>: {{ outcome.text }}</p>
<table id="counts"><tr><th>rows read</th><th>loaded</th><th>quarantined</th><th>still open</th></tr>
<tr><td class="num">{{ d.rows_read }}</td><td class="num">{{ d.rows_loaded }}</td>
<td class="num">{{ d.rows_quarantined }}</td><td class="num">{{ d.open_quarantined }}</td></tr></table>
{% if d.by_rule %}<p>Quarantined by rule: {{ d.by_rule | rules }}. A quarantined row is kept, with its
line and reason, until the list is sent again corrected or the mapping is fixed and the file
replayed; the rows of this file that passed were loaded.</p>{% endif %}
<h2>Checks</h2>
<p class="muted">The Great Expectations suites this file's rows were checked against. Rows the
reader could not take (a bad date, a cut-short row) are counted above, not here.</p>
<table id="checks"><tr><th>suite</th><th>check</th><th>column</th><th>rule</th>
<th>rows checked</th><th>rows not passing</th><th>outcome</th></tr>
{% for c in checks %}<tr class="check {{ c.kind }}"><td>{{ c.suite }}</td><td>{{ c.reason }}</td>
<td>{{ c.column }}</td><td>{{ c.rule }}</td><td class="num">{{ c.checked }}</td>
<td class="num">{{ c.unexpected }}</td>
<td class="{{ c.kind }}">{{ c.outcome }}</td></tr>
{% endfor %}</table>
</body></html>
"""

_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>survivor-link: validations</title>
<style>{{ style }}</style></head><body>
<h1>Validations</h1>
<p class="muted">Each delivery checked, newest first{% if capped %} (the newest {{ limit }};
older pages stay under deliveries/){% endif %}. Open a file for its checks.</p>
<table id="validations"><tr><th>received</th><th>source</th><th>file</th><th>outcome</th>
<th>read</th><th>loaded</th><th>quarantined</th></tr>
{% for d, o in rows %}<tr class="validation"><td>{{ d.received_at | local }}</td><td>{{ d.source }}</td>
<td><a href="deliveries/{{ d.sha256[:16] }}.html">{{ d.label }}</a></td>
<td class="{{ o.kind }}">{{ o.title }}</td><td class="num">{{ d.rows_read }}</td>
<td class="num">{{ d.rows_loaded }}</td><td class="num">{{ d.open_quarantined }}</td></tr>
{% else %}<tr><td colspan="7">No delivery checked yet.</td></tr>{% endfor %}
</table></body></html>
"""


def local_time(value: Any) -> str:
    """A stored UTC time (naive or aware) as Phnom Penh time, as officers read it."""
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(PHNOM_PENH).strftime("%d/%m/%Y %H:%M")


def rules_text(by_rule: dict[str, int]) -> str:
    """Quarantined rows by rule, commonest first: "3 date_format, 1 phone"."""
    return ", ".join(f"{n} {rule}" for rule, n in sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0])))


_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_env.filters.update(local=local_time, rules=rules_text)


def page_name(sha256: str) -> str:
    """A delivery's page, relative to the docs folder (its hash: file names can repeat)."""
    return f"deliveries/{sha256[:16]}.html"


def outcome(d: Any) -> dict[str, str]:
    """What became of the file, in words: loaded, loaded with quarantined rows, or rejected."""
    if d.status == "rejected":
        return {"kind": "bad", "title": "Rejected", "text": d.reason or "no reason recorded"}
    if d.status != "ingested":
        return {"kind": "warn", "title": "Not loaded yet", "text": f"the file is {d.status}"}
    if d.open_quarantined:
        return {
            "kind": "warn",
            "title": "Loaded with quarantined rows",
            "text": f"{d.rows_loaded} of {d.rows_read} rows loaded, {d.open_quarantined} quarantined "
            f"({rules_text(d.by_rule)})",
        }
    if d.rows_quarantined:
        return {
            "kind": "ok",
            "title": "Loaded",
            "text": f"{d.rows_loaded} of {d.rows_read} rows loaded; the {d.rows_quarantined} "
            "quarantined at first have since been replayed or closed",
        }
    return {"kind": "ok", "title": "Loaded", "text": f"all {d.rows_loaded} rows"}


def without_page(d: Any, results_kept: bool) -> str:
    """What to say of a delivery that has no validation page, from what the store and GX kept:
    never "not checked" of a file whose rows were checked."""
    if results_kept:
        return "checked before pages were kept"
    if d.status == "rejected":
        return "not checked: rejected before its rows were"
    if d.status in ("landed", "claimed"):
        return "not checked yet"
    return "no checks kept"


def check_rows(results: list[Any]) -> list[dict[str, Any]]:
    """Each check of each suite as a row: counts and its outcome in words (from stripped results)."""
    rows = []
    for suite in results:
        for r in suite.results:
            cfg = r.expectation_config
            meta, kwargs, counts = cfg.meta or {}, cfg.kwargs or {}, r.result or {}
            unexpected = int(counts.get("unexpected_count") or 0)
            warning = meta.get("severity") == "warning"
            raised = bool((r.exception_info or {}).get("raised_exception"))
            if raised:
                kind, said = "bad", "the check could not run"
            elif r.success:
                kind, said = "ok", "passed"
            elif warning:
                kind, said = "warn", f"{unexpected} row(s) did not pass: loaded with a warning"
            else:
                kind, said = "warn", f"{unexpected} row(s) did not pass: quarantined"
            rows.append(
                {
                    "suite": suite.suite_name,
                    "reason": meta.get("reason") or cfg.type,
                    "column": kwargs.get("column")
                    or " / ".join(str(kwargs[k]) for k in ("column_A", "column_B") if k in kwargs),
                    "rule": meta.get("rule") or cfg.type,
                    "checked": counts.get("element_count", ""),
                    "unexpected": unexpected if "unexpected_count" in counts else "",
                    "kind": kind,
                    "outcome": said,
                }
            )
    return rows


def _write(path: Path, text: str) -> None:
    """Written whole, then moved into place: a reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_page(docs: Path, delivery: Any, results: list[Any], checked: dt.datetime) -> Path:
    """A delivery's page from its stripped GE results and its store row (a DeliveryView)."""
    html = _env.from_string(_PAGE).render(
        style=_STYLE, d=delivery, outcome=outcome(delivery), checks=check_rows(results), checked=checked
    )
    path = docs / page_name(delivery.sha256)
    _write(path, html)
    return path


def write_index(docs: Path, deliveries: list[Any]) -> Path:
    """The index of the deliveries (DeliveryViews, newest first) that have a page."""
    folder = docs / "deliveries"
    have = {f"deliveries/{name}" for name in os.listdir(folder)} if folder.is_dir() else set()
    listed = [d for d in deliveries if page_name(d.sha256) in have]
    rows = [(d, outcome(d)) for d in listed[:INDEX_LIMIT]]
    html = _env.from_string(_INDEX).render(
        style=_STYLE, rows=rows, capped=len(listed) > INDEX_LIMIT, limit=INDEX_LIMIT
    )
    path = docs / "index.html"
    _write(path, html)
    return path
