"""The engine's contract: outcomes for every rule, crashes are `errored` (exit 2), never passes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from csc_returns.returns.load import load
from csc_returns.returns.result import RunResult, make_findings
from csc_returns.returns.spec import Rule
from csc_returns.validators.engine import CUSTOM, Context, run_rules

FIX = Path(__file__).parent / "fixtures"


def _rule(code: str, kind: str = "custom", **kw) -> Rule:
    base = dict(code=code, severity="error", message=f"test rule {code}", kind=kind, params={}, level="row",
                tables=[], fields=[], since=None, until=None, explain="x", notes=None, needs=[], aliases=[],
                reason=None)
    base.update(kw)
    return Rule(**base)


@pytest.fixture
def cin():
    return load([FIX / "cin" / "small_2026.xml"])


def _ctx(loaded, rules: dict[str, Rule], **kw) -> Context:
    spec = loaded.spec.model_copy(update={"rules": rules})
    return Context(spec=spec, tables=loaded.tables, **kw)


def test_a_crashing_rule_is_errored_not_passed(cin):
    CUSTOM["cin"]["T-BOOM"] = lambda ctx: 1 / 0
    try:
        res = run_rules(_ctx(cin, {"T-BOOM": _rule("T-BOOM", tables=["Child"])}))
    finally:
        del CUSTOM["cin"]["T-BOOM"]
    o = res.outcomes["T-BOOM"]
    assert o.status == "errored" and "ZeroDivisionError" in o.reason
    result = RunResult("cin", 2026, cin.spec, [], res.findings, res.outcomes)
    assert result.exit_code() == 2


def test_missing_implementation_is_errored(cin):
    res = run_rules(_ctx(cin, {"T-NONE": _rule("T-NONE", tables=["Child"])}))
    assert res.outcomes["T-NONE"].status == "errored"


def test_skips_are_recorded_with_reasons(cin):
    rules = {
        "T-PREV": _rule("T-PREV", kind="required", params={"table": "Child", "field": "UPN"}, needs=["previous"],
                        tables=["Child"]),
        "T-ABSENT": _rule("T-ABSENT", kind="required", params={"table": "Child", "field": "UPN"}, tables=["Child"]),
        "T-TODO": _rule("T-TODO", kind="not_implemented", reason="needs postcode data"),
    }
    res = run_rules(_ctx(cin, rules, absent={"Child"}))
    assert res.outcomes["T-PREV"].status == "skipped"
    assert res.outcomes["T-ABSENT"].reason == "table Child not supplied"
    assert "needs postcode data" in res.outcomes["T-TODO"].reason



def test_a_rule_reading_a_table_of_last_year_not_supplied_then_is_skipped(cin):
    # `<Table>_last` in a rule's tables: last year's table (e.g. 903 205D reads last year's UASC)
    rule = _rule("T-LAST", kind="required", params={"table": "Child", "field": "UPN"}, needs=["previous"],
                 tables=["Child", "Child_last"])
    res = run_rules(_ctx(cin, {"T-LAST": rule}, previous=cin.tables, previous_absent={"Child"}))
    o = res.outcomes["T-LAST"]
    assert o.status == "skipped" and o.reason == "last year's table Child not supplied in last year's return"
    res = run_rules(_ctx(cin, {"T-LAST": rule}, previous=cin.tables))  # supplied last year: it runs
    assert res.outcomes["T-LAST"].status in ("passed", "failed")
    res = run_rules(_ctx(cin, {"T-LAST": rule}))  # no last year's return at all: `needs` says why
    assert res.outcomes["T-LAST"].reason == "needs last year's return (give it with --previous)"

def test_findings_carry_child_source_and_values(cin):
    rules = {"T-REQ": _rule("T-REQ", kind="required", params={"table": "Child", "field": "UPN"}, fields=["UPN"])}
    res = run_rules(_ctx(cin, rules))
    f = res.findings
    assert f["child"].tolist() == ["SYN002", "SYN003"]
    assert f["row"].tolist() == [2, 3]
    assert f["source"].str.startswith("small_2026.xml:").all()
    assert f["value"].tolist() == ["UPN=", "UPN="]
    assert res.outcomes["T-REQ"].status == "failed" and res.outcomes["T-REQ"].count == 2


def test_return_level_rule_reports_once(cin):
    CUSTOM["cin"]["T-RET"] = lambda ctx: ctx.flag_return(True)
    try:
        res = run_rules(_ctx(cin, {"T-RET": _rule("T-RET", level="return", tables=["Child"])}))
    finally:
        del CUSTOM["cin"]["T-RET"]
    assert len(res.findings) == 1 and pd.isna(res.findings["table"].iloc[0])


def test_working_days_use_england_bank_holidays(cin):
    ctx = _ctx(cin, {})
    d = pd.Series(pd.to_datetime(["2026-03-31", "2025-12-24", "2026-04-07"]))
    # 45 working days before 31 March 2026 is 27 January 2026 (rule logic C3)
    assert ctx.add_working_days(d[:1], -45).iloc[0] == pd.Timestamp("2026-01-27")
    # 24 Dec 2025 + 1 working day skips Christmas and Boxing Day (Thu 25, Fri 26) -> Mon 29
    assert ctx.add_working_days(d[1:2], 1).iloc[0] == pd.Timestamp("2025-12-29")
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April are not working days
    wd = ctx.working_days_between(pd.Series([pd.Timestamp("2026-04-02")]), pd.Series([pd.Timestamp("2026-04-07")]))
    assert wd.iloc[0] == 1


def test_exit_codes_by_fail_on(cin):
    f = make_findings([{"code": "X", "severity": "query"}])
    r = RunResult("cin", 2026, cin.spec, [], f, {})
    assert r.exit_code("error") == 0 and r.exit_code("query") == 1
    w = RunResult("cin", 2026, cin.spec, [], make_findings([{"code": "DQ", "severity": "warning"}]), {})
    assert w.exit_code("query") == 0 and w.exit_code("warning") == 1
