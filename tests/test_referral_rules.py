"""How referrals are read from the words lists write, on the real settings and mappings:
NGO statuses that send the case on to another organisation or are worded out (in Khmer
written as one word with its fillers), IOM referred_to values that name a referral only
proposed or refused, or only where he went home to, and ministry remarks that he was sent
back to his family. A flag is wrong, or missing, whenever one of these is misread."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from linkage.referral.flags import _assign_to_events
from linkage.referral.rules import ReferralRules
from linkage.settings import load_settings


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> ReferralRules:
    return ReferralRules.from_settings(load_settings(home=tmp_path_factory.mktemp("rules"), db_url=""))


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        # the statuses the settings name, typed as before
        ("Active", "referral"),
        ("Closed (Referred)", "referral"),
        ("Under follow-up", "referral"),
        ("បិទ-បញ្ជូនបន្ត", "referral"),
        ("Case closed", "partial"),
        ("On hold", "unknown"),
        ("", ""),
        # sent on to another organisation: still in long-term case management
        ("Referred to LSCW", "referral"),
        ("Transferred to Hagar", "referral"),
        ("Closed - referred to CWCC", "referral"),
        ("Closed (transferred)", "referral"),
        ("បញ្ជូនទៅអង្គការ LSCW", "referral"),  # sent to the organisation LSCW
        ("បានបញ្ជូនបន្តទៅ Chab Dai", "referral"),  # has been referred on to Chab Dai
        # worded out, Khmer with its fillers inside the word
        ("Open", "referral"),
        ("Ongoing", "referral"),
        ("Active - follow-up", "referral"),
        ("ករណីសកម្ម", "referral"),  # case active
        ("កំពុងតាមដាន", "referral"),  # being followed up
        ("បានបញ្ជូនបន្ត", "referral"),  # has been referred on
        ("បិទករណី", "partial"),  # case closed
        ("Closed - reintegrated", "partial"),
        ("Closed - lost contact", "partial"),
        # stages of case management (MoSVY 2022) and HTCDS's words written together
        ("Monitoring", "referral"),
        ("Pre-reintegration", "referral"),
        ("Monitoring/FollowUp", "referral"),
        ("ClosedReferred (LSCW)", "referral"),
        ("Lost contact", "partial"),
        # with a date or a note beside the status
        ("Active since 2023", "referral"),
        ("Closed (12/03/2024)", "partial"),
        ("បិទ ១២/០៣/២០២៤", "partial"),
        # a negation or a not-yet word is never a referral
        ("Closed - not referred", "partial"),
        ("Referral pending", "unknown"),
        ("Not active", "unknown"),
        ("Inactive", "unknown"),
        ("ត្រូវបានបញ្ជូនមកវិញ", "unknown"),  # sent back home
    ],
)
def test_ngo_status(rules: ReferralRules, status: str, kind: str) -> None:
    assert rules.status_kind(status) == kind


@pytest.mark.parametrize(
    ("referred_to", "referral"),
    [
        ("Hagar", True),
        ("Referred to Hagar", True),
        ("អង្គការ LSCW", True),
        ("DoSVY Kampong Cham", True),
        ("Hagar; family", True),  # an organisation beside his family
        ("N/A", False),
        ("No referral", False),
        ("មិនទាន់បញ្ជូន", False),  # not yet referred
        # only proposed, refused or not yet, wherever the word stands
        ("Pending - Hagar", False),
        ("To be referred to LSCW", False),
        ("Refused referral", False),
        ("Declined (Hagar)", False),
        ("Waiting for Hagar", False),
        ("Hagar - not yet", False),
        ("រង់ចាំអង្គការហាកា", False),  # waiting for Hagar
        ("បដិសេធ", False),  # refused
        # only where he went home to
        ("Family", False),
        ("Returned to family", False),
        ("Family reunification", False),
        ("Home", False),
        ("គ្រួសារ", False),  # family
        ("បញ្ជូនទៅគ្រួសារវិញ", False),  # sent back to his family
    ],
)
def test_iom_referred_to(rules: ReferralRules, referred_to: str, referral: bool) -> None:
    assert rules.counts_as_referral(referred_to) is referral


@pytest.mark.parametrize(
    ("remark", "referral"),
    [
        ("បានបញ្ជូនទៅអង្គការហាកា", True),  # sent to Hagar
        ("បានបញ្ជូនទៅមន្ទីរសង្គមកិច្ច", True),  # sent to the provincial DoSVY
        ("បញ្ជូនទៅគ្រួសារ និងអង្គការហាកា", True),  # to his family and to Hagar
        ("referred to family and Hagar", True),
        ("បញ្ជូនទៅគ្រួសារវិញ", False),  # sent back to his family
        ("បានបញ្ជូនទៅស្រុកកំណើត", False),  # sent to his home district
        ("បញ្ជូនត្រឡប់ទៅគ្រួសារ", False),  # sent back to his family
        ("sent home to family", False),
        ("Referred to family", False),
    ],
)
def test_ministry_remark(rules: ReferralRules, remark: str, referral: bool) -> None:
    yes, no = rules.remark_regexes()["mosvy"]
    assert (bool(yes.search(remark)) and not (no and no.search(remark))) is referral


def _frames(referral_date: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A man with two IOM returns (2022 and 2024) and a referral on the 2024 row."""
    day = pd.Timestamp
    records = pd.DataFrame(
        {
            "record_id": [1, 2],
            "person_id": ["P", "P"],
            "event_id": ["E1", "E2"],
            "return_date": [day("2022-03-01"), day("2024-06-10")],
        }
    )
    events = pd.DataFrame(
        {
            "person_id": ["P", "P"],
            "event_id": ["E1", "E2"],
            "return_date": [day("2022-03-01"), day("2024-06-10")],
            "return_known": [True, True],
        }
    )
    evidence = pd.DataFrame({"record_id": [2], "kind": ["referral"], "how": ["referred to Hagar"]})
    evidence["date"] = [day(referral_date)]
    return evidence, records, events


@pytest.mark.parametrize(
    ("referral_date", "event"),
    [
        ("2024-06-12", "E2"),  # after its own return: that return's
        ("2024-06-07", "E2"),  # days before it: a slip in one of the dates
        ("2022-03-09", "E1"),  # two years before: his 2022 return's, carried onto the 2024 row
        # before all his returns: an earlier return no list wrote (or linkage did not join),
        # which he cannot have been referred for while still abroad; it counts for none
        ("2021-05-01", None),
    ],
)
def test_a_referral_dated_long_before_its_row_counts_for_the_return_it_follows(
    referral_date: str, event: str | None
) -> None:
    evidence, records, events = _frames(referral_date)
    got = _assign_to_events(evidence, records, events)
    assert got["event_id"].where(got["event_id"].notna(), None).tolist() == [event]
    assert got["carried_from"].where(got["carried_from"].notna(), None).tolist() == [
        "E2" if event is None else None
    ]


def test_the_settings_name_the_words(tmp_path: Path) -> None:
    """The words are settings: a list owner can take a not-yet word off (and flags follow)."""
    settings = load_settings(home=tmp_path, db_url="", not_yet_words=["waiting"])
    rules = ReferralRules.from_settings(settings)
    assert rules.counts_as_referral("Pending - Hagar") and not rules.counts_as_referral("Waiting for Hagar")


def test_the_weekly_report_says_a_referral_dated_before_this_return_is_an_earlier_ones() -> None:
    """The report's reason (from the hand-written glossary) for a return whose row carries an
    earlier return's referral: referred after an earlier return, not after this one."""
    from linkage.report.contacts import reason_terms

    status = pd.Series(
        {
            "sources": ["iom"],
            "partial": False,
            "referred_before": False,
            "referral_dated_before": True,
            "return_known": True,
            "review_pairs": [],
        }
    )
    assert [t.en for t in reason_terms(status, [])] == [
        "on the IOM list",
        "referred after an earlier return, not after this one",
    ]
    status["referral_dated_before"] = False
    assert reason_terms(status, [])[1].en == "no referral found in any list"
