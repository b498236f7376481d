"""Rule kinds added for the SSDA903 2xx and INT rules (they are generic: any return may use them).

- `unchanged_from_previous`: a child's value differs from the one in last year's return;
- `child_known_in`: a row's child is not in another table (a blank id fails too);
- `allowed_values` / `forbidden_values`: a field outside / inside a list given in the entry;
- `none_present_if`: any of several fields is completed when a condition holds.

All are vectorised; `where:` / `when:` take the condition forms of `conditions.condition`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from csc_returns.validators.engine import Context, Hits, kind, no_hits
from csc_returns.validators.kinds import condition, mask, member


def _text_key(s: pd.Series) -> pd.Series:
    """Values as comparable keys: text upper-cased (the DfE compares codes case-insensitively)."""
    if pd.api.types.is_string_dtype(s) or s.dtype == object:
        return s.astype("string").str.upper()
    return s


def translate_previous_codes(ctx: Context, table: str, field: str, values: pd.Series) -> pd.Series:
    """Last year's codes in this year's code set, matched by label when the code set changed.

    E.g. SSDA903 SEX was 1/2 (code set sex_numeric) up to 2023-24 and M/F/U (code set sex) from
    2024-25: 1 "Male" -> M, 2 "Female" -> F. Codes whose label has no match are left unchanged.
    """
    if ctx.previous_spec is None or table not in ctx.previous_spec.tables:
        return values
    try:
        old_cs = ctx.previous_spec.tables[table].field(field).codeset
        new_cs = ctx.spec.tables[table].field(field).codeset
    except KeyError:
        return values
    if not old_cs or not new_cs or old_cs == new_cs:
        return values
    new_by_label = {label.strip().upper(): code for code, label in ctx.spec.codes(new_cs).items()}
    mapping = {code: new_by_label[label.strip().upper()]
               for code, label in ctx.previous_spec.codes(old_cs).items()
               if label.strip().upper() in new_by_label}
    if not mapping:
        return values
    return values.astype("string").replace(mapping)


@kind("unchanged_from_previous")
def unchanged_from_previous(ctx: Context, table: str, field: str, key: str | None = None,
                            where: Any = None) -> Hits:
    """A child's `field` differs from the value in last year's `table` (rule needs: [previous]).

    Only children (rows sharing `key`, default the child id) present in both years are checked.
    Two blanks are equal; a blank against a value is a change; text compares case-insensitively.
    Last year's codes are first put into this year's code set when the code set changed (see
    `translate_previous_codes`). A child with several rows last year fails when any differs.
    """
    cur = ctx.tables[table]
    prev = ctx.previous[table]
    key = key or ctx.child_field(table)
    scope = condition(ctx, cur, where) & cur[key].notna()
    left = cur.loc[scope.to_numpy(dtype=bool), ["_row", key, field]]
    right = prev.loc[prev[key].notna(), [key, field]].rename(columns={field: "_prev"})
    if left.empty or right.empty:
        return no_hits()
    right = right.assign(_prev=translate_previous_codes(ctx, table, field, right["_prev"]))
    m = left.merge(right, on=key, how="inner")
    a, b = _text_key(m[field]), _text_key(m["_prev"])
    if pd.api.types.is_string_dtype(a) and not pd.api.types.is_string_dtype(b):
        b = b.astype("string")
    both_blank = a.isna() & b.isna()
    one_blank = a.isna() ^ b.isna()
    differ = mask(a != b)
    bad = ~both_blank & (one_blank | differ)
    return ctx.flag(table, m.loc[bad.to_numpy(dtype=bool), "_row"].drop_duplicates())


@kind("child_known_in")
def child_known_in(ctx: Context, table: str, other_table: str, where: Any = None) -> Hits:
    """A row whose child id does not appear in `other_table` (a blank id always fails).

    Unlike `exists_in`, which ignores rows with a blank key, this is the integrity check that every
    row of a table belongs to a child of the return's main table.
    """
    df = ctx.tables[table]
    cf = ctx.child_field(table)
    known = ctx.tables[other_table][ctx.child_field(other_table)]
    missing = ~member(df[cf], known)
    return ctx.flag(table, missing & condition(ctx, df, where))


@kind("allowed_values")
def allowed_values(ctx: Context, table: str, field: str, values: list[str], required: bool = False,
                   where: Any = None) -> Hits:
    """On the rows `where` selects, the field holds a value not in `values` (blank fails only when
    `required`). For rule-specific lists; a field's whole code set is checked by `in_codeset`."""
    df = ctx.tables[table]
    col = df[field]
    bad = ~mask(col.isin([str(v) for v in values]))
    if not required:
        bad &= col.notna()
    return ctx.flag(table, bad & condition(ctx, df, where))


@kind("forbidden_values")
def forbidden_values(ctx: Context, table: str, field: str, values: list[str], where: Any = None) -> Hits:
    """On the rows `where` selects, the field holds one of `values`."""
    df = ctx.tables[table]
    bad = mask(df[field].isin([str(v) for v in values]))
    return ctx.flag(table, bad & condition(ctx, df, where))


@kind("none_present_if")
def none_present_if(ctx: Context, table: str, fields: list[str], when: Any) -> Hits:
    """When the condition holds, any of `fields` is completed (they must all be blank)."""
    df = ctx.tables[table]
    any_present = df[fields].notna().any(axis=1)
    return ctx.flag(table, any_present & condition(ctx, df, when))
