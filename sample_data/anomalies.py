"""Implausible-but-valid returns: anomalies the data-quality (GX) suites must report.

Each anomaly takes a return's canonical tables (as loaded, or as generated) and returns modified
copies; the input is never changed. The files stay loadable and, for CIN, XSD-valid, so the DfE
rules may or may not notice: the point is what the DQ-* checks say.

    from csc_returns.sample_data.anomalies import ANOMALIES
    bad = ANOMALIES["empty_month"](tables, spec)

    python -m csc_returns.sample_data.anomalies IN_DIR OUT_DIR --anomaly NAME [options]

IN_DIR is one generated return folder (the CIN XML's folder, or the 903 CSV folder); OUT_DIR gets
the modified return, written with `csc_returns.returns.writers`.

| name            | what it does                                                   | expected finding  |
|-----------------|----------------------------------------------------------------|-------------------|
| empty_month     | drops the records of one month (CIN referrals, 903 episodes), | DQ-MONTH-GAP, and |
|                 | and children left with none, as if a team stopped recording    | DQ-VOLUME with    |
|                 |                                                                | --previous        |
| unknown_burst   | sets ethnicity to NOBT (not obtained) for 40 % of children     | DQ-UNKNOWN-SHARE  |
| duplicate_table | every record of a table (and, in CIN, what it holds) twice     | DQ-DUPLICATE      |
| same_date       | every record of one month given one date (CIN assessment      | DQ-DATE-SPIKE     |
|                 | starts, 903 reviews; default March)                            |                   |
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csc_returns.returns.spec import Spec

Tables = dict[str, pd.DataFrame]

DEFAULT_DATED = {"cin": ("CINdetails", "CINreferralDate"), "ssda903": ("Episodes", "DECOM")}
DEFAULT_DUPLICATE = {"cin": "CINdetails", "ssda903": "Episodes"}
ETHNICITY = {"cin": ("Child", "Ethnicity"), "ssda903": ("Header", "ETHNIC")}


def _copy(tables: Tables) -> Tables:
    return {k: v.copy() for k, v in tables.items()}


def _child_table(spec: Spec) -> str:
    return "Child" if spec.return_ == "cin" else "Header"


def _renumber(df: pd.DataFrame) -> pd.DataFrame:
    if "_row" in df.columns and len(df):
        df = df.sort_values("_row", kind="stable").reset_index(drop=True)
        df["_row"] = np.arange(1, len(df) + 1, dtype="int64")
    return df


def _drop_children(tables: Tables, spec: Spec, children: set[str]) -> Tables:
    """Every record of these children, in every table (CIN: by the child's surrogate key too)."""
    if not children:
        return tables
    out: Tables = {}
    keys: set[Any] = set()
    if spec.return_ == "cin" and "Child" in tables:
        child = tables["Child"]
        keys = set(child.loc[child["LAchildID"].isin(list(children)), "_child"].dropna().tolist())
    for name, df in tables.items():
        cf = spec.tables[name].child_field if name in spec.tables else None
        mask = pd.Series(False, index=df.index)
        if cf and cf in df.columns:
            mask |= df[cf].isin(list(children)).fillna(False).astype(bool)
        if keys and "_child" in df.columns:
            mask |= df["_child"].isin(list(keys)).fillna(False).astype(bool)
        out[name] = _renumber(df.loc[~mask.to_numpy()])
    return out


def empty_month(tables: Tables, spec: Spec, table: str | None = None, field: str | None = None,
                month: str | None = None) -> Tables:
    """No records dated in one month of the collection period (default: the third month, June):
    the table's rows in that month go, with every record they hold (CIN), and children left with
    no rows in the table go too, as when a team stops recording for a month."""
    table, field = (table, field) if table and field else DEFAULT_DATED[spec.return_]
    start = pd.Timestamp(spec.period_start)
    m = pd.Period(month, "M") if month else (start + pd.DateOffset(months=2)).to_period("M")
    out = _copy(tables)
    df = out[table]
    cf = spec.tables[table].child_field
    before = set(df[cf].dropna().tolist())
    hit = (df[field].dt.to_period("M") == m).fillna(False).to_numpy(dtype=bool)
    key = spec.tables[table].key
    if key:  # CIN: what the dropped records hold goes with them
        gone = set(df.loc[hit, key].dropna().tolist())
        for name, other in out.items():
            if key in other.columns and name != table:
                out[name] = _renumber(other.loc[~other[key].isin(list(gone)).fillna(False).to_numpy(dtype=bool)])
    out[table] = _renumber(df.loc[~hit])
    lost = before - set(out[table][cf].dropna().tolist())
    return _drop_children(out, spec, lost)


def unknown_burst(tables: Tables, spec: Spec, share: float = 0.4, code: str = "NOBT", seed: int = 7) -> Tables:
    """Ethnicity 'not obtained' (NOBT) for a share of the children (default 40 %)."""
    table, field = ETHNICITY[spec.return_]
    out = _copy(tables)
    df = out[table]
    rng = np.random.default_rng(seed)
    pick = rng.random(len(df)) < share
    col = df[field].copy()
    col[pick] = code
    df[field] = col
    out[table] = df
    return out


def duplicate_table(tables: Tables, spec: Spec, table: str | None = None) -> Tables:
    """Every record of `table` twice, as when an export ran twice. In CIN a record's nested
    records are copied with it (new surrogate keys), so the XML stays valid."""
    table = table or DEFAULT_DUPLICATE[spec.return_]
    out = _copy(tables)
    key = spec.tables[table].key
    if not key:
        df = out[table]
        copy = df.copy()
        copy["_row"] = copy["_row"] + int(df["_row"].max() if len(df) else 0)
        out[table] = pd.concat([df, copy], ignore_index=True)
        return out
    # CIN: copy the table's rows and every descendant row, with every introduced key shifted
    descendants = [table]
    changed = True
    while changed:
        changed = False
        for name, t in spec.tables.items():
            if t.parent in descendants and name not in descendants and name in out:
                descendants.append(name)
                changed = True
    shift = {}
    for name in descendants:
        k = spec.tables[name].key
        if k and len(out[name]):
            shift[k] = int(out[name][k].max())
    for name in descendants:
        df = out[name]
        copy = df.copy()
        for k, n in shift.items():
            if k in copy.columns:
                copy[k] = copy[k] + n
        copy["_row"] = copy["_row"] + int(df["_row"].max() if len(df) else 0)
        out[name] = pd.concat([df, copy], ignore_index=True)
    return out


DEFAULT_SAME_DATE = {"cin": ("Assessments", "AssessmentActualStartDate"), "ssda903": ("Reviews", "REVIEW")}


def same_date(tables: Tables, spec: Spec, table: str | None = None, field: str | None = None,
              month: str | None = None) -> Tables:
    """Every record dated in one month (default: March, the last month of the period) gets the
    15th of that month, as when a batch of records is back-filled with one date."""
    table, field = (table, field) if table and field else DEFAULT_SAME_DATE[spec.return_]
    end = pd.Timestamp(spec.period_end)
    m = pd.Period(month, "M") if month else end.to_period("M")
    out = _copy(tables)
    df = out[table]
    hit = (df[field].dt.to_period("M") == m).fillna(False).to_numpy(dtype=bool)
    col = df[field].copy()
    col[hit] = pd.Timestamp(m.start_time) + pd.Timedelta(days=14)
    df[field] = col
    out[table] = df
    return out


ANOMALIES: dict[str, Callable[..., Tables]] = {
    "empty_month": empty_month,
    "unknown_burst": unknown_burst,
    "duplicate_table": duplicate_table,
    "same_date": same_date,
}


# ------------------------------------------------------------------------------------- CLI
def _inputs(folder: Path) -> list[Path]:
    xml = sorted(folder.glob("*.xml"))
    return [xml[0]] if xml else [folder]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m csc_returns.sample_data.anomalies",
                                 description="Apply one data-quality anomaly to a generated return folder and write "
                                             "the result (CIN XML or 903 CSVs) to OUT_DIR.")
    ap.add_argument("in_dir", type=Path, help="a return folder: the CIN census XML's, or the 903 CSVs'")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--anomaly", required=True, choices=sorted(ANOMALIES))
    ap.add_argument("--table", help="empty_month / duplicate_table / same_date: which table")
    ap.add_argument("--field", help="empty_month / same_date: the date field that places a record in a month")
    ap.add_argument("--month", help="empty_month / same_date: YYYY-MM (default: June / March of the period)")
    ap.add_argument("--share", type=float, default=0.4, help="unknown_burst: share of children (default 0.4)")
    ap.add_argument("--year", type=int, help="collection (end) year, if it cannot be detected")
    args = ap.parse_args(argv)

    from csc_returns.returns.errors import LoadError, UsageError
    from csc_returns.returns.load import load
    from csc_returns.returns.writers import WriteError, write_return

    if not args.in_dir.is_dir():
        ap.error(f"{args.in_dir}: not a folder")
    if args.out_dir.resolve() == args.in_dir.resolve():
        ap.error("OUT_DIR must differ from IN_DIR (the input is never overwritten)")
    try:
        loaded = load(_inputs(args.in_dir), year=args.year)
    except (LoadError, UsageError) as exc:
        print(f"anomalies: {exc}", file=sys.stderr)
        return 2
    kwargs: dict[str, Any] = {}
    if args.anomaly in ("empty_month", "same_date"):
        kwargs = {"table": args.table, "field": args.field, "month": args.month}
    elif args.anomaly == "duplicate_table":
        kwargs = {"table": args.table}
    elif args.anomaly == "unknown_burst":
        kwargs = {"share": args.share}
    try:
        tables = ANOMALIES[args.anomaly](loaded.tables, loaded.spec, **kwargs)
        written = write_return(tables, loaded.spec, args.out_dir)
    except (KeyError, ValueError, WriteError) as exc:
        print(f"anomalies: {args.anomaly} could not be applied: {exc}", file=sys.stderr)
        return 2
    for p in written:
        print(f"Wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
