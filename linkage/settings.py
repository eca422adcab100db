"""Settings in one place: defaults, then an optional YAML file, then environment variables.

Why: data officers and operators change the grace period, thresholds or the store URL
without touching code, and every component (CLI, DAGs, tests) reads the same values.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]

ENV_PREFIX = "SURVIVOR_LINK_"


@dataclass(frozen=True)
class Settings:
    """Every tunable of survivor-link. Environment: SURVIVOR_LINK_<NAME upper-cased>."""

    home: Path = Path("var")
    db_url: str = ""  # empty: sqlite file under home
    # The master key file (0600); empty: <home>/keys/master.key, made on first use.
    # SURVIVOR_LINK_MASTER_KEY (base64 of 32 bytes) wins over any file.
    master_key_file: Path = Path("")
    sources_dir: Path = PROJECT_ROOT / "sources"
    expectations_dir: Path = PROJECT_ROOT / "expectations"
    # Ingest guards
    max_file_bytes: int = 200 * 1024 * 1024
    xlsx_max_uncompressed_bytes: int = 300 * 1024 * 1024
    xlsx_max_ratio: float = 150.0
    header_search_rows: int = 25
    data_docs: bool = True  # render each validation into <home>/data_docs/ (values stripped)
    # Referral flags
    grace_days: int = 30
    # NGO case statuses, read without case, punctuation, word order or 'case'/'under' around
    # them (linkage/referral/rules.py): 'Closed (Referred)' is closed-referred; Khmer too
    # (សកម្ម active, តាមដាន follow-up, បិទ-បញ្ជូនបន្ត closed and referred on, បិទ closed)
    referral_statuses: tuple[str, ...] = (
        "active",
        "follow-up",
        "closed-referred",
        "referred",
        "open",  # an open case is one the NGO keeps (case-management systems' word for active)
        "ongoing",
        # stages of case management (MoSVY's 2022 circular): (pre-)reintegration, monitoring
        "reintegration",
        "monitoring",
        "សកម្ម",
        "តាមដាន",
        "បិទ-បញ្ជូនបន្ត",
        "បញ្ជូនបន្ត",
        "សមាហរណកម្ម",  # reintegration
    )
    # closed, or lost: no longer in case management, and never referred on
    partial_statuses: tuple[str, ...] = ("closed", "បិទ", "lost contact", "បាត់ទំនាក់ទំនង")
    # A status that says the case went on to another organisation ('Referred to LSCW',
    # 'Closed - transferred to Hagar', បញ្ជូនទៅអង្គការ...) keeps him in case management: a
    # word here (a Khmer one as the start of a word) and no negation or not-yet word.
    referred_on_words: tuple[str, ...] = ("referred", "referral", "transferred", "transfer", "បញ្ជូន")
    # Words that say a referral has not happened, wherever they stand in a referred_to or a
    # status ('Hagar (pending)', 'Refused referral', 'Waiting for LSCW', រង់ចាំ waiting, បដិសេធ
    # refused); 'to be' and 'will' ('To be referred to Hagar') say so too.
    not_yet_words: tuple[str, ...] = (
        "pending",
        "waiting",
        "awaiting",
        "planned",
        "refused",
        "declined",
        "រង់ចាំ",
        "បដិសេធ",
    )
    # A referred_to that names only where he went home to is no organisation: 'Family',
    # 'Returned to family', 'Home', 'Self', 'Community' (គ្រួសារ family, ផ្ទះ home, ស្រុកកំណើត
    # home district); with an organisation beside it ('Hagar; family') it is a referral.
    non_referral_destinations: tuple[str, ...] = (
        "family",
        "home",
        "self",
        "community",
        "village",
        "parents",
        "គ្រួសារ",
        "ផ្ទះ",
        "ភូមិ",
        "ស្រុកកំណើត",
        "ឪពុកម្ដាយ",
    )
    # IOM referred_to: "*" counts any organisation named; else substrings that count.
    referral_organisations: tuple[str, ...] = ("*",)
    # ... except these words for none (read without case or punctuation: 'N/A' is 'n/a'), and
    # any value that starts with a negation (no, not, non, nil, never; មិន, គ្មាន, អត់)
    non_referral_values: tuple[str, ...] = (
        "none",
        "n/a",
        "na",
        "-",
        "no",
        "nil",
        "0",
        "not referred",
        "pending",
        "refused",
        "declined",
        "unknown",
        "ទេ",  # no
        "រង់ចាំ",  # waiting
    )
    # Linkage: bands by match probability, blocking and clustering caps, return window
    link_threshold: float = 0.99997  # about 15 bits of evidence against chance
    # ... and about 4.2 bits against "his brother" (the family class models that alternative
    # itself, so its odds need no margin for misspecification, and overstates it where one
    # man's names vary: of pairs 4-8 bits from a brother, 1 in 200 was one; see
    # MatchModel.score_levels and coherence.py, which keeps brothers apart across a person)
    family_link_threshold: float = 0.95
    review_threshold: float = 0.99
    # Review queue: of the review band, the questions officers are shown (linkage/match/queue.py):
    # those with at least this chance that "same" is right, at most this many, most valuable first
    review_min_chance: float = 0.2
    review_queue_max: int = 5000
    max_block_size: int = 400
    max_cluster_size: int = 30
    u_sample_pairs: int = 300_000
    refit_growth: float = 1.5  # refit the weights when the store has grown this much
    event_window_days: int = 45
    # An NGO intake more than this many days after his latest dated return is taken to follow a
    # later return no list dated (an event of its own), not that one; 0: it follows however
    # late. Off: on lists whose NGOs take one man in 250 on over a year late it costs more wrong
    # flags than the missing ones it saves (README, Referral flags).
    intake_follows_days: int = 0
    # Supervised weights: from this many reviewers' "same" decisions on, m learns from them,
    # with EM's estimate counting as this many pairs of prior evidence.
    supervised_min_decisions: int = 20
    supervised_pseudo_pairs: float = 50.0
    # Report: small counts suppressed; e-mail when an SMTP connection is configured in Airflow
    small_count_threshold: int = 5
    # The named list withholds phones, village, commune and father of a man whose records all
    # lack consent to share; on, they are shown (and still marked).
    report_contacts_without_consent: bool = False
    # The weekly report's password (Office encryption of the workbook; AES zip of the CSVs):
    # SURVIVOR_LINK_REPORT_PASSWORD, else the first line of this file. The four CSVs: "zip"
    # (inside an AES zip; not written without a password), "plain" (asked for), or "none".
    report_password_file: Path = Path("")
    report_csv: str = "zip"
    report_email: tuple[str, ...] = ()  # who receives the approved weekly report
    report_from_email: str = "survivor-link@localhost"
    alert_email: tuple[str, ...] = ()  # who hears of a task that failed after its retries
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def family_margin_bits(self) -> float:
        """How many more bits the link threshold asks against chance than against brothers."""
        bits = lambda p: math.log2(p / (1 - p))  # noqa: E731
        return max(0.0, bits(self.link_threshold) - bits(self.family_link_threshold))

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'survivor-link.db').resolve()}"


def _coerce(current: Any, raw: Any) -> Any:
    if isinstance(current, bool):
        return str(raw).lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    if isinstance(current, Path):
        return Path(raw)
    if isinstance(current, tuple):
        items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
        return tuple(str(x).strip().lower() for x in items if str(x).strip())
    return raw


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Build settings from defaults, the YAML file (SURVIVOR_LINK_CONFIG), env vars, overrides."""
    settings = Settings()
    known = {f.name: getattr(settings, f.name) for f in fields(Settings) if f.name != "extra"}
    values: dict[str, Any] = {}
    path = config_file or os.environ.get(ENV_PREFIX + "CONFIG")
    if path:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"settings file {path} must hold a mapping of names to values")
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"settings file {path}: unknown settings {unknown}")
        values.update(data)
    for name in known:
        env = os.environ.get(ENV_PREFIX + name.upper())
        if env is not None and env != "":
            values[name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    coerced = {k: _coerce(known[k], v) for k, v in values.items()}
    return replace(settings, **coerced)
