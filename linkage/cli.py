"""survivor-link command line: every step of the pipeline, without Airflow.

Why a CLI for everything: a data officer or engineer can run, re-run and inspect each step
on one machine. The commands only parse arguments, call linkage.pipeline (which the Airflow
DAGs call too) or a query of the store, and print (linkage/cli_view.py draws the bars and
tables); the sequence of steps is the pipeline's alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from linkage.cli_view import ConsoleView, console, delivery_table, report_table
from linkage.settings import Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(getattr(args, "config", None))
    from linkage.store.db import migrate

    migrate(settings)
    return settings


def cmd_ingest(args: argparse.Namespace) -> int:
    from linkage.pipeline import ingest_paths

    settings = _settings(args)
    with ConsoleView() as view:
        run = ingest_paths(settings, [Path(p) for p in args.paths], args.source, view)
    return 1 if run.any_rejected and args.strict else 0


def cmd_replay(args: argparse.Namespace) -> int:
    from linkage.pipeline import replay

    run = replay(_settings(args), args.delivery)
    if not run.results:
        console.print("nothing to replay: no open quarantined rows or rejected deliveries")
        return 0
    console.print(delivery_table(run.results))
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    from linkage.ingest.quarantine import quarantine_listing

    rows, rejected = quarantine_listing(_settings(args), args.all, args.show_values)
    t = Table(title=f"Quarantined rows ({len(rows)})")
    for col in ("file", "source", "line", "column", "rule", "reason", "status"):
        t.add_column(col, overflow="fold")
    if args.show_values:
        t.add_column("row as received", overflow="fold")
    for q in rows:
        file = q.file_name if args.show_values else q.label  # a file name may name a survivor
        cells = [file, q.source, str(q.line), q.column, q.rule, q.reason, q.status]
        if args.show_values:
            cells.append(q.values or "")
        t.add_row(*map(escape, cells))
    console.print(t)
    if rejected:
        rt = Table(title=f"Rejected deliveries ({len(rejected)})")
        for col in ("file", "source", "sha256", "reason"):
            rt.add_column(col, overflow="fold")
        for d in rejected:
            file = d.file_name if args.show_values else d.label
            rt.add_row(escape(file), d.source, d.sha256[:12], escape(d.reason))
        console.print(rt)
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from linkage.synth.writers import generate

    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    with console.status(f"generating {args.persons} synthetic persons"):
        counts = generate(Path(args.out), args.persons, args.seed, as_of)
    console.print(
        f"wrote {counts['records']} records of {counts['persons']} persons "
        f"({counts['events']} returns) to {args.out}/landing, truth in {args.out}/truth"
    )
    return 0


def _as_of(args: argparse.Namespace) -> dt.date:
    return dt.date.fromisoformat(args.as_of) if getattr(args, "as_of", None) else dt.date.today()


def cmd_export(args: argparse.Namespace) -> int:
    from linkage.export import export_records
    from linkage.referral.export import export_flags, records_path

    settings = _settings(args)
    if args.what == "records":
        n = export_records(settings, Path(args.output))
        console.print(f"wrote {n} rows to {args.output}")
    else:
        flags, rows = export_flags(settings, _as_of(args), Path(args.output))
        console.print(
            f"wrote {flags} open flags to {args.output} "
            f"and their {rows} records to {records_path(Path(args.output))}"
        )
    return 0


def cmd_flag(args: argparse.Namespace) -> int:
    from linkage.pipeline import flag_returns

    settings = _settings(args)
    with ConsoleView() as view:
        flag_returns(settings, _as_of(args), view, everything=args.all)
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    from linkage.pipeline import link_records

    settings = _settings(args)
    if args.fill_cache:
        from linkage.match.linker import fill_frame_rows

        made = fill_frame_rows(settings, progress=print)
        print(f"{made} comparison rows made")
        return 0
    with ConsoleView() as view:
        link_records(settings, rebuild=args.rebuild, refit=args.refit, observer=view)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from linkage.match.evaluate import TruthError, evaluate_febrl, evaluate_store

    settings = _settings(args)
    scores = []
    with console.status("scoring against the truth") as status:
        if args.truth:
            try:
                scores += evaluate_store(settings, Path(args.truth))
            except TruthError as exc:
                console.print(f"[red]cannot evaluate:[/red] {exc}")
                return 2
        if args.febrl:
            status.update("linking FEBRL 3 and 4")
            scores += evaluate_febrl(settings)
    t = Table(title="Linkage quality (pairwise)")
    for col in (
        "against",
        "records",
        "true pairs",
        "found pairs",
        "precision",
        "recall",
        "F1",
        "blocking recall",
    ):
        t.add_column(col, justify="left" if col == "against" else "right")
    for sc in scores:
        br = "" if sc.blocking_recall is None else f"{sc.blocking_recall:.4f}"
        t.add_row(
            sc.name,
            str(sc.records),
            str(sc.true_pairs),
            str(sc.predicted_pairs),
            f"{sc.precision:.4f}",
            f"{sc.recall:.4f}",
            f"{sc.f1:.4f}",
            br,
        )
    console.print(t)
    if args.truth:
        from linkage.match.evaluate import evaluate_flags

        f = evaluate_flags(settings, Path(args.truth), _as_of(args))
        ft = Table(title=f"Referral flags against the truth, as of {f.as_of}")
        for col in ("flagged returns", "true unreferred returns", "correct", "found", "precision", "recall"):
            ft.add_column(col, justify="right")
        ft.add_row(
            str(f.flagged),
            str(f.true_flags),
            str(f.correct),
            str(f.found),
            f"{f.precision:.4f}",
            f"{f.recall:.4f}",
        )
        console.print(ft)
    return 0


def _evidence(explanation: dict) -> tuple[str, str, str]:
    """Agreeing, disagreeing and missing fields of an explanation, strongest first."""
    items = [(k, v) for k, v in explanation.items() if isinstance(v, dict)]
    agree = sorted((kv for kv in items if kv[1]["weight"] > 0), key=lambda kv: -kv[1]["weight"])
    against = sorted((kv for kv in items if kv[1]["weight"] < 0), key=lambda kv: kv[1]["weight"])
    missing = [k for k, v in items if v["level"] == "missing"]
    fmt = lambda kvs: ", ".join(f"{k} {v['level']} ({v['weight']:+.1f})" for k, v in kvs)  # noqa: E731
    return fmt(agree), fmt(against), ", ".join(missing)


def _ref(ref) -> str:
    if ref is None:
        return "(record gone)"
    text = f"{ref.source} {ref.file}:{ref.line} [{ref.record_id}]"
    if ref.values:
        text += "\n" + " · ".join(str(v) for v in ref.values.values() if v not in (None, ""))
    return escape(text)


def cmd_review(args: argparse.Namespace) -> int:
    from linkage.match.review import ReviewError, decide, open_pairs

    settings = _settings(args)
    if args.action == "decide":
        try:
            d = decide(settings, int(args.pair), args.decision, args.note)
        except (ReviewError, ValueError) as exc:
            console.print(f"[red]{exc}[/]")
            return 2
        console.print(
            f"recorded: records {d.record_a} and {d.record_b} are [bold]{d.decision}[/]; "
            "the next `survivor-link link` applies it"
        )
        return 0
    pairs = open_pairs(settings, args.limit, args.show_values)
    waiting, in_band = (pairs[0]["waiting"], pairs[0]["in_band"]) if pairs else (0, 0)
    title = f"Pairs waiting for review (showing {len(pairs)} of {waiting}"
    behind = f"; {in_band - waiting} more in the review band, not queued)" if in_band > waiting else ")"
    t = Table(title=title + behind, show_lines=True)
    for col in ("pair", "first because", "match probability", "record A", "record B", "agrees", "disagrees"):
        t.add_column(col, overflow="fold")
    for p in pairs:
        agree, against, missing = _evidence(p["explanation"])
        summary = p["explanation"].get("summary")
        against = "\n".join(x for x in (summary, against, missing and f"missing: {missing}") if x)
        t.add_row(
            str(p["pair"]),
            p["first_because"],
            f"{p['probability']:.3f}",
            _ref(p["a"]),
            _ref(p["b"]),
            agree,
            against,
        )
    console.print(t)
    if pairs:
        console.print("decide with: survivor-link review decide PAIR same|different")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from linkage.match.review import ReviewError, explain_person

    settings = _settings(args)
    try:
        info = explain_person(settings, args.person_id, args.show_values)
    except ReviewError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    head = f"Person {info['person_id']}"
    if info["asked"] != info["person_id"]:
        head += f" (you asked for {info['asked']}, merged into it)"
    if info["aliases"]:
        head += f"; also known as {', '.join(info['aliases'])}"
    console.print(f"[bold]{head}[/]")
    rt = Table(title="Records")
    for col in ("record", "source", "file", "line", "source id", "return event"):
        rt.add_column(col)
    for r in info["records"]:
        rt.add_row(
            str(r.record_id),
            r.source,
            escape(r.file),
            str(r.line),
            escape(r.source_record_id),
            r.event_id or "",
        )
        if r.values:
            shown = " · ".join(str(v) for v in r.values.values() if v not in (None, ""))
            rt.add_row("", "", escape(shown), "", "", "")
    console.print(rt)
    et = Table(title="Return events")
    for col in ("event", "return date", "country", "records"):
        et.add_column(col)
    for e in info["events"]:
        et.add_row(e["event_id"], str(e["return_date"] or "unknown"), e["country"] or "", str(e["records"]))
    console.print(et)
    for p in info["pairs"]:
        if p["pair"] is None:
            title = f"Records {p['a']} and {p['b']} of this person"
        else:
            where = "inside this person" if p["inside"] else "to a record of another person"
            title = f"Pair {p['pair']} waiting for review: records {p['a']} and {p['b']} ({where})"
        pt = Table(title=f"{title}, match probability {p['probability']:.4f}")
        pt.add_column("field")
        pt.add_column("comparison")
        pt.add_column("weight (bits)", justify="right")
        for field, v in p["explanation"].items():
            if not isinstance(v, dict):
                continue
            style = "green" if v["weight"] > 0 else "red" if v["weight"] < 0 else "dim"
            pt.add_row(field, v["level"], f"[{style}]{v['weight']:+.2f}[/]")
        pt.add_row("total", "", f"{p['weight']:+.2f}")
        console.print(pt)
    for d in info["decisions"]:
        console.print(
            f"reviewer decision: records {d['a']} and {d['b']} {d['decision']} "
            f"(by {d['by']}, {d['at']:%Y-%m-%d})"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from linkage.pipeline import write_report

    settings = _settings(args)
    with console.status("building the weekly report"):
        report = write_report(settings, _as_of(args), Path(args.output))
    console.print(report_table(report))
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    from linkage.estimate.command import run

    return run(
        console,
        counts=args.counts,
        settings_factory=lambda: _settings(args),
        as_of=_as_of(args),
        by=args.by,
        method=args.method,
        resamples=args.bootstrap,
        seed=args.seed,
        as_json=args.json,
        draws=args.draws,
    )


def cmd_run(args: argparse.Namespace) -> int:
    from linkage.pipeline import run_folder

    settings = _settings(args)
    with ConsoleView() as view:
        run_folder(settings, Path(args.dir), _as_of(args), view)
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from linkage.match.model_view import blocking_table, feature_table, rules_table, weights_table
    from linkage.pipeline import model_state

    state = model_state(_settings(args))
    for table in (feature_table(state.spec), blocking_table(state.spec), rules_table(state.spec)):
        console.print(table)
    if state.model is None:
        console.print("No weights fitted yet: `survivor-link link` fits them on the first run.")
        return 0
    console.print(weights_table(state.model))
    if state.refits:
        console.print("[yellow]Weights fitted under another spec: the next link fits them again[/]")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    console.print(f"store is at the newest schema: {settings.database_url.split('@')[-1]}")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from linkage.seal.command import cmd_keys as keys

    return keys(args, _settings(args), console)


def cmd_audit(args: argparse.Namespace) -> int:
    from linkage.seal.command import cmd_audit as audit_list

    return audit_list(args, _settings(args), console)


def _add_intake(sub: argparse._SubParsersAction) -> None:
    """Commands that take lists in: ingest, replay, quarantine, synth."""

    s = sub.add_parser("ingest", help="ingest list files (CSV, XLSX) or folders of them")
    s.add_argument("paths", nargs="+")
    s.add_argument("--source", help="source name; default: from the landing/<source>/ folder")
    s.add_argument("--strict", action="store_true", help="exit 1 when a delivery is rejected")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("replay", help="re-read quarantined rows and rejected files after a fix")
    s.add_argument("--delivery", help="only this delivery (sha256 or its prefix)")
    s.set_defaults(func=cmd_replay)

    s = sub.add_parser("quarantine", help="list quarantined rows and rejected files, with why")
    s.add_argument("--all", action="store_true", help="include rows already replayed")
    s.add_argument(
        "--show-values", action="store_true", help="also show the row as received (personal data; audited)"
    )
    s.set_defaults(func=cmd_quarantine)

    s = sub.add_parser("synth", help="write synthetic lists and their ground truth")
    s.add_argument("--persons", type=int, default=1000)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--as-of", help="last day of the synthetic period (YYYY-MM-DD)")
    s.add_argument("-o", "--out", required=True)
    s.set_defaults(func=cmd_synth)


def _add_steps(sub: argparse._SubParsersAction) -> None:
    """The pipeline's later steps one by one: export, flag, link, report."""
    s = sub.add_parser("export", help="export stored records, or open flags with their records, as CSV")
    s.add_argument("what", choices=["records", "flags"])
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--as-of", help="flags as they stood on this date (YYYY-MM-DD; default today)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser(
        "flag", help="flag every return not referred to case management after the grace period"
    )
    s.add_argument("--as-of", help="compute as of this date (YYYY-MM-DD; default today)")
    s.add_argument(
        "--all", action="store_true", help="recompute every person's flags (else those that changed)"
    )
    s.set_defaults(func=cmd_flag)

    s = sub.add_parser("link", help="link every record not yet linked into persons")
    s.add_argument("--rebuild", action="store_true", help="relink every record from scratch (ids are kept)")
    s.add_argument("--refit", action="store_true", help="fit the match weights again before linking")
    s.add_argument(
        "--fill-cache",
        action="store_true",
        help="only make the kept comparison row of every linked record that has none (after an upgrade)",
    )
    s.set_defaults(func=cmd_link)

    s = sub.add_parser("report", help="the weekly report of unreferred survivors for MoSVY")
    s.add_argument("kind", choices=["weekly"])
    s.add_argument("--as-of", help="the report's date (YYYY-MM-DD; default today)")
    s.add_argument("-o", "--output", required=True, help="folder for the workbook and CSV files")
    s.set_defaults(func=cmd_report)


def _add_inspection(sub: argparse._SubParsersAction) -> None:
    """Commands that look into linkage: review, explain, evaluate."""
    s = sub.add_parser("review", help="list pairs that need a person's decision, or decide one")
    rsub = s.add_subparsers(dest="action", required=True)
    r = rsub.add_parser("list", help="the review queue: undecided pairs, those that change a flag first")
    r.add_argument("--limit", type=int, default=50)
    r.add_argument(
        "--show-values", action="store_true", help="also show names and dates (personal data; audited)"
    )
    r.set_defaults(func=cmd_review)
    r = rsub.add_parser("decide", help="record that a pair is the same man or two different men")
    r.add_argument("pair")
    r.add_argument("decision", choices=["same", "different"])
    r.add_argument("--note")
    r.set_defaults(func=cmd_review)

    s = sub.add_parser("explain", help="why a person's records were linked, field by field")
    s.add_argument("person_id")
    s.add_argument(
        "--show-values", action="store_true", help="also show names and dates (personal data; audited)"
    )
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("evaluate", help="score persons against a synthetic truth and on FEBRL 3 and 4")
    s.add_argument("--truth", help="a synth output folder (or its truth/ folder)")
    s.add_argument("--no-febrl", dest="febrl", action="store_false", help="skip the FEBRL yardstick")
    s.add_argument("--as-of", help="score flags as of this date (YYYY-MM-DD; default today)")
    s.set_defaults(func=cmd_evaluate)


def _add_job(sub: argparse._SubParsersAction) -> None:
    """The whole job and the store: estimate, run, model, migrate."""
    s = sub.add_parser("estimate", help="how many returns are on no list: multiple systems estimation")
    s.add_argument("--as-of", help="returns on or before this date (YYYY-MM-DD; default today)")
    s.add_argument(
        "--by", choices=["year", "province"], default="year", help="one estimate per year or province"
    )
    s.add_argument("--counts", help="a capture-history CSV (0/1 columns per list, one count column) instead")
    s.add_argument(
        "--method",
        choices=["chan-silverman-vincent", "aic"],
        help="how pairs of lists are chosen (default: aic on the store, chan-silverman-vincent on --counts)",
    )
    s.add_argument("--bootstrap", type=int, default=200, help="resamples for the interval (0: profile only)")
    s.add_argument("--seed", type=int, default=1234)
    s.add_argument(
        "--draws",
        type=int,
        default=10,
        help="imputations of the review band's links, correcting for missed links (0: none)",
    )
    s.add_argument("--json", action="store_true", help="one JSON object per period")
    s.set_defaults(func=cmd_estimate)

    s = sub.add_parser("run", help="the whole job on a folder with landing/<source>/ files")
    s.add_argument("dir")
    s.add_argument("--as-of", help="flag as of this date (YYYY-MM-DD; default today)")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("model", help="the match model: its design (linkage/data/model.yaml) and weights")
    msub = s.add_subparsers(dest="model_command", required=True)
    m = msub.add_parser("show", help="features, blocking passes, rules, thresholds and fitted weights")
    m.set_defaults(func=cmd_model)

    s = sub.add_parser("migrate", help="create or upgrade the store's tables")
    s.set_defaults(func=cmd_migrate)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="survivor-link", description=__doc__.splitlines()[0])
    p.add_argument("--config", help="settings YAML file (else SURVIVOR_LINK_CONFIG)")
    sub = p.add_subparsers(dest="command", required=True)
    for add in (_add_intake, _add_steps, _add_inspection, _add_job):
        add(sub)

    from linkage.seal.command import add_parsers

    add_parsers(sub)
    sub.choices["keys"].set_defaults(func=cmd_keys)
    sub.choices["audit"].set_defaults(func=cmd_audit)
    return p


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy.exc import DBAPIError

    from linkage.match.spec import SpecError
    from linkage.pipeline.ingest import NoSuchPath
    from linkage.seal.errors import KeyError_
    from linkage.store.db import StoreError, store_error

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except NoSuchPath as exc:  # a path given to ingest or run that is not there: nothing was read
        raise SystemExit(str(exc)) from None
    except SpecError as exc:  # the model spec or its thresholds: which, and how to fix it
        console.print(f"[red]{escape(str(exc))}[/]; nothing was changed")
        return 2
    except KeyError_ as exc:  # a key missing or wrong: said plainly, nothing read or written
        console.print(f"[red]key problem:[/] {escape(str(exc))}")
        return 4
    except (StoreError, DBAPIError) as exc:  # the store is down or refused: our words, no values
        err = exc if isinstance(exc, StoreError) else store_error(exc, "cannot be used")
        console.print(f"[red]{escape(str(err))}[/]; nothing was half-written: run the command again")
        return 3


if __name__ == "__main__":
    sys.exit(main())
