"""The GX suites as compiled from the specs (no GX needed): quality.yaml models, the compiled
expectations of every return and year, `rules --gx`, and GX staying out of the CLI's start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from csc_returns.returns.spec import RETURNS, SUPPORTED_YEARS, SpecError, resolve
from csc_returns.validators.catalogue import checks
from csc_returns.validators.suites import quality
from csc_returns.validators.suites.gx_suite import compile_quality, compile_rules, compile_suites

REPO = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "csc_returns.returns.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


# ------------------------------------------------------------------------------ quality.yaml
@pytest.mark.parametrize("ret", RETURNS)
def test_quality_yaml_loads_and_names_real_fields(ret):
    q = quality.load_quality(ret)
    assert q.return_ == ret
    for year in SUPPORTED_YEARS:
        found = quality.checks_for(resolve(ret, year))
        kinds = {k for k, _ in found}
        assert kinds == set(quality.CODES), f"{ret} {year}: every kind of check is used"


def test_quality_models_forbid_unknown_keys_and_bad_thresholds():
    base = {"return": "cin", "completeness": [{"table": "Child", "field": "UPN", "min": 0.5}]}
    quality.QualityFile.model_validate(base)
    with pytest.raises(ValueError):
        quality.QualityFile.model_validate({**base, "completness": []})  # typo in a section
    with pytest.raises(ValueError):
        quality.QualityFile.model_validate({"return": "cin", "completeness": [
            {"table": "Child", "field": "UPN", "min": 0.5, "minimum": 0.4}]})
    with pytest.raises(ValueError):
        quality.QualityFile.model_validate({"return": "cin", "completeness": [{"table": "Child", "field": "UPN", "min": 95}]})
    with pytest.raises(ValueError):  # exactly one of codes / codeset / any_value
        quality.QualityFile.model_validate({"return": "cin", "unknown_share": [
            {"table": "Child", "field": "Ethnicity", "label": "x", "codes": ["NOBT"], "any_value": True, "max": 0.1}]})
    with pytest.raises(ValueError):
        quality.QualityFile.model_validate({"return": "cin", "volume": [
            {"table": "Child", "min_ratio": 2, "max_ratio": 0.5}]})


def test_a_quality_check_on_a_missing_field_is_a_spec_error(monkeypatch):
    bad = quality.QualityFile.model_validate(
        {"return": "cin", "completeness": [{"table": "Child", "field": "NoSuchField", "min": 0.5}]})
    monkeypatch.setattr(quality, "load_quality", lambda ret: bad)
    with pytest.raises(SpecError, match="NoSuchField"):
        quality.checks_for(resolve("cin", 2026))


def test_dq_codes_have_catalogue_entries():
    entries = checks()
    for code in (*quality.DQ_CODES, quality.SUITE_CODE):
        assert code in entries, f"{code} needs a message and explanation in specs/common/checks.yaml"
        assert entries[code].severity == "warning" and entries[code].explain


def test_suites_package_and_quality_yaml_are_packaged():
    text = (REPO / "pyproject.toml").read_text()
    assert '"csc_returns.validators.suites",' in text
    assert '"csc_returns.specs" = ["**/*.yaml"' in text  # specs/<return>/quality.yaml ships


# ------------------------------------------------------------------------------ compiled suites
@pytest.mark.parametrize("ret", RETURNS)
@pytest.mark.parametrize("year", SUPPORTED_YEARS)
def test_suites_exist_for_every_return_and_year(ret, year):
    spec = resolve(ret, year)
    plans = compile_suites(ret, year)
    rules, not_compiled = compile_rules(spec)
    dq = compile_quality(spec)
    assert rules and dq and len(plans) == len(rules) + len(dq)
    assert len({p.id for p in plans}) == len(plans), "expectation ids are unique"
    assert {p.code for p in dq} == set(quality.DQ_CODES)
    assert set(not_compiled) | {p.code for p in rules} == set(spec.rules)
    for p in rules:
        assert p.code in spec.rules and p.table in spec.tables
        assert spec.rules[p.code].kind not in ("custom", "not_implemented")
        assert "other_table" not in spec.rules[p.code].params  # cross-table joins stay native
    for p in plans:
        for col in [p.kwargs.get(k) for k in ("column", "column_A", "column_B")] + list(p.kwargs.get("column_list", [])):
            if col and p.batch in spec.tables and not col.startswith("_"):
                t = spec.tables[p.batch]
                assert col in [*t.field_names, t.child_field], f"{p.id}: {col}"


@pytest.mark.parametrize("ret", RETURNS)
@pytest.mark.parametrize("year", SUPPORTED_YEARS)
def test_date_bounds_are_timestamps_never_strings(ret, year):
    """GX 1.24 on pandas 3: a string date bound errors inside GX and reports a failure with no rows."""
    spec = resolve(ret, year)
    for p in compile_suites(ret, year):
        col = p.kwargs.get("column")
        date_col = p.batch in spec.tables and col in spec.tables[p.batch].field_names \
            and spec.tables[p.batch].field(col).type == "date"
        for k in ("min_value", "max_value"):
            v = p.kwargs.get(k)
            assert not isinstance(v, str), f"{p.id}: {k} is a string"
            if date_col and v is not None and p.type == "expect_column_values_to_be_between":
                assert isinstance(v, pd.Timestamp), f"{p.id}: {k} must be a pd.Timestamp"


def test_conditions_compile_only_when_faithful():
    spec = resolve("cin", 2026)
    rules, not_compiled = compile_rules(spec)
    by_code = {p.code: p for p in rules}
    assert by_code["8610"].where[0].op == "eq" and by_code["8610"].where[0].value is False
    assert "8866" in not_compiled  # where: a date comparison with a constant
    assert "1103" in not_compiled and "join" in not_compiled["1103"]  # other_table
    assert "8840" in not_compiled  # `!=` between two fields has no GX expectation
    s903 = resolve("ssda903", 2026)
    rules903, nc903 = compile_rules(s903)
    assert "444" in nc903  # duplicate_values with `not` and case folding
    cond222 = next(p for p in rules903 if p.code == "222").where
    assert [c.op for c in cond222] == ["in", "not_null", "not_in"]


# ------------------------------------------------------------------------------ CLI
def test_rules_gx_lists_the_expectations_of_both_returns():
    p = run_cli("rules", "--gx", "--year", "2026")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    for needle in ("csc_returns.cin.2026.Child", "csc_returns.ssda903.2026.Episodes",
                   "expect_column_values_to_be_in_set", "DQ-COMPLETENESS:Child.UPN", "DQ-DUPLICATE:Episodes",
                   "DQ-VOLUME", "DQ-DATE-SPIKE", "DQ-MONTH-GAP", "DQ-UNKNOWN-SHARE"):
        assert needle in out
    j = run_cli("rules", "ssda903", "--gx", "--year", "2027", "--format", "json")
    data = json.loads(j.stdout)
    assert data and {r["return"] for r in data} == {"ssda903"}
    assert any(r["code"] == "DQ-DUPLICATE" and "DoLo" in r["suite"] for r in data)  # 2026-27 table
    assert {r["origin"] for r in data} == {"catalogue rule", "data quality"}
    bad = run_cli("rules", "--gx", "--format", "markdown")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_cli_and_run_do_not_import_great_expectations():
    code = ("import sys; import csc_returns.returns.cli, csc_returns.returns.run, "
            "csc_returns.validators.suites.gx_suite, csc_returns.reports.html; "
            "sys.exit(1 if 'great_expectations' in sys.modules else 0)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, "importing the CLI pulled in great_expectations " + p.stderr


def test_rules_gx_and_no_gx_never_import_great_expectations(tmp_path):
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from csc_returns.validators.suites.gx_suite import listing\n"
            "listing(['cin', 'ssda903'], 2026, 'table')\n"
            "from csc_returns.returns.run import validate\n"
            f"r, _ = validate([Path({str(FIX / 'ssda903' / '2026')!r})], gx=False)\n"
            "assert not any(c.startswith('DQ-') for c in r.outcomes), r.outcomes\n"
            "sys.exit(1 if 'great_expectations' in sys.modules else 0)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr


def test_gx_docs_refuses_the_current_and_temp_folder(tmp_path):
    p = run_cli("validate", FIX / "ssda903" / "2026", "--gx-docs", ".", cwd=tmp_path)
    assert p.returncode == 2 and "folder of their own" in p.stderr
    q = run_cli("validate", FIX / "ssda903" / "2026", "--no-gx", "--gx-docs", tmp_path / "docs")
    assert q.returncode == 2 and "--no-gx" in q.stderr
    assert not (tmp_path / "docs").exists() and not any(tmp_path.iterdir())
