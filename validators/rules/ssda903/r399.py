"""399: mother, review or participation recorded for a child looked after only under V3/V4."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import mask, member
from csc_returns.validators.engine import Context, Hits, implements, no_hits
from csc_returns.validators.kinds_903_c import supplied


@implements("399")
def short_breaks_only(ctx: Context) -> Hits:
    codes = ctx.spec.rules["399"].params["short_break_legal_status"]
    ep = ctx.tables["Episodes"]
    head = ctx.tables["Header"]
    cf = ctx.child_field("Episodes")
    # children whose every episode is a short break (a blank LS is not)
    short = mask(ep["LS"].isin(codes)) & ep[cf].notna()
    other = ep.loc[~short.to_numpy(dtype=bool), cf]
    children = ep.loc[short.to_numpy(dtype=bool), cf]
    children = children[~member(children, other)]
    failing = [head.loc[member(head[cf], children) & head["MOTHER"].notna().to_numpy(), cf]]
    reviews = None
    if supplied(ctx, "Reviews"):
        rv = ctx.tables["Reviews"]
        completed = (rv["REVIEW"].notna() | rv["REVIEW_CODE"].notna()).to_numpy(dtype=bool)
        reviews = rv[member(rv[cf], children) & completed]
        failing.append(reviews[cf])
    failed = pd.concat(failing, ignore_index=True)
    if failed.empty:
        return no_hits()
    hits = [ctx.flag("Episodes", ep.loc[member(ep[cf], failed), "_row"]),
            ctx.flag("Header", head.loc[member(head[cf], failed), "_row"])]
    if reviews is not None and len(reviews):
        hits.append(ctx.flag("Reviews", reviews["_row"]))
    return pd.concat(hits, ignore_index=True)
