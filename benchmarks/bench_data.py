"""Where a benchmark's synthetic lists and ingested store are cached, per size and seed.

Why a version in the name: the cache holds records as ingest made them from lists as synth
wrote them; after a change to either, figures from the old cache would measure code that is
gone. The folder name carries a digest of the code and tables that make the records, so a
change prepares the data again and an old folder is simply left unused.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_MAKERS = ("linkage/synth", "linkage/normalise", "linkage/ingest", "linkage/data", "sources")


def data_version() -> str:
    digest = hashlib.sha256()
    for folder in _MAKERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".yaml", ".yml", ".json", ".csv"):
                digest.update(path.relative_to(ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def cache_dir(persons: int, seed: int) -> Path:
    return ROOT / "var" / "bench" / f"p{persons}-s{seed}-{data_version()}"
