"""Rule kinds added for the CIN census batch A (Header, ChildIdentifiers, ChildCharacteristics,
Disabilities, CINdetails). Generic and vectorised, like validators/kinds.py; conditions use the
same `where:` forms (`conditions.condition`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from csc_returns.validators.engine import Context, Hits, kind, no_hits
from csc_returns.validators.kinds import _joined, _t, condition, mask, member


def _with_other(ctx: Context, table: str, other_table: str | None, other_fields: list[str] | None,
                on: list[str] | None) -> pd.DataFrame:
    """`table`, with `other_table`'s fields joined as `<other_table>.<field>` and the period bounds
    as columns `period_start` / `period_end`, so conditions can name them."""
    df = _joined(ctx, table, other_table, list(other_fields or []), on) if other_table else _t(ctx, table)
    return df.assign(period_start=ctx.period_start, period_end=ctx.period_end)


@kind("implies")
def implies(ctx: Context, table: str, then: Any, when: Any = None, other_table: str | None = None,
            other_fields: list[str] | None = None, on: list[str] | None = None,
            flag_other: bool = False) -> Hits:
    """Rows of `table` on which `when` holds but `then` does not.

    Both are `where:` conditions (a list means all of them). A condition on a blank value is
    false, so `then: {field: F, in: [..]}` or `{field: F, equals: true}` also fails a blank F.
    With `other_table`, its `other_fields` are joined by its key (CIN: the enclosing record, e.g.
    the child of an episode) or by `on`, and conditions name them `<other_table>.<field>`.
    Conditions may compare a date with `period_start` / `period_end` (`op` form, `other:`).
    With `flag_other`, the joined record of `other_table` is reported as well.
    """
    df = _with_other(ctx, table, other_table, other_fields, on)
    bad = condition(ctx, df, when) & ~condition(ctx, df, then)
    failing = df.loc[bad.to_numpy(dtype=bool)]
    hits = [ctx.flag(table, failing["_row"].drop_duplicates())]
    if other_table and flag_other:
        hits.append(ctx.flag(other_table, failing[f"{other_table}._row"].dropna().drop_duplicates()))
    return pd.concat(hits, ignore_index=True)


@kind("exactly_one_present")
def exactly_one_present(ctx: Context, table: str, fields: list[str], where: Any = None) -> Hits:
    """Rows on which not exactly one of `fields` is present (all blank, or two or more given)."""
    df = _t(ctx, table)
    present = df[fields].notna().sum(axis=1)
    return ctx.flag(table, (present != 1) & condition(ctx, df, where))


@kind("overlaps_earlier")
def overlaps_earlier(ctx: Context, table: str, start: str, end: str, group: list[str],
                     end_inclusive: bool = False, open_when: Any = None, open_unless: Any = None,
                     where: Any = None) -> Hits:
    """Pairs of distinct records of one group where record A starts during record B.

    For every ordered pair (A, B) of different records of a group, both with `start` present,
    A fails when A.start >= B.start and either B.end is present and A.start < B.end
    (`<=` with `end_inclusive`), or B is open (blank end), B blocks while open, and A.start is on
    or before the period end. An open record blocks when `open_when` holds and `open_unless`
    does not (both optional). Records are told apart by identity (`_row`), never by equal
    dates, so exact duplicates report each other. Both A and B are reported.
    """
    df = _t(ctx, table)
    blocks = condition(ctx, df, open_when)
    if open_unless is not None:
        blocks &= ~condition(ctx, df, open_unless)
    scope = condition(ctx, df, where) & df[start].notna() & df[group].notna().all(axis=1)
    sub = df.loc[scope.to_numpy(dtype=bool), group + ["_row", start, end]].assign(_blocks=blocks[scope].to_numpy())
    if sub.empty:
        return no_hits()
    pairs = sub.merge(sub, on=group, suffixes=("_a", "_b"))
    pairs = pairs[pairs["_row_a"] != pairs["_row_b"]]
    sa, sb, eb = pairs[f"{start}_a"], pairs[f"{start}_b"], pairs[f"{end}_b"]
    inside_closed = eb.notna() & mask(sa <= eb if end_inclusive else sa < eb)
    inside_open = eb.isna() & pairs["_blocks_b"].astype(bool) & mask(sa <= ctx.period_end)
    bad = mask(sa >= sb) & (inside_closed | inside_open)
    failing = pairs.loc[bad.to_numpy(dtype=bool)]
    rows = pd.concat([failing["_row_a"], failing["_row_b"]], ignore_index=True).drop_duplicates()
    return ctx.flag(table, rows)


@kind("no_activity_if")
def no_activity_if(ctx: Context, table: str, when: Any, fields: list[str] | None = None,
                   records: dict[str, list[str]] | None = None) -> Hits:
    """Records of `table` selected by `when` must show no activity (CIN: an NFA or closed episode).

    Activity is any of the record's own `fields` present, or a record of a nested table listed in
    `records` (joined structurally by `table`'s key): with a field list, a nested record counts
    when any of those fields is present; with an empty list, its mere existence counts. The
    selected record and every offending nested record are reported.
    """
    df = _t(ctx, table)
    key = ctx.spec.tables[table].key
    scope = condition(ctx, df, when)
    selected = df.loc[scope.to_numpy(dtype=bool), key]
    own = df[list(fields or [])].notna().any(axis=1) if fields else pd.Series(False, index=df.index)
    bad = scope & own
    hits: list[Hits] = []
    for name, cols in (records or {}).items():  # one pass per nested table, not per row
        other = _t(ctx, name)
        active = other[cols].notna().any(axis=1) if cols else pd.Series(True, index=other.index)
        offending = active & member(other[key], selected)
        hits.append(ctx.flag(name, offending.astype(bool)))
        bad |= member(df[key], other.loc[offending.to_numpy(dtype=bool), key])
    hits.insert(0, ctx.flag(table, bad.astype(bool)))
    return pd.concat(hits, ignore_index=True)
