"""205B: UASC in both years: last year's DUC is the 18th birthday, and this year's DUC falls in
this year or repeats last year's."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import birthday, member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import uasc_status


@implements("205B")
def uasc_both_years(ctx: Context) -> Hits:
    age = ctx.spec.rules["205B"].params["ceases_at_age"]
    hdr, uasc = ctx.tables["Header"], ctx.tables["UASC"]
    prev = ctx.previous["UASC"]
    # UASC in both years (C9): the status, then each year's UASC row for the dates
    prev = prev.loc[member(prev["CHILD"], uasc_status(ctx, previous=True)), ["CHILD", "DOB", "DUC"]]
    prev = prev.rename(columns={"DOB": "prev_DOB", "DUC": "prev_DUC"})
    m = uasc.loc[member(uasc["CHILD"], uasc_status(ctx)), ["_row", "CHILD", "DUC"]].merge(prev, on="CHILD", how="inner")
    if m.empty:
        return ctx.flag("UASC", m)
    expected = birthday(m["prev_DOB"], age)
    # (a) last year's DUC is not the 18th birthday (a blank DUC fails; an unknown DOB cannot)
    a = m["prev_DUC"].isna() | (expected.notna() & (m["prev_DUC"] != expected)).fillna(False)
    # (b) this year's DUC is neither within this year nor the same as last year's (blank fails)
    in_year = ((m["DUC"] >= ctx.period_start) & (m["DUC"] <= ctx.period_end)).fillna(False)
    same = (m["DUC"] == m["prev_DUC"]).fillna(False)
    b = m["DUC"].isna() | (~in_year & ~same)
    failing = m.loc[(a | b).to_numpy(dtype=bool)]
    return pd.concat([ctx.flag("UASC", failing["_row"].drop_duplicates()),
                      ctx.flag("Header", member(hdr["CHILD"], failing["CHILD"]))],
                     ignore_index=True)
