"""164 (partial): the placement distance cannot be derived because the home or placement postcode
is blank, for a non-respite episode of a child who is not (and was not last year) UASC."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements


@implements("164")
def distance_not_derivable(ctx: Context) -> Hits:
    p = ctx.spec.rules["164"].params
    ep = ctx.tables["Episodes"]
    uasc = [ctx.tables["UASC"]["CHILD"]]
    if ctx.previous is not None and "UASC" in ctx.previous:
        uasc.append(ctx.previous["UASC"]["CHILD"])
    respite = ep["LS"].isin(p["respite_ls"]).fillna(False).astype(bool)
    is_uasc = member(ep["CHILD"], pd.concat(uasc, ignore_index=True).dropna().unique())
    blank = ep[p["postcodes"]].isna().any(axis=1)
    return ctx.flag("Episodes", ~respite & ~is_uasc & blank)
