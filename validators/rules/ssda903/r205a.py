"""205A: UASC last year, not UASC this year: this year's date UASC ceased must be blank (a) and
last year's must fall in last year (b)."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import uasc_status


@implements("205A")
def uasc_ceased_last_year(ctx: Context) -> Hits:
    hdr, uasc = ctx.tables["Header"], ctx.tables["UASC"]
    prev_uasc = ctx.previous["UASC"]
    prev_start = ctx.period_start - pd.DateOffset(years=1)
    prev_end = ctx.period_start - pd.Timedelta(days=1)
    # children UASC last year (C9) and not this year
    ceased = uasc_status(ctx, previous=True)
    ceased = ceased[~member(ceased, uasc_status(ctx))]
    # (b) last year's DUC does not show the status ending in that year (blank fails)
    duc = prev_uasc["DUC"]
    unsupported = duc.isna() | (duc < prev_start).fillna(False) | (duc > prev_end).fillna(False)
    prev_bad = prev_uasc.loc[unsupported.to_numpy(dtype=bool), "CHILD"]
    # (a) a DUC this year (readable or not): only an XML return can have one without UASC status
    given = uasc["DUC"].notna() | ctx.unreadable("UASC", "DUC")
    now_bad = uasc.loc[given.to_numpy(dtype=bool), "CHILD"]
    bad = pd.concat([prev_bad, now_bad], ignore_index=True)
    bad = bad[member(bad, ceased)]
    return pd.concat([ctx.flag("Header", member(hdr["CHILD"], bad)),
                      ctx.flag("UASC", member(uasc["CHILD"], bad) & given)], ignore_index=True)
