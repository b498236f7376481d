"""452 and 453: the episode carried over from last year changed its LA of placement (452) or its
placement distance (453) between the two returns."""

from __future__ import annotations

import numpy as np

from csc_returns.validators.conditions import mask, same
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.rules.ssda903._placements import carried_over


@implements("452")
def placement_la_changed(ctx: Context) -> Hits:
    pairs = carried_over(ctx, ["PL_LA"])
    return ctx.flag("Episodes", pairs.loc[~same(pairs["PL_LA"], pairs["PL_LA_last"]), "_row"])


@implements("453")
def distance_changed(ctx: Context) -> Hits:
    tolerance = ctx.spec.rules["453"].params["tolerance_miles"]
    pairs = carried_over(ctx, ["PL_DISTANCE"])
    now, then = pairs["PL_DISTANCE"], pairs["PL_DISTANCE_last"]
    apart = mask((now - then).abs() >= tolerance - 1e-9)  # 0.2 miles or more, whatever the float noise
    one_blank = now.isna().to_numpy() != then.isna().to_numpy()
    return ctx.flag("Episodes", pairs.loc[apart.to_numpy(dtype=bool) | np.asarray(one_blank), "_row"])
