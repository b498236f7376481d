"""226: no reason for placement change on a temporary placement, nor on the episode just before it."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import in_order


@implements("226")
def no_reason_for_temporary(ctx: Context) -> Hits:
    temporary = ctx.spec.rules["226"].params["temporary_placements"]
    eps = ctx.tables["Episodes"]
    own = eps["PLACE"].isin(temporary).fillna(False).astype(bool) & eps["REASON_PLACE_CHANGE"].notna()
    seq = in_order(eps, ["CHILD"], ["DECOM"], ["PLACE"], ["REASON_PLACE_CHANGE"], dated_only=True)
    after_reason = seq["PLACE"].isin(temporary).fillna(False).astype(bool) & seq["prev_REASON_PLACE_CHANGE"].notna()
    return pd.concat([ctx.flag("Episodes", own), ctx.flag("Episodes", seq.loc[after_reason.to_numpy(dtype=bool)])],
                     ignore_index=True)
