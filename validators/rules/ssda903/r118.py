"""118: a decision that the child should no longer be placed for adoption dated before 1 April, or
before the child's earliest (non-respite) episode of the year began."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("118")
def placed_ceased_before_year_or_care(ctx: Context) -> Hits:
    p = ctx.spec.rules["118"].params
    ep = ctx.tables["Episodes"]
    pa = ctx.tables["PlacedAdoption"]
    respite = ep["LS"].isin(p["respite_ls"]).fillna(False).astype(bool)
    cand = ep.loc[ep["DECOM"].notna() & ep["CHILD"].notna() & ~respite, ["CHILD", "DECOM", "_row"]]
    earliest = (cand.sort_values(["CHILD", "DECOM", "_row"]).drop_duplicates("CHILD", keep="first")
                .rename(columns={"DECOM": "_first_decom", "_row": "_ep_row"}))
    m = pa[["_row", "CHILD", "DATE_PLACED_CEASED"]].merge(earliest, on="CHILD", how="left")
    d = m["DATE_PLACED_CEASED"]
    bad = (d < ctx.period_start).fillna(False).astype(bool) | (d < m["_first_decom"]).fillna(False).astype(bool)
    failing = m.loc[bad.to_numpy(dtype=bool)]
    return pd.concat([ctx.flag("PlacedAdoption", failing["_row"]),
                      ctx.flag("Episodes", failing["_ep_row"].dropna().drop_duplicates())], ignore_index=True)
