"""392b: a looked-after child (not UASC this year or last) must have both postcodes on each episode."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.rules.ssda903._placements import not_respite_nor_uasc


@implements("392b")
def no_postcodes(ctx: Context) -> Hits:
    p = ctx.spec.rules["392b"].params
    ep = ctx.tables["Episodes"]
    missing = ep["HOME_POST"].isna() | ep["PL_POST"].isna()
    return ctx.flag("Episodes", not_respite_nor_uasc(ctx, p["exempt_legal_status"]) & missing)
