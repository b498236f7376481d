"""454: the placement is more than 350 miles from home (999.9 is the DfE's "no distance")."""

from __future__ import annotations

from csc_returns.validators.conditions import mask
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.rules.ssda903._placements import uasc_episodes


@implements("454")
def too_far(ctx: Context) -> Hits:
    p = ctx.spec.rules["454"].params
    d = ctx.tables["Episodes"]["PL_DISTANCE"]
    far = mask(d > p["max_miles"]) & ~mask(d == p["no_distance"])
    # a UASC child has no distance (406); excluding them keeps one finding per cause
    return ctx.flag("Episodes", far & ~uasc_episodes(ctx))
