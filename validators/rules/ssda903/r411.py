"""411: the placement is IN the LA but the LA of placement is another LA."""

from __future__ import annotations

from csc_returns.validators.conditions import mask
from csc_returns.validators.engine import Context, Hits, implements


@implements("411")
def location_disagrees(ctx: Context) -> Hits:
    ep = ctx.tables["Episodes"]
    own = ctx.reference.la.number
    inside = mask(ep["PL_LOCATION"] == "IN")
    return ctx.flag("Episodes", inside & ~mask(ep["PL_LA"] == own))
