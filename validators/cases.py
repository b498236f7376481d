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
```
CIN surrogate keys (`_child`, `_episode`, `_assessment`, `_plan`, `_s47`, `_cpp`, `_pp`) default to
1 when a row leaves them out, so single-child cases stay short; LAchildID is copied from the
row's `_child` Child row when omitted. The same files drive `csc-returns rules explain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from csc_returns.returns.coerce import coerce_table, empty_table
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
        unknown = set(c) - {"name", "expect", "tables", "previous", "flagged", "absent", "years", "unreadable"}
        if unknown:
            raise ValueError(f"{path}: case {c.get('name')!r} has unknown keys {sorted(unknown)}")
        if c["expect"] not in ("pass", "fail"):
            raise ValueError(f"{path}: case {c.get('name')!r}: expect must be pass or fail")
        out.append(Case(return_, code, c["name"], c["expect"], c.get("tables") or {}, c.get("previous"),
                        c.get("flagged"), list(c.get("absent", [])), [int(y) for y in c.get("years", years)], path,
                        bool(c.get("unreadable", False))))
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
        unknown = {c for r in rows for c in r} - set(t.field_names) - set(keys) - {t.child_field}
        if unknown:
            raise ValueError(f"table {name} has no field(s) {sorted(unknown)} in {spec.year}")
        recs = []
        for i, r in enumerate(rows, start=1):
            rec = {k: ("" if v is None else str(v)) for k, v in r.items() if not k.startswith("_")}
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
        findings.extend(f)
    return tables, findings



def run_case(case: Case, year: int) -> tuple[EngineResult, list[dict]]:
    spec = resolve(case.return_, year)
    tables, load_findings = build_tables(spec, case.tables)
    prev = prev_spec = None
    if case.previous is not None:
        prev_spec = resolve(case.return_, year - 1)
        prev, _ = build_tables(prev_spec, case.previous)
    ctx = Context(spec=spec, tables=tables, previous=prev, previous_spec=prev_spec, absent=set(case.absent),
                  load_findings=load_findings)
    return run_rules(ctx, codes=[case.code]), load_findings
