"""Private files and folders: 0600 files in 0700 folders, and whole files sealed at rest.

Why here: the store file, the raw archive, reports and exports all hold survivors' data,
and a file created with the process's umask (0644) is readable by every user of the machine.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create a folder (and missing parents) 0700; an existing one is narrowed to 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if path.stat().st_mode & 0o077:
        os.chmod(path, DIR_MODE)
    return path


def write_private(path: Path, data: bytes, exclusive: bool = False) -> Path:
    """Write bytes to a 0600 file atomically (a temporary beside it, then renamed; with
    `exclusive`, linked into place only when no file has that name)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    if exclusive:  # only if absent, and never seen half-written: FileExistsError otherwise
        try:
            os.link(tmp, path)
        finally:
            os.unlink(tmp)
        return path
    os.replace(tmp, path)
    return path


def make_private(path: Path) -> Path:
    """Narrow a file just written by a library (openpyxl, csv) to 0600."""
    os.chmod(path, FILE_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create an empty 0600 file if it is not there, so a library opening it keeps that mode."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE))
    else:
        make_private(path)
    return path
