"""The service-planning section of the HTML report (issue 6): headlines from the suppressed tables only.

Runs on the bundled sample data (sample_data/data: CIN census and SSDA903 2025-26 with 2024-25 as
last year's return). The figures come from `returns.planning.planning_for_report`, which runs the
aggregates in memory with the dfe profile; nothing may reach the page but the published values.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

import pytest

from csc_returns.reports.html import render_report, write_report
from csc_returns.returns import planning as planning_mod
from csc_returns.returns.aggregates import compute
from csc_returns.returns.planning import planning_for_report
from csc_returns.returns.run import validate

DATA = Path(__file__).resolve().parents[1] / "sample_data" / "data"


@lru_cache(maxsize=None)
def _run(return_: str, with_previous: bool = True):
    cur = sorted((DATA / return_).iterdir())
    prev = sorted((DATA / f"{return_}_previous").iterdir()) if with_previous else None
    result, loaded = validate(cur, previous=prev, year=2026, return_=return_, gx=False)
    return result, loaded


@lru_cache(maxsize=None)
def _planning(return_: str, with_previous: bool = True):
    result, loaded = _run(return_, with_previous)
    return planning_for_report(loaded, getattr(result, "previous_loaded", None))


def _section(html: str) -> str:
    m = re.search(r'<section id="planning".*?</section>', html, re.S)
    assert m, "no service-planning section"
    return m.group(0)


def assert_self_contained(html: str) -> None:
    """The checks of tests/test_report.py::test_report_is_self_contained_and_has_the_headline."""
    assert not re.search(r"""\b(?:src|href|action|poster|srcset|data|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"""url\(\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "@import" not in html and "<link" not in html and "<iframe" not in html
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert "default-src 'none'" in html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    for block in (re.search(r"<script>(.*?)</script>", html, re.S).group(1),
                  re.search(r"<style>(.*?)</style>", html, re.S).group(1)):
        digest = base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert ' style="' not in _section(html)  # the CSP allows no inline style attributes


@pytest.mark.parametrize("return_", ["cin", "ssda903"])
def test_section_has_the_headlines_this_year_and_last(return_: str, tmp_path: Path) -> None:
    result, _ = _run(return_)
    assert result.previous_loaded is not None and result.previous_loaded.year == 2025
    planning = _planning(return_)
    assert planning["available"] is True and planning["profile"] == "dfe"
    assert planning["year"] == 2026 and planning["previous_year"] == 2025
    assert planning["indicators"], "no headline indicators"
    html = write_report(result, tmp_path / "report.html", planning=planning).read_text(encoding="utf-8")
    assert_self_contained(html)
    assert '<a href="#planning">Service planning</a>' in html
    sec = _section(html)
    assert "disclosure-controlled" in sec and "profile <strong>dfe</strong>" in sec and "no identifiers" in sec
    assert "DfE&#39;s symbol for a suppressed value" in sec or "DfE's symbol for a suppressed value" in sec
    assert "2024-25" in sec and "2025-26" in sec
    for ind in planning["indicators"]:
        row = re.search(rf'<tr id="plan-{re.escape(ind["id"])}">(.*?)</tr>', sec, re.S)
        assert row, ind["id"]
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r'<td class="num">(.*?)</td>', row.group(1), re.S)]
        this = ind["this"]
        assert cells[2].replace(" %", "") == this["value"]  # last value, last count, this value, this count
        assert cells[3].split(" of ")[0] == this["count"]
        if ind["last"]:
            assert cells[0].replace(" %", "") == ind["last"]["value"]
    assert sec.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') >= 1
    assert "Service planning: counts" in sec


def test_suppressed_headline_shows_c_and_not_its_true_count(tmp_path: Path) -> None:
    result, loaded = _run("cin")
    planning = _planning("cin")
    suppressed = [i for i in planning["indicators"] if i["this"]["value"] == "c"]
    assert suppressed, "the sample data no longer has a suppressed CIN headline"
    html = write_report(result, tmp_path / "report.html", planning=planning).read_text(encoding="utf-8")
    sec = _section(html)
    true = {t.indicator.id: t for t in compute("cin", 2026, loaded.tables, result.previous_loaded.tables)}
    for ind in suppressed:
        t = true[ind["id"]]
        keys = [c.key for c in t.categories]
        j = keys.index(t.indicator.headline.category)
        n, total = int(t.table.counts[0, j]), int(t.table.counts[0].sum())
        assert 0 < n and total
        row = re.search(rf'<tr id="plan-{re.escape(ind["id"])}">(.*?)</tr>', sec, re.S).group(1)
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r'<td class="num">(.*?)</td>', row, re.S)]
        assert cells[2] == "c" and cells[3].split(" of ")[0] == "c"  # this year: value and count suppressed
        this_year = " ".join(cells[2:])
        assert not re.search(rf"(?<![\d.]){n}(?![\d.])", this_year)
        pct = f"{100 * n / total:.1f}"
        assert pct not in html, f"{ind['id']}: the true percentage {pct} is in the report"
        # the chart draws no bar for it and labels it c
        assert "c (suppressed)" in sec


def test_section_degrades_to_a_notice_when_aggregation_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result, loaded = _run("cin")

    def boom(*a, **k):
        raise RuntimeError("aggregation exploded")

    monkeypatch.setattr(planning_mod, "_headlines", boom)
    planning = planning_for_report(loaded, result.previous_loaded)  # never raises
    assert planning == {"available": False, "reason": "RuntimeError: aggregation exploded"}
    html = write_report(result, tmp_path / "report.html", planning=planning).read_text(encoding="utf-8")
    assert_self_contained(html)
    sec = _section(html)
    assert "Service-planning figures are not available: RuntimeError: aggregation exploded" in sec
    assert "<table" not in sec and "<svg" not in sec  # no figures at all


def test_aggregate_engine_failure_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from csc_returns.returns import aggregates

    def boom(*a, **k):
        raise aggregates.AggregateError("a table or column is missing")

    monkeypatch.setattr(aggregates, "compute", boom)
    result, loaded = _run("cin")
    planning = planning_for_report(loaded, result.previous_loaded)
    assert planning["available"] is False and "AggregateError" in planning["reason"]
    assert planning_for_report(None)["available"] is False


def test_without_previous_only_this_year(tmp_path: Path) -> None:
    result, loaded = _run("cin", with_previous=False)
    assert result.previous_loaded is None
    planning = planning_for_report(loaded, None)
    assert planning["available"] and planning["previous_year"] is None
    assert all(i["last"] is None for i in planning["indicators"])
    sec = _section(render_report(result, planning=planning))
    assert "2024-25" not in sec and "was not given (--previous)" in sec


def test_no_planning_no_section() -> None:
    result, _ = _run("cin")
    html = render_report(result)
    assert 'id="planning"' not in html and "#planning" not in html


def test_cli_writes_the_section(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from csc_returns.returns.cli import app

    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["validate", str(DATA / "cin" / "CIN_Census_2026.xml"), "--previous",
                                   str(DATA / "cin_previous" / "CIN_Census_2025.xml"), "--no-gx", "--out", str(out)])
    assert res.exit_code in (0, 1), res.output
    sec = _section((out / "report.html").read_text(encoding="utf-8"))
    assert "profile <strong>dfe</strong>" in sec and "2024-25" in sec
