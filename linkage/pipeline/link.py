"""Link and flag steps: records into persons, then every return checked for a referral.

Why one `link_then_flag` for the CLI's `run` and the link DAG: flags are computed on the
persons linkage just made, so the two always run in this order, in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from linkage.pipeline.observer import QUIET, Observer
from linkage.settings import Settings
from linkage.store.db import session_scope
from linkage.store.models import Delivery

if TYPE_CHECKING:
    from linkage.match.linker import LinkSummary
    from linkage.referral.history import FlagRun


@dataclass(frozen=True)
class Linked:
    """A link run and the flag update after it: counts only."""

    link: LinkSummary
    flags: FlagRun

    def counts(self) -> dict[str, Any]:
        """What the link task returns, logs and puts on the flags asset's event."""
        return {
            "records_linked": self.link.records_linked,
            "persons_created": self.link.persons_created,
            "persons_merged": self.link.persons_merged,
            "pairs_for_review": self.link.pairs_for_review,
            "events_created": self.link.events_created,
            "flags_opened": self.flags.opened,
            "flags_closed": self.flags.closed,
            "flags_open": self.flags.open,
        }


def link_records(
    settings: Settings, rebuild: bool = False, refit: bool = False, observer: Observer = QUIET
) -> LinkSummary:
    """Link every record not linked yet (or, with rebuild, every record) into persons."""
    from linkage.match.linker import link

    observer.link_started()
    summary = link(settings, rebuild=rebuild, refit=refit, progress=observer.link_progress)
    observer.link_done(summary)
    return summary


def flag_returns(
    settings: Settings, as_of: dt.date | None = None, observer: Observer = QUIET, everything: bool = False
) -> FlagRun:
    """Open flags for returns unreferred past the grace period, close those now referred
    (the persons that changed since the last run; with everything, every person)."""
    from linkage.referral.history import update_flags

    observer.flag_started()
    run = update_flags(settings, as_of or dt.date.today(), everything)
    observer.flag_done(run)
    return run


def link_then_flag(settings: Settings, as_of: dt.date | None = None, observer: Observer = QUIET) -> Linked:
    """Link the new records, then bring the flags up to date on the persons just made."""
    summary = link_records(settings, observer=observer)
    return Linked(summary, flag_returns(settings, as_of, observer))


def link_and_flag(settings: Settings, as_of: dt.date | None = None) -> dict[str, Any]:
    """The link task's step, as counts."""
    return link_then_flag(settings, as_of).counts()


def link_note(counts: dict[str, Any]) -> str:
    """The link run's note, from its counts."""
    return (
        f"{counts['records_linked']} records linked, {counts['persons_created']} new persons, "
        f"{counts['persons_merged']} merged, {counts['pairs_for_review']} pairs for review; "
        f"flags opened {counts['flags_opened']}, closed {counts['flags_closed']}, "
        f"open {counts['flags_open']}"
    )


def link_work(settings: Settings) -> dict[str, int]:
    """What the next link would take up (records unlinked, decisions unapplied); all zero: nothing."""
    from linkage.officer.linking import link_work as work

    return work(settings)


def deliveries_in_flight(settings: Settings) -> int:
    """Deliveries claimed from a landing folder but not yet ingested (another task has them).

    Linking waits for these, so that lists dropped together are linked together: one pass,
    the same persons as `survivor-link run` on the same folder.
    """
    with session_scope(settings) as s:
        return int(s.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "landed")))
