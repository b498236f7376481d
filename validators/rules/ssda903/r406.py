"""406: no placement distance for a child who is UASC this year or was UASC last year."""

from __future__ import annotations

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import uasc_children


@implements("406")
def uasc_distance(ctx: Context) -> Hits:
    ep = ctx.tables["Episodes"]
    uasc = member(ep[ctx.child_field("Episodes")], uasc_children(ctx))
    return ctx.flag("Episodes", uasc & ep["PL_DISTANCE"].notna())
