"""SSDA903 rule kinds and helpers (rules 1xx): richer row conditions, birthdays, CLA12 status.

Everything here is vectorised; codes and thresholds always come from the rule's `params`.

Extended conditions (`when:` / `where:` of the kinds below) accept every form of
`kinds.condition` plus:

- a list: all of them hold;                   {all: [c, ...]}: the same;
- {any: [c, ...]}: at least one holds;        {not: c}: the condition does not hold;
- {any_present: [F, ...]} / {all_present: [...]} / {any_blank: [...]} / {all_blank: [...]};
- {field: F, matches: REGEX}: a present value matching the regular expression (whole value);
- {field: DOB, birthday: N, op: "<=", other: period_start}: the N-th birthday (DOB + N calendar
  years; 29 February gives 28 February in other years) compared with `period_start`,
  `period_end` or another field of the row. A blank date never satisfies a comparison.

CLA12 (convention C8 of the 903 rule logic): looked after continuously for at least 12 months at
31 March, derived from the current year's Episodes. Its codes are given as params:
`{new_period_rne: [S], continuing_rec: [X1], respite_ls: [V3, V4]}`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from csc_returns.validators.engine import Context, Hits, kind
from csc_returns.validators.kinds import OPS, condition


def _bool(s: pd.Series) -> pd.Series:
    return s.fillna(False).astype(bool)


def member(col: pd.Series, ids: Any) -> pd.Series:
    """Whether each value of `col` is one of `ids` (blank never is), for large id sets.

    `Series.isin` on Arrow-backed strings converts every id in Python (seconds for 100,000
    children); pyarrow's hash-based `is_in` does it natively.
    """
    if not isinstance(ids, (pd.Index, pd.Series, np.ndarray, pd.api.extensions.ExtensionArray)):
        ids = list(ids)
    values = pd.Series(pd.array(ids, dtype="string")).dropna()
    if len(values) == 0 or len(col) == 0:
        return pd.Series(False, index=col.index)
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        hit = pc.is_in(pa.array(col.astype("string"), from_pandas=True),
                       value_set=pa.array(values, from_pandas=True).cast(pa.string()))
        out = hit.to_numpy(zero_copy_only=False)
        return pd.Series(pd.array(out, dtype="boolean").fillna(False).to_numpy(dtype=bool), index=col.index)
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return pd.Series(pd.Index(values.unique()).get_indexer(col.astype("string")) >= 0, index=col.index)


def _date_operand(ctx: Context, df: pd.DataFrame, other: Any) -> Any:
    if other in ("period_start", "period_end"):
        return getattr(ctx, other)
    if isinstance(other, str) and other in df.columns:
        return df[other]
    return pd.Timestamp(other)


def birthday(dob: pd.Series, years: int) -> pd.Series:
    """The `years`-th birthday of each date of birth (NaT stays NaT)."""
    return dob + pd.DateOffset(years=int(years))


def cond(ctx: Context, df: pd.DataFrame, c: Any) -> pd.Series:
    """Rows of `df` meeting an extended condition (see the module docstring)."""
    if c is None:
        return pd.Series(True, index=df.index)
    if isinstance(c, list):
        return cond(ctx, df, {"all": c})
    if "all" in c:
        mask = pd.Series(True, index=df.index)
        for part in c["all"]:
            mask &= cond(ctx, df, part)
        return mask
    if "any" in c:
        mask = pd.Series(False, index=df.index)
        for part in c["any"]:
            mask |= cond(ctx, df, part)
        return mask
    if "not" in c:
        return ~cond(ctx, df, c["not"])
    for key, how, want in (("any_present", "any", True), ("all_present", "all", True),
                           ("any_blank", "any", False), ("all_blank", "all", False)):
        if key in c:
            present = df[list(c[key])].notna()
            hit = present if want else ~present
            return getattr(hit, how)(axis=1).astype(bool)
    if "birthday" in c:
        bday = birthday(df[c["field"]], c["birthday"])
        return _bool(OPS[c["op"]](bday, _date_operand(ctx, df, c["other"])))
    if "matches" in c:
        col = df[c["field"]].astype("string")
        return _bool(col.str.fullmatch(c["matches"]))
    return condition(ctx, df, c).astype(bool)


# ------------------------------------------------------------------------------------------ CLA12
def overlaps_year(ctx: Context, ep: pd.DataFrame) -> pd.Series:
    """Episodes open at some time in the collection year (DECOM <= 31 March, DEC blank or >= 1 April)."""
    return _bool(ep["DECOM"] <= ctx.period_end) & (ep["DEC"].isna() | _bool(ep["DEC"] >= ctx.period_start))


def cla12_children(ctx: Context, definition: dict[str, Any]) -> pd.Index:
    """CHILD ids looked after continuously for at least 12 months at 31 March (convention C8).

    A child is CLA12 when one of their episodes overlaps the year and none shows a break: a new
    period of care started after 1 April (RNE in `new_period_rne`), care ceasing from 1 April to
    30 March (REC not in `continuing_rec`, a blank REC included), or a respite episode
    (LS in `respite_ls`) overlapping the year.
    """
    # several rules ask for the same status: keep it on the run's context (tables never change)
    cache = ctx.__dict__.setdefault("_cla12_children", {})
    key = tuple(sorted((k, tuple(v)) for k, v in definition.items() if k != "status"))
    if key not in cache:
        cache[key] = _cla12_children(ctx, definition)
    return cache[key]


def _cla12_children(ctx: Context, definition: dict[str, Any]) -> pd.Index:
    ep = ctx.tables["Episodes"]
    start, end = ctx.period_start, ctx.period_end
    overlap = overlaps_year(ctx, ep)
    started = (_bool(ep["RNE"].isin(definition["new_period_rne"]))
               & _bool(ep["DECOM"] > start) & _bool(ep["DECOM"] <= end))
    ceased = (~_bool(ep["REC"].isin(definition["continuing_rec"]))
              & _bool(ep["DEC"] >= start) & _bool(ep["DEC"] < end))
    respite = _bool(ep["LS"].isin(definition["respite_ls"])) & overlap
    flags = pd.DataFrame({"CHILD": ep["CHILD"], "overlap": overlap, "brk": started | ceased | respite})
    flags = flags[flags["CHILD"].notna()]
    per_child = flags.groupby("CHILD", sort=False)[["overlap", "brk"]].any()
    return per_child.index[per_child["overlap"] & ~per_child["brk"]]


def child_is_cla12(ctx: Context, df: pd.DataFrame, spec: dict[str, Any]) -> pd.Series:
    """Rows of `df` whose child is (spec status true) or is not (status false) CLA12."""
    yes = member(df["CHILD"], cla12_children(ctx, spec))
    return yes if spec.get("status", True) else ~yes


def _child_with(ctx: Context, df: pd.DataFrame, spec: dict[str, Any]) -> pd.Series:
    other = ctx.tables[spec["table"]]
    ids = other.loc[cond(ctx, other, spec.get("where")).to_numpy(dtype=bool), "CHILD"].dropna().unique()
    return member(df["CHILD"], ids)


# ------------------------------------------------------------------------------------------ kinds
@kind("row_if")
def row_if(ctx: Context, table: str, when: Any = None, cla12: dict[str, Any] | None = None,
           child_has: dict[str, Any] | None = None, child_lacks: dict[str, Any] | None = None) -> Hits:
    """Rows of `table` meeting the extended condition `when`, optionally narrowed by the child.

    cla12: {status: true|false, new_period_rne, continuing_rec, respite_ls}: only rows whose child
    is (true) or is not (false) looked after continuously for 12 months at 31 March (C8).
    child_has / child_lacks: {table: T, where: condition}: only rows whose child has (or has no)
    row in table T meeting the condition.
    """
    df = ctx.tables[table]
    mask = cond(ctx, df, when)
    if cla12 is not None:
        mask &= child_is_cla12(ctx, df, cla12)
    if child_has is not None:
        mask &= _child_with(ctx, df, child_has)
    if child_lacks is not None:
        mask &= ~_child_with(ctx, df, child_lacks)
    return ctx.flag(table, mask)
