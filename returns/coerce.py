"""Raw string tables -> canonical typed tables, one vectorised conversion per column.

Every cell that cannot be converted becomes a load finding (file, line, field, the bad value) and
is left blank in the canonical table; nothing is guessed and nothing is blanked silently.
"""

from __future__ import annotations

import pandas as pd

from csc_returns.returns.spec import Field_, Spec, Table

META = ("_row", "_source")  # columns every canonical table carries besides its fields
_EXPECTED_DATE = {"%Y-%m-%d": "yyyy-mm-dd", "%d/%m/%Y": "dd/mm/yyyy"}


def blank_to_na(s: pd.Series) -> pd.Series:
    """Strip surrounding white space; empty text becomes missing."""
    s = s.astype("string").str.strip()
    return s.mask(s == "")


def _parse_dates(text: pd.Series, fmt: str) -> pd.Series:
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    # strptime accepts unpadded numbers ("1/4/2025"); the DfE formats are fixed width, but an
    # unpadded day is unambiguous, so accept it rather than reject a real date.
    return parsed.astype("datetime64[ns]")


def coerce_column(text: pd.Series, f: Field_, date_format: str,
                  booleans: dict[str, bool]) -> tuple[pd.Series, pd.Series, str]:
    """Return (typed column, mask of unconvertible cells, load finding code)."""
    if f.type == "date":
        typed = _parse_dates(text, date_format)
        return typed, text.notna() & typed.isna(), "LOAD-DATE"
    if f.type == "int":
        num = pd.to_numeric(text, errors="coerce")
        ok = num.notna() & (num == num.round())
        typed = num.where(ok).astype("Int64")
        return typed, text.notna() & ~ok, "LOAD-INT"
    if f.type == "bool":
        typed = text.str.lower().map(booleans).astype("boolean")
        return typed, text.notna() & typed.isna(), "LOAD-BOOL"
    return text, pd.Series(False, index=text.index), ""


def coerce_table(raw: pd.DataFrame, table: Table, spec: Spec) -> tuple[pd.DataFrame, list[dict]]:
    """Type one raw table per its spec. `raw` holds strings plus `_source` and any key columns."""
    out: dict[str, pd.Series] = {}
    findings: list[dict] = []
    n = len(raw)
    out["_row"] = pd.Series(range(1, n + 1), index=raw.index, dtype="int64")
    out["_source"] = raw["_source"].astype("string") if "_source" in raw else pd.Series(pd.NA, index=raw.index, dtype="string")
    for col in raw.columns:  # surrogate keys (CIN) and the denormalised child id pass through
        if col.startswith("_") and col not in META:
            out[col] = raw[col]
    child_col = table.child_field
    child = blank_to_na(raw[child_col]) if child_col in raw else pd.Series(pd.NA, index=raw.index, dtype="string")
    for f in table.fields:
        if f.name not in raw:
            text = pd.Series(pd.NA, index=raw.index, dtype="string")
        else:
            text = blank_to_na(raw[f.name])
        typed, bad, code = coerce_column(text, f, spec.date_format, spec.booleans)
        out[f.name] = typed
        if code and bad.any():
            expected = _expected(f, spec)
            idx = bad[bad].index
            findings.extend(
                {
                    "code": code,
                    "severity": "error",
                    "table": table.name,
                    "row": int(out["_row"][i]),
                    "child": None if pd.isna(child[i]) else str(child[i]),
                    "fields": f.name,
                    "source": None if pd.isna(out["_source"][i]) else str(out["_source"][i]),
                    "value": f"{f.name}={text[i]}",
                    "detail": f"expected {expected}",
                }
                for i in idx
            )
    if child_col not in out:  # the child id column is always present (CIN tables denormalise it)
        out[child_col] = child
    df = pd.DataFrame(out, index=raw.index).reset_index(drop=True)
    return df, findings


def _expected(f: Field_, spec: Spec) -> str:
    if f.type == "date":
        return f"a real date as {_EXPECTED_DATE.get(spec.date_format, spec.date_format)}"
    if f.type == "int":
        return "a whole number"
    return " or ".join(spec.booleans)


def empty_table(table: Table) -> pd.DataFrame:
    """A canonical table with no rows (used when a table is absent from the input)."""
    cols: dict[str, pd.Series] = {"_row": pd.Series(dtype="int64"), "_source": pd.Series(dtype="string")}
    for f in table.fields:
        dtype = {"date": "datetime64[ns]", "int": "Int64", "bool": "boolean"}.get(f.type, "string")
        cols[f.name] = pd.Series(dtype=dtype)
    return pd.DataFrame(cols)
