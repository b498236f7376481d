"""392b: a looked-after child (not UASC this year or last) must have both postcodes on each episode."""

from __future__ import annotations

from csc_returns.validators.conditions import mask, member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import uasc_children


@implements("392b")
def no_postcodes(ctx: Context) -> Hits:
    p = ctx.spec.rules["392b"].params
    ep = ctx.tables["Episodes"]
    in_scope = ~mask(ep["LS"].isin(p["exempt_legal_status"]))  # a blank LS is not exempt
    missing = ep["HOME_POST"].isna() | ep["PL_POST"].isna()
    not_uasc = ~member(ep[ctx.child_field("Episodes")], uasc_children(ctx))
    return ctx.flag("Episodes", ep.loc[(in_scope & missing & not_uasc).to_numpy(dtype=bool), "_row"])
