"""117: a decision that the child should (or should no longer) be placed for adoption dated after
31 March, or after the child's latest episode ceased."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("117")
def placed_adoption_after_year_or_care(ctx: Context) -> Hits:
    p = ctx.spec.rules["117"].params
    ep = ctx.tables["Episodes"]
    pa = ctx.tables["PlacedAdoption"]
    # latest episode: greatest DECOM among episodes not ending with a continuing reason (X1);
    # ties go to the open episode (blank DEC), then the later row
    continuing = ep["REC"].isin(p["continuing_rec"]).fillna(False).astype(bool)
    cand = ep.loc[ep["DECOM"].notna() & ep["CHILD"].notna() & ~continuing, ["CHILD", "DECOM", "DEC", "_row"]]
    cand = cand.assign(_open=cand["DEC"].isna()).sort_values(["CHILD", "DECOM", "_open", "_row"])
    latest = (cand.drop_duplicates("CHILD", keep="last")[["CHILD", "DEC", "_row"]]
              .rename(columns={"DEC": "_latest_dec", "_row": "_ep_row"}))
    m = pa[["_row", "CHILD", "DATE_PLACED", "DATE_PLACED_CEASED"]].merge(latest, on="CHILD", how="left")
    bad = pd.Series(False, index=m.index)
    for date in ("DATE_PLACED", "DATE_PLACED_CEASED"):
        bad |= (m[date] > ctx.period_end).fillna(False).astype(bool)
        bad |= (m[date] > m["_latest_dec"]).fillna(False).astype(bool)
    failing = m.loc[bad.to_numpy(dtype=bool)]
    return pd.concat([ctx.flag("PlacedAdoption", failing["_row"]),
                      ctx.flag("Episodes", failing["_ep_row"].dropna().drop_duplicates())], ignore_index=True)
