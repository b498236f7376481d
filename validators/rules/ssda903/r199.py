"""199: an episode that starts after the child was adopted from care (REC E11/E12), looking at
this year's episodes and, when given, last year's."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("199")
def episode_after_adoption(ctx: Context) -> Hits:
    p = ctx.spec.rules["199"].params
    ep = ctx.tables["Episodes"]
    cols = ["CHILD", "DECOM", "REC"]
    pool = [ep[cols]]
    if ctx.previous is not None and "Episodes" in ctx.previous:
        pool.append(ctx.previous["Episodes"][cols])
    pooled = pd.concat(pool, ignore_index=True)
    adopted = pooled.loc[pooled["REC"].isin(p["adoption_rec"]).fillna(False).astype(bool)
                         & pooled["DECOM"].notna() & pooled["CHILD"].notna()]
    first = adopted.groupby("CHILD", sort=False)["DECOM"].min().rename("_first_adoption").reset_index()
    m = ep[["_row", "CHILD", "DECOM"]].merge(first, on="CHILD", how="left")
    # strictly later start: an episode starting on the same day as the first adoption is not after it
    bad = (m["DECOM"] > m["_first_adoption"]).fillna(False).astype(bool)
    return ctx.flag("Episodes", m.loc[bad.to_numpy(dtype=bool)])
