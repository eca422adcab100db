"""Reading list files from folders without following links out of them.

Why: a symbolic link dropped into a landing folder (or a folder given to `ingest`) can
point at any file the service may read, a private key or another office's list; following
it would copy that file into the archive, readable by all. Links, and anything that is not
a regular file inside the folder, are refused by name and never opened.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path


class RefusedFile(Exception):
    """A path that is not read: says why, in words for the officer."""


@dataclass(frozen=True)
class Refused:
    path: Path
    reason: str


LINK = "a symbolic link: refused and not followed; copy the file itself into the folder"


def read_regular(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file, opened without following a link (a link swapped in
    after a check is refused too)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if path.is_symlink():
            raise RefusedFile(LINK) from None
        raise RefusedFile(f"cannot be opened ({exc.strerror or type(exc).__name__})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise RefusedFile("not a regular file (a device, pipe or socket): refused")
        if max_bytes is not None and st.st_size > max_bytes:
            raise RefusedFile(f"file is {st.st_size / 2**20:,.0f} MiB; limit {max_bytes / 2**20:,.0f} MiB")
        return fh.read()


def files_under(root: Path) -> tuple[list[Path], list[Refused]]:
    """Regular files under a folder (hidden ones skipped), sorted; links and other
    non-files are refused, and links to folders are not walked into."""
    found: list[Path] = []
    refused: list[Refused] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        here = Path(folder)
        for d in list(dirs):
            if (here / d).is_symlink():
                refused.append(Refused(here / d, "a symbolic link to a folder: refused and not followed"))
                dirs.remove(d)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = here / name
            if name.startswith("."):
                continue
            if path.is_symlink():
                refused.append(Refused(path, LINK))
            elif not path.is_file():
                refused.append(Refused(path, "not a regular file (a device, pipe or socket): refused"))
            else:
                found.append(path)
    return sorted(found), refused
