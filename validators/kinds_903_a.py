"""SSDA903 rule kinds and helpers (rules 1xx): row conditions narrowed by the child, CLA12 status.

Everything here is vectorised; codes and thresholds always come from the rule's `params`.

Conditions (`when:` / `where:`) are the one condition language of validators/conditions.py
(`condition`: any/all/not, blanks, birthdays, comparisons with the period bounds, ...).

CLA12 (convention C8 of the 903 rule logic): looked after continuously for at least 12 months at
31 March, derived from the current year's Episodes. Its codes are given as params:
`{new_period_rne: [S], continuing_rec: [X1], respite_ls: [V3, V4]}`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from csc_returns.validators.engine import Context, Hits, kind
from csc_returns.validators.kinds import condition, mask, member


# ------------------------------------------------------------------------------------------ CLA12
def overlaps_year(ctx: Context, ep: pd.DataFrame) -> pd.Series:
    """Episodes open at some time in the collection year (DECOM <= 31 March, DEC blank or >= 1 April)."""
    return mask(ep["DECOM"] <= ctx.period_end) & (ep["DEC"].isna() | mask(ep["DEC"] >= ctx.period_start))


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
    started = (mask(ep["RNE"].isin(definition["new_period_rne"]))
               & mask(ep["DECOM"] > start) & mask(ep["DECOM"] <= end))
    ceased = (~mask(ep["REC"].isin(definition["continuing_rec"]))
              & mask(ep["DEC"] >= start) & mask(ep["DEC"] < end))
    respite = mask(ep["LS"].isin(definition["respite_ls"])) & overlap
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
    ids = other.loc[condition(ctx, other, spec.get("where")).to_numpy(dtype=bool), "CHILD"].dropna().unique()
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
    sel = condition(ctx, df, when)
    if cla12 is not None:
        sel &= child_is_cla12(ctx, df, cla12)
    if child_has is not None:
        sel &= _child_with(ctx, df, child_has)
    if child_lacks is not None:
        sel &= ~_child_with(ctx, df, child_lacks)
    return ctx.flag(table, sel)
