"""The officer's pages say codes in words, as the printed report does (survivor_link_ui.words)."""

from __future__ import annotations

import datetime as dt

from survivor_link_ui.render import templates
from survivor_link_ui.words import country, day, delivery_state, field_name, list_name


def test_dates_read_as_cambodia_writes_them() -> None:
    assert day(dt.date(2025, 9, 4)) == "04/09/2025"
    assert day("2026-12-03") == "03/12/2026"
    assert day(None) == "" and day("unknown") == "unknown"


def test_codes_read_as_the_report_names_them() -> None:
    assert country("TH") == "Thailand" and country(None) == ""
    assert country("ZZ") == "ZZ"  # an unknown code is shown as given, not dropped
    assert [list_name(s) for s in ("iom", "mosvy", "ngo-hagar")] == ["IOM", "MoSVY", "NGO hagar"]
    assert field_name("id_document") == "id document"
    assert delivery_state("ingested") == "loaded" and delivery_state("rejected") == "rejected"


def test_the_person_page_says_them_in_words() -> None:
    info = {
        "person_id": "SL0000001",
        "asked": "SL0000001",
        "aliases": [],
        "flags": [{"event_id": "EV1", "status": "open", "opened_on": dt.date(2026, 12, 3), "reason": "r"}],
        "records": [
            {"record_id": 1, "source": "ngo-lscw", "file": "f.csv", "line": 2, "source_record_id": "L-1"}
        ],
        "events": [{"event_id": "EV1", "return_date": dt.date(2025, 9, 4), "country": "MY", "records": 1}],
        "decisions": [],
    }
    html = templates.get_template("person.html").render(base="", user="u", info=info, pairs=[])
    assert "03/12/2026" in html and "04/09/2025" in html and "2025-09-04" not in html
    assert "<td>Malaysia</td>" in html and "<td>NGO lscw</td>" in html
    empty = templates.get_template("person.html").render(base="", user="u", info=None, pairs=[])
    assert 'id="how-to-find"' in empty
