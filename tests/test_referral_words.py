"""Referrals as other desks write them, read right on small real files (IOM CSV, NGO CSV,
a ministry workbook): organisations in other words or Khmer, words for none, statuses
typed another way, ministry remarks, and dates that sit before the return.

The files go into one store that already holds the synthetic lists (linked once for the
module), as a new week's lists would: linkage needs a population to fit its weights on."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from linkage.ingest.load import Ingestor
from linkage.match.linker import link
from linkage.referral.flags import event_status, summary_counts
from linkage.settings import Settings, load_settings
from linkage.sources import MappingError, load_mapping
from linkage.store.db import dispose_engines, migrate, session_scope
from linkage.store.models import Delivery, PersonRecord, Record
from tests.conftest import write
from tests.helpers import iom_csv, iom_row, mosvy_row, mosvy_xlsx, ngo_csv, ngo_row

AS_OF = dt.date(2025, 12, 1)
# One man per row: names, births and phones apart, so each row is a person of its own.
MEN = [
    ("DARA SOK", "12/03/1990"),
    ("VIBOL CHEA", "02/07/1985"),
    ("PISETH KEO", "21/11/1993"),
    ("SOPHAL MEAS", "05/01/1988"),
    ("RITHY LIM", "17/09/1979"),
    ("BORA OUK", "30/04/1996"),
    ("VANNAK HENG", "08/08/1991"),
    ("SAMBATH PRAK", "14/02/1983"),
    ("KOSAL NHEM", "26/06/1994"),
    ("MAKARA TEP", "03/12/1987"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, synth_dir: Path) -> Iterator[Settings]:
    settings = load_settings(home=tmp_path_factory.mktemp("referral-words") / "home", db_url="")
    migrate(settings)
    with Ingestor(settings) as ingestor:
        for f in sorted((synth_dir / "landing").rglob("*.*")):
            ingestor.ingest_path(f)
    link(settings)
    yield settings
    dispose_engines()


def load(settings: Settings, folder: Path) -> None:
    with Ingestor(settings) as ingestor:
        for f in sorted(folder.rglob("*.*")):
            r = ingestor.ingest_path(f)
            assert (r.status, r.rows_quarantined) == ("ingested", 0), f
    link(settings)


def statuses(settings: Settings, file_name: str) -> dict[str, dict]:
    """Each record id of one delivered file -> the status of the return it belongs to."""
    with session_scope(settings) as s:
        rows = s.execute(
            select(Delivery.file_name, Record.source_record_id, PersonRecord.event_id)
            .join(PersonRecord, PersonRecord.record_id == Record.id)
            .join(Delivery, Delivery.sha256 == Record.delivery_sha256)
        ).all()  # (the file name is sealed: compared here, not in SQL)
        event_of = {rid: eid for name, rid, eid in rows if name == file_name}
        st = event_status(s, settings, AS_OF).set_index("event_id")
    return {rid: st.loc[eid].to_dict() | {"event_id": eid} for rid, eid in event_of.items()}


def flagged(settings: Settings, file_name: str) -> set[str]:
    return {rid for rid, st in statuses(settings, file_name).items() if st["flagged"]}


def test_referred_to_in_other_words_and_words_for_none(store: Settings, tmp_path: Path) -> None:
    """An organisation named another way or in Khmer is a referral, dated in any format the
    lists use; 'N/A', 'n.a.', '--', 'No referral', 'ទេ' (no) and 'មិនទាន់បញ្ជូន' (not yet
    referred) are none."""
    said = [
        ("Hagar Cambodia", "20/03/2025"),
        ("ហាកា", "March 20, 2025"),
        ("ref. LSCW", "២០/០៣/២០២៥"),
        ("N/A", ""),
        ("n.a.", ""),
        ("--", ""),
        ("No referral", ""),
        ("ទេ", ""),
        ("មិនទាន់បញ្ជូន", ""),
        ("DoSVY", "2025-03-20"),
    ]
    rows = [
        iom_row(
            f"W{i}",
            name=name,
            dob=dob,
            ret="10/03/2025",
            phone=f"097 {i}{i}{i} 12{i}{i}",
            referred_to=org,
            referral_date=date,
        )
        for i, ((name, dob), (org, date)) in enumerate(zip(MEN, said, strict=True))
    ]
    write(tmp_path / "l" / "iom" / "words.csv", iom_csv(rows))
    load(store, tmp_path / "l")
    st = statuses(store, "words.csv")
    assert len({s["person_id"] for s in st.values()}) == len(MEN)  # ten men, ten persons
    assert flagged(store, "words.csv") == {"W3", "W4", "W5", "W6", "W7", "W8"}
    assert st["W1"]["referral_date"] == st["W2"]["referral_date"] == dt.datetime(2025, 3, 20)


def test_ngo_statuses_typed_another_way(store: Settings, tmp_path: Path) -> None:
    """'Closed (Referred)', 'closed/referred', 'Under follow-up', 'Referred' and Khmer
    statuses (សកម្ម active, បិទ-បញ្ជូនបន្ត closed and referred on) keep the case; 'Case
    closed' and 'បិទ' (closed) are partial assistance, flagged with that reason; a status no
    setting names ('On hold') is flagged, and the reason and the counts say so."""
    said = ["Closed (Referred)", "closed/referred", "Under follow-up", "Referred", "សកម្ម",
            "បិទ-បញ្ជូនបន្ត", "Case closed", "បិទ", "On hold"]  # fmt: skip
    men = ["OUDOM LOCH", "PANHA YI", "BUNTHAN NOP", "SAMPHORS SUON", "KIMLENG HONG", "SOKLY EK",
           "CHANNA OM", "VATHANA LAY", "SOCHEAT TAN"]  # fmt: skip
    rows = [
        ngo_row(
            f"N{i}", name, f"19{80 + i}-0{1 + i}-1{i}", "2025-04-02", status, phone=f"088 {i}{i}{i} 45{i}{i}"
        )
        for i, (name, status) in enumerate(zip(men, said, strict=True))
    ]
    write(tmp_path / "l" / "ngo-hagar" / "cases.csv", ngo_csv(rows))
    load(store, tmp_path / "l")
    st = statuses(store, "cases.csv")
    assert len({s["person_id"] for s in st.values()}) == len(said)
    assert flagged(store, "cases.csv") == {"N6", "N7", "N8"}
    assert all("NGO case closed without referral" in st[r]["reason"] for r in ("N6", "N7"))
    assert "an NGO case status here is none the settings name" in st["N8"]["reason"]
    with session_scope(store) as s:
        assert summary_counts(event_status(s, store, AS_OF))["flagged_status_unknown"] == 1


def test_ministry_remarks_of_a_referral_and_of_none(store: Settings, tmp_path: Path) -> None:
    """A remark that he was sent on to an organisation is a referral; one that says not yet
    (មិនទាន់...បញ្ជូន, pending), that he was sent home (បញ្ជូនមកវិញ), a reference number or
    nothing of it is not."""
    khmer = [
        ("ហាក់", "សុគុណ"),
        ("ឡេង", "សាមឿន"),
        ("ភួង", "សាវឿន"),
        ("ចេង", "សារ៉ាត់"),
        ("ម៉ែន", "ម៉េងលី"),
        ("ឈុន", "ហេងលី"),
        ("ខន", "ស៊ីថា"),
        ("ស្រេង", "ពុទ្ធី"),
        ("ផល", "រស្មី"),
    ]
    said = ["បានបញ្ជូនទៅអង្គការហាកា", "Referred to LSCW", "ref. Hagar", "មិនទាន់បញ្ជូន",
            "មិនទាន់បានបញ្ជូនទៅអង្គការ", "ត្រូវបានបញ្ជូនមកវិញ", "សុខភាពខ្សោយ", "ref KH-IOM-2015-0457",
            "referral pending"]  # fmt: skip
    rows = [
        mosvy_row(
            str(i + 1), fam, giv, "១០/០៣/២០២៥", age=str(25 + 3 * i), phone=f"01{i} 77{i} 88{i}", remarks=r
        )
        for i, ((fam, giv), r) in enumerate(zip(khmer, said, strict=True))
    ]
    mosvy_xlsx(tmp_path / "l" / "mosvy" / "list.xlsx", rows)
    load(store, tmp_path / "l")
    st = statuses(store, "list.xlsx")
    assert len({s["person_id"] for s in st.values()}) == len(said)
    referred = {rid for rid, s in st.items() if s["referred"]}
    assert referred == {"1", "2", "3"}
    assert all(st[r]["referral_how"] == "remark on the list" for r in referred)
    assert flagged(store, "list.xlsx") == {"4", "5", "6", "7", "8", "9"}


def test_a_referral_beside_its_return_counts_for_it_whatever_its_date(
    store: Settings, tmp_path: Path
) -> None:
    """IOM's referral dated weeks before the return on the same row (a slip in one of the
    dates) is that return's referral; his later return, with none, stays flagged."""
    rows = [
        iom_row("R1", name="DARA SOK", ret="10/03/2024", referred_to="Hagar", referral_date="10/02/2024"),
        iom_row("R2", name="DARA SOK", ret="05/06/2025", batch_id="B2"),
    ]
    write(tmp_path / "l" / "iom" / "two.csv", iom_csv(rows))
    load(store, tmp_path / "l")
    st = statuses(store, "two.csv")
    assert st["R1"]["person_id"] == st["R2"]["person_id"] and st["R1"]["event_id"] != st["R2"]["event_id"]
    assert st["R1"]["referred"] and not st["R1"]["flagged"]
    assert st["R2"]["flagged"] and "referred after an earlier return" in st["R2"]["reason"]


def test_ngo_statuses_worded_out_or_sent_on(store: Settings, tmp_path: Path) -> None:
    """A case sent on to another organisation ('Referred to LSCW', បញ្ជូនទៅអង្គការ...) or a
    status worded out ('Open', ករណីសកម្ម case active) keeps him in case management; 'Closed -
    reintegrated' and បិទករណី (case closed) are partial assistance, flagged with that reason."""
    said = ["Referred to LSCW", "បញ្ជូនទៅអង្គការ LSCW", "Open", "ករណីសកម្ម", "Closed - reintegrated", "បិទករណី"]
    men = ["RATANA KHUN", "SAMNANG PICH", "VISAL CHHAY", "PHEARUN NORN", "MONY SAR", "SITHA UCH"]
    rows = [
        ngo_row(
            f"S{i}", name, f"19{81 + i}-1{i % 3}-2{i}", "2025-04-02", status, phone=f"089 {i}{i}{i} 67{i}{i}"
        )
        for i, (name, status) in enumerate(zip(men, said, strict=True))
    ]
    write(tmp_path / "l" / "ngo-lscw" / "worded.csv", ngo_csv(rows))
    load(store, tmp_path / "l")
    st = statuses(store, "worded.csv")
    assert len({s["person_id"] for s in st.values()}) == len(said)
    assert flagged(store, "worded.csv") == {"S4", "S5"}
    assert all("NGO case closed without referral" in st[r]["reason"] for r in ("S4", "S5"))
    assert st["S0"]["referral_how"].lower() == "ngo case referred to lscw"


LONE = dict(name="BUNNA KRY", dob="04/04/1977", phone="097 888 7733")


def test_a_referral_carried_from_an_earlier_return(store: Settings, tmp_path: Path) -> None:
    """IOM's row of his 2025 return carries the referral of his 2023 one (Hagar, dated
    15/03/2023: the desk copied his earlier case): it is the 2023 return's, and the 2025
    return, which no list shows referred, is flagged as referred after an earlier return."""
    man = dict(name="CHANTHOU PEN", dob="11/11/1982", phone="097 888 4512")
    rows = [
        iom_row("C1", ret="10/03/2023", referred_to="Hagar", referral_date="15/03/2023", **man),
        iom_row(
            "C2", ret="05/06/2025", referred_to="Hagar", referral_date="15/03/2023", batch_id="B9", **man
        ),
    ]
    write(tmp_path / "l" / "iom" / "carried.csv", iom_csv(rows))
    load(store, tmp_path / "l")
    st = statuses(store, "carried.csv")
    assert st["C1"]["person_id"] == st["C2"]["person_id"] and st["C1"]["event_id"] != st["C2"]["event_id"]
    assert st["C1"]["referred"] and not st["C1"]["flagged"]
    assert (
        st["C2"]["flagged"] and "referred after an earlier return, not after this one" in st["C2"]["reason"]
    )
    # his 2023 return on no list here: the 2025 row's referral is still an earlier return's
    row = iom_row("C3", ret="05/06/2025", referred_to="LSCW", referral_date="15/03/2023", **LONE)
    write(tmp_path / "m" / "iom" / "carried_alone.csv", iom_csv([row]))
    load(store, tmp_path / "m")
    alone = statuses(store, "carried_alone.csv")["C3"]
    assert alone["flagged"] and alone["referral_dated_before"]
    assert "the referral on his row is dated over 30 days before this return" in alone["reason"]


# (Khmer family and given name, birth, phone, intake, referred): a man per case.
LATE = [
    (("ហាក់", "សុវណ្ណារិទ្ធ"), "1989-05-14", "097 310 4411", "2025-03-08", True),
    (("ឡេង", "គឹមហុង"), "1992-10-02", "097 320 4422", "2025-03-01", True),
    (("ភួង", "ស៊ីណាត"), "1986-01-27", "097 330 4433", "2025-01-20", False),
]


@pytest.mark.parametrize(("name", "dob", "phone", "intake", "referred"), LATE)
def test_an_intake_before_a_return_registered_late(
    store: Settings,
    tmp_path: Path,
    name: tuple[str, str],
    dob: str,
    phone: str,
    intake: str,
    referred: bool,
) -> None:
    """The ministry registered him on 20/03 (weeks after the border); an NGO intake 12 or 19
    days before that follows his return, one two months before does not: it is an earlier
    return no other list wrote (an event of its own, referred), and this one stays flagged."""
    y, m, d = dob.split("-")
    tag = phone[-2:]
    row = mosvy_row("1", *name, "20/03/2025", dob=f"{d}/{m}/{y}", age="", phone=phone, district="សណ្ដាន់")
    mosvy_xlsx(tmp_path / "l" / "mosvy" / f"late{tag}.xlsx", [row])
    ngo = ngo_row("H" + tag, "", dob, intake, "Active", phone=phone, name_kh=" ".join(name))
    write(tmp_path / "l" / "ngo-hagar" / f"late{tag}.csv", ngo_csv([ngo]))
    load(store, tmp_path / "l")
    ministry, case = statuses(store, f"late{tag}.xlsx")["1"], statuses(store, f"late{tag}.csv")["H" + tag]
    assert ministry["person_id"] == case["person_id"]  # one man
    assert (ministry["event_id"] == case["event_id"]) is referred  # one return, or two
    assert ministry["referred"] is referred and ministry["flagged"] is not referred
    if not referred:
        assert case["referred"] and not case["return_known"]
        assert "referred after an earlier return, not after this one" in ministry["reason"]


def test_an_intake_long_after_his_return_follows_a_later_one(store: Settings, tmp_path: Path) -> None:
    """IOM received him in January 2023 and wrote no referral; an NGO took him on in
    September 2024, 20 months later (over intake_follows_days, set to a year): that intake
    follows a later return no list dated, so the 2023 return stays flagged and says an NGO
    has him. Four months later it follows the 2023 return and clears its flag."""
    store = dataclasses.replace(store, intake_follows_days=365)
    rows = [
        iom_row("L1", name="SOVANN CHHIM", dob="09/09/1991", ret="10/01/2023", phone="097 555 1201"),
        iom_row("L2", name="KANHA SENG", dob="19/04/1984", ret="10/01/2023", phone="097 555 1302"),
    ]
    write(tmp_path / "l" / "iom" / "later_iom.csv", iom_csv(rows))
    cases = [
        ngo_row("N1", "CHHIM SOVANN", "1991-09-09", "2024-09-02", "Active", phone="097 555 1201"),
        ngo_row("N2", "SENG KANHA", "1984-04-19", "2023-05-15", "Active", phone="097 555 1302"),
    ]
    write(tmp_path / "l" / "ngo-lscw" / "later_ngo.csv", ngo_csv(cases))
    load(store, tmp_path / "l")
    iom, ngo = statuses(store, "later_iom.csv"), statuses(store, "later_ngo.csv")
    assert iom["L1"]["person_id"] == ngo["N1"]["person_id"] and iom["L1"]["event_id"] != ngo["N1"]["event_id"]
    assert iom["L1"]["flagged"] and "an NGO took him on long after this return" in iom["L1"]["reason"]
    assert ngo["N1"]["referred"] and not ngo["N1"]["flagged"]
    assert iom["L2"]["event_id"] == ngo["N2"]["event_id"] and not iom["L2"]["flagged"]


def test_a_remark_pattern_that_is_no_regular_expression_is_refused(tmp_path: Path) -> None:
    text = (Settings().sources_dir / "mosvy.yaml").read_text(encoding="utf-8")
    bad = write(
        tmp_path / "mosvy.yaml", text.replace("referral_remarks:\n", "referral_remarks:\n  - '(unclosed'\n")
    )
    with pytest.raises(MappingError, match="referral_remarks holds a pattern that is no regular expression"):
        load_mapping(bad)


def test_an_intake_counts_by_the_rules_its_return_is_grouped_by() -> None:
    """A store grouped before intake_follows_days (the NGO row still in his 2020 return)
    counts the intake as events.py would group it now: 20 months after that return it
    follows the next one, registered 21 days after it; with 0, the 2020 one."""
    import pandas as pd

    from linkage.referral.flags import _assign_to_events

    day = pd.Timestamp
    records = pd.DataFrame(
        {
            "record_id": [1, 2, 3],
            "person_id": ["P"] * 3,
            "event_id": ["E1", "E1", "E2"],
            "return_date": [day("2020-03-01"), pd.NaT, day("2021-11-15")],
        }
    )
    events = pd.DataFrame(
        {
            "person_id": ["P", "P"],
            "event_id": ["E1", "E2"],
            "return_date": [day("2020-03-01"), day("2021-11-15")],
            "return_known": [True, True],
        }
    )
    evidence = pd.DataFrame({"record_id": [2], "kind": ["referral"], "how": ["NGO case active"]})
    evidence["date"] = [day("2021-10-25")]
    assert _assign_to_events(evidence, records, events, 365)["event_id"].tolist() == ["E2"]
    assert _assign_to_events(evidence, records, events, 0)["event_id"].tolist() == ["E1"]
    evidence["date"] = [day("2021-04-10")]  # too late for 2020, too early for 2021: neither
    assert _assign_to_events(evidence, records, events, 365)["event_id"].isna().all()
