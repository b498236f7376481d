"""The one condition language of the rule kinds (`where:`, `when:`, `then:`, `scope:`, ...), and the
small vectorised helpers every kind and custom rule shares (`mask`, `member`, `birthday`).

`condition(ctx, df, c)` returns a plain numpy-bool Series (blank never satisfies a comparison).
Every form it understands:

Combinations
- `None`: every row;
- `[c, ...]` or `{all: [c, ...]}`: all of them hold;  `{any: [c, ...]}`: at least one holds;
- `{not: c}`: the condition does not hold (a blank that fails `c` satisfies `{not: c}`).

Blanks (several fields at once)
- `{any_present: [F, ...]}` / `{all_present: [...]}` / `{any_blank: [...]}` / `{all_blank: [...]}`.

One field
- `{field: F, present: true|false}`: F is (not) blank;
- `{field: F, in: [..]}` / `{field: F, not_in: [..]}` (a blank is in neither) /
  `{field: F, in_codeset: name}` (the year's code set);
- `{field: F, equals: v}`;
- `{field: F, matches: REGEX}`: a present value matching the regular expression (whole value).

Comparisons
- `{field: F, op: "<", other: G}` with op one of < <= > >= == !=; F and G may each be a column,
  `period_start` / `period_end` (the collection year's bounds), and G a literal;
  `date: "yyyy-mm-dd"` instead of `other` compares with a fixed date;
  `plus_years: N` adds N calendar years to G (the Nth birthday when G is a date of birth);
- `{field: DOB, birthday: N, op: "<=", other: G}`: the Nth birthday of F (F + N calendar years)
  compared with G (`period_start`, `period_end`, a column or a fixed date).
  Birthdays of 29 February fall on 28 February in other years.

Equality where blanks count
- `{field: F, same_as: G}` / `{field: F, differs_from: G}`: two blanks are equal and a blank
  differs from a value; `ignore_spaces: true` compares upper-cased text with every space removed
  (postcodes).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pandas as pd

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}
PERIOD = ("period_start", "period_end")
_BLANKS = (("any_present", "any", True), ("all_present", "all", True),
           ("any_blank", "any", False), ("all_blank", "all", False))


# ------------------------------------------------------------------------------------------ helpers
def mask(s: pd.Series | bool | np.ndarray, index: pd.Index | None = None) -> pd.Series:
    """A plain numpy-bool Series, blank as False (ctx.flag only treats dtype bool as a mask)."""
    if isinstance(s, np.ndarray):
        return pd.Series(s.astype(bool), index=index)
    if not isinstance(s, pd.Series):
        return pd.Series(bool(s), index=index)
    return s.fillna(False).astype(bool)


def birthday(dob: pd.Series, years: int) -> pd.Series:
    """The `years`-th birthday of each date of birth (29 February births: 28 February in other
    years). NaT stays NaT; dates of birth so far in the future that the birthday cannot be
    represented give no birthday."""
    dob = dob.where(dob < pd.Timestamp("2200-01-01"))
    return (dob + pd.DateOffset(years=int(years))).astype("datetime64[ns]")


def key_codes(left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of two key columns in one shared factorisation (blank: -1)."""
    codes, _ = pd.factorize(pd.concat([left, right], ignore_index=True))
    return codes[: len(left)], codes[len(left):]


def member(col: pd.Series, ids: Any) -> pd.Series:
    """Whether each value of `col` is one of `ids` (a blank never is), as a bool Series on
    `col`'s index; the fast replacement of `col.isin(ids)` for id columns.

    pandas 3's `isin` on Arrow-backed strings converts every id in Python (seconds for 100,000
    children against 300,000 ids); text goes through pyarrow's hash-based `is_in`, anything else
    (integer surrogate keys) through one shared factorisation.
    """
    if not isinstance(ids, (pd.Series, pd.Index, np.ndarray, pd.api.extensions.ExtensionArray)):
        ids = list(ids)
    pool = pd.Series(ids).dropna()
    if len(col) == 0 or len(pool) == 0:
        return pd.Series(False, index=col.index)
    if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_numeric_dtype(pool.dtype):
        import pyarrow as pa
        import pyarrow.compute as pc

        values = pa.array(pool.astype("string").array, from_pandas=True).cast(pa.string()).unique()
        hit = pc.is_in(pa.array(col.astype("string").array, from_pandas=True).cast(pa.string()),
                       value_set=values).fill_null(False)
        return pd.Series(hit.to_numpy(zero_copy_only=False).astype(bool), index=col.index)
    lc, rc = key_codes(col, pool)
    return pd.Series(np.isin(lc, rc[rc >= 0]) & (lc >= 0), index=col.index)


def operand(ctx: Any, df: pd.DataFrame, ref: Any) -> Any:
    """A column of `df`, a period bound (`period_start` / `period_end`) or the literal itself."""
    if isinstance(ref, str):
        if ref in df.columns:
            return df[ref]
        if ref in PERIOD:
            return getattr(ctx, ref)
    return ref


def _date(value: Any) -> Any:
    return pd.Timestamp(value) if isinstance(value, str) else value


def _norm(col: pd.Series, ignore_spaces: bool) -> pd.Series:
    col = col.astype("string")
    if ignore_spaces:
        col = col.str.upper().str.replace(" ", "", regex=False)
    return col


def same(a: pd.Series, b: pd.Series, ignore_spaces: bool = False) -> pd.Series:
    """Equal values, two blanks counting as equal and a blank differing from a value."""
    if ignore_spaces or a.dtype != b.dtype:
        a, b = _norm(a, ignore_spaces), _norm(b, ignore_spaces)
    return mask(a == b) | (a.isna() & b.isna())


# ------------------------------------------------------------------------------------------ condition
def condition(ctx: Any, df: pd.DataFrame, c: Any) -> pd.Series:
    """Rows of `df` meeting a declarative condition (every form: see the module docstring)."""
    if c is None:
        return pd.Series(True, index=df.index)
    if isinstance(c, list):
        out = pd.Series(True, index=df.index)
        for part in c:
            out &= condition(ctx, df, part)
        return out
    if "all" in c:
        return condition(ctx, df, list(c["all"]))
    if "any" in c:
        out = pd.Series(False, index=df.index)
        for part in c["any"]:
            out |= condition(ctx, df, part)
        return out
    if "not" in c:
        return ~condition(ctx, df, c["not"])
    for key, how, want in _BLANKS:
        if key in c:
            present = df[list(c[key])].notna()
            return mask(getattr(present if want else ~present, how)(axis=1))
    if c["field"] not in df.columns and c["field"] not in PERIOD:
        raise KeyError(f"condition field {c['field']!r} is not a column here")
    if "same_as" in c or "differs_from" in c:
        eq = same(df[c["field"]], df[c.get("same_as", c.get("differs_from"))], bool(c.get("ignore_spaces")))
        return eq if "same_as" in c else ~eq
    if "birthday" in c:
        bday = birthday(df[c["field"]], c["birthday"])
        return mask(OPS[c["op"]](bday, _date(operand(ctx, df, c["other"]))), df.index)
    if "op" in c:
        left = operand(ctx, df, c["field"])
        right = pd.Timestamp(c["date"]) if "date" in c else operand(ctx, df, c["other"])
        if "plus_years" in c:
            right = birthday(right, c["plus_years"])
        return mask(OPS[c["op"]](left, right), df.index)
    col = df[c["field"]]
    if "present" in c:
        return mask(col.notna() if c["present"] else col.isna())
    if "in" in c:
        return mask(col.isin(c["in"]))
    if "not_in" in c:
        return mask(col.notna() & ~mask(col.isin(c["not_in"])))
    if "in_codeset" in c:
        return mask(col.isin(ctx.codes(c["in_codeset"])))
    if "equals" in c:
        return mask(col == c["equals"])
    if "matches" in c:
        return mask(col.astype("string").str.fullmatch(c["matches"]))
    raise ValueError(f"condition not understood: {c}")
