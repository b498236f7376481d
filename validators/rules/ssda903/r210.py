"""210: UN4 ("newly looked after") only for a child whose care started in the last week of the year."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements


@implements("210")
def un4_newly_looked_after(ctx: Context) -> Hits:
    p = ctx.spec.rules["210"].params
    cutoff = ctx.period_end - pd.Timedelta(days=p["days"])  # 24 March
    hdr, eps = ctx.tables["Header"], ctx.tables["Episodes"]
    looked_after_at_end = eps.loc[eps["DEC"].isna().to_numpy(dtype=bool), "CHILD"]
    recent_start = eps.loc[(eps["DECOM"] >= cutoff).fillna(False).to_numpy(dtype=bool), "CHILD"]
    child = hdr["CHILD"]
    bad = ((hdr["UPN"].str.upper() == p["code"]).fillna(False).astype(bool)
           & member(child, looked_after_at_end) & ~member(child, recent_start))
    return ctx.flag("Header", bad)
