"""Rule kinds added for the SSDA903 rules 300-499 (batch 903_c). Each is one vectorised function
returning the failing rows; they follow the conventions of `kinds.py` (a comparison involving a
blank value passes unless the rule is about blanks; codes compare exactly; "before"/"after" are
strict).

Conditions (`where:` / `when:` / `scope:` ...) are the one condition language of
validators/conditions.py (`condition`: any/all/not, comparisons with `period_start` /
`period_end` or fixed dates, `plus_years`, blank-safe `same_as` / `differs_from`, ...).

Joined columns are named `<Table>.<field>` (last year's: `previous.<Table>.<field>`); the
episode-sequence kind adds the neighbours' fields as `prev_<F>`, `prev2_<F>`, `next_<F>` and the
flags `has_prev`, `has_prev2`, `has_next`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from csc_returns.returns.load_903_xml import UASC_FLAG
from csc_returns.validators.conditions import key_codes, operand
from csc_returns.validators.engine import Context, Hits, kind, no_hits
from csc_returns.validators.kinds import condition, mask, member

NEIGHBOURS = {"prev2_": 2, "prev_": 1, "next_": -1}


# ------------------------------------------------------------------------------------------ helpers
def supplied(ctx: Context, table: str) -> bool:
    """Whether the return includes `table` (for rules that use a table only when it is there)."""
    return table in ctx.tables and table not in ctx.absent


def _joins(join: Any) -> list[dict[str, Any]]:
    if not join:
        return []
    return list(join) if isinstance(join, list) else [join]


def joined(ctx: Context, table: str, df: pd.DataFrame, join: Any) -> pd.DataFrame:
    """`df` (rows of `table`) with fields of other tables joined on the child (or `on`).

    join: {table: T, fields: [..], on: [..], previous: false}. Columns come in as `T.<field>`
    and `T._row` (last year's table: `previous.T.<field>`). A child with several rows in T gives
    several joined rows; the kinds report each row of `table` once.
    """
    out = df
    for j in _joins(join):
        name = j["table"]
        prev = bool(j.get("previous"))
        src = ctx.previous[name] if prev else ctx.tables[name]  # type: ignore[index]
        on = list(j.get("on") or [ctx.child_field(table)])
        fields = [f for f in j.get("fields", []) if f not in on]
        prefix = f"previous.{name}." if prev else f"{name}."
        right = src.loc[src[on].notna().all(axis=1).to_numpy(dtype=bool), on + fields + ["_row"]]
        right = right.reset_index(drop=True)
        if len(on) == 1:
            lc, rc = key_codes(out[on[0]], right[on[0]])
            if len(rc) == 0 or np.bincount(rc).max() <= 1:  # one row per key: look up by position
                pos = np.full(int(max(lc.max(initial=-1), rc.max(initial=-1))) + 2, -1, dtype="int64")
                pos[rc] = np.arange(len(rc))
                li = np.where(lc >= 0, pos[np.maximum(lc, 0)], -1)
                add = {prefix + f: right[f].reindex(li).set_axis(out.index) for f in fields + ["_row"]}
                out = out.assign(**add)
                continue
        right = right.rename(columns={f: prefix + f for f in fields + ["_row"]})
        out = out.merge(right, on=on, how="left")
    return out


def flag_joined(ctx: Context, table: str, df: pd.DataFrame, bad: pd.Series, join: Any = None,
                flag_other: bool | list[str] = False) -> Hits:
    """Hits for the rows of `table` in `df` where `bad`, and (with `flag_other`) the joined rows."""
    failing = df.loc[mask(bad).to_numpy(dtype=bool)]
    if failing.empty:
        return no_hits()
    hits = [ctx.flag(table, failing["_row"].drop_duplicates())]
    if flag_other:
        others = [j["table"] for j in _joins(join) if not j.get("previous")]
        if isinstance(flag_other, list):
            others = [t for t in others if t in flag_other]
        for t in dict.fromkeys(others):
            rows = failing[f"{t}._row"].dropna().drop_duplicates()
            if len(rows):
                hits.append(ctx.flag(t, rows.astype("int64")))
    return pd.concat(hits, ignore_index=True)


def _referenced(obj: Any) -> set[str]:
    """Every string inside a condition structure (the fields it uses)."""
    if isinstance(obj, str):
        return {obj}
    if isinstance(obj, dict):
        return set().union(*(_referenced(v) for v in obj.values())) if obj else set()
    if isinstance(obj, list):
        return set().union(*(_referenced(v) for v in obj)) if obj else set()
    return set()


def _group_codes(df: pd.DataFrame, group: list[str]) -> np.ndarray:
    codes = np.zeros(len(df), dtype="int64")
    for g in group:
        c, u = pd.factorize(df[g])
        codes = codes * (len(u) + 1) + c
    return codes


def _sort_key(col: pd.Series) -> np.ndarray:
    """An int64 sort key with blanks last."""
    if pd.api.types.is_datetime64_any_dtype(col):
        v = col.to_numpy(dtype="datetime64[ns]").view("int64").copy()
        v[col.isna().to_numpy()] = np.iinfo("int64").max
        return v
    c, _ = pd.factorize(col, sort=True)
    return np.where(c < 0, np.iinfo("int64").max, c)


def sequence(ctx: Context, table: str, columns: set[str], neighbours: set[str], order: list[str],
             group: list[str] | None = None, scope: Any = None) -> pd.DataFrame:
    """The rows of `table` that `scope` selects, in order within each group (default: the child):
    see `in_order`."""
    df = ctx.tables[table]
    if scope is not None:
        df = df.loc[mask(condition(ctx, df, scope)).to_numpy(dtype=bool)]
    return in_order(df, group or [ctx.child_field(table)], order, columns, neighbours)


def in_order(df: pd.DataFrame, group: list[str], order: list[str], columns: set[str] | list[str],
             neighbours: set[str] | list[str], dated_only: bool = False) -> pd.DataFrame:
    """The rows of `df` with all `group` keys present, ordered within each group (e.g. per child)
    by `order` with blanks last and then file order (`_row`): the `columns` asked for, `_row`, the
    group keys, the previous, second previous and next row's `neighbours` fields as `prev_F`,
    `prev2_F`, `next_F` (blank where there is none), and the flags `has_prev`, `has_prev2`,
    `has_next`. The one per-child ordering helper of the kinds and custom rules. With
    `dated_only`, rows whose first `order` field is blank take no part (they would otherwise
    form false pairs).
    """
    keep = df[group].notna().all(axis=1).to_numpy(dtype=bool)
    if dated_only:
        keep = keep & df[order[0]].notna().to_numpy(dtype=bool)
    idx = np.flatnonzero(keep)
    codes = _group_codes(df, group)[idx]
    keys = [df["_row"].to_numpy()[idx]] + [_sort_key(df[o])[idx] for o in reversed(order)] + [codes]
    perm = np.lexsort(keys)
    pos, g = idx[perm], codes[perm]
    neighbours = set(neighbours)
    cols = list(dict.fromkeys(["_row", *group, *[c for c in columns if c in df.columns], *sorted(neighbours)]))
    sub = df[cols].take(pos).reset_index(drop=True)
    n = len(sub)
    same1 = np.zeros(n, dtype=bool)
    same2 = np.zeros(n, dtype=bool)
    nxt = np.zeros(n, dtype=bool)
    same1[1:] = g[1:] == g[:-1]
    same2[2:] = g[2:] == g[:-2]
    nxt[:-1] = g[:-1] == g[1:]
    at = np.arange(n)
    extra: dict[str, Any] = {"has_prev": same1, "has_prev2": same2, "has_next": nxt}
    for prefix, flag, step in (("prev_", same1, 1), ("prev2_", same2, 2), ("next_", nxt, -1)):
        take = np.where(flag, at - step, -1)
        for f in sorted(neighbours):
            extra[prefix + f] = pd.Series(sub[f].array.take(take, allow_fill=True), index=sub.index)
    return pd.concat([sub, pd.DataFrame(extra, index=sub.index)], axis=1)


def _neighbour_fields(df: pd.DataFrame, names: set[str]) -> set[str]:
    found: set[str] = set()
    for s in names:
        for prefix in NEIGHBOURS:
            if s.startswith(prefix) and s[len(prefix):] in df.columns:
                found.add(s[len(prefix):])
    return found


# ------------------------------------------------------------------------------------------ kinds
@kind("fails_when")
def fails_when(ctx: Context, table: str, when: Any, where: Any = None, join: Any = None,
               flag_other: bool | list[str] = False) -> Hits:
    """Rows of `table` (narrowed by `where`) on which the condition `when` holds.

    With `join`, fields of other tables of the child (or last year's tables, `previous: true`)
    can be used in the conditions as `<Table>.<field>`; with `flag_other` the joined rows of this
    year's tables are reported too (DfE rules that flag the Header row as well).
    """
    df = joined(ctx, table, ctx.tables[table], join) if join else ctx.tables[table]
    bad = condition(ctx, df, where) & condition(ctx, df, when)
    if not join:
        return ctx.flag(table, df.loc[bad.to_numpy(dtype=bool), "_row"])
    return flag_joined(ctx, table, df, bad, join, flag_other)


@kind("episode_sequence")
def episode_sequence(ctx: Context, table: str, when: Any, where: Any = None, order: list[str] | None = None,
                     scope: Any = None, group: list[str] | None = None, join: Any = None,
                     flag_other: bool | list[str] = False) -> Hits:
    """Rows on which `when` holds, judged against the previous / next rows of the same child.

    The rows `scope` selects (default all) are ordered per child by `order` (default DECOM then
    DEC, blanks last, then file order); conditions can then use `prev_F`, `prev2_F`, `next_F`
    and `has_prev`, `has_prev2`, `has_next` (first episode: `has_prev` false; last: `has_next`
    false). `join` and `flag_other` work as for `fails_when`.
    """
    order = order or ["DECOM", "DEC"]
    df = ctx.tables[table]
    names = _referenced([when, where])
    joins = _joins(join)
    keys = {k for j in joins for k in (j.get("on") or [ctx.child_field(table)])}
    seq = sequence(ctx, table, names | keys, _neighbour_fields(df, names), order, group, scope)
    if join:
        seq = joined(ctx, table, seq, join)
    bad = condition(ctx, seq, where) & condition(ctx, seq, when)
    return flag_joined(ctx, table, seq, bad, join, flag_other)


@kind("period_length")
def period_length(ctx: Context, table: str, start: str, end: str, max_days: int, where: Any = None,
                  open_end: str | None = None, clip_to_period: bool = False, chain: str = "none",
                  measure: str = "span", group: list[str] | None = None) -> Hits:
    """Periods (one row, or a chain of rows of one child) lasting more than `max_days` days.

    The rows `where` selects that have a `start` are used. A blank `end` is taken as
    `open_end` (`period_end`: 31 March) or, without it, the row is left out. With
    `clip_to_period` each row is cut to the collection year and rows with no days left are left
    out. `chain`: `none` (each row alone), `touching` (a row continues the period when it starts
    on the day the previous row ended), `overlapping` (when it starts on or before that day) or
    `child` (all of a child's rows). `measure`: `span` (last end minus first start) or `sum`
    (the rows' lengths added up). Lengths are end minus start in days (same day: 0). Every row
    of a failing period is reported.
    """
    df = ctx.tables[table]
    group = group or [ctx.child_field(table)]
    sub = df[mask(condition(ctx, df, where)) & df[start].notna() & df[group].notna().all(axis=1)]
    s = sub[start]
    e = sub[end]
    if open_end:
        e = e.fillna(operand(ctx, sub, open_end))
    keep = e.notna()
    if clip_to_period:
        s = s.clip(lower=ctx.period_start)
        e = e.clip(upper=ctx.period_end)
        keep &= mask(e > s)
    work = pd.DataFrame({**{g: sub[g] for g in group}, "_row": sub["_row"], "_s": s, "_e": e})[keep.to_numpy(dtype=bool)]
    if work.empty:
        return no_hits()
    work = work.sort_values(group + ["_s", "_e", "_row"], kind="mergesort").reset_index(drop=True)
    length = (work["_e"] - work["_s"]).dt.days
    same_group = pd.Series(True, index=work.index)
    for g in group:
        same_group &= mask(work[g] == work[g].shift(1))
    prev_e = work["_e"].shift(1)
    if chain == "none":
        new = pd.Series(True, index=work.index)
    elif chain == "child":
        new = ~same_group
    elif chain == "touching":
        new = ~(same_group & mask(work["_s"] == prev_e))
    elif chain == "overlapping":
        new = ~(same_group & mask(work["_s"] <= prev_e))
    else:
        raise ValueError(f"period_length: unknown chain {chain!r}")
    pid = new.cumsum()
    if measure == "span":
        total = (work["_e"].groupby(pid).transform("max") - work["_s"].groupby(pid).transform("min")).dt.days
    elif measure == "sum":
        total = length.groupby(pid).transform("sum")
    else:
        raise ValueError(f"period_length: unknown measure {measure!r}")
    return ctx.flag(table, work.loc[(total > int(max_days)).to_numpy(dtype=bool), "_row"])


@kind("too_many_per_child")
def too_many_per_child(ctx: Context, table: str, where: Any, max: int, count_where: Any = None,
                       group: list[str] | None = None) -> Hits:
    """A child has more than `max` rows that `where` (and `count_where`) select; every row of that
    child that `where` selects is reported."""
    df = ctx.tables[table]
    group = group or [ctx.child_field(table)]
    scope = mask(condition(ctx, df, where)) & df[group].notna().all(axis=1)
    sub = df[scope]
    counted = mask(condition(ctx, sub, count_where)).astype("int64")
    n = counted.groupby([sub[g] for g in group], sort=False).transform("sum")
    return ctx.flag(table, sub.loc[(n > int(max)).to_numpy(dtype=bool), "_row"])


@kind("codes_together_per_child")
def codes_together_per_child(ctx: Context, table: str, field: str, codes: list[str],
                             group: list[str] | None = None) -> Hits:
    """A child has rows with every one of `codes` in `field` (e.g. both V3 and V4); all of that
    child's rows holding any of the codes are reported."""
    df = ctx.tables[table]
    group = group or [ctx.child_field(table)]
    sub = df[mask(df[field].isin([str(c) for c in codes])) & df[group].notna().all(axis=1)]
    distinct = sub.groupby(group, sort=False)[field].transform("nunique")
    return ctx.flag(table, sub.loc[(distinct >= len(set(codes))).to_numpy(dtype=bool), "_row"])


@kind("has_related")
def has_related(ctx: Context, table: str, other_table: str, where: Any = None, other_where: Any = None,
                on: list[str] | None = None, exists: bool = True) -> Hits:
    """Rows of `table` (selected by `where`) whose child has (with `exists: false`: has no) row
    in `other_table` that `other_where` selects."""
    df = ctx.tables[table]
    other = ctx.tables[other_table]
    on = on or [ctx.child_field(table)]
    right = other.loc[(mask(condition(ctx, other, other_where)) & other[on].notna().all(axis=1)).to_numpy(dtype=bool), on]
    if len(on) == 1:
        found = member(df[on[0]], right[on[0]]).to_numpy()
    else:
        right = right.drop_duplicates()
        found = df[on].merge(right.assign(_hit=True), on=on, how="left")["_hit"].notna().to_numpy()
    scope = mask(condition(ctx, df, where)) & df[on].notna().all(axis=1)
    bad = scope & pd.Series(found if exists else ~found, index=df.index)
    return ctx.flag(table, df.loc[bad.to_numpy(dtype=bool), "_row"])


@kind("duplicate_values")
def duplicate_values(ctx: Context, table: str, field: str, where: Any = None, ignore_case: bool = True) -> Hits:
    """Every row (selected by `where`) whose present `field` value appears on another such row;
    with `ignore_case` the comparison is made after upper-casing."""
    df = ctx.tables[table]
    col = df[field].astype("string")
    if ignore_case:
        col = col.str.upper()
    scope = mask(condition(ctx, df, where)) & col.notna()
    dup = col[scope].duplicated(keep=False)
    return ctx.flag(table, df.loc[scope, "_row"][dup.to_numpy(dtype=bool)])


# ------------------------------------------------------------------------------------------ UASC
def uasc_status(ctx: Context, previous: bool = False) -> pd.Series:
    """The children whose UASC status is 1 in this year's return (or last year's), per the DfE
    rule logic C9; the one place that status is derived.

    An XML return says it in each child's HEADER: the flag the loader keeps on the Header row as
    `_uasc` (exactly `1`, surrounding space aside). A CSV return has no flag: a child is UASC
    when they have a row in that year's UASC table.
    """
    tables = ctx.previous if previous else ctx.tables
    absent = ctx.previous_absent if previous else ctx.absent
    cf = ctx.child_field("UASC")
    if tables is None:
        return pd.Series([], dtype="string")
    hdr = tables.get("Header")
    if hdr is not None and UASC_FLAG in hdr.columns and "Header" not in absent:
        is_one = (hdr[UASC_FLAG].astype("string").str.strip() == "1").fillna(False)
        return hdr.loc[is_one.to_numpy(dtype=bool), cf].dropna().drop_duplicates()
    if "UASC" in tables and "UASC" not in absent:
        return tables["UASC"][cf].dropna().drop_duplicates()
    return pd.Series([], dtype="string")


def uasc_children(ctx: Context) -> pd.Series:
    """The children who are UASC this year or were UASC last year (when last year's return is
    given), by `uasc_status`."""
    parts = [uasc_status(ctx), uasc_status(ctx, previous=True)]
    return pd.concat(parts, ignore_index=True).dropna().drop_duplicates()


