"""Parameterised rule kinds. Each is one vectorised function returning the failing rows.

Conventions (DfE rule wording, see the rule logic specs):
- a comparison involving a blank value passes unless the kind is about blanks;
- intervals include both ends; "before"/"after" are strict;
- codes compare exactly (the loaders already strip surrounding white space);
- `where:` narrows any kind to the rows a condition selects: the one condition language of
  validators/conditions.py (`condition`), used by every kinds module.
"""

from __future__ import annotations

import operator
from typing import Any

import pandas as pd

from csc_returns.validators.conditions import OPS, condition, mask, member
from csc_returns.validators.engine import Context, Hits, kind, no_hits


def _t(ctx: Context, table: str) -> pd.DataFrame:
    return ctx.tables[table]


# ------------------------------------------------------------------------------------------ kinds
@kind("required")
def required(ctx: Context, table: str, field: str, where: Any = None) -> Hits:
    """The field is blank (on the rows `where` selects)."""
    df = _t(ctx, table)
    return ctx.flag(table, df[field].isna() & condition(ctx, df, where))


@kind("in_codeset")
def in_codeset(ctx: Context, table: str, field: str, codeset: str, required: bool = False, where: Any = None) -> Hits:
    """The field holds a value not in the year's code set (blank fails only when `required`)."""
    df = _t(ctx, table)
    col = df[field]
    bad = ~col.isin(ctx.codes(codeset)).fillna(False).astype(bool)
    if not required:
        bad &= col.notna()
    return ctx.flag(table, bad & condition(ctx, df, where))


@kind("required_if")
def required_if(ctx: Context, table: str, field: str, when: Any) -> Hits:
    df = _t(ctx, table)
    return ctx.flag(table, df[field].isna() & condition(ctx, df, when))


@kind("absent_if")
def absent_if(ctx: Context, table: str, field: str, when: Any) -> Hits:
    """The field must be blank when the condition holds."""
    df = _t(ctx, table)
    return ctx.flag(table, df[field].notna() & condition(ctx, df, when))


@kind("matches")
def matches(ctx: Context, table: str, field: str, pattern: str, where: Any = None) -> Hits:
    """A present value does not match the regular expression (whole value)."""
    df = _t(ctx, table)
    col = df[field].astype("string")
    ok = col.str.fullmatch(pattern).fillna(True).astype(bool)
    return ctx.flag(table, ~ok & condition(ctx, df, where))


@kind("max_length")
def max_length(ctx: Context, table: str, field: str, length: int) -> Hits:
    df = _t(ctx, table)
    return ctx.flag(table, mask(df[field].astype("string").str.len() > length))


def _joined(ctx: Context, table: str, other_table: str | None, fields: list[str], on: list[str] | None) -> pd.DataFrame:
    """`table` with the `fields` of `other_table` joined by key (CIN: the parent's surrogate key)."""
    df = _t(ctx, table)
    if not other_table:
        return df
    other = _t(ctx, other_table)
    if on is None:
        key = ctx.spec.tables[other_table].key
        on = [key] if key else [ctx.child_field(table)]
    right = other[on + [f for f in fields if f not in on] + ["_row"]].rename(
        columns={**{f: f"{other_table}.{f}" for f in fields if f not in on}, "_row": f"{other_table}._row"})
    right = right.drop_duplicates(subset=on) if ctx.spec.tables[other_table].key else right
    merged = df.reset_index().merge(right, on=on, how="left").set_index("index")
    return merged


@kind("compare")
def compare(ctx: Context, table: str, left: str, op: str, right: str, other_table: str | None = None,
            on: list[str] | None = None, where: Any = None, flag_other: bool = False) -> Hits:
    """Fails where `left op right` does not hold and both are present.

    `right` may be a field of `table`, a field of `other_table` (joined on the parent key, or `on`),
    or one of the period bounds `period_start` / `period_end`. With `flag_other`, the joined
    record of `other_table` is reported too (DfE rules that "flag both").
    """
    if right in ("period_start", "period_end"):
        df = _t(ctx, table)
        rv: Any = getattr(ctx, right)
        lv = df[left]
        ok = OPS[op](lv, rv)
        bad = lv.notna() & ~mask(ok)
    else:
        df = _joined(ctx, table, other_table, [right], on)
        rcol = f"{other_table}.{right}" if other_table and right not in (on or []) else right
        lv, rv = df[left], df[rcol]
        ok = OPS[op](lv, rv)
        bad = lv.notna() & rv.notna() & ~mask(ok)
    bad &= condition(ctx, df, where)
    if other_table:  # several joined rows may map to one row of table (903 child joins)
        failing = df.loc[bad.to_numpy(dtype=bool)]
        hits = [ctx.flag(table, failing["_row"].drop_duplicates())]
        if flag_other:
            hits.append(ctx.flag(other_table, failing[f"{other_table}._row"].dropna().drop_duplicates()))
        return pd.concat(hits, ignore_index=True)
    return ctx.flag(table, bad)


@kind("date_in_period")
def date_in_period(ctx: Context, table: str, field: str, bound: str = "both", where: Any = None) -> Hits:
    """A present date falls outside the collection period (1 April - 31 March, inclusive).

    bound: both | end (only 'after the period' fails) | start (only 'before the period' fails).
    """
    df = _t(ctx, table)
    d = df[field]
    bad = pd.Series(False, index=df.index)
    if bound in ("both", "end"):
        bad |= mask(d > ctx.period_end)
    if bound in ("both", "start"):
        bad |= mask(d < ctx.period_start)
    return ctx.flag(table, bad & condition(ctx, df, where))


@kind("unique")
def unique(ctx: Context, table: str, keys: list[str], where: Any = None) -> Hits:
    """Every row that shares all `keys` with another row (rows with a blank key are ignored)."""
    df = _t(ctx, table)
    scope = condition(ctx, df, where) & df[keys].notna().all(axis=1)
    sub = df[scope]
    dup = sub.duplicated(subset=keys, keep=False)
    return ctx.flag(table, sub.loc[dup])


def _group_keys(ctx: Context, table: str, group: list[str] | None) -> list[str]:
    if group:
        return group
    t = ctx.spec.tables[table]
    parent = ctx.spec.tables.get(t.parent) if t.parent else None
    return [parent.key] if parent is not None and parent.key else [t.child_field]


@kind("one_open_per_child")
def one_open_per_child(ctx: Context, table: str, end: str, group: list[str] | None = None, where: Any = None) -> Hits:
    """More than one open record (blank `end`) in a group (default: the parent, or the child)."""
    df = _t(ctx, table)
    keys = _group_keys(ctx, table, group)
    open_ = df[df[end].isna() & condition(ctx, df, where) & df[keys].notna().all(axis=1)]
    many = open_.groupby(keys, sort=False)["_row"].transform("size") > 1
    return ctx.flag(table, open_.loc[many])


@kind("no_overlap")
def no_overlap(ctx: Context, table: str, start: str, end: str, group: list[str] | None = None,
               touching_ok: bool = True, where: Any = None) -> Hits:
    """Records in one group whose [start, end] intervals overlap (a blank end runs on for ever).

    With `touching_ok`, one record ending on the day the next starts is not an overlap.
    Both records of an overlapping pair are reported.
    """
    df = _t(ctx, table)
    keys = _group_keys(ctx, table, group)
    sub = df[condition(ctx, df, where) & df[start].notna() & df[keys].notna().all(axis=1)]
    if sub.empty:
        return no_hits()
    sub = sub.sort_values(keys + [start, "_row"])
    far = pd.Timestamp.max.normalize()
    ends = sub[end].fillna(far)
    gid = sub.groupby(keys, sort=False).ngroup()
    # latest end among earlier records of the group, and earliest start among later ones
    prev_end = ends.groupby(gid).transform(lambda s: s.cummax().shift(1))
    cmp = operator.lt if touching_ok else operator.le
    later_overlaps_earlier = mask(cmp(sub[start], prev_end))
    next_start = sub[start].groupby(gid).shift(-1)
    earlier_overlaps_later = mask(cmp(next_start, ends))
    bad = later_overlaps_earlier | earlier_overlaps_later
    return ctx.flag(table, sub.loc[bad.to_numpy(dtype=bool)])


@kind("exists_in")
def exists_in(ctx: Context, table: str, other_table: str, keys: list[str] | None = None,
              other_keys: list[str] | None = None, where: Any = None) -> Hits:
    """Rows of `table` whose keys (default: the child id) have no match in `other_table`."""
    df = _t(ctx, table)
    other = _t(ctx, other_table)
    keys = keys or [ctx.child_field(table)]
    other_keys = other_keys or keys
    if len(keys) == 1:
        found = member(df[keys[0]], other[other_keys[0]])
    else:
        right = other[other_keys].dropna().drop_duplicates()
        right.columns = keys
        probe = df[keys].merge(right.assign(_hit=True), on=keys, how="left")["_hit"].notna().to_numpy()
        found = pd.Series(probe, index=df.index)
    scope = condition(ctx, df, where) & df[keys].notna().all(axis=1)
    return ctx.flag(table, scope & ~found)


@kind("working_days_within")
def working_days_within(ctx: Context, table: str, start: str, end: str, days: int,
                        other_table: str | None = None, where: Any = None) -> Hits:
    """`end` is more than `days` working days after `start` (England bank holidays)."""
    df = _joined(ctx, table, other_table, [start], None)
    s = df[f"{other_table}.{start}"] if other_table else df[start]
    wd = ctx.working_days_between(s, df[end])
    bad = mask(wd > days) & condition(ctx, df, where)
    return ctx.flag(table, df.loc[bad.to_numpy(dtype=bool), "_row"] if other_table else bad)


@kind("unreadable")
def unreadable(ctx: Context, table: str, field: str | None = None, fields: list[str] | None = None) -> Hits:
    """The cell held a value that is not valid for its type (e.g. 31/02/2025); blanks pass.

    The loader already reports such a cell as LOAD-DATE / LOAD-INT / LOAD-BOOL and hands the rules a
    blank; this kind reports it again under the DfE rule that names it, so the DfE code is shown.
    """
    mask = pd.Series(False, index=ctx.tables[table].index)
    for name in ([field] if field else []) + list(fields or []):
        mask |= ctx.unreadable(table, name)
    return ctx.flag(table, mask)
