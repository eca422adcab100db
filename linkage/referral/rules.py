"""What counts as a referral to long-term case management, read from what lists write.

Why a module of its own: every desk writes a referral its own way ('Closed (Referred)',
'closed/referred', 'សកម្ម'; 'N/A', '--', 'ទេ' or 'No referral' for none; a ministry remark
'បានបញ្ជូនទៅអង្គការ...' or 'មិនទាន់បញ្ជូន', not yet), and a flag is wrong whenever one of
them is misread. The words are settings and mappings; the reading (case, separators, word
order, a negation) is here, once, for every flag and so for the weekly report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linkage.settings import Settings
from linkage.sources import load_mappings

# Separators lists put between the words of a status or a value (ASCII punctuation, dashes).
_SEPARATORS = re.compile(r"[\s!-/:-@\[-`{-~\u2010-\u2015\u200b]+")
# Words a status may carry around its meaning ('Active case', 'Under follow-up').
_STATUS_FILLERS = frozenset({"case", "under", "status"})
# A referred_to that starts with one of these says there was none ('No referral', 'not yet').
_LATIN_NEGATIONS = frozenset({"no", "not", "non", "none", "nil", "never"})
_KHMER_NEGATIONS = ("មិន", "គ្មាន", "អត់")  # not; none; without


def words(text: object) -> list[str]:
    """Lower-case words of a cell, split on spaces and punctuation ('N/A' -> ['n', 'a'])."""
    if not isinstance(text, str):
        return []
    return [w for w in _SEPARATORS.split(text.strip().lower()) if w]


def status_key(text: object) -> str:
    """A case status as its words, sorted, fillers dropped: 'Closed - Referred',
    'closed_referred', 'Closed (Referred)', 'Referred/Closed' -> 'closed-referred'."""
    return "-".join(sorted(w for w in words(text) if w not in _STATUS_FILLERS))


def value_key(text: object) -> str:
    """A referred_to value without case, spaces or punctuation: 'N/A', 'n.a.' -> 'na'; '--' -> ''."""
    return "".join(words(text))


@dataclass(frozen=True)
class ReferralRules:
    """What counts as a referral to long-term case management (all settings)."""

    organisations: tuple[str, ...]
    non_referral_values: tuple[str, ...]
    statuses: tuple[str, ...]
    partial_statuses: tuple[str, ...]
    remark_patterns: dict[str, tuple[str, ...]]
    non_referral_remarks: dict[str, tuple[str, ...]]

    @classmethod
    def from_settings(cls, settings: Settings) -> ReferralRules:
        mappings = load_mappings(settings.sources_dir)
        return cls(
            organisations=tuple(o.lower() for o in settings.referral_organisations),
            non_referral_values=tuple(value_key(v) for v in settings.non_referral_values),
            statuses=tuple(status_key(s) for s in settings.referral_statuses),
            partial_statuses=tuple(status_key(s) for s in settings.partial_statuses),
            remark_patterns={m.source: m.referral_remarks for m in mappings.values() if m.referral_remarks},
            non_referral_remarks={
                m.source: m.non_referral_remarks for m in mappings.values() if m.non_referral_remarks
            },
        )

    def counts_as_referral(self, referred_to: object) -> bool:
        """An organisation named in IOM's referred_to; not a word for none, nor a negation."""
        said = words(referred_to)
        if not said or value_key(referred_to) in self.non_referral_values:
            return False
        if said[0] in _LATIN_NEGATIONS or said[0].startswith(_KHMER_NEGATIONS):
            return False
        org = str(referred_to).strip().lower()
        return "*" in self.organisations or any(o in org for o in self.organisations)

    def remark_regexes(self) -> dict[str, tuple[re.Pattern[str], re.Pattern[str] | None]]:
        """Per source: the remark patterns of a referral, and of none (which win)."""
        out = {}
        for source, patterns in self.remark_patterns.items():
            yes = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
            nos = self.non_referral_remarks.get(source, ())
            no = re.compile("|".join(f"(?:{p})" for p in nos), re.IGNORECASE) if nos else None
            out[source] = (yes, no)
        return out
