"""406: no placement distance for a child who is UASC this year or was UASC last year."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.rules.ssda903._placements import uasc_episodes


@implements("406")
def uasc_distance(ctx: Context) -> Hits:
    return ctx.flag("Episodes", uasc_episodes(ctx) & ctx.tables["Episodes"]["PL_DISTANCE"].notna())
