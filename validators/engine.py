"""The rule engine: runs one year's catalogue over canonical tables and returns findings + outcomes.

A rule is either a parameterised *kind* (validators/kinds.py) or a *custom* function bound to its
code (validators/rules/<return>/rXXXX.py, `@implements("XXXX")`). Both return `Hits`: a frame of
(table, row) pairs. The engine turns hits into findings (child, source, the values involved),
records an outcome for every rule, and never lets a crashing rule count as passed.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from csc_returns.returns.reference import Reference
from csc_returns.returns.result import Outcome, make_findings
from csc_returns.returns.spec import Rule, Spec

Hits = pd.DataFrame  # columns: table (str or None for the return), row (Int64 or NA)
KindFn = Callable[..., Hits]
CustomFn = Callable[["Context"], Hits]

KINDS: dict[str, KindFn] = {}
CUSTOM: dict[str, dict[str, CustomFn]] = {"cin": {}, "ssda903": {}}


def kind(name: str) -> Callable[[KindFn], KindFn]:
    """Register a parameterised rule kind."""

    def deco(fn: KindFn) -> KindFn:
        if name in KINDS and KINDS[name] is not fn:  # two modules must not silently share a name
            raise RuntimeError(f"rule kind {name!r} registered twice ({KINDS[name].__module__}, {fn.__module__})")
        KINDS[name] = fn
        return fn

    return deco


def implements(*codes: str, return_: str | None = None) -> Callable[[CustomFn], CustomFn]:
    """Bind a custom rule function to catalogue codes (the return is taken from the module path)."""

    def deco(fn: CustomFn) -> CustomFn:
        ret = return_ or fn.__module__.split(".")[-2]
        for code in codes:
            if code in CUSTOM[ret]:
                raise RuntimeError(f"custom rule {ret} {code} is implemented twice")
            CUSTOM[ret][code] = fn
        return fn

    return deco


_loaded = False


def load_custom_rules() -> None:
    """Import every module under validators/rules/ so their @implements run."""
    global _loaded
    if _loaded:
        return
    validators = importlib.import_module("csc_returns.validators")
    for mod in pkgutil.iter_modules(validators.__path__):
        if mod.name.startswith("kinds"):  # kinds.py and any kinds_<topic>.py
            importlib.import_module(f"csc_returns.validators.{mod.name}")
    for ret in CUSTOM:
        pkg = importlib.import_module(f"csc_returns.validators.rules.{ret}")
        for mod in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{pkg.__name__}.{mod.name}")
    _loaded = True


def no_hits() -> Hits:
    return pd.DataFrame({"table": pd.Series(dtype="string"), "row": pd.Series(dtype="Int64")})


@dataclass
class Context:
    """What a rule sees: read-only canonical tables (copy-on-write), the year, its period."""

    spec: Spec
    tables: dict[str, pd.DataFrame]
    previous: dict[str, pd.DataFrame] | None = None
    previous_spec: Spec | None = None
    absent: set[str] = field(default_factory=set)
    # last year's tables that were not supplied (a rule lists them in `tables:` as `<Table>_last`)
    previous_absent: set[str] = field(default_factory=set)
    # load findings: which cells could not be read (the loader blanked them and said so)
    load_findings: list[dict[str, Any]] = field(default_factory=list)
    # the reporting LA, the postcode directory, the Ofsted URN lookup (returns/reference.py)
    reference: Reference = field(default_factory=Reference)

    @property
    def year(self) -> int:
        return self.spec.year

    @cached_property
    def period_start(self) -> pd.Timestamp:
        return pd.Timestamp(self.spec.period_start)

    @cached_property
    def period_end(self) -> pd.Timestamp:
        """The census ReferenceDate / 903 year end (31 March), inclusive."""
        return pd.Timestamp(self.spec.period_end)

    def unreadable(self, table: str, field_name: str) -> pd.Series:
        """Rows of `table` whose `field_name` held a value the loader could not read (now blank).

        DfE rules such as "... is not a valid date" fail exactly these cells; a blank passes them.
        """
        rows = {int(f["row"]) for f in self.load_findings
                if f.get("table") == table and f.get("fields") == field_name and f.get("row") is not None
                and str(f.get("code", "")).startswith("LOAD-")}
        df = self.tables[table]
        return df["_row"].isin(list(rows)) if rows else pd.Series(False, index=df.index)

    def codes(self, codeset: str) -> list[str]:
        return list(self.spec.codes(codeset))

    def child_field(self, table: str) -> str:
        return self.spec.tables[table].child_field

    # -- results -------------------------------------------------------------------------------
    def flag(self, table: str, rows: pd.DataFrame | pd.Series) -> Hits:
        """Hits for the rows of `table` selected by a boolean mask or given as a frame with _row
        (and, optionally, `detail`: what the finding should say beyond the DfE message)."""
        is_mask = isinstance(rows, pd.Series) and (rows.dtype == bool or str(rows.dtype) == "boolean")
        df = self.tables[table] if is_mask else None
        if df is not None:
            selected = df.loc[rows.fillna(False).to_numpy(dtype=bool), "_row"]
        elif isinstance(rows, pd.DataFrame):
            selected = rows["_row"]
        else:
            selected = rows
        hits = pd.DataFrame({"table": pd.Series(table, index=range(len(selected)), dtype="string"),
                             "row": pd.array(np.asarray(selected, dtype="int64"), dtype="Int64")})
        if isinstance(rows, pd.DataFrame) and "detail" in rows.columns:
            hits["detail"] = rows["detail"].astype("string").to_numpy()
        return hits

    def flag_return(self, failed: bool) -> Hits:
        """A return-level rule: one finding for the whole return, or none."""
        if not failed:
            return no_hits()
        return pd.DataFrame({"table": pd.Series([pd.NA], dtype="string"), "row": pd.Series([pd.NA], dtype="Int64")})

    # -- working days (England bank holidays, any year) --------------------------------------
    @cached_property
    def _holidays(self) -> np.ndarray:
        return bank_holidays(self.year - 3, self.year + 2)

    def working_days_between(self, start: pd.Series, end: pd.Series) -> pd.Series:
        """Working days after `start` up to and including `end` (Mon-Fri less bank holidays)."""
        ok = start.notna() & end.notna()
        out = pd.Series(pd.NA, index=start.index, dtype="Int64")
        if ok.any():
            s = start[ok].to_numpy(dtype="datetime64[D]")
            e = end[ok].to_numpy(dtype="datetime64[D]")
            # busday_count counts [s, e); shift by one day to count (s, e]
            counts = np.busday_count(s + 1, e + 1, holidays=self._holidays)
            out[ok] = counts
        return out

    def add_working_days(self, dates: pd.Series, n: int) -> pd.Series:
        """The n-th working day after each date (negative n: before); the date itself never counts."""
        ok = dates.notna()
        out = pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns]")
        if ok.any():
            d = dates[ok].to_numpy(dtype="datetime64[D]")
            roll = "forward" if n < 0 else "backward"
            # offset from a date rolled onto a working day, so the date itself is never counted
            res = np.busday_offset(d, n, roll=roll, holidays=self._holidays)
            out[ok] = res.astype("datetime64[ns]")
        return out


def bank_holidays(first_year: int, last_year: int) -> np.ndarray:
    import holidays  # imported here: only working-day rules need it

    hol = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.array(sorted(hol.keys()), dtype="datetime64[D]")


# ------------------------------------------------------------------------------------------ run
@dataclass
class EngineResult:
    findings: pd.DataFrame
    outcomes: dict[str, Outcome]


def rule_function(return_: str, rule: Rule) -> Callable[[Context], Hits] | None:
    load_custom_rules()
    if rule.kind == "custom":
        return CUSTOM[return_].get(rule.code)
    fn = KINDS.get(rule.kind)
    if fn is None:
        return None
    return lambda ctx: fn(ctx, **rule.params)


NEEDS = {  # why a rule is skipped when its reference data is missing
    "postcodes": "needs a postcode directory to derive the placement fields (PL_LA, PL_LOCATION, PL_DISTANCE)",
    "la": "needs the reporting LA (give --la with the DfE three-digit LA number, e.g. --la 876)",
    "ofsted": ("needs the Ofsted URN lookup (give --ofsted with Ofsted's social care providers and "
               "children's homes lists, as downloaded from Ofsted or DfE COLLECT)"),
}
LAST = "_last"  # catalogue `tables:` suffix naming last year's table (e.g. UASC_last)


def skip_reason(ctx: Context, rule: Rule) -> str | None:
    """Why a rule cannot run on this return (None: it can).

    A table of this year that was not supplied skips the rule; so does a table of last year
    (`<Table>_last` in `tables:`) that last year's return did not include, when last year's
    return is given (rules that need it say `needs: [previous]`).
    """
    if rule.kind == "not_implemented":
        return f"not implemented yet: {rule.reason or 'no reason given'}"
    this_year = [t for t in rule.tables if not t.endswith(LAST)]
    missing = [t for t in this_year if t in ctx.absent or t not in ctx.tables]
    if missing:
        return f"table {', '.join(missing)} not supplied"
    if "previous" in rule.needs and ctx.previous is None:
        return "needs last year's return (give it with --previous)"
    for need, missing in (("postcodes", ctx.reference.postcodes is None), ("la", ctx.reference.la is None),
                          ("ofsted", ctx.reference.ofsted is None)):
        if need in rule.needs and missing:
            return NEEDS[need]
    if ctx.previous is not None:  # `<Table>_last`: last year's table, read when last year's return is given
        last = [t[: -len(LAST)] for t in rule.tables if t.endswith(LAST)]
        missing = [t for t in last if t in ctx.previous_absent or t not in ctx.previous]
        if missing:
            return f"last year's table {', '.join(missing)} not supplied in last year's return"
    return None


def run_rules(ctx: Context, codes: list[str] | None = None) -> EngineResult:
    """Run every rule of the year (or the codes given) and collect findings and outcomes."""
    ret = ctx.spec.return_
    outcomes: dict[str, Outcome] = {}
    parts: list[pd.DataFrame] = []
    for code, rule in ctx.spec.rules.items():
        if codes is not None and code not in codes:
            continue
        reason = skip_reason(ctx, rule)
        if reason:
            outcomes[code] = Outcome("skipped", reason)
            continue
        fn = rule_function(ret, rule)
        if fn is None:
            outcomes[code] = Outcome("errored", f"no implementation for kind {rule.kind!r}")
            continue
        try:
            hits = fn(ctx)
            found = findings_from_hits(ctx, rule, hits)
        except Exception:  # a crashing rule is recorded, never counted as passed
            outcomes[code] = Outcome("errored", traceback.format_exc())
            continue
        outcomes[code] = Outcome("failed" if len(found) else "passed", None, len(found))
        if len(found):
            parts.append(found)
    findings = make_findings(pd.concat(parts, ignore_index=True)) if parts else make_findings([])
    return EngineResult(findings, outcomes)


def _fmt(col: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col):
        return col.dt.strftime("%Y-%m-%d").astype("string").fillna("")
    if pd.api.types.is_bool_dtype(col):
        return col.map({True: "1", False: "0"}).astype("string").fillna("")
    return col.astype("string").fillna("")


def findings_from_hits(ctx: Context, rule: Rule, hits: Hits | list[Hits]) -> pd.DataFrame:
    if isinstance(hits, list):
        hits = pd.concat(hits, ignore_index=True) if hits else no_hits()
    if hits is None or len(hits) == 0:
        return pd.DataFrame()
    hits = hits.drop_duplicates(subset=["table", "row"])
    parts: list[pd.DataFrame] = []
    for table, group in hits.groupby("table", dropna=False, sort=False):
        if pd.isna(table):  # return-level
            parts.append(pd.DataFrame({"code": rule.code, "severity": rule.severity, "table": None, "row": pd.NA,
                                       "child": None, "fields": "|".join(rule.fields), "source": None,
                                       "value": "", "detail": ""}, index=[0]))
            continue
        df = ctx.tables[table]
        cf = ctx.child_field(table)
        fields = [f for f in rule.fields if f in df.columns] or [f for f in rule.fields]
        cols = ["_row", "_source"] + ([cf] if cf in df.columns else []) + [f for f in fields if f in df.columns and f != cf]
        sub = df[cols].set_index("_row").loc[group["row"].astype("int64").to_numpy()]
        value = pd.Series("", index=sub.index, dtype="string")
        for i, f in enumerate([f for f in fields if f in sub.columns]):
            part = f + "=" + _fmt(sub[f])
            value = part if i == 0 else value + "; " + part
        parts.append(pd.DataFrame({
            "code": rule.code,
            "severity": rule.severity,
            "table": table,
            "row": sub.index.to_numpy(),
            "child": sub[cf].to_numpy() if cf in sub.columns else None,
            "fields": "|".join(fields),
            "source": sub["_source"].to_numpy(),
            "value": value.to_numpy(),
            "detail": group["detail"].fillna("").to_numpy() if "detail" in group.columns else "",
        }))
    return pd.concat(parts, ignore_index=True)


def today() -> dt.date:  # one place to patch in tests
    return dt.date.today()
