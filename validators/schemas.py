"""Pandera schemas generated from `tables.yaml`, one per table and year (public API).

    from csc_returns.validators.schemas import schema_for
    schema_for("ssda903", 2026, "Episodes").validate(df, lazy=True)

Checks are named so that `failure_cases` map straight to findings: a check that a catalogue rule
also makes carries the rule's code (e.g. "146" for the placement code set); the others carry our
structural codes (SCHEMA-REQUIRED, SCHEMA-CODESET, ...). During a run the rule-named checks are
left out (`exclude_rule_checks=True`) because the rule engine reports those with the DfE message.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from csc_returns.returns.spec import Spec, resolve

_DTYPES = {"date": "datetime64[ns]", "int": "Int64", "bool": "boolean"}


def covered_checks(spec: Spec) -> dict[tuple[str, str, str], str]:
    """(table, field, check) -> code of the catalogue rule that makes the same check."""
    out: dict[tuple[str, str, str], str] = {}
    for rule in spec.rules.values():
        p = rule.params
        if "where" in p or not isinstance(p.get("table"), str) or not isinstance(p.get("field"), str):
            continue
        if rule.kind == "in_codeset":
            out[(p["table"], p["field"], "SCHEMA-CODESET")] = rule.code
            if p.get("required"):
                out[(p["table"], p["field"], "SCHEMA-REQUIRED")] = rule.code
        elif rule.kind == "required":
            out[(p["table"], p["field"], "SCHEMA-REQUIRED")] = rule.code
        elif rule.kind == "matches":
            out[(p["table"], p["field"], "SCHEMA-PATTERN")] = rule.code
    return out


def build_schema(spec: Spec, table: str, exclude_rule_checks: bool = False) -> pa.DataFrameSchema:
    t = spec.tables[table]
    covered = covered_checks(spec)
    columns: dict[str, pa.Column] = {}
    for f in t.fields:
        checks: list[pa.Check] = []

        def add(check_name: str, make: Any) -> None:
            code = covered.get((table, f.name, check_name))
            if code and exclude_rule_checks:
                return
            checks.append(make(code or check_name))

        if f.required:
            add("SCHEMA-REQUIRED", lambda n: pa.Check(lambda s: s.notna(), ignore_na=False, name=n))
        if f.codeset:
            codes = list(spec.codes(f.codeset))
            add("SCHEMA-CODESET", lambda n, codes=codes, cs=f.codeset: pa.Check(
                lambda s: s.isin(codes), name=n))
        if f.max_length:
            add("SCHEMA-LENGTH", lambda n, m=f.max_length: pa.Check(
                lambda s: s.astype("string").str.len() <= m, name=n))
        if f.pattern:
            add("SCHEMA-PATTERN", lambda n, p=f.pattern: pa.Check(
                lambda s: s.astype("string").str.fullmatch(p).fillna(False).astype(bool), name=n))
        if f.min is not None or f.max is not None:
            lo = f.min if f.min is not None else -(10**12)
            hi = f.max if f.max is not None else 10**12
            add("SCHEMA-RANGE", lambda n, lo=lo, hi=hi: pa.Check(
                lambda s: (s >= lo) & (s <= hi), name=n))
        columns[f.name] = pa.Column(_DTYPES.get(f.type), checks=checks, nullable=True, required=True,
                                    description=f.description or None, title=f.item)
    return pa.DataFrameSchema(columns, name=f"{spec.return_} {spec.year} {table}", strict=False, coerce=False)


@lru_cache(maxsize=None)
def schema_for(return_: str, year: int, table: str) -> pa.DataFrameSchema:
    """The public schema (all checks, rule-covered ones named by rule code)."""
    return build_schema(resolve(return_, year), table)


def validate_structure(spec: Spec, tables: dict[str, pd.DataFrame], skip: set[str] = frozenset()) -> list[dict[str, Any]]:
    """Run the structural schemas over canonical tables; failures become findings."""
    findings: list[dict[str, Any]] = []
    for name, df in tables.items():
        if name in skip or name not in spec.tables or df.empty:
            continue
        schema = build_schema(spec, name, exclude_rule_checks=True)
        if not any(c.checks for c in schema.columns.values()):
            continue
        try:
            schema.validate(df, lazy=True)
        except SchemaErrors as exc:
            findings.extend(_to_findings(spec, name, df, exc.failure_cases))
    return findings


def _to_findings(spec: Spec, table: str, df: pd.DataFrame, fc: pd.DataFrame) -> list[dict[str, Any]]:
    t = spec.tables[table]
    fc = fc[fc["index"].notna()]
    if fc.empty:
        return []
    idx = fc["index"].astype("int64").to_numpy()
    sub = df.loc[idx]
    child = sub[t.child_field] if t.child_field in sub else pd.Series(pd.NA, index=sub.index)
    out = []
    for (check, column, value), row, child_id, source in zip(
        fc[["check", "column", "failure_case"]].itertuples(index=False, name=None),
        sub["_row"].tolist(), child.tolist(), sub["_source"].tolist(),
    ):
        code = str(check) if str(check).startswith("SCHEMA-") else "SCHEMA-TYPE"
        f = t.field(column) if column in t.field_names else None
        detail = ""
        if code == "SCHEMA-CODESET" and f is not None and f.codeset:
            detail = f"code set {f.codeset}"
        elif code == "SCHEMA-PATTERN" and f is not None:
            detail = f"format {f.pattern}"
        elif code == "SCHEMA-LENGTH" and f is not None:
            detail = f"at most {f.max_length} characters"
        out.append({
            "code": code, "severity": "error", "table": table, "row": row,
            "child": None if pd.isna(child_id) else str(child_id), "fields": column,
            "source": source, "value": "" if pd.isna(value) else f"{column}={value}", "detail": detail,
        })
    return out
