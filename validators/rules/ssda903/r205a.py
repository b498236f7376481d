"""205A: UASC last year, not UASC this year: last year's date UASC ceased must fall in last year."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements


@implements("205A")
def uasc_ceased_last_year(ctx: Context) -> Hits:
    hdr, uasc = ctx.tables["Header"], ctx.tables["UASC"]
    prev_uasc = ctx.previous["UASC"]
    prev_start = ctx.period_start - pd.DateOffset(years=1)
    prev_end = ctx.period_start - pd.Timedelta(days=1)
    duc = prev_uasc["DUC"]
    # a previous UASC row whose DUC does not show the status ending in that year (blank fails)
    unsupported = duc.isna() | (duc < prev_start).fillna(False) | (duc > prev_end).fillna(False)
    prev_bad = prev_uasc.loc[unsupported.to_numpy(dtype=bool), "CHILD"]
    # UASC status this year (C9): the child has a row in this year's UASC table
    bad = member(hdr["CHILD"], prev_bad) & ~member(hdr["CHILD"], uasc["CHILD"])
    return ctx.flag("Header", bad)
