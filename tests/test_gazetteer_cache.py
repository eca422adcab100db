"""The gazetteer's index cached on disk: the same index as built, and a bad file rebuilt."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkage.normalise import places


def _tables(idx: places._Index) -> dict:
    return {
        name: {at: {k: set(v) for k, v in keys.items()} for at, keys in getattr(idx, name).items()}
        for name in ("by_parent", "plain")
    }


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SURVIVOR_LINK_CACHE_DIR", str(tmp_path))
    places.gazetteer.cache_clear()
    yield tmp_path
    places.gazetteer.cache_clear()


def test_cached_index_is_the_built_one(cache_dir: Path) -> None:
    built = places.gazetteer()
    (path,) = cache_dir.glob("gazetteer-*.json")
    places.gazetteer.cache_clear()
    loaded = places.gazetteer()
    assert loaded is not built
    assert _tables(loaded) == _tables(built)
    # key order matters to the closest-name search's ties
    assert all(list(loaded.by_parent[at]) == list(built.by_parent[at]) for at in built.by_parent)
    assert loaded.find("province", "", "Kg. Cham") == built.find("province", "", "Kg. Cham") == "03"


def test_torn_cache_file_is_built_again(cache_dir: Path) -> None:
    path = places._index_cache()
    assert path is not None
    path.write_bytes(b'{"by_parent": [[')
    idx = places.gazetteer()
    assert idx.find("province", "", "Battambang") == "02"
    assert places._Index.from_json(path.read_bytes()).find("province", "", "Battambang") == "02"


def test_empty_setting_turns_the_cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURVIVOR_LINK_CACHE_DIR", "")
    assert places._index_cache() is None
