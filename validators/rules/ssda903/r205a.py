"""205A: UASC last year, not UASC this year: last year's date UASC ceased must fall in last year."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import uasc_status


@implements("205A")
def uasc_ceased_last_year(ctx: Context) -> Hits:
    hdr = ctx.tables["Header"]
    prev_uasc = ctx.previous["UASC"]
    prev_start = ctx.period_start - pd.DateOffset(years=1)
    prev_end = ctx.period_start - pd.Timedelta(days=1)
    duc = prev_uasc["DUC"]
    # a previous UASC row whose DUC does not show the status ending in that year (blank fails)
    unsupported = duc.isna() | (duc < prev_start).fillna(False) | (duc > prev_end).fillna(False)
    prev_bad = prev_uasc.loc[unsupported.to_numpy(dtype=bool), "CHILD"]
    prev_bad = prev_bad[member(prev_bad, uasc_status(ctx, previous=True))]  # UASC last year (C9)
    bad = member(hdr["CHILD"], prev_bad) & ~member(hdr["CHILD"], uasc_status(ctx))
    return ctx.flag("Header", bad)
