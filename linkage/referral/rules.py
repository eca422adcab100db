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
_STATUS_FILLERS = frozenset({"case", "under", "status", "is", "in"})
# Khmer writes a status as one word with its fillers: ករណីសកម្ម (case active), កំពុងតាមដាន
# (being followed up), បានបញ្ជូនបន្ត (has been referred on), បិទករណី (case closed).
_KHMER_STATUS_FILLERS = ("ករណី", "កំពុង", "ត្រូវបាន", "បាន", "ស្ថានភាព")
# A referred_to that starts with one of these says there was none ('No referral', 'non').
_LATIN_NEGATIONS = frozenset({"no", "not", "non", "none", "nil", "never"})
# ... and these say so wherever they stand ('Hagar - not yet', 'LSCW: none').
_LATIN_NEGATIONS_ANYWHERE = frozenset({"not", "none", "nil", "never"})
_KHMER_NEGATIONS = ("មិន", "គ្មាន", "អត់")  # not; none; without
# Words around where he went home to ('Returned to family', 'sent back home', បញ្ជូនទៅគ្រួសារវិញ).
_DESTINATION_FILLERS = frozenset(
    {"to", "the", "his", "her", "with", "back", "sent", "returned", "return", "reunified"}
    | {"reunification", "reintegration", "reintegrated", "went", "go", "gone", "own", "referred"}
)
_KHMER_DESTINATION_FILLERS = re.compile("បាន|ត្រូវ|បញ្ជូន|ប្រគល់|ត្រឡប់|ជួបជុំ|ទៅ|មក|វិញ|ឲ្យ|ឱ្យ|ជូន|នៅ|របស់|គាត់")
_KHMER = re.compile("[\u1780-\u17ff]")


def words(text: object) -> list[str]:
    """Lower-case words of a cell, split on spaces and punctuation ('N/A' -> ['n', 'a'])."""
    if not isinstance(text, str):
        return []
    return [w for w in _SEPARATORS.split(text.strip().lower()) if w]


def _khmer_core(word: str) -> str:
    """A Khmer status word without the fillers written into it: ករណីសកម្ម -> សកម្ម."""
    changed = True
    while changed:
        changed = False
        for f in _KHMER_STATUS_FILLERS:
            if word.startswith(f) and len(word) > len(f):
                word, changed = word[len(f) :], True
            if word.endswith(f) and len(word) > len(f):
                word, changed = word[: -len(f)], True
    return word


def status_words(text: object, known: frozenset[str] = frozenset()) -> list[str]:
    """A case status's words, fillers dropped (in Khmer, from inside the word too), and a word
    that is two known ones written together split ('FollowUp' -> follow, up)."""
    out: list[str] = []
    for w in words(text):
        if w in _STATUS_FILLERS:
            continue
        if _KHMER.match(w):
            out.append(_khmer_core(w))
            continue
        cut = next((i for i in range(1, len(w)) if w[:i] in known and w[i:] in known), 0)
        out += [w[:cut], w[cut:]] if cut and w not in known else [w]
    return out


def status_key(text: object) -> str:
    """A case status as its words, sorted, fillers dropped: 'Closed - Referred',
    'closed_referred', 'Closed (Referred)', 'Referred/Closed' -> 'closed-referred'."""
    return "-".join(sorted(status_words(text)))


def value_key(text: object) -> str:
    """A referred_to value without case, spaces or punctuation: 'N/A', 'n.a.' -> 'na'; '--' -> ''."""
    return "".join(words(text))


def _says_not_yet(said: list[str], not_yet: tuple[str, ...]) -> bool:
    """Whether the words say there was no referral (yet), wherever they stand: a negation,
    a not-yet word ('pending', រង់ចាំ), 'to be' or 'will' ('To be referred to Hagar')."""
    for i, w in enumerate(said):
        if w in _LATIN_NEGATIONS_ANYWHERE or w in not_yet or w == "will":
            return True
        if w == "to" and i + 1 < len(said) and said[i + 1] == "be":
            return True
        if _KHMER.match(w) and any(n in w for n in _KHMER_NEGATIONS + not_yet if _KHMER.match(n)):
            return True
    return False


@dataclass(frozen=True)
class ReferralRules:
    """What counts as a referral to long-term case management (all settings)."""

    organisations: tuple[str, ...]
    non_referral_values: tuple[str, ...]
    statuses: tuple[str, ...]
    partial_statuses: tuple[str, ...]
    remark_patterns: dict[str, tuple[str, ...]]
    non_referral_remarks: dict[str, tuple[str, ...]]
    referred_on_words: tuple[str, ...] = ()
    not_yet_words: tuple[str, ...] = ()
    destinations: tuple[str, ...] = ()

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
            referred_on_words=tuple(w.lower() for w in settings.referred_on_words),
            not_yet_words=tuple(w.lower() for w in settings.not_yet_words),
            destinations=tuple(w.lower() for w in settings.non_referral_destinations),
        )

    def counts_as_referral(self, referred_to: object) -> bool:
        """An organisation named in IOM's referred_to; not a word for none, nor a negation or
        a not-yet word ('Pending - Hagar'), nor only where he went home to ('Family')."""
        said = words(referred_to)
        if not said or value_key(referred_to) in self.non_referral_values:
            return False
        if said[0] in _LATIN_NEGATIONS or _says_not_yet(said, self.not_yet_words):
            return False
        if self._only_home(said):
            return False
        org = str(referred_to).strip().lower()
        return "*" in self.organisations or any(o in org for o in self.organisations)

    def _only_home(self, said: list[str]) -> bool:
        """Every word is where he went home to or a word around it ('Returned to family',
        បញ្ជូនទៅគ្រួសារវិញ), and one of them is a destination."""
        found = False
        for w in said:
            if _KHMER.match(w):
                rest = _KHMER_DESTINATION_FILLERS.sub("", w)
                for d in self.destinations:
                    if _KHMER.match(d) and d in rest:
                        rest, found = rest.replace(d, ""), True
                if rest:
                    return False
            elif w in self.destinations:
                found = True
            elif w not in _DESTINATION_FILLERS:
                return False
        return found

    def status_kind(self, text: object) -> str:
        """What an NGO case status says: 'referral' (a status the settings name, one that
        holds one of them, 'Active - follow-up', or one that sent the case on to another
        organisation, 'Referred to LSCW'), 'partial' (closed without one: 'Closed',
        'Closed - reintegrated', 'Closed - not referred'), 'unknown' (words no setting
        names, 'On hold'), or '' (blank)."""
        said = status_words(text, self._status_vocabulary)
        if not said:
            return ""
        key = "-".join(sorted(said))
        if key in self.statuses:
            return "referral"
        if key in self.partial_statuses:
            return "partial"
        present = set(said)
        if not _says_not_yet(said, self.not_yet_words) and said[0] not in _LATIN_NEGATIONS:
            if any(self._referred_on(w) for w in said):
                return "referral"
            if any(set(s.split("-")) <= present for s in self.statuses if s not in self.partial_statuses):
                return "referral"
        if any(set(s.split("-")) <= present for s in self.partial_statuses):
            return "partial"
        return "unknown"

    @property
    def _status_vocabulary(self) -> frozenset[str]:
        """The Latin words of the statuses the settings name (follow, up, closed, referred)."""
        return frozenset(w for s in self.statuses + self.partial_statuses for w in s.split("-")) | frozenset(
            self.referred_on_words
        )

    def _referred_on(self, word: str) -> bool:
        """A word that says the case went on ('referred', 'transferred'; Khmer បញ្ជូន... as
        the start of a word, but not បញ្ជូនមកវិញ, sent back home)."""
        if word in self.referred_on_words:
            return True
        return bool(_KHMER.match(word)) and any(
            _KHMER.match(w) and word.startswith(w) and "មកវិញ" not in word for w in self.referred_on_words
        )

    def remark_regexes(self) -> dict[str, tuple[re.Pattern[str], re.Pattern[str] | None]]:
        """Per source: the remark patterns of a referral, and of none (which win)."""
        out = {}
        for source, patterns in self.remark_patterns.items():
            yes = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
            nos = self.non_referral_remarks.get(source, ())
            no = re.compile("|".join(f"(?:{p})" for p in nos), re.IGNORECASE) if nos else None
            out[source] = (yes, no)
        return out
