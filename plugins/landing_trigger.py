"""An event trigger that watches one source's landing folder for Airflow's AssetWatcher.

Why our own: providers-standard's file triggers delete what they see or are refused as
watchers. This one waits until a file has stopped changing, claims it through
linkage.landing (hash, `landed` in the store, atomic move to the inbox) and yields one
event per file, carrying the source, the hash and a safe file name only. The store keeps
each delivery's state, so a restarted triggerer neither loses a file nor claims one twice.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent


class LandingFolderTrigger(BaseEventTrigger):
    """Yields {"source", "sha256", "file"} for each fully written file in a folder: "file"
    is the file's label (linkage.privacy.file_label), since an event is kept in Airflow's
    database, where a survivor's name in a file name would be in clear."""

    def __init__(self, source: str, poll_seconds: float = 5.0, settle_seconds: float = 3.0) -> None:
        super().__init__()
        self.source = source
        self.poll_seconds = poll_seconds
        self.settle_seconds = settle_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "landing_trigger.LandingFolderTrigger",
            {"source": self.source, "poll_seconds": self.poll_seconds, "settle_seconds": self.settle_seconds},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from linkage.landing import claim, landing_folder, settled_files
        from linkage.settings import load_settings

        settings = load_settings()
        folder: Path = landing_folder(settings, self.source)
        seen: dict[Path, tuple[int, int, float]] = {}
        while True:
            ready = await asyncio.to_thread(settled_files, folder, self.settle_seconds, seen)
            for path in ready:
                try:
                    claimed = await asyncio.to_thread(claim, settings, path, self.source)
                except FileNotFoundError:  # taken by a task's own claim meanwhile
                    continue
                self.log.info("claimed a %s delivery %s", self.source, claimed.sha256[:12])
                yield TriggerEvent({"source": self.source, "sha256": claimed.sha256, "file": claimed.label})
            await asyncio.sleep(self.poll_seconds)

    def __repr__(self) -> str:  # no paths or names in logs beyond the source
        return f"<LandingFolderTrigger source={self.source} pid={os.getpid()}>"
