"""Links and files outside the folder: refused by name, never followed, never archived."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy import select

from linkage.ingest.load import Ingestor
from linkage.pipeline import ingest_pending
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import AuditLog, Delivery
from tests.conftest import write
from tests.helpers import iom_csv, iom_row

LINK = "a symbolic link: refused and not followed; copy the file itself into the folder"


def _private(tmp_path: Path) -> Path:
    return write(tmp_path / "private" / "secret.csv", iom_csv([iom_row("S1", name="PRIVATE SOK")]))


def _archived(settings: Settings) -> list[bytes]:
    return [p.read_bytes() for p in settings.archive_dir.rglob("*") if p.is_file()]


def test_a_link_in_a_landing_folder_is_moved_aside_unread(settings: Settings, tmp_path: Path) -> None:
    secret = _private(tmp_path)
    landing = settings.landing_dir / "iom"
    write(landing / "real.csv", iom_csv([iom_row("R1")]))
    link = landing / "zqxcanary_sok_intake.csv"  # a sender named it after the man
    os.symlink(secret, link)
    counts = ingest_pending(settings, "iom")
    assert (counts["refused"], counts["claimed"], counts["ingested"]) == (1, 1, 1)
    assert not link.exists() and not link.is_symlink()
    folder = settings.home / "refused" / "iom"
    aside = list(folder.iterdir())
    assert len(aside) == 1 and aside[0].is_symlink() and secret.exists()  # the link moved, not its file
    assert secret.read_bytes() not in _archived(settings)
    assert folder.stat().st_mode & 0o077 == 0  # 0700
    with session_scope(settings) as s:
        assert s.scalars(select(Delivery.file_name)).all() == ["real.csv"]
        refused = s.scalars(select(AuditLog).where(AuditLog.action == "landing.refused")).one()
    label = refused.details["file"]
    assert re.fullmatch(r"iom delivery [0-9a-f]{12}", label), label  # a keyed digest of the name
    assert refused.details == {"source": "iom", "file": label, "reason": LINK}
    # the folder names it by time and label, as the audit entry does: never by the name sent
    assert re.fullmatch(r"\d{8}T\d{6}__" + label.replace(" ", "_"), aside[0].name), aside[0].name
    os.symlink(secret, link)  # the same name again: the same label, another file beside it
    ingest_pending(settings, "iom")
    again = sorted(p.name for p in folder.iterdir())
    assert len(again) == 2 and all(label.replace(" ", "_") in n for n in again)
    assert not any("zqxcanary" in n.casefold() for n in again)


def test_the_command_line_refuses_links_and_linked_folders(
    settings: Settings, tmp_path: Path, monkeypatch, capsys
) -> None:
    from linkage.cli import main

    secret = _private(tmp_path)
    landing = tmp_path / "drop" / "landing" / "iom"
    write(landing / "real.csv", iom_csv([iom_row("R1")]))
    # names of safe words only, so the output shows them (linkage.privacy.file_label)
    os.symlink(secret, landing / "returns_list.csv")
    os.symlink(secret.parent, landing / "returns-lists")
    monkeypatch.setenv("SURVIVOR_LINK_HOME", str(settings.home))
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["ingest", str(tmp_path / "drop")]) == 0
    out = capsys.readouterr().out
    assert "returns_list.csv" in out and "a symbolic link: refused and not followed" in out
    assert "returns-lists" in out and "a symbolic link to a folder: refused and not followed" in out
    assert main(["ingest", "--strict", str(landing / "returns_list.csv"), "--source", "iom"]) == 1
    assert secret.read_bytes() not in _archived(settings)
    with session_scope(settings) as s:
        assert s.scalars(select(Delivery.file_name)).all() == ["real.csv"]


def test_a_link_given_by_name_is_refused(settings: Settings, tmp_path: Path) -> None:
    secret = _private(tmp_path)
    os.symlink(secret, tmp_path / "named.csv")
    r = Ingestor(settings).ingest_path(tmp_path / "named.csv", "iom")
    assert (r.status, r.reason, r.sha256) == ("refused", LINK, "")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    r = Ingestor(settings).ingest_path(fifo, "iom")
    assert (r.status, r.reason) == ("refused", "not a regular file (a device, pipe or socket): refused")
    assert _archived(settings) == []


def test_a_link_swapped_in_after_the_listing_is_not_claimed(settings: Settings, tmp_path: Path) -> None:
    """The trigger lists a file, then a link takes its place before the claim opens it."""
    import pytest

    from linkage.landing import claim

    secret = _private(tmp_path)
    landing = settings.landing_dir / "iom"
    landing.mkdir(parents=True)
    os.symlink(secret, landing / "swapped.csv")
    with pytest.raises(FileNotFoundError):  # what the trigger already skips
        claim(settings, landing / "swapped.csv", "iom")
    with session_scope(settings) as s:
        assert s.scalars(select(Delivery)).all() == []
    assert secret.read_bytes() not in _archived(settings)


def test_refused_files_named_as_sent_by_an_older_version_are_renamed_by_label(
    settings: Settings, tmp_path: Path
) -> None:
    """Before labels, a refused link was kept as <time>__<the name sent>, which may name a
    man: the next refusal pass renames it <time>__<label> (the label a refusal of that name
    gets now), leaves names of safe words and labels as they are, and narrows the folder."""
    from linkage.landing import refuse_links, rename_old_refused

    secret = _private(tmp_path)
    folder = settings.home / "refused" / "iom"
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)
    old = folder / "20261130T120000__zqxcanary_sok_intake.csv"
    safe = folder / "20261130T120001__iom_returns_v1.csv"
    os.symlink(secret, old)
    os.symlink(secret, safe)
    landing = settings.landing_dir / "iom"
    landing.mkdir(parents=True)
    os.symlink(secret, landing / "zqxcanary_sok_intake.csv")  # the same name refused now
    (label,) = refuse_links(settings, "iom")
    names = sorted(p.name for p in folder.iterdir())
    stem = label.replace(" ", "_")
    assert re.fullmatch(r"iom delivery [0-9a-f]{12}", label), label
    assert names[:2] == [f"20261130T120000__{stem}", safe.name], names  # its time kept
    assert len(names) == 3 and names[2].endswith(f"__{stem}") and not any("zqxcanary" in n for n in names)
    assert all(p.is_symlink() and p.resolve() == secret for p in folder.iterdir())  # moved, unread
    assert folder.stat().st_mode & 0o077 == 0
    with session_scope(settings) as s:
        renamed = s.scalars(select(AuditLog).where(AuditLog.action == "landing.refused_renamed")).one()
    assert renamed.details == {"source": "iom", "files": 1}
    assert rename_old_refused(settings, "iom") == 0  # once: labels are left as they are
