"""Rule kinds added for the CIN assessment, CIN plan, Section 47, child protection plan and review
rules (batch cin_b). Each is one vectorised function returning the failing rows; they follow the
conventions of `kinds.py` (blank comparisons pass unless the kind is about blanks, `where:` narrows
any kind, CIN joins go through the structural surrogate keys, never LAchildID).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from csc_returns.validators.engine import Context, Hits, kind, no_hits
from csc_returns.validators.kinds import condition


def _mask(s: pd.Series) -> pd.Series:
    """A plain numpy-bool mask (ctx.flag only treats dtype bool as a mask)."""
    return s.fillna(False).astype(bool)


# ------------------------------------------------------------------------------------------ kinds
@kind("has_nested")
def has_nested(ctx: Context, table: str, other_table: str, where: Any = None, other_where: Any = None,
               flag_other: bool = True) -> Hits:
    """Records of `table` (selected by `where`) that enclose at least one record of the nested
    `other_table` (selected by `other_where`), e.g. CIN plans on a no-further-action referral.

    The join is structural: `other_table` carries `table`'s surrogate key. With `flag_other` the
    nested records are reported too.
    """
    parent = ctx.tables[table]
    key = ctx.spec.tables[table].key
    if key is None:
        raise ValueError(f"has_nested: table {table} has no surrogate key to join on")
    nested = ctx.tables[other_table]
    nested = nested[_mask(condition(ctx, nested, other_where)) & nested[key].notna()]
    scope = parent[_mask(condition(ctx, parent, where)) & parent[key].notna()]
    bad_parent = scope[scope[key].isin(nested[key])]
    hits = [ctx.flag(table, bad_parent)]
    if flag_other:
        hits.append(ctx.flag(other_table, nested[nested[key].isin(bad_parent[key])]))
    return pd.concat(hits, ignore_index=True)


@kind("date_required_in_period")
def date_required_in_period(ctx: Context, table: str, field: str, bound: str = "both", where: Any = None) -> Hits:
    """The date is blank, or falls outside the collection period (1 April - 31 March, inclusive).

    bound: both | end (only 'after the period' fails: records carried over from earlier years are
    fine) | start (only 'before the period' fails).
    """
    df = ctx.tables[table]
    d = df[field]
    bad = d.isna()
    if bound in ("both", "end"):
        bad |= _mask(d > ctx.period_end)
    if bound in ("both", "start"):
        bad |= _mask(d < ctx.period_start)
    return ctx.flag(table, _mask(bad & condition(ctx, df, where)))


@kind("before_working_days_to_period_end")
def before_working_days_to_period_end(ctx: Context, table: str, field: str, days: int, where: Any = None) -> Hits:
    """A present date is earlier than the period end (31 March) minus `days` working days.

    Working days are Monday to Friday less England bank holidays; the period end itself is never
    counted, so a date exactly `days` working days before it passes.
    """
    df = ctx.tables[table]
    end = pd.Series(ctx.period_end, index=df.index, dtype="datetime64[ns]")
    threshold = ctx.add_working_days(end, -int(days))
    bad = _mask(df[field] < threshold) & _mask(condition(ctx, df, where))
    return ctx.flag(table, bad)


@kind("on_weekend")
def on_weekend(ctx: Context, table: str, field: str, where: Any = None) -> Hits:
    """A present date falls on a Saturday or a Sunday (bank holidays are not weekends)."""
    df = ctx.tables[table]
    d = df[field]
    bad = _mask(d.dt.dayofweek >= 5) & d.notna() & _mask(condition(ctx, df, where))
    return ctx.flag(table, _mask(bad))


@kind("forbidden_values")
def forbidden_values(ctx: Context, table: str, field: str, values: list[str], where: Any = None) -> Hits:
    """The field holds one of `values` (codes that are valid but should no longer be used)."""
    df = ctx.tables[table]
    bad = _mask(df[field].isin([str(v) for v in values])) & _mask(condition(ctx, df, where))
    return ctx.flag(table, bad)


def within_pairs(ctx: Context, table: str, start: str, other_table: str | None, other_start: str | None,
                 other_end: str, group: list[str], end_inclusive: bool = True, where: Any = None,
                 other_where: Any = None) -> pd.DataFrame:
    """Pairs (record A of `table`, record B of `other_table`) in one group where A's `start` falls
    within B: on or after B's start and either on/before (or strictly before, when not
    `end_inclusive`) B's end, or, when B is open (blank end), on or before the period end.

    Records are told apart by identity, so within one table a record is never paired with itself
    but two records with equal dates are paired with each other. Columns: `_row_a`, `_row_b`,
    `_a_start`, `_b_start`, `_b_end` and the group keys.
    """
    other_table = other_table or table
    other_start = other_start or start
    a = ctx.tables[table]
    b = ctx.tables[other_table]
    a = a[_mask(condition(ctx, a, where)) & a[start].notna() & a[group].notna().all(axis=1)]
    b = b[_mask(condition(ctx, b, other_where)) & b[other_start].notna() & b[group].notna().all(axis=1)]
    left = pd.DataFrame({**{g: a[g] for g in group}, "_row_a": a["_row"], "_a_start": a[start]})
    right = pd.DataFrame({**{g: b[g] for g in group}, "_row_b": b["_row"], "_b_start": b[other_start],
                          "_b_end": b[other_end]})
    pairs = left.merge(right, on=group, how="inner")
    if other_table == table:
        pairs = pairs[pairs["_row_a"] != pairs["_row_b"]]
    if pairs.empty:
        return pairs
    a_start, b_start, b_end = pairs["_a_start"], pairs["_b_start"], pairs["_b_end"]
    before_end = (a_start <= b_end) if end_inclusive else (a_start < b_end)
    inside = _mask(a_start >= b_start) & (
        (b_end.notna() & _mask(before_end)) | (b_end.isna() & _mask(a_start <= ctx.period_end)))
    return pairs[inside.to_numpy(dtype=bool)]


@kind("starts_within")
def starts_within(ctx: Context, table: str, start: str, end: str, group: list[str], other_table: str | None = None,
                  other_start: str | None = None, other_end: str | None = None, end_inclusive: bool = True,
                  where: Any = None, other_where: Any = None, flag_other: bool = True) -> Hits:
    """A record starts while another record of the same group is running (DfE overlap rules).

    For each pair of *different* records A (of `table`) and B (of `other_table`, default the same
    table) in one group (e.g. `[_child]` or `[_episode]`), both with a start date, A fails if its
    start is on or after B's start and either B has an end date and A starts on or before it
    (strictly before with `end_inclusive: false`), or B is open (blank end) and A starts on or
    before the period end. Both records are reported (B only with `flag_other`). Within one table
    `end` is the end date of B; across tables give `other_end`.
    """
    other = other_table or table
    pairs = within_pairs(ctx, table, start, other, other_start or start, other_end or end, group,
                         end_inclusive, where, other_where)
    if pairs.empty:
        return no_hits()
    hits = [ctx.flag(table, pairs["_row_a"].drop_duplicates())]
    if flag_other:
        hits.append(ctx.flag(other, pairs["_row_b"].drop_duplicates()))
    return pd.concat(hits, ignore_index=True)
