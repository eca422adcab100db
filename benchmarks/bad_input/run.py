"""Drive every malformed delivery of the corpus through the real CLI and print what happened.

Why the CLI and not Ingestor: the promise is about what an officer sees (`survivor-link
ingest` must never end in a traceback) as much as what the store holds. Each case gets a
scratch home copied from one migrated template, its file is ingested by a new process, and
the store is then read: the delivery's status and reason, rows loaded and quarantined
with their rules. A case is a finding when the command crashed (exit code, traceback), the
file was rejected by an internal error, its outcome is not the one the case expects (when it
says), a person's row is unaccounted for (persons > loaded
+ quarantined of an ingested file), a row that is no person was loaded as one (loaded >
persons), or a personal value of the file shows in the output, a reason or a quarantine
reason.

    .venv/bin/python -m benchmarks.bad_input.run            # the corpus, about 5 minutes
    .venv/bin/python -m benchmarks.bad_input.run --big      # and two 100,000-row lists
    .venv/bin/python -m benchmarks.bad_input.run --only password,merged-down --replay

Exits 1 when there is a finding.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bad_input.corpus import Case, all_cases  # noqa: E402

CLI = [str(Path(sys.executable).with_name("survivor-link"))]


@dataclass
class Outcome:
    case: Case
    status: str = ""
    reason: str = ""
    loaded: int = 0
    quarantined: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    findings: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        if self.status == "rejected":
            return "refused file"
        if self.status == "ingested":
            return "quarantined rows" if self.quarantined else "ingested"
        return self.status or "crash"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVIVOR_LINK_")}
    env["SURVIVOR_LINK_HOME"] = str(home)
    return env


def template_home(folder: Path) -> Path:
    home = folder / "template"
    subprocess.run([*CLI, "migrate"], env=_env(home), cwd=ROOT, check=True, capture_output=True)
    return home


def store_outcome(home: Path) -> dict:
    """The delivery and its quarantined rows, read from the store by a process of its own."""
    code = r"""
import json, sys
from sqlalchemy import select
from linkage.settings import load_settings
from linkage.store.db import session_scope
from linkage.store.models import Delivery, Quarantine, AuditLog
s = load_settings()
with session_scope(s) as ss:
    ds = list(ss.scalars(select(Delivery)))
    qs = list(ss.scalars(select(Quarantine)))
    notes = [a.details for a in ss.scalars(select(AuditLog)) if a.action == "delivery.ingested"]
    out = {
        "deliveries": [dict(status=d.status, reason=d.reason or "", loaded=d.rows_loaded or 0,
                            quarantined=d.rows_quarantined or 0, read=d.rows_read or 0) for d in ds],
        "quarantine": [dict(line=q.line, rule=q.rule, reason=q.reason,
                            issues=[i["reason"] for i in (q.issues or [])]) for q in qs],
        "notes": [str(n) for n in notes],
    }
print(json.dumps(out))
"""
    p = subprocess.run(
        [sys.executable, "-c", code], env=_env(home), cwd=ROOT, capture_output=True, text=True, check=False
    )
    if p.returncode:
        return {"error": p.stderr[-2000:]}
    return json.loads(p.stdout)


def leaks(case: Case, texts: list[str]) -> list[str]:
    """Personal values of the case found in any text shown (values of 5 characters or more)."""
    found = []
    joined = "\n".join(texts)
    for v in case.values:
        parts = [v] + [w for w in v.split() if len(w) >= 5]
        for p in parts:
            if len(p) >= 5 and p in joined:
                found.append(p)
    return sorted(set(found))


def run_case(case: Case, template: Path, folder: Path) -> Outcome:
    home = folder / case.id / "home"
    shutil.copytree(template, home)
    path = folder / case.id / case.file_name
    path.write_bytes(case.data)
    out = Outcome(case)
    start = time.perf_counter()
    p = subprocess.run(
        [*CLI, "ingest", str(path), "--source", case.source],
        env={**_env(home), "COLUMNS": "250"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    out.seconds = time.perf_counter() - start
    if p.returncode or "Traceback" in p.stderr or "Traceback" in p.stdout:
        out.findings.append(f"crash: exit {p.returncode}: {(p.stderr or p.stdout).strip().splitlines()[-1:]}")
    st = store_outcome(home)
    if "error" in st:
        out.findings.append("store unreadable: " + st["error"].strip().splitlines()[-1])
        return out
    ds = st["deliveries"]
    if len(ds) != 1:
        out.findings.append(f"{len(ds)} deliveries stored")
        if not ds:
            return out
    d = ds[0]
    out.status, out.reason = d["status"], d["reason"]
    out.loaded, out.quarantined = d["loaded"], d["quarantined"]
    for q in st["quarantine"]:
        out.rules[q["rule"]] = out.rules.get(q["rule"], 0) + 1
        out.reasons.append(f"line {q['line']} {q['rule']}: {q['reason']}")
    out.notes = st["notes"]
    if out.status == "claimed":
        out.findings.append("delivery left claimed")
    if "internal error" in out.reason or "internal_error" in out.reason:
        out.findings.append("internal error")
    if out.status == "ingested":
        if out.loaded + out.quarantined < case.persons:
            out.findings.append(f"lost rows: {case.persons} persons, {out.loaded} + {out.quarantined} kept")
        if out.loaded > case.persons:
            out.findings.append(f"{out.loaded - case.persons} rows that are no person loaded as persons")
    if case.expect and out.kind != case.expect:
        out.findings.append(f"expected {case.expect}, got {out.kind}")
    elif case.expect_loaded is not None and out.loaded != case.expect_loaded:
        out.findings.append(f"expected {case.expect_loaded} rows loaded, got {out.loaded}")
    shown = [
        p.stdout,
        p.stderr,
        out.reason,
        *out.reasons,
        *[i for q in st["quarantine"] for i in q["issues"]],
    ]
    if leaked := leaks(case, shown):
        out.findings.append(f"leaks {len(leaked)} value(s)")
    return out


def replay_check(case: Case, template: Path, folder: Path) -> str:
    """Ingest, then replay the same archive: the quarantined rows stay open and the loaded stay
    loaded (nothing is fixed), and replay itself does not crash."""
    home = folder / case.id / "home"
    p = subprocess.run(
        [*CLI, "replay"],
        env={**_env(home), "COLUMNS": "250"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if p.returncode or "Traceback" in p.stderr:
        return f"replay crashed: {p.stderr.strip().splitlines()[-1:]}"
    return "replay ok"


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| case | sender's mistake | outcome | persons | loaded | quarantined | message | finding |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        msg = (
            o.reason if o.status == "rejected" else "; ".join(f"{k} {v}" for k, v in sorted(o.rules.items()))
        )
        msg = msg.replace("|", "/")[:160]
        lines.append(
            f"| {o.case.id} | {o.case.what} | {o.kind} | {o.case.persons} | {o.loaded} | {o.quarantined} | "
            f"{msg} | {'; '.join(o.findings) or '-'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="add two 100,000-row lists")
    ap.add_argument("--only", default="", help="comma-separated case ids")
    ap.add_argument("--replay", action="store_true", help="replay each case's store after its ingest")
    ap.add_argument("--reasons", action="store_true", help="print each quarantined row's reason")
    ap.add_argument("--json", help="write the outcomes as JSON here")
    args = ap.parse_args(argv)
    cases = all_cases(big=args.big)
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c.id in wanted]
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bad-input-") as tmp:
        folder = Path(tmp)
        template = template_home(folder)
        for case in cases:
            o = run_case(case, template, folder)
            replayed = args.replay and o.status in ("ingested", "rejected")
            if replayed and (r := replay_check(case, template, folder)) != "replay ok":
                o.findings.append(r)
            outcomes.append(o)
            print(
                f"{case.id}: {o.kind} {o.loaded}/{o.quarantined} {o.seconds:.1f}s {'; '.join(o.findings)}",
                file=sys.stderr,
            )
            if args.reasons:
                for r in o.reasons[:6]:
                    print("    " + r[:200], file=sys.stderr)
                for n in o.notes:
                    print("    note " + n[:200], file=sys.stderr)
    print(table(outcomes))
    found = [o for o in outcomes if o.findings]
    print(f"\n{len(outcomes)} cases, {len(found)} with findings")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                [
                    dict(
                        id=o.case.id,
                        kind=o.kind,
                        status=o.status,
                        reason=o.reason,
                        loaded=o.loaded,
                        quarantined=o.quarantined,
                        rules=o.rules,
                        findings=o.findings,
                    )
                    for o in outcomes
                ],
                indent=1,
                ensure_ascii=False,
            )
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
