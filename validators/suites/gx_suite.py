"""Compile the GX suites of a return and year, engine-neutral (GX is not imported here).

Two sources, one plan format (`Planned`: a GX expectation type, its arguments, the batch it runs on
and where its results go):

1. **Catalogue rules** whose kind has a faithful GX equivalent. These are *not* reported as
   findings in a run (the native engine reports those rules with the DfE message); they exist for
   the parity test and for GX users' Data Docs. A rule is compiled only when the GX expectation
   flags exactly the rows the native kind flags:

   ==================  ==========================================================================
   kind                GX expectation(s)
   ==================  ==========================================================================
   required            expect_column_values_to_not_be_null
   in_codeset          expect_column_values_to_be_in_set (+ ..._to_not_be_null when `required`)
   allowed_values      expect_column_values_to_be_in_set (+ ..._to_not_be_null when `required`)
   forbidden_values    expect_column_values_to_not_be_in_set
   matches             expect_column_values_to_match_regex, anchored as pandas' fullmatch
   max_length          expect_column_value_lengths_to_be_between
   unique              expect_column_values_to_be_unique / expect_compound_columns_to_be_unique
                       (rows with a blank key ignored, as the kind does)
   compare (same row)  expect_column_pair_values_a_to_be_greater_than_b (>, >=, <, <= by
                       swapping columns) / expect_column_pair_values_to_be_equal (==);
                       blank on either side ignored. Against period_start/period_end:
                       expect_column_values_to_be_between with pd.Timestamp bounds
   date_in_period      expect_column_values_to_be_between, pd.Timestamp bounds
   required_if         expect_column_values_to_not_be_null with a row condition
   absent_if           expect_column_values_to_be_null with a row condition
   ==================  ==========================================================================

   `where:` / `when:` conditions compile to GX row conditions when every part is one of
   present / in / not_in / equals / in_codeset (`equals` on a yes/no field is `== True/False`);
   conditions comparing fields or dates, `not`/`any`, cross-table joins (`other_table`), `!=`
   comparisons and every other kind are left to the native engine only (`not_compiled` says why).

2. **Data-quality checks** from `specs/<return>/quality.yaml` (see `quality.py`): completeness,
   share of "not known" codes, volumes against last year, month gaps, date spikes and duplicate
   records. Completeness, shares and duplicates run on the canonical table; volumes and month
   gaps on one small derived table (`months`: records per month of every dated table, this year
   and last, 13 rows), date spikes on another (`dates`: records per date of every date field
   checked). Both are built by `gx_run.py`; a column's name says what it holds
   ("CINdetails.CINreferralDate:ratio_to_last_year_min100" is blank where last year had fewer
   than 100 records), so GX Data Docs read on their own.

Dates are always `pd.Timestamp` bounds, never strings: GX 1.24 on pandas 3 errors internally on
string bounds and reports a failure with no rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from csc_returns.returns.spec import Rule, Spec, resolve
from csc_returns.validators.suites.quality import (
    CODES, Completeness, DateSpike, Duplicates, MonthGap, UnknownShare, Volume, checks_for,
)

# ------------------------------------------------------------------------------------- plans
CondOp = Literal["null", "not_null", "in", "not_in", "eq"]


@dataclass(frozen=True)
class Cond:
    """One part of a row condition; a plan's `where` is the AND of its parts."""

    op: CondOp
    field: str
    value: Any = None

    def text(self) -> str:
        if self.op == "null":
            return f"{self.field} is blank"
        if self.op == "not_null":
            return f"{self.field} is present"
        if self.op == "eq":
            return f"{self.field} == {self.value!r}"
        return f"{self.field} {'in' if self.op == 'in' else 'not in'} {list(self.value)}"


@dataclass
class Planned:
    """One GX expectation, engine-neutral."""

    id: str  # unique within a return and year: "8500", "4220#not_null", "DQ-COMPLETENESS:Child.UPN"
    origin: Literal["rule", "dq"]
    code: str  # the catalogue rule code, or the DQ finding code
    batch: str  # the batch it runs on: a canonical table, or a derived one (MONTHS_BATCH, DATES_BATCH)
    table: str  # the canonical table its findings are about
    type: str  # GX expectation type, snake case
    kwargs: dict[str, Any]
    where: tuple[Cond, ...] = ()
    description: str = ""
    fields: tuple[str, ...] = ()
    kind: str = ""  # dq: the quality.yaml section; rule: the rule kind
    role: str = ""  # dq: which side of the check ("max", "min", "field", "month", "ratio", ...)
    check: Any = None  # dq: the quality.yaml entry
    needs_previous: bool = False

    def args_text(self) -> str:
        parts = []
        for k, v in self.kwargs.items():
            if isinstance(v, pd.Timestamp):
                v = v.date().isoformat()
            elif isinstance(v, (list, tuple)) and len(v) > 8:
                v = f"[{', '.join(map(str, v[:8]))}, ... {len(v)} values]"
            elif isinstance(v, float):
                v = round(v, 6)
            parts.append(f"{k}={v}")
        if self.where:
            parts.append("row_condition: " + " and ".join(c.text() for c in self.where))
        return ", ".join(parts)


def batch_columns(plans: list[Planned]) -> list[str]:
    """The columns a canonical-table batch needs (the expectations' columns and conditions)."""
    cols: list[str] = []
    for p in plans:
        for k in ("column", "column_A", "column_B"):
            if k in p.kwargs:
                cols.append(p.kwargs[k])
        cols += list(p.kwargs.get("column_list", []))
        cols += [c.field for c in p.where]
    return list(dict.fromkeys(cols))


# ------------------------------------------------------------------------------------- rules
class NotCompiled(Exception):
    """The rule has no faithful GX equivalent (the message says why)."""


_SWAP = {"<": ">", "<=": ">=", ">": ">", ">=": ">="}


def _scalar_ok(values: list[Any]) -> bool:
    return all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values)


def compile_condition(spec: Spec, table: str, cond: Any) -> tuple[Cond, ...]:
    """A `where:`/`when:` condition as GX row-condition parts, or NotCompiled."""
    if cond is None:
        return ()
    if isinstance(cond, list):
        return tuple(part for c in cond for part in compile_condition(spec, table, c))
    if not isinstance(cond, dict) or "field" not in cond:
        raise NotCompiled(f"condition {cond!r} has no GX row condition")
    f = cond["field"]
    if f not in spec.tables[table].field_names:
        raise NotCompiled(f"condition field {f} is not a field of {table}")
    extra = set(cond) - {"field", "present", "in", "not_in", "equals", "in_codeset"}
    if extra or len(cond) != 2:
        raise NotCompiled(f"condition {cond!r} has no GX row condition")
    if "present" in cond:
        return (Cond("not_null" if cond["present"] else "null", f),)
    if "in" in cond or "in_codeset" in cond:
        values = list(cond["in"]) if "in" in cond else sorted(spec.codes(cond["in_codeset"]))
        if not _scalar_ok(values):
            raise NotCompiled(f"condition {cond!r}: GX 'in' takes text and numbers only")
        return (Cond("in", f, tuple(values)),)
    if "not_in" in cond:
        values = list(cond["not_in"])
        if not _scalar_ok(values):
            raise NotCompiled(f"condition {cond!r}: GX 'not in' takes text and numbers only")
        # the kind's not_in never selects a blank; pandas' `not in` does, hence the guard
        return (Cond("not_null", f), Cond("not_in", f, tuple(values)))
    v = cond["equals"]
    if not isinstance(v, (str, int, float, bool)):
        raise NotCompiled(f"condition {cond!r} has no GX row condition")
    return (Cond("eq", f, v),)


def _field(spec: Spec, table: str, name: str) -> None:
    if table not in spec.tables:
        raise NotCompiled(f"table {table} is not part of the {spec.year} return")
    if name not in spec.tables[table].field_names and not name.startswith("_"):
        raise NotCompiled(f"{table} has no field {name}")


def _rule_plans(spec: Spec, rule: Rule) -> list[Planned]:
    if set(rule.needs) & {"postcodes", "la", "ofsted"}:  # GX sees the loaded tables, not derived fields
        raise NotCompiled("the rule reads reference data (derived placement fields, the LA, Ofsted lists)")
    p = dict(rule.params)
    kind = rule.kind
    table = p.get("table")
    if not isinstance(table, str):
        raise NotCompiled("the rule has no single table")
    if "other_table" in p or "on" in p:
        raise NotCompiled("the rule joins another table")
    where_key = "when" if kind in ("required_if", "absent_if") else "where"
    where = compile_condition(spec, table, p.get(where_key))
    supported = {
        "required": {"table", "field", "where"},
        "in_codeset": {"table", "field", "codeset", "required", "where"},
        "allowed_values": {"table", "field", "values", "required", "where"},
        "forbidden_values": {"table", "field", "values", "where"},
        "matches": {"table", "field", "pattern", "where"},
        "max_length": {"table", "field", "length"},
        "unique": {"table", "keys", "where"},
        "compare": {"table", "left", "op", "right", "where"},
        "date_in_period": {"table", "field", "bound", "where"},
        "required_if": {"table", "field", "when"},
        "absent_if": {"table", "field", "when"},
    }
    if kind not in supported:
        raise NotCompiled(f"kind {kind} has no GX equivalent")
    unknown = set(p) - supported[kind]
    if unknown:
        raise NotCompiled(f"parameters {sorted(unknown)} have no GX equivalent")

    def plan(type_: str, suffix: str = "", **kwargs: Any) -> Planned:
        fields = tuple(dict.fromkeys([v for k, v in kwargs.items() if k in ("column", "column_A", "column_B")]
                                     + list(kwargs.get("column_list", []))))
        return Planned(id=rule.code + (f"#{suffix}" if suffix else ""), origin="rule", code=rule.code,
                       batch=table, table=table, type=type_, kwargs=kwargs, where=where,
                       description=rule.message, fields=fields, kind=kind)

    if kind in ("required", "required_if"):
        _field(spec, table, p["field"])
        return [plan("expect_column_values_to_not_be_null", column=p["field"])]
    if kind == "absent_if":
        _field(spec, table, p["field"])
        return [plan("expect_column_values_to_be_null", column=p["field"])]
    if kind in ("in_codeset", "allowed_values"):
        _field(spec, table, p["field"])
        values = sorted(spec.codes(p["codeset"])) if kind == "in_codeset" else [str(v) for v in p["values"]]
        out = [plan("expect_column_values_to_be_in_set", "in_set" if p.get("required") else "",
                    column=p["field"], value_set=values)]
        if p.get("required"):
            out.append(plan("expect_column_values_to_not_be_null", "not_null", column=p["field"]))
        return out
    if kind == "forbidden_values":
        _field(spec, table, p["field"])
        return [plan("expect_column_values_to_not_be_in_set", column=p["field"], value_set=[str(v) for v in p["values"]])]
    if kind == "matches":
        _field(spec, table, p["field"])
        # the kind is pandas' str.fullmatch: anchor both ends (GX uses str.contains, a search)
        return [plan("expect_column_values_to_match_regex", column=p["field"], regex=f"^(?:{p['pattern']})$")]
    if kind == "max_length":
        _field(spec, table, p["field"])
        return [plan("expect_column_value_lengths_to_be_between", column=p["field"], max_value=int(p["length"]))]
    if kind == "unique":
        keys = list(p["keys"])
        for k in keys:
            _field(spec, table, k)
        if len(keys) == 1:
            return [plan("expect_column_values_to_be_unique", column=keys[0])]
        return [plan("expect_compound_columns_to_be_unique", column_list=keys, ignore_row_if="any_value_is_missing")]
    if kind == "date_in_period":
        _field(spec, table, p["field"])
        bound = p.get("bound", "both")
        kw: dict[str, Any] = {"column": p["field"]}
        if bound in ("both", "start"):
            kw["min_value"] = pd.Timestamp(spec.period_start)
        if bound in ("both", "end"):
            kw["max_value"] = pd.Timestamp(spec.period_end)
        return [plan("expect_column_values_to_be_between", **kw)]
    # compare, within one row
    left, op, right = p["left"], p["op"], p["right"]
    _field(spec, table, left)
    if right in ("period_start", "period_end"):
        bound = pd.Timestamp(getattr(spec, right))
        if op in ("<", "<="):
            return [plan("expect_column_values_to_be_between", column=left, max_value=bound, strict_max=op == "<")]
        if op in (">", ">="):
            return [plan("expect_column_values_to_be_between", column=left, min_value=bound, strict_min=op == ">")]
        raise NotCompiled(f"comparison {op} with {right} has no GX equivalent")
    _field(spec, table, right)
    if op == "==":
        return [plan("expect_column_pair_values_to_be_equal", column_A=left, column_B=right,
                     ignore_row_if="either_value_is_missing")]
    if op not in _SWAP:
        raise NotCompiled(f"comparison {op} between two fields has no GX equivalent")
    a, b = (left, right) if op in (">", ">=") else (right, left)
    return [plan("expect_column_pair_values_a_to_be_greater_than_b", column_A=a, column_B=b,
                 or_equal=op in (">=", "<="), ignore_row_if="either_value_is_missing")]


def compile_rules(spec: Spec) -> tuple[list[Planned], dict[str, str]]:
    """GX plans for the year's catalogue rules, and why each other rule was not compiled."""
    plans: list[Planned] = []
    not_compiled: dict[str, str] = {}
    for code, rule in spec.rules.items():
        try:
            plans += _rule_plans(spec, rule)
        except NotCompiled as exc:
            not_compiled[code] = str(exc)
    return plans, not_compiled


# ------------------------------------------------------------------------------------- quality
def _pct(x: float) -> str:
    return f"{100 * x:g} %"


def record_columns(spec: Spec, table: str) -> list[str]:
    """The columns that make a whole record: the child, the parent record (CIN) and every field."""
    t = spec.tables[table]
    cols: list[str] = []
    parent = spec.tables.get(t.parent) if t.parent else None
    if parent is not None and parent.key:
        cols.append(parent.key)
    if t.child_field not in t.field_names and parent is not None:
        cols.append(t.child_field)
    return cols + t.field_names


MONTHS_BATCH = "months"  # records per month of each dated table, and per table for the year
DATES_BATCH = "dates"  # records per date of each date field checked for spikes


def series(table: str, field_: str | None) -> str:
    """The column prefix of one table (and date field) in the derived batches."""
    return f"{table}.{field_}" if field_ else table


def compile_quality(spec: Spec) -> list[Planned]:
    plans: list[Planned] = []
    for kind, c in checks_for(spec):
        code = CODES[kind]
        t = c.table

        def plan(role: str, batch: str, type_: str, fields: tuple[str, ...], description: str,
                 where: tuple[Cond, ...] = (), needs_previous: bool = False, **kwargs: Any) -> None:
            base = f"{code}:{t}" + (f".{fields[0]}" if fields else "")
            plans.append(Planned(id=f"{base}:{role}" if role else base, origin="dq", code=code, batch=batch,
                                 table=t, type=type_, kwargs=kwargs, where=where, description=description,
                                 fields=fields, kind=kind, role=role, check=c, needs_previous=needs_previous))

        if isinstance(c, Completeness):
            plan("", t, "expect_column_proportion_of_non_null_values_to_be_between", (c.field,),
                 f"At least {_pct(c.min)} of {t} records have {c.field} recorded.",
                 column=c.field, min_value=c.min, max_value=1.0)
        elif isinstance(c, UnknownShare):
            if c.any_value:
                if c.max is not None:
                    plan("max", t, "expect_column_values_to_be_null", (c.field,),
                         f"At most {_pct(c.max)} of {t} records have {c.field} recorded ({c.label}).",
                         column=c.field, mostly=round(1 - c.max, 10))
                if c.min is not None:
                    plan("min", t, "expect_column_values_to_not_be_null", (c.field,),
                         f"At least {_pct(c.min)} of {t} records have {c.field} recorded ({c.label}).",
                         column=c.field, mostly=c.min)
            else:
                codes = list(c.codes) if c.codes is not None else sorted(spec.codes(c.codeset))
                if c.max is not None:
                    plan("max", t, "expect_column_values_to_not_be_in_set", (c.field,),
                         f"At most {_pct(c.max)} of the recorded {c.field} values are {', '.join(codes)} ({c.label}).",
                         column=c.field, value_set=codes, mostly=round(1 - c.max, 10))
                if c.min is not None:
                    plan("min", t, "expect_column_values_to_be_in_set", (c.field,),
                         f"At least {_pct(c.min)} of the recorded {c.field} values are {', '.join(codes)} ({c.label}).",
                         column=c.field, value_set=codes, mostly=c.min)
        elif isinstance(c, Volume):
            what = f"per month of {c.date_field} and for the whole table" if c.date_field else "for the whole table"
            plan("ratio", MONTHS_BATCH, "expect_column_values_to_be_between",
                 (c.date_field,) if c.date_field else (),
                 f"{t} records this year ({what}) are {c.min_ratio:g} to {c.max_ratio:g} times last year's, "
                 f"where last year had at least {c.min_records} (the ratio is blank otherwise).",
                 needs_previous=True, column=f"{series(t, c.date_field)}:ratio_to_last_year_min{c.min_records}",
                 min_value=c.min_ratio, max_value=c.max_ratio)
        elif isinstance(c, MonthGap):
            plan("", MONTHS_BATCH, "expect_column_values_to_be_between", (c.date_field,),
                 f"Every month of the collection period has at least {_pct(c.min_share_of_mean)} of the average "
                 f"month's {t} records by {c.date_field} (checked from {c.min_records} records in the period).",
                 column=f"{series(t, c.date_field)}:share_of_monthly_mean", min_value=c.min_share_of_mean)
        elif isinstance(c, DateSpike):
            if c.max_share is not None:
                plan("field", DATES_BATCH, "expect_column_values_to_be_between", (c.field,),
                     f"No single date holds more than {_pct(c.max_share)} of {t}.{c.field} "
                     f"(checked from {c.min_records} dates).",
                     column=f"{series(t, c.field)}:share_of_field", max_value=c.max_share)
            if c.max_share_of_month is not None:
                plan("month", DATES_BATCH, "expect_column_values_to_be_between", (c.field,),
                     f"No single date holds more than {_pct(c.max_share_of_month)} of its month's {t}.{c.field} "
                     f"dates (months with at least {c.min_month_records} dates; the share is blank otherwise).",
                     column=f"{series(t, c.field)}:share_of_month_min{c.min_month_records}",
                     max_value=c.max_share_of_month)
        elif isinstance(c, Duplicates):
            cols = record_columns(spec, t)
            plan("", t, "expect_compound_columns_to_be_unique", (),
                 f"No two {t} records are identical in every field ({', '.join(cols)}).",
                 column_list=cols, ignore_row_if="never")
    return plans


def compile_suites(return_: str, year: int, rules: bool = True, quality: bool = True) -> list[Planned]:
    spec = resolve(return_, year)
    out: list[Planned] = []
    if rules:
        out += compile_rules(spec)[0]
    if quality:
        out += compile_quality(spec)
    return out


# ------------------------------------------------------------------------------------- listing
LIST_COLUMNS = ["return", "year", "suite", "origin", "code", "id", "expectation", "arguments", "description"]


def suite_name(return_: str, year: int, batch: str) -> str:
    return f"csc_returns.{return_}.{year}.{batch}"


def listing_rows(return_: str, year: int) -> list[dict[str, Any]]:
    rows = []
    plans = compile_suites(return_, year)
    order = {b: i for i, b in enumerate(dict.fromkeys(p.batch for p in plans))}
    for p in sorted(plans, key=lambda p: order[p.batch]):
        rows.append({"return": return_, "year": year, "suite": suite_name(return_, year, p.batch),
                     "origin": "catalogue rule" if p.origin == "rule" else "data quality",
                     "code": p.code, "id": p.id, "expectation": p.type, "arguments": p.args_text(),
                     "description": p.description})
    return rows


def listing(returns: list[str], year: int, fmt: str) -> str:
    """`csc-returns rules --gx`: every expectation of the year's suites."""
    data = [r for ret in returns for r in listing_rows(ret, year)]
    if fmt in ("json", "csv"):
        from csc_returns.reports.ruledocs import format_rows

        return format_rows(data, LIST_COLUMNS, fmt)
    lines: list[str] = []
    for ret in returns:
        spec = resolve(ret, year)
        rows = [r for r in data if r["return"] == ret]
        _, not_compiled = compile_rules(spec)
        n_rule = len({r["code"] for r in rows if r["origin"] == "catalogue rule"})
        lines.append(f"{ret} {year - 1}-{str(year)[2:]}: {len(rows)} expectations in "
                     f"{len({r['suite'] for r in rows})} suites ({n_rule} catalogue rules compiled, "
                     f"{len(not_compiled)} left to the native engine; "
                     f"{sum(r['origin'] == 'data quality' for r in rows)} data-quality expectations)")
        suite = None
        for r in rows:
            if r["suite"] != suite:
                suite = r["suite"]
                lines.append(f"  {suite}")
            lines.append(f"    {r['id']:44} {r['expectation']}({r['arguments']})")
    lines.append("Catalogue-rule expectations are for parity and GX Data Docs; a run reports those rules from the "
                 "native engine. Data-quality expectations report DQ-* warnings.")
    return "\n".join(lines) + "\n"

