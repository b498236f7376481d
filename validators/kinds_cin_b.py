"""Rule kinds added for the CIN assessment, CIN plan, Section 47, child protection plan and review
rules (batch cin_b). Each is one vectorised function returning the failing rows; they follow the
conventions of `kinds.py` (blank comparisons pass unless the kind is about blanks, `where:` narrows
any kind, CIN joins go through the structural surrogate keys, never LAchildID).

Reused from elsewhere rather than duplicated: `implies`, `no_activity_if` and `overlaps_earlier`
(kinds_cin_a.py: required-within-period, no-nested-records and single-table overlap rules) and
`forbidden_values` (kinds_903_b.py: a code that should no longer be used).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from csc_returns.validators.engine import Context, Hits, kind, no_hits
from csc_returns.validators.kinds import condition, mask


# ------------------------------------------------------------------------------------------ kinds
@kind("before_working_days_to_period_end")
def before_working_days_to_period_end(ctx: Context, table: str, field: str, days: int, where: Any = None) -> Hits:
    """A present date is earlier than the period end (31 March) minus `days` working days.

    Working days are Monday to Friday less England bank holidays; the period end itself is never
    counted, so a date exactly `days` working days before it passes.
    """
    df = ctx.tables[table]
    end = pd.Series([ctx.period_end], dtype="datetime64[ns]")
    threshold = ctx.add_working_days(end, -int(days)).iloc[0]  # one date for the whole return
    bad = mask(df[field] < threshold) & mask(condition(ctx, df, where))
    return ctx.flag(table, bad)


@kind("on_weekend")
def on_weekend(ctx: Context, table: str, field: str, where: Any = None) -> Hits:
    """A present date falls on a Saturday or a Sunday (bank holidays are not weekends)."""
    df = ctx.tables[table]
    d = df[field]
    bad = mask(d.dt.day_of_week >= 5) & d.notna() & mask(condition(ctx, df, where))
    return ctx.flag(table, mask(bad))


def within_pairs(ctx: Context, table: str, start: str, other_table: str, other_start: str, other_end: str,
                 group: list[str], end_inclusive: bool = True, where: Any = None,
                 other_where: Any = None) -> pd.DataFrame:
    """Pairs (record A of `table`, record B of `other_table`) of one group where A's `start` falls
    within B: on or after B's start and either on/before (strictly before, when not
    `end_inclusive`) B's end, or, when B is open (blank end), on or before the period end.

    Within one table a record is never paired with itself (records are told apart by identity,
    so two records with equal dates are paired). Columns: `_row_a`, `_row_b`, `_a_start`,
    `_b_start`, `_b_end` and the group keys.
    """
    a = ctx.tables[table]
    b = ctx.tables[other_table]
    a = a[mask(condition(ctx, a, where)) & a[start].notna() & a[group].notna().all(axis=1)]
    b = b[mask(condition(ctx, b, other_where)) & b[other_start].notna() & b[group].notna().all(axis=1)]
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
    inside = mask(a_start >= b_start) & (
        (b_end.notna() & mask(before_end)) | (b_end.isna() & mask(a_start <= ctx.period_end)))
    return pairs[inside.to_numpy(dtype=bool)]


@kind("starts_within")
def starts_within(ctx: Context, table: str, start: str, other_table: str, other_start: str, other_end: str,
                  group: list[str], end_inclusive: bool = True, where: Any = None, other_where: Any = None,
                  flag_other: bool = True) -> Hits:
    """A record of `table` starts while a record of `other_table` of the same group is running
    (DfE "open at the same time" rules between two kinds of record, e.g. CIN plans and child
    protection plans of one child; for overlaps within one table use `overlaps_earlier`).

    For each pair (A of `table`, B of `other_table`) in one group (e.g. `[_child]`), both with a
    start date, A fails if its `start` is on or after B's `other_start` and either B has an
    `other_end` and A starts on or before it (strictly before with `end_inclusive: false`), or B
    is open (blank end) and A starts on or before the period end. Both records are reported (B
    only with `flag_other`).
    """
    pairs = within_pairs(ctx, table, start, other_table, other_start, other_end, group, end_inclusive,
                         where, other_where)
    if pairs.empty:
        return no_hits()
    hits = [ctx.flag(table, pairs["_row_a"].drop_duplicates())]
    if flag_other:
        hits.append(ctx.flag(other_table, pairs["_row_b"].drop_duplicates()))
    return pd.concat(hits, ignore_index=True)
