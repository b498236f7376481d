"""Run the GX suites of a return: data-quality findings and outcomes, parity flags, Data Docs.

    from csc_returns.validators.suites.gx_run import run_quality
    q = run_quality(spec, tables, previous=prev_tables, absent=absent, docs_dir=None)
    q.findings  # DQ-* findings (severity warning), the findings table's columns
    q.outcomes  # one Outcome per DQ code: passed | failed | skipped | errored

Great Expectations is imported here, inside the functions, and only when a suite runs. Measures
against the known GX 1.24 / pandas 3 pitfalls (DESIGN.md section 8):

- an **ephemeral** context with in-memory stores: nothing is written anywhere, except Data Docs
  when asked for, and then only in the folder given (no default site in /tmp);
- analytics off (`GX_ANALYTICS_ENABLED=False` and `analytics_enabled=False` in the config), so
  nothing is sent over the network; progress bars off;
- date bounds are `pd.Timestamp` (compiled so in `gx_suite.py`);
- an expectation whose result carries an internal exception, or that fails without saying what
  it found, is **errored** (exit code 2), never a finding and never a pass;
- results map back to records through `unexpected_index_column_names=["_row"]`: each batch is
  indexed by `_row` and `exclude_unexpected_values` is set, so GX returns the row ids as one list
  (its per-row path with unexpected values costs ~0.4 s per expectation on 10,000 rows).

The outcome `reason` of a DQ code that ran lists what each of its checks measured (one line per
check), so findings.json and the report show the numbers behind a pass as well as a failure.
"""

from __future__ import annotations

import os
import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csc_returns.returns.result import Outcome, make_findings
from csc_returns.returns.spec import Spec
from csc_returns.validators.suites.gx_suite import (
    DATES_BATCH, MONTHS_BATCH, Cond, Planned, batch_columns, compile_quality, compile_rules, series, suite_name,
)
from csc_returns.validators.suites.quality import (
    CODES, SUITE_CODE, Completeness, DateSpike, MonthGap, UnknownShare, Volume,
)

SEVERITY = "warning"
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["_row"],
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": False,
    "partial_unexpected_count": 0,
}
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]


class GXUnavailable(RuntimeError):
    """Great Expectations could not be imported or set up."""


# ------------------------------------------------------------------------------------- results
@dataclass
class Raw:
    """One expectation's result, reduced to what we use."""

    success: bool | None = None
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # errored: the message and traceback


@dataclass
class CheckResult:
    plan: Planned
    status: str  # passed | failed | skipped | errored
    reason: str | None = None  # skipped: why; errored: the traceback
    measured: str = ""  # one line: what was measured against what
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class QualityResult:
    findings: pd.DataFrame
    outcomes: dict[str, Outcome]
    checks: list[CheckResult]
    seconds: float = 0.0
    docs_index: Path | None = None


# ------------------------------------------------------------------------------------- GX setup
def gx_context(docs_dir: Path | None = None) -> Any:
    """An ephemeral GX context: in-memory stores, no analytics, no progress bars, Data Docs only
    in `docs_dir` (none at all without it)."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    try:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig,
        )
    except Exception as exc:  # ImportError, or GX failing on this pandas/numpy
        raise GXUnavailable(f"great_expectations could not be imported ({type(exc).__name__}: {exc}); "
                            "run with --no-gx to skip the data-quality suites") from exc
    sites: dict[str, Any] = {}
    if docs_dir is not None:
        sites["csc_returns"] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            # GX needs an absolute folder (a relative one fails when the site is built)
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(Path(docs_dir).resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    cfg = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        data_docs_sites=sites,
    )
    return gx.get_context(mode="ephemeral", project_config=cfg)


def _gx_condition(where: tuple[Cond, ...]) -> Any:
    from great_expectations.expectations.row_conditions import Column

    out = None
    for c in where:
        col = Column(c.field)
        if c.op == "null":
            part = col.is_null()
        elif c.op == "not_null":
            part = col.is_not_null()
        elif c.op == "in":
            part = col.is_in(list(c.value))
        elif c.op == "not_in":
            part = col.is_not_in(list(c.value))
        elif c.op == "eq":
            part = col == c.value
        elif c.op == "ge":
            part = col >= c.value
        else:  # pragma: no cover - Cond's ops are closed
            raise ValueError(f"unknown condition op {c.op}")
        out = part if out is None else out & part
    return out


def to_gx(plan: Planned) -> Any:
    """The GX Expectation object of a plan."""
    from great_expectations.expectations.registry import get_expectation_impl

    cls = get_expectation_impl(plan.type)
    kwargs = dict(plan.kwargs)
    if plan.where:
        kwargs["row_condition"] = _gx_condition(plan.where)
    meta = {"csc_id": plan.id, "code": plan.code, "origin": plan.origin, "table": plan.table}
    return cls(**kwargs, meta=meta, description=plan.description)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _exception(r: Any) -> str | None:
    """The internal exception(s) GX recorded for one expectation, flat or per metric."""
    ex = r.exception_info or {}
    items = [ex] if "raised_exception" in ex else [v for v in ex.values() if isinstance(v, dict)]
    errs = [f"{i.get('exception_message')}\n{i.get('exception_traceback') or ''}".strip()
            for i in items if i.get("raised_exception")]
    return "\n\n".join(errs) if errs else None


def run_batches(gx_ctx: Any, return_: str, year: int, batches: dict[str, pd.DataFrame],
                plans: list[Planned], docs: bool = False) -> dict[str, Raw]:
    """Validate each batch with its plans' expectations; results keyed by plan id.

    One data asset and batch definition serve every batch (the frame is a batch parameter):
    each asset GX adds re-serialises the project config. With `docs`, each batch runs through a
    ValidationDefinition so its results are stored (in memory) for Data Docs.
    """
    import great_expectations as gx

    out: dict[str, Raw] = {}
    by_batch: dict[str, list[Planned]] = {}
    for p in plans:
        by_batch.setdefault(p.batch, []).append(p)
    try:
        asset = gx_ctx.data_sources.add_pandas("csc_returns").add_dataframe_asset(f"{return_}_{year}")
        bdef = asset.add_batch_definition_whole_dataframe("table")
    except Exception:
        tb = traceback.format_exc()
        return {p.id: Raw(error=tb) for p in plans}
    for name, group in by_batch.items():
        try:
            frame = batches[name]
            sname = _safe(suite_name(return_, year, name))
            suite = gx_ctx.suites.add(gx.ExpectationSuite(name=sname, expectations=[to_gx(p) for p in group]))
            if docs:
                vd = gx_ctx.validation_definitions.add(gx.ValidationDefinition(name=sname, data=bdef, suite=suite))
                res = vd.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)
            else:
                res = bdef.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format=RESULT_FORMAT)
        except Exception:  # the whole batch failed: every expectation in it errored
            tb = traceback.format_exc()
            for p in group:
                out[p.id] = Raw(error=tb)
            continue
        seen = set()
        for r in res.results:
            pid = (r.expectation_config.meta or {}).get("csc_id")
            if pid is None:
                continue
            seen.add(pid)
            out[pid] = Raw(success=r.success, result=dict(r.result or {}), error=_exception(r))
        for p in group:
            if p.id not in seen:
                out[p.id] = Raw(error="GX returned no result for this expectation")
    return out


def unexpected_rows(raw: Raw) -> list[int]:
    """`_row` ids of the unexpected records ({'_row': [..]} with exclude_unexpected_values)."""
    rows: list[int] = []
    for item in raw.result.get("unexpected_index_list") or []:
        v = item.get("_row") if isinstance(item, dict) else item
        if isinstance(v, (list, tuple, np.ndarray, pd.Index)):
            rows += [int(x) for x in v]
        elif v is not None:
            rows.append(int(v))
    return rows


_ROW_LEVEL = {"expect_column_values_to_be_between", "expect_compound_columns_to_be_unique",
              "expect_column_values_to_be_unique", "expect_column_values_to_be_in_set",
              "expect_column_values_to_not_be_in_set", "expect_column_values_to_not_be_null",
              "expect_column_values_to_be_null", "expect_column_values_to_match_regex",
              "expect_column_value_lengths_to_be_between", "expect_column_pair_values_to_be_equal",
              "expect_column_pair_values_a_to_be_greater_than_b"}


def check_raw(plan: Planned, raw: Raw) -> str | None:
    """Why a result cannot be trusted (then the expectation is errored), or None."""
    if raw.error:
        return raw.error
    if raw.success is None:
        return "GX returned no success value"
    if plan.type in _ROW_LEVEL:
        if "unexpected_count" not in raw.result:
            return f"GX returned no unexpected_count (result: {raw.result!r})"
        if not raw.success and raw.result.get("unexpected_count", 0) and not unexpected_rows(raw):
            return "GX reported unexpected values but no rows (unexpected_index_list is empty)"
        if not raw.success and not raw.result.get("unexpected_count") and "mostly" not in plan.kwargs:
            return "GX reported a failure with no unexpected values"
    elif "observed_value" not in raw.result or raw.result["observed_value"] is None:
        return f"GX returned no observed value (result: {raw.result!r})"
    return None


# ------------------------------------------------------------------------------------- batches
def _month_label(ts: pd.Timestamp) -> str:
    return f"{_MONTHS[ts.month - 1]} {ts.year}"


def _index(df: pd.DataFrame) -> pd.DataFrame:
    df.index = pd.RangeIndex(1, len(df) + 1, name="_row")
    return df


def months_frame(spec: Spec, tables: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None,
                 checks: list[Any]) -> pd.DataFrame:
    """Records per month of the collection period for each (table, date field) of the volume and
    month-gap checks, and per table for the whole year: 12 month rows and a `year` row.

    Columns per series `T.F` (or `T` without a date field): `records`, `last_year` (the same
    calendar month of last year's return), `ratio_to_last_year_minN` (blank where last year had
    fewer than N records), `share_of_monthly_mean` (month rows; blank on the year row).
    """
    start = pd.Timestamp(spec.period_start)
    months = pd.date_range(start, periods=12, freq="MS")
    frame = pd.DataFrame({"scope": ["month"] * 12 + ["year"],
                          "period": [str(m.to_period("M")) for m in months] + ["year"],
                          "month_start": list(months) + [pd.NaT]})
    frame["scope"] = frame["scope"].astype("string")
    frame["period"] = frame["period"].astype("string")
    frame["month_start"] = pd.to_datetime(frame["month_start"])
    cols: dict[str, Any] = {}
    done: set[str] = set()
    for c in checks:
        date_field = getattr(c, "date_field", None)
        key = series(c.table, date_field)
        df = tables[c.table]
        prev = previous.get(c.table) if previous else None
        if key not in done:
            done.add(key)
            records = np.full(13, np.nan)
            last = np.full(13, np.nan)
            records[12] = len(df)
            if prev is not None:
                last[12] = len(prev)
            share = np.full(13, np.nan)
            if date_field:
                d = df[date_field]
                inside = d[(d >= start) & (d <= pd.Timestamp(spec.period_end))].dt.to_period("M").value_counts()
                records[:12] = [inside.get(m.to_period("M"), 0) for m in months]
                if prev is not None and date_field in prev.columns:
                    pd_ = prev[date_field]
                    pstart = start - pd.DateOffset(years=1)
                    pin = pd_[(pd_ >= pstart) & (pd_ < start)].dt.to_period("M").value_counts()
                    last[:12] = [pin.get(m.to_period("M") - 12, 0) for m in months]
                mean = records[:12].sum() / 12
                if mean:
                    share[:12] = records[:12] / mean
            cols[f"{key}:records"] = records
            cols[f"{key}:last_year"] = last
            cols[f"{key}:share_of_monthly_mean"] = share
        if isinstance(c, Volume):
            last = cols[f"{key}:last_year"]
            ok = last >= c.min_records
            ratio = np.full(13, np.nan)
            ratio[ok] = cols[f"{key}:records"][ok] / last[ok]
            cols[f"{key}:ratio_to_last_year_min{c.min_records}"] = ratio
    return _index(pd.concat([frame, pd.DataFrame(cols)], axis=1))


def dates_frame(tables: dict[str, pd.DataFrame], checks: list[DateSpike]) -> pd.DataFrame:
    """Records per distinct date of each date field checked for spikes, one row per date.

    Columns per series `T.F`: `records`, `month_records` (the field's dates in that calendar
    month), `share_of_field`, `share_of_month_minN` (blank in months with fewer than N dates).
    """
    parts: dict[str, pd.Series] = {}
    for c in checks:
        key = series(c.table, c.field)
        d = tables[c.table][c.field].dropna()
        vc = d.value_counts()
        vc.index = pd.DatetimeIndex(vc.index)
        parts[key] = vc
    dates = sorted(set().union(*[set(v.index) for v in parts.values()])) if parts else []
    frame = pd.DataFrame({"date": pd.DatetimeIndex(dates, dtype="datetime64[ns]")})
    frame["month"] = frame["date"].dt.to_period("M").astype(str).astype("string")
    cols: dict[str, Any] = {}
    for c in checks:
        key = series(c.table, c.field)
        rec = parts[key].reindex(frame["date"]).to_numpy(dtype="float64")
        month_rec = pd.Series(rec).groupby(frame["month"].to_numpy()).transform("sum").to_numpy()
        total = np.nansum(rec)
        cols[f"{key}:records"] = rec
        cols[f"{key}:month_records"] = np.where(np.isnan(rec), np.nan, month_rec)
        cols[f"{key}:share_of_field"] = rec / total if total else np.full(len(rec), np.nan)
        share_m = rec / month_rec
        share_m[~(month_rec >= c.min_month_records)] = np.nan
        cols[f"{key}:share_of_month_min{c.min_month_records}"] = share_m
    return _index(pd.concat([frame, pd.DataFrame(cols)], axis=1))


def table_frame(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A canonical table as a GX batch: the columns needed, indexed by `_row`."""
    cols = [c for c in dict.fromkeys(columns) if c in df.columns and c != "_row"]
    return df[["_row", *cols]].set_index("_row")


# ------------------------------------------------------------------------------------- findings
def _p(x: float) -> str:
    return f"{100 * x:.1f} %"


def _limit(x: float) -> str:
    return f"{100 * x:g} %"


def _row_findings(spec: Spec, tables: dict[str, pd.DataFrame], plan: Planned, rows: list[int],
                  detail: pd.Series | str = "") -> list[dict[str, Any]]:
    t = spec.tables[plan.table]
    df = tables[plan.table].set_index("_row", drop=False).loc[rows]
    cf = t.child_field
    child = df[cf].astype("string") if cf in df.columns else pd.Series(pd.NA, index=df.index, dtype="string")
    out = pd.DataFrame({
        "code": plan.code, "severity": SEVERITY, "table": plan.table, "row": df["_row"].to_numpy(),
        "child": child.to_numpy(), "fields": "|".join(plan.fields),
        "source": df["_source"].to_numpy() if "_source" in df.columns else None,
        "value": (cf + "=" + child.fillna("")).to_numpy() if cf in df.columns else "",
        "detail": detail.reindex(df.index).to_numpy() if isinstance(detail, pd.Series) else detail,
    })
    return out.to_dict("records")


def _duplicate_detail(df: pd.DataFrame, rows: list[int], cols: list[str]) -> pd.Series:
    """For each duplicated record: the rows of its identical copies."""
    sub = df.set_index("_row", drop=False).loc[rows]
    gid = sub.groupby(cols, dropna=False, sort=False).ngroup()
    members = sub["_row"].groupby(gid.to_numpy()).agg(lambda s: list(s))
    text = {g: v for g, v in members.items()}
    out = {}
    for r, g in zip(sub["_row"].to_numpy(), gid.to_numpy()):
        others = [x for x in text[g] if x != r]
        shown = ", ".join(str(x) for x in others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
        out[r] = f"identical to row{'s' if len(others) != 1 else ''} {shown}"
    return pd.Series(out)


def interpret(spec: Spec, tables: dict[str, pd.DataFrame], batches: dict[str, pd.DataFrame],
              plan: Planned, raw: Raw) -> CheckResult:
    """Turn one data-quality expectation's result into its measurement and findings."""
    c = plan.check
    res = raw.result
    t = plan.table
    fld = plan.fields[0] if plan.fields else ""
    base = {"code": plan.code, "severity": SEVERITY, "table": t, "row": None, "child": None,
            "fields": fld, "source": None}
    findings: list[dict[str, Any]] = []
    if isinstance(c, Completeness):
        n = len(tables[t])
        obs = float(res["observed_value"])
        measured = f"{t}.{fld}: recorded on {_p(obs)} of {n:,} records (at least {_limit(c.min)} expected)"
        if not raw.success:
            findings.append({**base, "value": f"{fld}: recorded on {round(obs * n):,} of {n:,} records ({_p(obs)})",
                             "detail": f"at least {_limit(c.min)} expected"})
    elif isinstance(c, UnknownShare):
        n_all = int(res.get("element_count", 0))
        missing = int(res.get("missing_count", 0) or 0)
        unexpected = int(res.get("unexpected_count", 0))
        if c.any_value:
            k = unexpected if plan.role == "max" else n_all - unexpected
            denom, what = n_all, "records"
        else:
            denom = n_all - missing
            k = unexpected if plan.role == "max" else denom - unexpected
            what = "recorded values"
        share = k / denom if denom else 0.0
        bound = c.max if plan.role == "max" else c.min
        side = "at most" if plan.role == "max" else "at least"
        measured = f"{t}.{fld} {c.label}: {k:,} of {denom:,} {what} ({_p(share)}; {side} {_limit(bound)} expected)"
        if not raw.success:
            findings.append({**base, "value": f"{fld} {c.label}: {k:,} of {denom:,} {what} ({_p(share)})",
                             "detail": f"{side} {_limit(bound)} expected"})
    elif isinstance(c, Volume):
        frame = batches[plan.batch]
        key = series(t, c.date_field)
        rec, last = frame[f"{key}:records"], frame[f"{key}:last_year"]
        ratio = frame[plan.kwargs["column"]]
        bad = frame.loc[unexpected_rows(raw)]
        measured = (f"{key}: {int(ratio.notna().sum())} period(s) compared with last year, {len(bad)} outside "
                    f"{c.min_ratio:g} to {c.max_ratio:g} times (whole table: {int(rec.iloc[-1]):,} records, "
                    f"last year {int(last.iloc[-1]):,})")
        for i, r in bad.iterrows():
            n, ly, q = int(rec[i]), int(last[i]), float(ratio[i])
            if r["scope"] == "year":
                value = f"{t}: {n:,} records; last year {ly:,}"
            else:
                m = r["month_start"]
                value = (f"{fld} in {_month_label(m)} ({m.date().isoformat()} to "
                         f"{(m + pd.offsets.MonthEnd(0)).date().isoformat()}): {n:,} records; last year {ly:,}")
            findings.append({**base, "fields": fld if r["scope"] == "month" else "", "value": value,
                             "detail": f"{q:.2f} times last year's; {c.min_ratio:g} to {c.max_ratio:g} times expected"})
    elif isinstance(c, MonthGap):
        frame = batches[plan.batch]
        key = series(t, c.date_field)
        months = frame[frame["scope"] == "month"]
        rec = months[f"{key}:records"]
        total = int(rec.sum())
        share = frame[plan.kwargs["column"]]
        measured = (f"{key}: {total:,} records in the period; the quietest month has {_p(share.min())} of the "
                    f"average month (at least {_limit(c.min_share_of_mean)} expected)")
        for i, r in frame.loc[unexpected_rows(raw)].iterrows():
            m = r["month_start"]
            findings.append({**base, "value": f"{fld} in {_month_label(m)} ({m.date().isoformat()}): "
                                              f"{int(frame.at[i, f'{key}:records']):,} records; average month {total / 12:,.1f}",
                             "detail": f"{_p(share[i])} of the average month; at least "
                                       f"{_limit(c.min_share_of_mean)} expected"})
    elif isinstance(c, DateSpike):
        frame = batches[plan.batch]
        key = series(t, c.field)
        rec = frame[f"{key}:records"]
        month_rec = frame[f"{key}:month_records"]
        share = frame[plan.kwargs["column"]]
        total = int(np.nansum(rec))
        if plan.role == "field":
            measured = (f"{key}: {total:,} dates, the most frequent date holds {_p(share.max())} "
                        f"(at most {_limit(c.max_share)} expected)")
        elif share.notna().any():
            measured = (f"{key}: in months with at least {c.min_month_records} dates, the most frequent date "
                        f"holds {_p(share.max())} of its month (at most {_limit(c.max_share_of_month)} expected)")
        else:
            measured = f"{key}: no month has {c.min_month_records} dates or more: not checked"
        for i, r in frame.loc[unexpected_rows(raw)].iterrows():
            day = r["date"].date().isoformat()
            n = int(rec[i])
            if plan.role == "field":
                detail = f"{n:,} of {total:,} {fld} dates ({_p(share[i])}); at most {_limit(c.max_share)} expected"
            else:
                detail = (f"{n:,} of {int(month_rec[i]):,} {fld} dates in {_month_label(r['date'])} "
                          f"({_p(share[i])}); at most {_limit(c.max_share_of_month)} expected")
            findings.append({**base, "value": f"{fld}={day}", "detail": detail})
    else:  # Duplicates: row-level
        rows = unexpected_rows(raw)
        n = len(tables[t])
        measured = f"{t}: {len(rows):,} of {n:,} records have an identical copy"
        if rows:
            detail = _duplicate_detail(tables[t], rows, list(plan.kwargs["column_list"]))
            findings = _row_findings(spec, tables, plan, rows, detail)
    return CheckResult(plan, "failed" if findings else "passed", None, measured, findings)


def _gate(plan: Planned, tables: dict[str, pd.DataFrame], spec: Spec) -> str | None:
    """Why an aggregate check is not made on so few records, or None."""
    c = plan.check
    df = tables[plan.table]
    if isinstance(c, (Completeness, UnknownShare)):
        if len(df) < c.min_records:
            return f"{plan.table} has {len(df)} records, fewer than the {c.min_records} the check needs"
    elif isinstance(c, MonthGap):
        d = df[c.date_field]
        n = int(((d >= pd.Timestamp(spec.period_start)) & (d <= pd.Timestamp(spec.period_end))).sum())
        if n < c.min_records:
            return f"{plan.table}.{c.date_field}: {n} records in the period, fewer than the {c.min_records} the check needs"
    elif isinstance(c, DateSpike) and plan.role == "field":
        n = int(df[c.field].notna().sum())
        if n < c.min_records:
            return f"{plan.table}.{c.field}: {n} dates, fewer than the {c.min_records} the check needs"
    return None


# ------------------------------------------------------------------------------------- run
def _build_batches(spec: Spec, tables: dict[str, pd.DataFrame], plans: list[Planned],
                   previous: dict[str, pd.DataFrame] | None) -> dict[str, pd.DataFrame]:
    batches: dict[str, pd.DataFrame] = {}
    by_batch: dict[str, list[Planned]] = {}
    for p in plans:
        by_batch.setdefault(p.batch, []).append(p)
    for name, group in by_batch.items():
        checks = list({id(p.check): p.check for p in group}.values())
        if name == MONTHS_BATCH:
            batches[name] = months_frame(spec, tables, previous, checks)
        elif name == DATES_BATCH:
            batches[name] = dates_frame(tables, checks)
        else:
            batches[name] = table_frame(tables[group[0].table], batch_columns(group))
    return batches


def _skip_reason(spec: Spec, plan: Planned, tables: dict[str, pd.DataFrame], absent: set[str],
                 previous: dict[str, pd.DataFrame] | None) -> str | None:
    if plan.table in absent or plan.table not in tables:
        return f"table {plan.table} not supplied"
    if plan.needs_previous:
        if previous is None:
            return "needs last year's return (give it with --previous)"
        if plan.table not in previous:
            return f"last year's return has no {plan.table} table"
    return _gate(plan, tables, spec)


def _merge_spikes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One DQ-DATE-SPIKE finding per date: a date too frequent in its field and in its month is
    one finding with both details."""
    out: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        if r["code"] != "DQ-DATE-SPIKE":
            out.append(r)
            continue
        key = (r["table"], r["fields"], r["value"])
        if key in seen:
            seen[key]["detail"] += "; " + r["detail"]
            continue
        seen[key] = dict(r)
        out.append(seen[key])
    return out


def _outcomes(checks: list[CheckResult]) -> dict[str, Outcome]:
    out: dict[str, Outcome] = {}
    for code in CODES.values():
        mine = [c for c in checks if c.plan.code == code]
        if not mine:
            continue
        errored = [c for c in mine if c.status == "errored"]
        ran = [c for c in mine if c.status in ("passed", "failed")]
        n = sum(len(c.findings) for c in mine)
        if errored:
            reason = "\n\n".join(f"{c.plan.id} ({c.plan.type}):\n{c.reason}" for c in errored)
            out[code] = Outcome("errored", reason, n)
            continue
        if not ran:
            reasons = sorted({c.reason or "" for c in mine})
            out[code] = Outcome("skipped", "; ".join(reasons), 0)
            continue
        lines = [c.measured for c in ran]
        lines += [f"not checked: {c.reason}" for c in mine if c.status == "skipped"]
        out[code] = Outcome("failed" if n else "passed", "\n".join(lines), n)
    return out


def run_quality(spec: Spec, tables: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None = None,
                absent: set[str] | frozenset[str] = frozenset(), docs_dir: Path | None = None) -> QualityResult:
    """Run the year's data-quality suites (and, with `docs_dir`, the catalogue-rule expectations
    too, for Data Docs only). Never raises for a GX problem: that becomes an errored outcome."""
    t0 = time.perf_counter()
    absent = set(absent)
    plans = compile_quality(spec)
    checks: list[CheckResult] = []
    runnable: list[Planned] = []
    for p in plans:
        reason = _skip_reason(spec, p, tables, absent, previous)
        if reason:
            checks.append(CheckResult(p, "skipped", reason))
        else:
            runnable.append(p)
    rule_plans: list[Planned] = []
    if docs_dir is not None:
        rule_plans = [p for p in compile_rules(spec)[0]
                      if p.table in tables and p.table not in absent and len(tables[p.table])]
    outcomes: dict[str, Outcome] = {}
    docs_index = None
    if runnable or rule_plans:
        try:
            batches = _build_batches(spec, tables, runnable + rule_plans, previous)
            gx_ctx = gx_context(docs_dir)
            raws = run_batches(gx_ctx, spec.return_, spec.year, batches, runnable + rule_plans, docs=docs_dir is not None)
            for p in runnable:
                problem = check_raw(p, raws[p.id])
                if problem:
                    checks.append(CheckResult(p, "errored", problem))
                    continue
                try:
                    checks.append(interpret(spec, tables, batches, p, raws[p.id]))
                except Exception:
                    checks.append(CheckResult(p, "errored", traceback.format_exc()))
            broken = {p.id: check_raw(p, raws[p.id]) for p in rule_plans}
            broken = {k: v for k, v in broken.items() if v}
            if docs_dir is not None:
                sites = gx_ctx.build_data_docs()
                idx = Path(docs_dir) / "index.html"
                docs_index = idx if idx.exists() else None
                if not sites or docs_index is None:
                    broken["data-docs"] = "GX did not write the Data Docs index"
            if broken:
                outcomes[SUITE_CODE] = Outcome("errored", "\n\n".join(f"{k}:\n{v}" for k, v in broken.items()))
        except Exception as exc:  # GX missing or broken: the whole suite could not run
            reason = str(exc) if isinstance(exc, GXUnavailable) else traceback.format_exc()
            outcomes[SUITE_CODE] = Outcome("errored", reason)
            checks += [CheckResult(p, "errored", "the data-quality suite could not run") for p in runnable
                       if p.id not in {c.plan.id for c in checks}]
    outcomes = {**_outcomes(checks), **outcomes}
    findings = make_findings(_merge_spikes([f for c in checks for f in c.findings]))
    return QualityResult(findings, outcomes, checks, time.perf_counter() - t0, docs_index)


# ------------------------------------------------------------------------------------- parity
def rule_flags(spec: Spec, tables: dict[str, pd.DataFrame], codes: list[str] | None = None,
               absent: set[str] | frozenset[str] = frozenset()) -> tuple[dict[str, set[tuple[str, int]]], dict[str, str]]:
    """Run the GX-compiled catalogue rules: the (table, _row) pairs each flags, and errors."""
    plans = [p for p in compile_rules(spec)[0] if codes is None or p.code in codes]
    plans = [p for p in plans if p.table in tables and p.table not in absent]
    flags: dict[str, set[tuple[str, int]]] = {p.code: set() for p in plans}
    errors: dict[str, str] = {}
    plans_run = [p for p in plans if len(tables[p.table])]
    if not plans_run:
        return flags, errors
    batches = _build_batches(spec, tables, plans_run, None)
    raws = run_batches(gx_context(), spec.return_, spec.year, batches, plans_run)
    for p in plans_run:
        problem = check_raw(p, raws[p.id])
        if problem:
            errors[p.id] = problem
            continue
        flags[p.code] |= {(p.table, r) for r in unexpected_rows(raws[p.id])}
    return flags, errors
