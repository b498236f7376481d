"""The resolved spec per year is pinned in tests/golden/: any spec edit shows its exact effect.

After an intended spec change, regenerate with:  python -m pytest tests/test_spec_golden.py --update-golden
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csc_returns.returns.spec import RETURNS, SUPPORTED_YEARS, resolved_summary

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("ret", RETURNS)
@pytest.mark.parametrize("year", SUPPORTED_YEARS)
def test_resolved_spec_matches_golden(ret, year, request):
    got = json.dumps(resolved_summary(ret, year), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path = GOLDEN / f"spec_{ret}_{year}.json"
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}; run with --update-golden"
    assert got == path.read_text(encoding="utf-8"), f"resolved {ret} {year} spec changed; review and --update-golden"
