"""191: a child looked after continuously for 12 months at 31 March needs the core OC2 items:
blanks in their OC2 row are reported there, and a child with no OC2 row at all is reported on
their earliest episode."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import condition, member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_a import cla12_children


@implements("191")
def cla12_outcomes_blank(ctx: Context) -> Hits:
    p = ctx.spec.rules["191"].params
    cla12 = cla12_children(ctx, p["cla12"])
    oc2 = ctx.tables["OC2"]
    ep = ctx.tables["Episodes"]
    in_cla12 = member(oc2["CHILD"], cla12)
    blank_rows = in_cla12 & condition(ctx, oc2, {"any_blank": p["required"]})
    # (b) CLA12 children with no OC2 row: their earliest episode (children without a DECOM are skipped)
    missing = pd.Index(cla12).difference(pd.Index(oc2["CHILD"].dropna().unique()))
    eps = ep.loc[member(ep["CHILD"], missing) & ep["DECOM"].notna(), ["CHILD", "DECOM", "_row"]]
    earliest = eps.sort_values(["CHILD", "DECOM", "_row"]).drop_duplicates("CHILD", keep="first")
    return pd.concat([ctx.flag("OC2", blank_rows), ctx.flag("Episodes", earliest)], ignore_index=True)
