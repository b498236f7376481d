"""Rule test cases as YAML: one file per rule, `tests/rules/<return>/<code>.yaml`.

```yaml
rule: "8500"
years: [2025, 2026]          # optional; default: every supported year the rule is active in
cases:
  - name: a child with no LAchildID
    expect: fail             # fail | pass
    flagged: {Child: [2]}    # optional: exactly these rows (1-based, per table) are reported
    tables:                  # values as they appear in the DfE file (strings); omitted fields blank
      Child:
        - {LAchildID: "A1", Sex: "M"}
        - {Sex: "F"}
    previous: {...}          # optional: last year's tables, same form
    absent: [UASC]           # optional: tables not supplied at all
    unreadable: true         # optional: the case holds unreadable values on purpose (31/02/2025)
    reference:               # optional: reference data (returns/reference.py)
      la: "999"              # the reporting LA (--la)
      postcodes:             # the postcode directory, instead of the bundled ONS one
        "AB1 2CD": {la: "999", easting: 400000, northing: 300000}   # la: DfE number, ONS code, SCO...
      ofsted:                # the Ofsted URN lookup (--ofsted), one entry per list row
        - {urn: SC900001, place_codes: [K2], provider_codes: [PR4], reg_end: "31/12/2025", postcode: "ZZ1 1AB", la: "999"}
```
An Ofsted entry takes the lookup's fields (returns/ofsted.py): urn; place_codes and provider_codes
(lists, or "K1/K2" text); reg_end (closure or deregistration date, dd/mm/yyyy); postcode (the
setting postcode); la (a DfE LA number or ONS code) and/or la_name (the LA as Ofsted names it);
any may be left out. A URN may have several entries.
CIN surrogate keys (`_child`, `_episode`, `_assessment`, `_plan`, `_s47`, `_cpp`, `_pp`) default to
1 when a row leaves them out, so single-child cases stay short; LAchildID is copied from the
row's `_child` Child row when omitted. 903 Episodes rows may give the derived placement fields
(PL_LA, PL_LOCATION, PL_DISTANCE) as supplied values; otherwise they are derived from the postcodes
with the case's directory (or the bundled one). The same files drive `csc-returns rules explain`.
A 903 Header row may give `_uasc` (e.g. `_uasc: "1"`): the child's UASC flag as an XML return
carries it (HEADER/UASC), kept as text; leave it out on every row for a CSV-form return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from csc_returns.returns.authorities import reporting_la
from csc_returns.returns.coerce import coerce_table, empty_table
from csc_returns.returns.ofsted import OfstedLookup
from csc_returns.returns.postcodes import DERIVED, TableDirectory, national
from csc_returns.returns.reference import Reference, with_derived
from csc_returns.returns.spec import SUPPORTED_YEARS, Spec, resolve
from csc_returns.validators.engine import Context, EngineResult, run_rules


@dataclass
class Case:
    return_: str
    code: str
    name: str
    expect: str
    tables: dict[str, list[dict[str, Any]]]
    previous: dict[str, list[dict[str, Any]]] | None = None
    flagged: dict[str, list[int]] | None = None
    absent: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    path: Path | None = None
    unreadable: bool = False  # the case holds values the loader cannot read, on purpose
    reference: dict[str, Any] = field(default_factory=dict)  # la, postcodes, ofsted (see the module docstring)


def cases_root() -> Path:
    """The case files: from a source checkout, or bundled with the package."""
    src = Path(__file__).resolve().parent.parent / "tests" / "rules"
    if src.is_dir():
        return src
    return Path(str(resources.files("csc_returns.rulecases")))


def load_cases(return_: str, code: str, root: Path | None = None) -> list[Case]:
    path = (root or cases_root()) / return_ / f"{code}.yaml"
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if str(data.get("rule")) != code:
        raise ValueError(f"{path}: 'rule' is {data.get('rule')!r}, expected {code!r}")
    years = [int(y) for y in data.get("years", [])]
    out = []
    for c in data["cases"]:
        unknown = set(c) - {"name", "expect", "tables", "previous", "flagged", "absent", "years", "unreadable", "reference"}
        if unknown:
            raise ValueError(f"{path}: case {c.get('name')!r} has unknown keys {sorted(unknown)}")
        if c["expect"] not in ("pass", "fail"):
            raise ValueError(f"{path}: case {c.get('name')!r}: expect must be pass or fail")
        out.append(Case(return_, code, c["name"], c["expect"], c.get("tables") or {}, c.get("previous"),
                        c.get("flagged"), list(c.get("absent", [])), [int(y) for y in c.get("years", years)], path,
                        bool(c.get("unreadable", False)), dict(c.get("reference") or {})))
    return out


def case_years(case: Case) -> list[int]:
    if case.years:
        return case.years
    return [y for y in SUPPORTED_YEARS if case.code in resolve(case.return_, y).rules]


def build_tables(spec: Spec, given: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, pd.DataFrame], list[dict]]:
    tables: dict[str, pd.DataFrame] = {}
    findings: list[dict] = []
    keys = [t.key for t in spec.tables.values() if t.key]
    children: dict[int, str] = {}
    for row in given.get("Child", []):
        if row.get("LAchildID") is not None:
            children[int(row.get("_child", 1))] = str(row["LAchildID"])
    for name, t in spec.tables.items():
        rows = given.get(name)
        if not rows:
            df = empty_table(t)
            if t.child_field not in df:
                df[t.child_field] = pd.Series(dtype="string")
            for k in keys:
                df[k] = pd.Series(dtype="Int64")
            tables[name] = df
            continue
        # XML-only loader metadata (the 903 Header's `_uasc` flag): text as given, set after coerce
        from csc_returns.returns.load_903_xml import UASC_FLAG
        xml_meta = {c for r in rows for c in r} & ({UASC_FLAG} if (spec.return_, name) == ("ssda903", "Header") else set())
        meta = {c: [None if r.get(c) is None else str(r[c]) for r in rows] for c in sorted(xml_meta)}
        rows = [{k: v for k, v in r.items() if k not in meta} for r in rows]
        supplied = {c for r in rows for c in r} & set(derived_fields(spec, name))
        unknown = {c for r in rows for c in r} - set(t.field_names) - set(keys) - {t.child_field} - supplied
        if unknown:
            raise ValueError(f"table {name} has no field(s) {sorted(unknown)} in {spec.year}")
        recs = []
        for i, r in enumerate(rows, start=1):
            rec = {k: ("" if v is None else str(v)) for k, v in r.items() if not k.startswith("_") and k not in supplied}
            for k in spec.key_columns(name):
                rec[k] = int(r.get(k, 1))
            if spec.return_ == "cin" and name != "Header" and "LAchildID" not in rec:
                rec["LAchildID"] = children.get(rec.get("_child", 1), "")
            rec["_source"] = f"case:{name}:{i}"
            recs.append(rec)
        raw = pd.DataFrame(recs)
        for c in raw.columns:
            raw[c] = raw[c].astype("Int64") if c.startswith("_") and c != "_source" else raw[c].astype("string")
        tables[name], f = coerce_table(raw, t, spec)
        for col, values in meta.items():
            tables[name][col] = pd.Series(values, dtype="string", index=tables[name].index)
        for col in sorted(supplied):  # derived fields given as values win over derived ones
            values = pd.Series([r.get(col) for r in rows], dtype="string", index=tables[name].index)
            tables[name][col] = pd.to_numeric(values).astype("Float64") if col == "PL_DISTANCE" else values
        findings.extend(f)
    return tables, findings


def derived_fields(spec: Spec, table: str) -> tuple[str, ...]:
    return DERIVED if spec.return_ == "ssda903" and table == "Episodes" else ()


def case_reference(case: Case) -> Reference:
    """The case's reference data: its own postcode directory, or the bundled ONS one."""
    given = case.reference
    unknown = set(given) - {"la", "postcodes", "ofsted"}
    if unknown:
        raise ValueError(f"{case.path}: case {case.name!r}: unknown reference keys {sorted(unknown)}")
    postcodes = TableDirectory.from_records(given["postcodes"], "case postcodes") if "postcodes" in given else national()
    ofsted = OfstedLookup.from_records(given["ofsted"]) if "ofsted" in given else None
    return Reference(la=reporting_la(str(given["la"])) if "la" in given else None, postcodes=postcodes, ofsted=ofsted)



def run_case(case: Case, year: int) -> tuple[EngineResult, list[dict]]:
    spec = resolve(case.return_, year)
    reference = case_reference(case) if case.return_ == "ssda903" else Reference()
    tables, load_findings = build_tables(spec, case.tables)
    prev = prev_spec = None
    if case.previous is not None:
        prev_spec = resolve(case.return_, year - 1)
        prev, _ = build_tables(prev_spec, case.previous)
    ctx = Context(spec=spec, tables=with_derived(spec.return_, tables, reference),
                  previous=with_derived(spec.return_, prev, reference), previous_spec=prev_spec,
                  absent=set(case.absent), load_findings=load_findings, reference=reference)
    return run_rules(ctx, codes=[case.code]), load_findings
