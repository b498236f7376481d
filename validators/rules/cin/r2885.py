"""2885: a child protection plan starting in the year should start on the day of its ICPC."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("2885")
def cpp_starts_on_icpc_day(ctx: Context) -> Hits:
    cpps = ctx.tables["ChildProtectionPlans"]
    s47 = ctx.tables["Section47"]
    episodes = ctx.tables["CINdetails"]
    start = cpps["CPPstartDate"]
    scope = cpps[((start >= ctx.period_start) & (start <= ctx.period_end)).fillna(False).astype(bool)
                 .to_numpy(dtype=bool)][["_row", "_episode", "CPPstartDate"]]
    # Section 47 enquiries that could hold the conference: ICPCnotRequired not true
    s = s47[~s47["ICPCnotRequired"].fillna(False).astype(bool).to_numpy(dtype=bool)]
    has_s = scope["_episode"].isin(s["_episode"])
    m = scope.merge(s[["_episode", "DateOfInitialCPC"]], on="_episode", how="inner")
    matched_s = scope["_row"].isin(m.loc[(m["CPPstartDate"] == m["DateOfInitialCPC"]).fillna(False)
                                         .astype(bool).to_numpy(dtype=bool), "_row"])
    ep = episodes[["_episode", "DateOfInitialCPC", "_row"]].drop_duplicates("_episode").rename(
        columns={"_row": "_episode_row", "DateOfInitialCPC": "_cin_icpc"})
    c = scope.merge(ep, on="_episode", how="left")
    matched_cin = pd.Series((c["CPPstartDate"] == c["_cin_icpc"]).fillna(False).astype(bool).to_numpy(),
                            index=scope.index)
    fail_s = has_s & ~matched_s
    fail_cin = ~has_s & ~matched_cin
    bad = scope[(fail_s | fail_cin).to_numpy(dtype=bool)]
    # the ICPC dates each failing plan was compared with
    s_rows = s[s["_episode"].isin(scope.loc[fail_s.to_numpy(dtype=bool), "_episode"])]
    cin_rows = c.loc[fail_cin.to_numpy(dtype=bool), "_episode_row"].dropna().drop_duplicates()
    return pd.concat([ctx.flag("ChildProtectionPlans", bad), ctx.flag("Section47", s_rows),
                      ctx.flag("CINdetails", cin_rows)], ignore_index=True)
