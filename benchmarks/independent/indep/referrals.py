"""What the lists write about referrals, what each row means, and how a clerk varies it.

Why: a flag is only as right as the referrals it finds, and each organisation writes a
referral its own way: IOM names the organisation and a date, an NGO's case status says
whether it keeps the case, a ministry clerk may note it in the remarks. The truth of each
return (referred or not) is read here from what its rows say, with the words this module
writes, never with the product's rules. The variations (rate `referral_variant`, 0 by
default) are how the same facts come out on other desks: an organisation in other words or
in Khmer, a date in another format or a day or two before the return (the return was
registered late), 'N/A' or 'ទេ' for no referral, a status typed another way, a remark that
says the man was not referred yet.
"""

from __future__ import annotations

import datetime as dt
import random

from indep.people import END
from indep.spelling import khmer_digits

# The last day a list is written (its returns end at END; the ordinary intake, 120 days).
LISTS_WRITTEN = END + dt.timedelta(days=120)

# What the lists write by default (the draws in lists.py pick from these, in this order).
IOM_ORGS = ["Hagar", "LSCW", "DoSVY", "MoSVY"]
IOM_NO_REFERRAL = ["", "", "none"]
NGO_STATUS = ["Active", "Follow-up", "Closed", "Closed-Referred"]
MOSVY_REMARKS = ["បានបញ្ជូនទៅអង្គការហាកា", "ត្រឡប់មកជាមួយក្រុម", "គ្មានឯកសារ", "សុខភាពខ្សោយ"]

# The same organisations as other desks write them (an organisation named is a referral).
ORG_VARIANTS = {
    "Hagar": [
        "HAGAR",
        "Hagar Cambodia",
        "Hagar International",
        "ref. Hagar",
        "Referred to Hagar",
        "ហាកា",
        "អង្គការហាកា",
    ],
    "LSCW": [
        "L.S.C.W",
        "lscw",
        "LSCW (Legal Support for Children and Women)",
        "Referred to LSCW",
        "អង្គការ LSCW",
    ],
    "DoSVY": ["DOSVY", "PDoSVY", "DoSVY Kampong Cham", "Provincial DoSVY", "មន្ទីរសង្គមកិច្ច"],
    "MoSVY": ["MOSVY", "MoSVY / DoSVY", "Ministry of Social Affairs", "ក្រសួងសង្គមកិច្ច"],
}
# Written where no referral was made: each means "not referred".
NO_REFERRAL_VARIANTS = [
    "N/A",
    "n/a",
    "-",
    "--",
    "None",
    "NONE",
    "no",
    "No referral",
    "not referred",
    "Nil",
    "ទេ",
    "គ្មាន",
    "មិនទាន់បញ្ជូន",
    "pending",
    "Refused",
]
# Case statuses as other exports type them, by what they mean.
STATUS_VARIANTS = {
    "Active": ["ACTIVE", "active", "Active case", "សកម្ម"],
    "Follow-up": ["Follow up", "Follow-Up", "FollowUp", "follow_up", "Under follow-up", "តាមដាន"],
    "Closed": ["CLOSED", "closed", "Case closed", "បិទ"],
    "Closed-Referred": [
        "Closed - Referred",
        "Closed (Referred)",
        "closed/referred",
        "Closed_Referred",
        "Closed – Referred",
        "Referred",
        "បិទ-បញ្ជូនបន្ត",
    ],
}
REFERRAL_STATUSES = {"Active", "Follow-up", "Closed-Referred"}
# Ministry remarks that say he was referred, and ones that say he was not (yet).
REFERRED_REMARKS = [
    "បានបញ្ជូនទៅអង្គការហាកា",
    "បញ្ជូនទៅ LSCW",
    "បានបញ្ជូនទៅមន្ទីរសង្គមកិច្ច",
    "បញ្ជូនទៅអង្គការ Hagar",
    "Referred to Hagar",
    "ref. LSCW",
]
NOT_REFERRED_REMARKS = ["មិនទាន់បញ្ជូន", "មិនទាន់បានបញ្ជូនទៅអង្គការ", "មិនព្រមទៅអង្គការ", "not referred yet"]

_STATUS_MEANING = {v: k for k, vs in STATUS_VARIANTS.items() for v in vs} | {s: s for s in NGO_STATUS}
_ORG_WORDS = set(IOM_ORGS) | {v for vs in ORG_VARIANTS.values() for v in vs}


def referral_of(source: str, row: dict[str, object]) -> str:
    """What this row says of a referral: 'iom', 'ngo', 'remark' (referred), 'partial' (an NGO
    case closed without one) or '' (none), read with this module's words only."""
    if source == "iom":
        return "iom" if str(row["referred_to"]) in _ORG_WORDS else ""
    if source == "mosvy":
        return "remark" if row["ផ្សេងៗ"] in REFERRED_REMARKS else ""
    meaning = _STATUS_MEANING[str(row["case_status"])]
    if meaning in REFERRAL_STATUSES:
        return "ngo"
    return "partial" if meaning == "Closed" else ""


def _date_text(d: dt.date, rng: random.Random) -> str:
    """A date as another desk writes it (every form the lists' readers are promised)."""
    style = rng.randrange(5)
    if style == 0:
        return d.isoformat()
    if style == 1:
        return f"{d.day} {d:%B} {d.year}"
    if style == 2:
        return f"{d:%B} {d.day}, {d.year}"
    if style == 3:
        return khmer_digits(f"{d.day:02d}/{d.month:02d}/{d.year}")
    return f"{d.day}/{d.month}/{d.year}"


def vary_iom(row: dict[str, object], returned: dt.date, rng: random.Random, tags: list[str]) -> None:
    """IOM's referral in another desk's words: the organisation, the date, or no referral."""
    org = str(row["referred_to"])
    if org in IOM_ORGS:
        kind = rng.randrange(3)
        if kind == 0:
            row["referred_to"] = rng.choice(ORG_VARIANTS[org])
            tags.append("referral_org_variant")
        elif kind == 1:
            given = dt.datetime.strptime(str(row["referral_date"]), "%d/%m/%Y").date()
            row["referral_date"] = _date_text(given, rng)
            tags.append("referral_date_format")
        else:  # the return was registered a day or two late: the referral seems to precede it
            row["referral_date"] = (returned - dt.timedelta(days=rng.randint(1, 3))).strftime("%d/%m/%Y")
            tags.append("referral_before_return")
    else:
        row["referred_to"] = rng.choice(NO_REFERRAL_VARIANTS)
        tags.append("no_referral_word")


def vary_ngo(row: dict[str, object], returned: dt.date, rng: random.Random, tags: list[str]) -> None:
    """An NGO case status typed another way (same meaning), or an intake dated a day or two
    before the return (the return was registered late)."""
    if rng.random() < 0.7:
        row["case_status"] = rng.choice(STATUS_VARIANTS[str(row["case_status"])])
        tags.append("status_variant")
        return
    intake = returned - dt.timedelta(days=rng.randint(1, 3))
    iso = "-" in str(row["intake_date"])
    row["intake_date"] = intake.isoformat() if iso else intake.strftime("%d/%m/%Y")
    tags.append("referral_before_return")


def vary_mosvy(row: dict[str, object], rng: random.Random, tags: list[str]) -> None:
    """A ministry remark: he was referred (other words), or not yet (which is no referral)."""
    if rng.random() < 0.6:
        row["ផ្សេងៗ"] = rng.choice(REFERRED_REMARKS)
        tags.append("remark_referred")
    else:
        row["ផ្សេងៗ"] = rng.choice(NOT_REFERRED_REMARKS)
        tags.append("remark_not_referred")


def late_intake(returned: dt.date, next_return: dt.date | None, rng: random.Random) -> dt.date | None:
    """An NGO intake 4 months to 3 years after the return it follows (he came to the NGO
    himself, or a social worker's visit found him): before the lists were written, and at
    least two months before he left again (his next return); None when no day fits."""
    latest = LISTS_WRITTEN
    if next_return is not None:
        latest = min(latest, next_return - dt.timedelta(days=60))
    hi = min(1095, (latest - returned).days)
    if hi < 121:
        return None
    return returned + dt.timedelta(days=rng.randint(121, hi))
