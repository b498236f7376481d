"""164: the placement distance cannot be derived (a postcode blank or not in the directory) or
is outside 0-999.9 miles, for a non-respite episode of a child who is not (and was not) UASC."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.rules.ssda903._placements import not_respite_nor_uasc


@implements("164")
def distance_not_valid(ctx: Context) -> Hits:
    p = ctx.spec.rules["164"].params
    distance = ctx.tables["Episodes"]["PL_DISTANCE"]
    invalid = distance.isna() | (distance < p["min_miles"]).fillna(False) | (distance > p["max_miles"]).fillna(False)
    return ctx.flag("Episodes", not_respite_nor_uasc(ctx, p["respite_ls"]) & invalid.astype(bool))
