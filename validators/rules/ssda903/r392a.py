"""392a: a looked-after child (not on short breaks, not UASC this year or last) has no derived
placement distance."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.rules.ssda903._placements import not_respite_nor_uasc


@implements("392a")
def no_distance(ctx: Context) -> Hits:
    p = ctx.spec.rules["392a"].params
    ep = ctx.tables["Episodes"]
    return ctx.flag("Episodes", not_respite_nor_uasc(ctx, p["exempt_legal_status"]) & ep["PL_DISTANCE"].isna())
