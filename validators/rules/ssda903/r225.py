"""225: an episode ending in a change of placement must record the reason for the change."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import in_order


@implements("225")
def reason_for_change_recorded(ctx: Context) -> Hits:
    p = ctx.spec.rules["225"].params
    temporary, changes = p["temporary_placements"], p["placement_change_rne"]
    eps = in_order(ctx.tables["Episodes"], ["CHILD"], ["DECOM"], ["REC", "REASON_PLACE_CHANGE"], ["RNE", "PLACE"],
                   dated_only=True)

    def b(s):
        return s.fillna(False).astype(bool)

    bad = (
        b(eps["REC"] == p["ceased_code"])
        & eps["REASON_PLACE_CHANGE"].isna()
        & ~b(eps["PLACE"].isin(temporary))
        & b(eps["next_RNE"].isin(changes))
        & ~b(eps["next_PLACE"].isin(temporary))
    )
    return ctx.flag("Episodes", eps.loc[bad.to_numpy(dtype=bool)])
