"""The HTML quality report and findings.xlsx (reports/html.py, reports/xlsx.py), without a browser.

Run results come from `validate` on small synthetic fixtures under tests/fixtures/report/ (a CIN
census file and SSDA903 CSVs with deliberate problems, including hostile child IDs), or are built
directly (`big_result`: ~5,000 findings over 10,000 children) for the size check. The browser
tests in test_report_browser.py reuse these helpers.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import random
import re
import time
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from csc_returns.reports.html import (
    build_context,
    compare_findings,
    finding_month,
    render_report,
    script_json,
    write_report,
)
from csc_returns.reports.machine import findings_records, to_json, write_json
from csc_returns.reports.xlsx import write_xlsx
from csc_returns.returns.result import InputFile, Outcome, RunResult, make_findings
from csc_returns.returns.run import sort_findings, validate
from csc_returns.returns.spec import resolve

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "report"
CIN_XML = FIXTURES / "cin_2026_problems.xml"
SSDA903_DIR = FIXTURES / "ssda903_2026"
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(2)</script>"
FORMULA = '=HYPERLINK("http://x")'


# ------------------------------------------------------------------------------------------ helpers
@lru_cache(maxsize=None)
def _cin() -> RunResult:
    return validate([CIN_XML])[0]


def problems_result() -> RunResult:
    """The CIN fixture's run, with one rule marked skipped and one errored so both are shown.

    Outcomes are fixed here (the catalogue grows in parallel; a real rule crash must not decide
    what these tests see): every real rule keeps its status unless it errored, which becomes failed
    or passed by its findings."""
    r = _cin()
    outcomes = {c: (Outcome("failed" if o.count else "passed", None, o.count) if o.status == "errored" else o)
                for c, o in r.outcomes.items()}
    outcomes["TEST-SKIP"] = Outcome("skipped", "needs last year's return (give it with --previous)")
    outcomes["TEST-ERR"] = Outcome("errored", "Traceback (most recent call last):\n  ...\nKeyError: '<b>boom</b>'")
    return dataclasses.replace(r, outcomes=outcomes, findings=r.findings.copy())


def clean(result: RunResult, findings: pd.DataFrame | None = None) -> RunResult:
    """The same run with the given findings (default none) and every rule passed."""
    f = make_findings([]) if findings is None else findings.reset_index(drop=True)
    outcomes = {c: Outcome("passed") for c in result.outcomes if not c.startswith("TEST-")}
    return dataclasses.replace(result, findings=f, outcomes=outcomes)


def previous_json(result: RunResult) -> tuple[dict, dict[str, int]]:
    """A previous run's findings.json for `result`, and the counts compare mode must find.

    Every previous finding has other row numbers and lines (they must not matter); two of today's
    findings were not there; one had another value; three are gone today."""
    prev = to_json(result)
    recs = [dict(f, row=(f["row"] or 0) + 7, source="old.xml:1") for f in prev["findings"]]
    n = len(recs)
    assert n >= 6
    recs[2] = dict(recs[2], value="ChangedSince=yes")
    gone = [{"code": "9999", "severity": "error", "table": "Child", "row": i, "child": f"GONE{i}",
             "fields": ["LAchildID"], "source": f"old.xml:{i}", "message": "", "value": f"LAchildID=GONE{i}",
             "detail": None} for i in range(3)]
    prev["findings"] = recs[2:] + gone
    prev["started"] = "2026-04-01T09:00:00+00:00"
    return prev, {"remaining": n - 3, "new": 3, "fixed": 4}


def big_result(n_findings: int = 5000, n_children: int = 10_000, seed: int = 7) -> RunResult:
    """A CIN 2025-26 run with ~n_findings findings spread over the children of a large return."""
    spec = resolve("cin", 2026)
    rng = random.Random(seed)
    rules = [r for r in spec.rules.values() if r.tables and r.fields and r.kind != "not_implemented"][:40]
    assert rules, "the CIN catalogue has no rules with tables and fields"
    children = [f"{rng.randint(100000, 999999)}{i:05d}" for i in range(n_children)]
    period = [dt.date(2025, 4, 1) + dt.timedelta(days=d) for d in range(365)]
    rows = []
    for i in range(n_findings):
        rule = rules[min(len(rules) - 1, int(rng.expovariate(0.15)))]
        table = rule.tables[0]
        child = children[int(rng.random() ** 2 * n_children)]  # some children have many findings
        vals = []
        for f in rule.fields:
            ft = spec.tables[table].field(f).type if f in spec.tables[table].field_names else "string"
            vals.append(f"{f}={rng.choice(period).isoformat()}" if ft == "date" else f"{f}=X{rng.randint(0, 99)}")
        rows.append({"code": rule.code, "severity": rule.severity, "table": table, "row": i + 1, "child": child,
                     "fields": "|".join(rule.fields), "source": f"big_2026.xml:{1000 + i * 7}",
                     "value": "; ".join(vals), "detail": ""})
    for i in range(40):  # some load findings
        rows.append({"code": "LOAD-DATE", "severity": "error", "table": "Child", "row": i + 1,
                     "child": children[i], "fields": "PersonBirthDate", "source": f"big_2026.xml:{50 + i}",
                     "value": "PersonBirthDate=2015-02-30", "detail": "expected a real date as yyyy-mm-dd"})
    findings = sort_findings(make_findings(rows))
    counts = findings["code"].value_counts()
    outcomes = {c: Outcome("failed" if c in counts else "passed", None, int(counts.get(c, 0))) for c in spec.rules}
    return RunResult(
        return_="cin", year=2026, spec=spec,
        inputs=[InputFile("big_2026.xml", hashlib.sha256(b"big").hexdigest(), None, n_children)],
        findings=findings, outcomes=outcomes, table_rows={t: n_children for t in spec.tables},
        children=n_children, la="999", tool_version="test", seconds=12.3)


def data_block(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert m, "no embedded findings"
    return json.loads(m.group(1))


# ------------------------------------------------------------------------------------------ HTML
def test_report_is_self_contained_and_has_the_headline(tmp_path: Path) -> None:
    out = write_report(problems_result(), tmp_path / "report.html")
    html = out.read_text(encoding="utf-8")
    assert not re.search(r"""\b(?:src|href|action|poster|srcset|data|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"""url\(\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "@import" not in html and "<link" not in html and "<iframe" not in html
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert "default-src 'none'" in html  # the CSP forbids any request the page might still try
    assert "Not ready to submit" in html or "Check incomplete" in html
    assert "CIN census 2025-26" in html and "LA 999" in html
    assert _cin().inputs[0].sha256 in html
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # atomic: no temporary file left


def test_inline_script_and_style_match_the_csp_hashes() -> None:
    html = render_report(problems_result())
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    for text in (script, style):
        digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in csp


@pytest.mark.parametrize("case, expected", [
    ("errors", "Not ready to submit: "),
    ("queries", "Ready to submit, with "),
    ("none", "Ready to submit"),
    ("errored", "Check incomplete: 1 rule could not run"),
])
def test_headline(case: str, expected: str) -> None:
    base = problems_result()
    f = base.findings
    if case == "errors":
        r = clean(base, f)
        n = int((f["severity"] == "error").sum())
        expected += f"{n:,} error{'s' if n != 1 else ''} block submission"
    elif case == "queries":
        r = clean(base, f[f["severity"] == "query"])
    elif case == "none":
        r = clean(base)
    else:
        r = clean(base, f)
        r.outcomes["X1"] = Outcome("errored", "boom")
    ctx = build_context(r)
    assert ctx["headline"]["title"].startswith(expected)
    html = render_report(r)
    assert ctx["headline"]["title"] in html
    if case == "none":
        assert ctx["headline"]["title"] == "Ready to submit"


def test_hostile_child_ids_and_paths_are_escaped() -> None:
    r = problems_result()
    r = dataclasses.replace(r, inputs=[InputFile("<script>alert(3)</script>.xml", "0" * 64, None, 6)])
    html = render_report(r)
    assert IMG not in html
    assert "alert(2)" not in html.replace("alert(2)\\u003c", "")  # only inside the escaped JSON
    assert "<script>alert(3)" not in html and "&lt;script&gt;alert(3)&lt;/script&gt;.xml" in html
    assert "<b>boom</b>" not in html and "&lt;b&gt;boom&lt;/b&gt;" in html  # errored rule traceback
    assert html.count("<script") == 2 and html.count("</script") == 2  # the JSON block cannot be closed early
    data = data_block(html)
    children = {row[4] for row in data["f"]}
    assert {IMG, SCRIPT, FORMULA} <= children  # the IDs themselves survive, exactly


def test_script_json_escapes_markup() -> None:
    text = script_json({"x": "</script><!-- & ]]> \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"x": "</script><!-- & ]]> \u2028"}


def test_forced_banner_only_when_forced() -> None:
    r = problems_result()
    assert "written despite errors" not in render_report(r)
    html = render_report(dataclasses.replace(r, forced=True))
    assert 'class="banner forced" role="alert"' in html and "written despite errors" in html


def test_load_findings_come_first_and_skipped_and_errored_rules_are_listed() -> None:
    r = problems_result()
    html = render_report(r)
    assert html.index('id="load"') < html.index('id="errored"') < html.index('id="by-rule"')
    load = html[html.index('id="load"'):html.index('id="errored"')]
    assert "LOAD-DATE" in load and "SCHEMA-" in load and "8869" not in load
    errored = html[html.index('id="errored"'):html.index('id="by-rule"')]
    assert "TEST-ERR" in errored
    skipped = html[html.index('id="skipped"'):html.index('id="run"')]
    assert "TEST-SKIP" in skipped and "needs last year&#39;s return (give it with --previous)" in skipped


def test_by_rule_has_message_explanation_counts_and_fields() -> None:
    r = problems_result()
    ctx = build_context(r)
    rules = {d["code"]: d for d in ctx["dfe_rules"]}
    d = rules["8869"]
    assert d["message"] == r.spec.rules["8869"].message  # the DfE message, verbatim
    assert d["explain"] == r.spec.rules["8869"].explain
    assert d["records"] == int((r.findings["code"] == "8869").sum())
    assert d["children"] == 2 and d["fields"] == ["AssessmentFactors"]
    html = render_report(r)
    assert 'id="rule-8869"' in html and "What it means:" in html


def test_ssda903_report_renders(tmp_path: Path) -> None:
    r, _ = validate([SSDA903_DIR], year=2026)
    html = write_report(r, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "SSDA903" in html and "LOAD-DATE" in html
    data = data_block(html)
    assert FORMULA in {row[4] for row in data["f"]}


def test_empty_run_renders() -> None:
    html = render_report(clean(problems_result()))
    assert "Ready to submit" in html and "The files were read without problems" in html
    assert data_block(html)["f"] == []


def test_table_field_heat_counts_each_field() -> None:
    r = problems_result()
    ctx = build_context(r)
    cells = {(g["table"], h["field"]): h["total"] for g in ctx["heat"] for h in g["rows"]}
    f = r.findings
    expected = int(f.loc[f["table"] == "AssessmentFactors", "fields"].str.split("|").explode().eq("AssessmentFactors").sum())
    assert cells[("AssessmentFactors", "AssessmentFactors")] == expected


def test_finding_month() -> None:
    start, end = dt.date(2025, 4, 1), dt.date(2026, 3, 31)
    assert finding_month("PersonBirthDate=2015-03-27; CINreferralDate=2025-06-10", start, end) == dt.date(2025, 6, 1)
    assert finding_month("PersonBirthDate=2015-03-27", start, end) == dt.date(2015, 3, 1)
    assert finding_month("DECOM=14/06/2025", start, end) == dt.date(2025, 6, 1)
    assert finding_month("DOB=31/02/2011", start, end) is None
    assert finding_month("CINclosureDate=2025-13-01", start, end) is None
    assert finding_month("", start, end) is None and finding_month(None, start, end) is None


# ------------------------------------------------------------------------------------------ compare
def test_compare_counts_fixed_new_remaining() -> None:
    r = problems_result()
    prev, want = previous_json(r)
    cmp = compare_findings(findings_records(r), prev, "prev.json", r)
    assert (cmp.remaining, cmp.new, cmp.fixed) == (want["remaining"], want["new"], want["fixed"])
    assert cmp.status.count(1) == want["new"] and cmp.status.count(2) == want["remaining"]
    gone = next(c for c in cmp.by_rule if c["code"] == "9999")
    assert (gone["fixed"], gone["now"], gone["before"]) == (3, 0, 3)


def test_compare_matches_duplicates_as_a_multiset() -> None:
    f = {"code": "1", "child": "A", "table": "T", "fields": ["F"], "value": "F=1"}
    cmp = compare_findings([f, f, f], {"findings": [f, f]})
    assert (cmp.remaining, cmp.new, cmp.fixed) == (2, 1, 0)
    cmp = compare_findings([f], {"findings": [f, f, dict(f, child="B")]})
    assert (cmp.remaining, cmp.new, cmp.fixed) == (1, 0, 2)


def test_compare_in_the_report(tmp_path: Path) -> None:
    r = problems_result()
    prev, want = previous_json(r)
    (tmp_path / "prev.json").write_text(json.dumps(prev), encoding="utf-8")
    html = write_report(r, tmp_path / "report.html", compare=tmp_path / "prev.json").read_text(encoding="utf-8")
    assert "Changes since the previous run" in html
    assert f"{want['fixed']} fixed" in html and f"{want['new']} new" in html
    data = data_block(html)
    assert data["compare"] is True
    assert sum(1 for row in data["f"] if row[9] == 1) == want["new"]


def test_compare_with_a_real_previous_findings_json(tmp_path: Path) -> None:
    r = problems_result()
    write_json(r, tmp_path / "findings.json")  # yesterday's run, same findings
    ctx = build_context(r, compare=tmp_path / "findings.json")
    assert (ctx["cmp"].fixed, ctx["cmp"].new, ctx["cmp"].remaining) == (0, 0, len(r.findings))


def test_unreadable_compare_file_is_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.warns(UserWarning):
        html = render_report(problems_result(), compare=tmp_path / "bad.json")
    assert "could not be compared" in html


# ------------------------------------------------------------------------------------------ xlsx
def test_xlsx_cells_are_text_and_formulas_stay_text(tmp_path: Path) -> None:
    r = problems_result()
    path = write_xlsx(r, tmp_path / "findings.xlsx")
    assert [p.name for p in tmp_path.iterdir()] == ["findings.xlsx"]
    wb = load_workbook(path)
    assert wb.sheetnames == ["Errors", "Queries", "Warnings"]
    seen_formula = False
    total = 0
    for ws in wb:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        header = [c.value for c in ws[1]]
        assert header[:3] == ["Child", "Rule", "Message"] and "Value found" in header
        assert all(ws.column_dimensions[chr(65 + i)].width >= 8 for i in range(len(header)))
        for row in ws.iter_rows(min_row=2):
            total += 1
            for c in row:
                if c.value is not None:
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)
                    assert isinstance(c.value, str)
            if row[0].value == FORMULA:
                seen_formula = True
    assert total == len(r.findings)
    assert seen_formula
    counts = r.counts()
    assert wb["Errors"].max_row - 1 == counts["error"]


def test_xlsx_refuses_no_control_characters(tmp_path: Path) -> None:
    r = problems_result()
    f = r.findings.copy()
    f.loc[0, "value"] = "bad\x01value"
    path = write_xlsx(dataclasses.replace(r, findings=f), tmp_path / "findings.xlsx")
    assert load_workbook(path).active is not None


# ------------------------------------------------------------------------------------------ scale
def test_large_report_stays_small(tmp_path: Path) -> None:
    r = big_result()
    assert len(r.findings) >= 5000 and r.children == 10_000
    t0 = time.perf_counter()
    path = write_report(r, tmp_path / "report.html")
    seconds = time.perf_counter() - t0
    size = path.stat().st_size
    print(f"\n5k-findings report: {size / 1e6:.2f} MB written in {seconds:.2f} s")
    assert size < 10_000_000
    html = path.read_text(encoding="utf-8")
    assert len(data_block(html)["f"]) == len(r.findings)
    assert html.count("<tr") < 2000  # findings are rendered in pages by the browser, not all in the DOM


def test_return_level_findings_are_shown_apart(tmp_path):
    """CIN return-level rules (e.g. 2887Q) get their own section, not mixed with record findings."""
    from csc_returns.reports.html import write_report
    from csc_returns.returns.result import make_findings
    from csc_returns.returns.run import validate

    fixture = Path(__file__).parent / "fixtures" / "cin" / "small_2026.xml"
    result, _ = validate([fixture], gx=False)
    extra = make_findings([{"code": "2887Q", "severity": "query", "table": None, "row": None, "child": None,
                            "fields": "Disability", "source": None, "value": "", "detail": ""}])
    result.findings = pd.concat([result.findings, extra], ignore_index=True)
    html = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    whole = html[html.index('id="whole-return"'):html.index('id="by-rule"')]
    assert "2887Q" in whole
    by_rule = html[html.index('id="by-rule"'):html.index('id="by-child"')]
    assert ">2887Q<" not in by_rule
