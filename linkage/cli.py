"""survivor-link command line: every step of the pipeline, without Airflow.

Why a CLI for everything: a data officer or engineer can run, re-run and inspect each step
on one machine; the Airflow DAGs call the same functions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from linkage.settings import Settings, load_settings

# Tables wider than a pipe's default 80 columns stay readable when output goes to a file or CI log.
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(getattr(args, "config", None))
    from linkage.store.db import migrate

    migrate(settings)
    return settings


def _files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.exists():
            out.append(p)
        else:
            raise SystemExit(f"no such file or folder: {p}")
    return out


def _delivery_table(results: list) -> Table:
    t = Table(title="Deliveries", show_lines=False)
    for col in ("file", "source", "status", "read", "loaded", "quarantined", "why / by reason", "warnings"):
        t.add_column(col, overflow="fold")
    for r in results:
        why = r.reason or ", ".join(f"{k}: {v}" for k, v in sorted(r.quarantined_by_rule.items()))
        if r.unknown_columns:
            why += ("; " if why else "") + f"unknown columns kept: {', '.join(r.unknown_columns)}"
        warn = ", ".join(f"{k}: {v}" for k, v in sorted(r.warnings_by_rule.items()))
        style = {"rejected": "red", "duplicate": "dim"}.get(r.status, "")
        t.add_row(
            r.file_name,
            r.source,
            f"[{style}]{r.status}[/]" if style else r.status,
            str(r.rows_read),
            str(r.rows_loaded),
            str(r.rows_quarantined),
            why,
            warn,
        )
    return t


def cmd_ingest(args: argparse.Namespace) -> int:
    from linkage.ingest.load import Ingestor

    settings = _settings(args)
    files = _files(args.paths)
    results = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        overall = bar.add_task("files", total=len(files))
        rows_task = bar.add_task("rows", total=None)

        def progress(name: str, done: int, total: int) -> None:
            bar.update(rows_task, description=f"rows of {name}", completed=done, total=total)

        ingestor = Ingestor(settings, progress=progress)
        for f in files:
            bar.update(overall, description=f"ingesting {f.name}")
            results.append(ingestor.ingest_path(f, args.source))
            bar.advance(overall)
    console.print(_delivery_table(results))
    return 1 if any(r.status == "rejected" for r in results) and args.strict else 0


def cmd_replay(args: argparse.Namespace) -> int:
    from linkage.ingest.load import Ingestor

    settings = _settings(args)
    results = Ingestor(settings).replay(args.delivery)
    if not results:
        console.print("nothing to replay: no open quarantined rows or rejected deliveries")
        return 0
    console.print(_delivery_table(results))
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from linkage.store.db import audit, session_scope
    from linkage.store.models import Delivery, Quarantine

    settings = _settings(args)
    with session_scope(settings) as s:
        q = (
            select(Quarantine, Delivery.file_name)
            .join(Delivery, Delivery.sha256 == Quarantine.delivery_sha256)
            .order_by(Delivery.file_name, Quarantine.line)
        )
        if not args.all:
            q = q.where(Quarantine.status == "open")
        rows = s.execute(q).all()
        t = Table(title=f"Quarantined rows ({len(rows)})")
        for col in ("file", "source", "line", "column", "rule", "reason", "status"):
            t.add_column(col, overflow="fold")
        if args.show_values:
            t.add_column("row as received", overflow="fold")
            audit(s, "quarantine.values_shown", None, rows=len(rows))
        for qr, file_name in rows:
            cells = [file_name, qr.source, str(qr.line), qr.column or "", qr.rule, qr.reason, qr.status]
            if args.show_values:
                cells.append("; ".join(f"{k}={v}" for k, v in (qr.raw or {}).items() if v))
            t.add_row(*cells)
        rejected = list(s.scalars(select(Delivery).where(Delivery.status == "rejected")))
    console.print(t)
    if rejected:
        rt = Table(title=f"Rejected deliveries ({len(rejected)})")
        for col in ("file", "source", "sha256", "reason"):
            rt.add_column(col, overflow="fold")
        for d in rejected:
            rt.add_row(d.file_name, d.source, d.sha256[:12], d.reason or "")
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


def cmd_export(args: argparse.Namespace) -> int:
    from linkage.export import export_records

    settings = _settings(args)
    if args.what == "records":
        n = export_records(settings, Path(args.output))
    else:
        raise SystemExit(f"unknown export '{args.what}'")
    console.print(f"wrote {n} rows to {args.output}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    landing = root / "landing" if (root / "landing").is_dir() else root
    args.paths, args.source, args.strict = [str(landing)], None, False
    return cmd_ingest(args)


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    console.print(f"store is at the newest schema: {settings.database_url.split('@')[-1]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="survivor-link", description=__doc__.splitlines()[0])
    p.add_argument("--config", help="settings YAML file (else SURVIVOR_LINK_CONFIG)")
    sub = p.add_subparsers(dest="command", required=True)

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

    s = sub.add_parser("export", help="export stored data as CSV")
    s.add_argument("what", choices=["records"])
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("run", help="the whole job on a folder with landing/<source>/ files")
    s.add_argument("dir")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("migrate", help="create or upgrade the store's tables")
    s.set_defaults(func=cmd_migrate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
