"""The command line of keys and audit: `survivor-link keys show|new|rotate`, `survivor-link audit`.

Why apart from linkage/cli.py: what a key command prints is checked here once (key ids and
paths, never key material), and the audit listing reads only the audit log.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from linkage.settings import Settings

# audit actions that opened sealed values for a person to see or take away
DECRYPTING_ACTIONS = (
    "delivery.names_shown",
    "quarantine.values_shown",
    "review.show_values",
    "explain.show_values",
    "export.records",
    "export.flags",
    "report.weekly",
)


def cmd_keys(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from sqlalchemy import select

    from linkage.seal.master import create_master_key, key_path, read_key_file, read_master_key
    from linkage.store.db import session_scope
    from linkage.store.models import StoreKey

    if args.action == "new":
        key = create_master_key(settings, Path(args.path))
        console.print(f"new master key {key.key_id} in {escape(args.path)} (0600)")
        return 0
    if args.action == "rotate":
        from linkage.seal.rotate import install_new_key, rotate

        new_path = Path(args.new_key_file) if args.new_key_file else key_path(settings).with_suffix(".next")
        new = read_key_file(new_path) or create_master_key(settings, new_path)
        rotation = rotate(settings, new, lambda m: console.print(escape(m)))
        console.print(
            f"rotated: master key {rotation.old_master} -> {rotation.new_master}, data key "
            f"{rotation.data_key}; {rotation.values} values and {rotation.files} archived files re-sealed"
        )
        console.print(escape(install_new_key(settings, new_path)))
        return 0
    master = read_master_key(settings)
    with session_scope(settings) as s:
        rows = list(s.scalars(select(StoreKey).order_by(StoreKey.purpose, StoreKey.created_at)))
    t = Table(title="Store keys (wrapped; no key material shown)")
    for col in ("key id", "purpose", "status", "wrapped by master key", "created"):
        t.add_column(col)
    for r in rows:
        t.add_row(r.key_id, r.purpose, r.status, r.master_id, r.created_at.isoformat(timespec="seconds"))
    console.print(t)
    where = master.source if master else str(key_path(settings))
    console.print(f"master key in use: {master.key_id if master else 'none'} ({escape(where)})")
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from sqlalchemy import select

    from linkage.store.db import session_scope
    from linkage.store.models import AuditLog

    q = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(args.limit)
    if args.decryptions:
        q = q.where(AuditLog.action.in_(DECRYPTING_ACTIONS))
    if args.action:
        q = q.where(AuditLog.action.startswith(args.action))
    with session_scope(settings) as s:
        rows = list(s.scalars(q))
    title = "Decryptions for display or export" if args.decryptions else "Audit log"
    t = Table(title=f"{title} (newest first, {len(rows)})")
    for col in ("when (UTC)", "who", "action", "subject", "details"):
        t.add_column(col, overflow="fold")
    for a in rows:
        details = json.dumps(a.details or {}, ensure_ascii=False, default=str)
        t.add_row(
            a.at.isoformat(timespec="seconds"),
            escape(a.actor),
            a.action,
            escape(a.subject or ""),
            escape(details),
        )
    console.print(t)
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("keys", help="the store's keys: show them, make a master key, rotate")
    ksub = s.add_subparsers(dest="action", required=True)
    ksub.add_parser("show", help="key ids, which master key wraps them, where the master key is")
    k = ksub.add_parser("new", help="write a new master key file (0600)")
    k.add_argument("path")
    k = ksub.add_parser("rotate", help="a new master and data key; every value and archived file re-sealed")
    k.add_argument("--new-key-file", help="the new master key (made when missing; default <key file>.next)")
    s = sub.add_parser(
        "audit", help="who did what: ingests, decisions, and every decryption shown or exported"
    )
    s.add_argument("--decryptions", action="store_true", help="only values opened for display or export")
    s.add_argument("--action", help="only actions starting with this")
    s.add_argument("--limit", type=int, default=100)
