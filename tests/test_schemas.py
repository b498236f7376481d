"""Pandera schemas generated from tables.yaml: public, named checks, failures become findings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.errors import SchemaErrors

from csc_returns.returns.load import load
from csc_returns.returns.spec import RETURNS, SUPPORTED_YEARS, resolve
from csc_returns.validators.schemas import build_schema, covered_checks, schema_for, validate_structure

FIX = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("ret", RETURNS)
@pytest.mark.parametrize("year", SUPPORTED_YEARS)
def test_every_table_has_a_schema(ret, year):
    spec = resolve(ret, year)
    for name, t in spec.tables.items():
        schema = schema_for(ret, year, name)
        assert isinstance(schema, pa.DataFrameSchema)
        assert list(schema.columns) == t.field_names


def test_clean_fixture_passes_public_schemas():
    l = load([FIX / "ssda903" / "2026"])
    for name in ("Header", "Episodes", "Reviews"):
        schema_for("ssda903", 2026, name).validate(l.tables[name], lazy=True)


def test_failures_map_to_findings_with_rows_children_and_sources():
    l = load([FIX / "ssda903" / "2026"])
    spec = l.spec
    covered = covered_checks(spec)
    # REVIEW_CODE's code set is checked by no catalogue rule, so the schema reports it; RNE's is
    # (rule 134 or similar), so the schema must leave it to the engine and not report it twice
    assert ("Reviews", "REVIEW_CODE", "SCHEMA-CODESET") not in covered
    assert ("Episodes", "RNE", "SCHEMA-CODESET") in covered
    rv = l.tables["Reviews"].copy()
    rv.loc[1, "REVIEW_CODE"] = "PN9"
    ep = l.tables["Episodes"].copy()
    ep.loc[1, "RNE"] = "Q"
    found = validate_structure(spec, {"Reviews": rv, "Episodes": ep})
    got = {(f["code"], f["fields"], f["row"], f["child"], f["source"], f["value"]) for f in found}
    assert got == {("SCHEMA-CODESET", "REVIEW_CODE", 2, "S101", "reviews.csv:3", "REVIEW_CODE=PN9")}


def test_checks_covered_by_a_rule_are_named_by_its_code():
    spec = resolve("ssda903", 2026)
    covered = covered_checks(spec)
    if not covered:
        pytest.skip("no rule-covered checks in the catalogue yet")
    (table, field, _), code = next(iter(covered.items()))
    schema = build_schema(spec, table)
    names = [c.name for c in schema.columns[field].checks]
    assert code in names
    run_schema = build_schema(spec, table, exclude_rule_checks=True)
    assert code not in [c.name for c in run_schema.columns[field].checks]


def test_public_schema_reports_named_failure_cases():
    l = load([FIX / "ssda903" / "2026"])
    ep = l.tables["Episodes"].copy()
    ep.loc[0, "PLACE"] = "XX"
    with pytest.raises(SchemaErrors) as info:
        schema_for("ssda903", 2026, "Episodes").validate(ep, lazy=True)
    fc = info.value.failure_cases
    row = fc[(fc["column"] == "PLACE")]
    assert len(row) == 1 and row["failure_case"].iloc[0] == "XX" and row["index"].iloc[0] == 0
