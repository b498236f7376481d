"""Every rule's YAML cases, run by one parametrised test, plus the meta-tests that keep the
catalogue, the implementations and the cases in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from csc_returns.returns.spec import RETURNS, SUPPORTED_YEARS, load_rules, resolve
from csc_returns.validators.cases import case_years, cases_root, load_cases, run_case
from csc_returns.validators.engine import CUSTOM, KINDS, load_custom_rules

load_custom_rules()
ROOT = cases_root()


def _all_cases():
    for ret in RETURNS:
        for path in sorted((ROOT / ret).glob("*.yaml")):
            for case in load_cases(ret, path.stem):
                for year in case_years(case):
                    yield pytest.param(case, year, id=f"{ret}-{case.code}-{year}-{case.name}")


@pytest.mark.parametrize(("case", "year"), list(_all_cases()))
def test_rule_case(case, year):
    result, load_findings = run_case(case, year)
    if not case.unreadable:
        assert not load_findings, f"case data does not load cleanly: {load_findings}"
    outcome = result.outcomes[case.code]
    assert outcome.status != "errored", outcome.reason
    assert outcome.status != "skipped", outcome.reason
    f = result.findings
    if case.expect == "pass":
        assert outcome.status == "passed", f"expected no findings, got:\n{f.to_string()}"
    else:
        assert outcome.status == "failed", "expected the rule to report this case"
    if case.flagged is not None:
        got: dict[str, list[int]] = {}
        for r in f.itertuples():
            key = r.table if isinstance(r.table, str) else "return"
            got.setdefault(key, []).append(None if r.row is None or str(r.row) == "<NA>" else int(r.row))
        got = {k: sorted(v, key=lambda x: (x is None, x)) for k, v in got.items()}
        want = {k: sorted(v or [], key=lambda x: (x is None, x)) if v else [None] for k, v in case.flagged.items()}
        assert got == want


def _catalogue():
    for ret in RETURNS:
        for r in load_rules(ret):
            yield pytest.param(ret, r, id=f"{ret}-{r.code}-{r.since}")


@pytest.mark.parametrize(("ret", "rule"), list(_catalogue()))
def test_every_rule_is_implemented_and_has_pass_and_fail_cases(ret, rule):
    load_custom_rules()
    if rule.kind == "not_implemented":
        assert rule.reason, "a not_implemented rule must say why"
        return
    if rule.kind == "custom":
        assert rule.code in CUSTOM[ret], f"no @implements({rule.code!r}) under validators/rules/{ret}/"
    else:
        assert rule.kind in KINDS, f"unknown kind {rule.kind}"
    assert rule.explain.strip(), "every rule needs a plain-English explanation"
    cases = load_cases(ret, rule.code)
    assert {c.expect for c in cases} == {"pass", "fail"}, f"tests/rules/{ret}/{rule.code}.yaml needs pass and fail cases"


@pytest.mark.parametrize("ret", RETURNS)
def test_no_orphan_implementations_or_cases(ret):
    load_custom_rules()
    codes = {r.code for r in load_rules(ret)}
    assert set(CUSTOM[ret]) <= codes, f"custom rules with no catalogue entry: {set(CUSTOM[ret]) - codes}"
    orphans = {p.stem for p in (ROOT / ret).glob("*.yaml")} - codes
    assert not orphans, f"case files with no catalogue entry: {orphans}"


@pytest.mark.parametrize("ret", RETURNS)
@pytest.mark.parametrize("year", SUPPORTED_YEARS)
def test_rule_tables_and_fields_exist_in_the_spec(ret, year):
    spec = resolve(ret, year)
    for r in spec.rules.values():
        for t in r.tables:
            if t.endswith("_last"):
                continue
            assert t in spec.tables, f"{r.code}: no table {t} in {year}"
