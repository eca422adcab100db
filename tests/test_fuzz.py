"""A short fuzz run of each reader (seconds): every mutated list gives a result with its rows
accounted for; the long run is `scripts/fuzz_ingest.py` (see the README)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fuzz_ingest.py"


def _harness():
    spec = importlib.util.spec_from_file_location("fuzz_ingest", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_ingest"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("target", ["csv", "xlsx", "rows"])
def test_a_short_fuzz_run_finds_nothing(target: str) -> None:
    tally = _harness().run([target], seconds=5, seed=13, say=lambda _line: None, at_least=3)[target]
    assert tally.tried >= 3  # the run really tried inputs (not a timing: at_least says how many)
    assert tally.findings == []


def test_the_harness_reports_what_the_safety_net_catches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fuzzer counts an internal-error rejection as a finding, not as a pass."""
    import linkage.ingest.load as load_module

    def broken(*_args: object) -> None:
        raise OverflowError("reader bug")

    monkeypatch.setattr(load_module, "read_table", broken)
    tally = _harness().run(["csv"], seconds=1, seed=1, say=lambda _line: None)["csv"]
    failed = tally.outcomes["rejected could not be read"]
    assert failed and len(tally.findings) == failed == tally.tried - tally.outcomes["duplicate"]
    assert tally.findings[0].endswith("(`survivor-link replay`)")
    assert "OverflowError" in tally.findings[0]
