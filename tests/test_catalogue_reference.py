"""The catalogue against the DfE rule lists: every code of each year present, message verbatim.

`csc-returns rules <return> --year Y` must list every DfE rule of that year, implemented or
catalogued as not_implemented with a reason, so the remaining gap is always visible.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from csc_returns.returns.spec import resolve

REF = Path(__file__).parent / "reference"


def reference(ret: str) -> dict[int, dict[str, dict]]:
    return yaml.safe_load((REF / f"dfe_rules_{ret}.yaml").read_text(encoding="utf-8"))["years"]


CASES = [(ret, year) for ret in ("cin", "ssda903") for year in reference(ret)]


@pytest.mark.parametrize(("ret", "year"), CASES)
def test_every_dfe_rule_is_catalogued_with_its_message(ret, year):
    ref = reference(ret)[year]
    rules = resolve(ret, year).rules
    missing = sorted(set(ref) - set(rules))
    assert not missing, f"{ret} {year}: DfE rules missing from the catalogue: {missing}"
    extra = sorted(c for c in set(rules) - set(ref))
    assert not extra, f"{ret} {year}: catalogue rules that the DfE list does not have this year: {extra}"
    differ = {c: (rules[c].message, r["message"]) for c, r in ref.items() if rules[c].message.strip() != r["message"]}
    assert not differ, f"{ret} {year}: messages differ from the DfE wording: {differ}"
    if ret == "cin":
        sev = {c: rules[c].severity for c, r in ref.items() if rules[c].severity != r["severity"]}
        assert not sev, f"severity differs: {sev}"


def test_cin_has_all_109_rules_in_2025_and_2026():
    for year in (2025, 2026):
        rules = resolve("cin", year).rules
        assert len(rules) == 109
        assert sum(r.severity == "query" for r in rules.values()) == 26
        assert all(r.kind != "not_implemented" for r in rules.values())
