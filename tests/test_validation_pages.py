"""The validation pages (our Data Docs): offline, named by file, outcomes in words, capped index."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from linkage.ingest import validation_pages
from linkage.ingest.data_docs import page_for
from linkage.ingest.load import Ingestor
from linkage.settings import Settings
from tests.conftest import write
from tests.helpers import iom_csv, iom_row

# Anything the browser would fetch from elsewhere: an absolute or scheme-relative URL in any
# attribute, a CSS url() or @import, or a script at all (our pages need none).
REMOTE = re.compile(
    r"""\b(?:src|href|action|data)\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//|@import|<script""",
    re.I,
)


def test_pages_work_offline_name_the_file_and_say_it_loaded_with_quarantined_rows(
    settings: Settings, tmp_path: Path
) -> None:
    landing = tmp_path / "landing" / "iom"
    mixed = write(
        landing / "iom_returns_2025_06.csv",
        iom_csv([iom_row("KH-IOM-2025-0001"), iom_row("KH-IOM-2025-0002", dob="17/07/2077")]),
    )
    clean = write(landing / "list <v>.csv", iom_csv([iom_row("KH-IOM-2025-0003")]))
    named = write(landing / "sok_dara_intake.csv", iom_csv([iom_row("KH-IOM-2025-0004")]))
    with Ingestor(settings) as ingestor:
        first, second = ingestor.ingest_path(mixed), ingestor.ingest_path(clean)
        third = ingestor.ingest_path(named)
    docs = settings.home / "data_docs"
    pages = sorted((docs / "deliveries").glob("*.html"))
    assert len(pages) == 3
    for path in [docs / "index.html", *pages]:
        html = path.read_text(encoding="utf-8")
        assert REMOTE.search(html) is None, (path.name, REMOTE.search(html))
        assert "Failed" not in html and "list <v>" not in html  # a name is text, never markup
        assert "sok" not in html.casefold()  # a name that may name a man is not shown
    page = page_for(settings, first.sha256).read_text(encoding="utf-8")
    assert '<h1 id="file">iom_returns_2025_06.csv</h1>' in page
    assert "Loaded with quarantined rows</b>: 1 of 2 rows loaded, 1 quarantined (1 future_date)" in page
    assert "1 row(s) did not pass: quarantined" in page and "17/07/2077" not in page
    other = page_for(settings, second.sha256).read_text(encoding="utf-8")
    assert "list &lt;v&gt;.csv" in other and "<b>Loaded</b>: all 1 rows" in other
    named_page = page_for(settings, third.sha256).read_text(encoding="utf-8")
    assert f'<h1 id="file">iom delivery {third.sha256[:12]}</h1>' in named_page  # source and hash
    index = (docs / "index.html").read_text(encoding="utf-8")
    link = f'<a href="deliveries/{first.sha256[:16]}.html">iom_returns_2025_06.csv</a>'
    assert link in index and "Loaded with quarantined rows" in index
    assert first.sha256[16:] not in index  # named by file, not by hash


def test_the_index_lists_the_newest_and_every_page_stays(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validation_pages, "INDEX_LIMIT", 2)
    shas = []
    for n in (1, 2, 3):
        f = write(tmp_path / "landing" / "iom" / f"list_{n}.csv", iom_csv([iom_row(f"KH-IOM-2024-{n}000")]))
        shas.append(Ingestor(settings).ingest_path(f).sha256)
    rejected = write(tmp_path / "landing" / "iom" / "list_0.csv", "iom_case_no,sex\nKH-1,M\n")
    assert Ingestor(settings).ingest_path(rejected).status == "rejected"
    index = (settings.home / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert "list_3.csv" in index and "list_2.csv" in index and "list_1.csv" not in index
    assert "list_0.csv" not in index  # rejected before its rows were checked: no page
    assert all(page_for(settings, sha) is not None for sha in shas)


def test_a_delivery_checked_before_pages_were_kept_is_not_called_unchecked(
    settings: Settings, tmp_path: Path
) -> None:
    """A delivery loaded before our pages existed has GX's kept results and no page: it was
    checked, and is said to be; a rejected file was not; one with nothing kept is not said to
    be unchecked either."""
    from linkage.ingest.data_docs import kept_results
    from linkage.officer.deliveries import list_deliveries

    landing = tmp_path / "landing" / "iom"
    with Ingestor(settings) as ingestor:
        old = ingestor.ingest_path(write(landing / "list_1.csv", iom_csv([iom_row("KH-IOM-2024-1000")])))
        bare = ingestor.ingest_path(write(landing / "list_2.csv", iom_csv([iom_row("KH-IOM-2024-2000")])))
        rejected = ingestor.ingest_path(write(landing / "list_0.csv", "iom_case_no,sex\nKH-1,M\n"))
    for r in (old, bare):  # as before the pages came: GX's results, no page
        page_for(settings, r.sha256).unlink()
    for path in (settings.home / "gx").rglob(f"{bare.sha256[:16]}.json"):
        path.unlink()  # and one whose results are gone too
    kept = kept_results(settings)
    assert old.sha256[:16] in kept and bare.sha256[:16] not in kept and rejected.sha256[:16] not in kept
    said = {
        d.sha256: validation_pages.without_page(d, d.sha256[:16] in kept) for d in list_deliveries(settings)
    }
    assert said[old.sha256] == "checked before pages were kept"
    assert said[bare.sha256] == "no checks kept"
    assert said[rejected.sha256] == "not checked: rejected before its rows were"
