"""234: a placement cannot change because of custody when the child is under 10."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import birthday
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import in_order


@implements("234")
def custody_under_10(ctx: Context) -> Hits:
    p = ctx.spec.rules["234"].params
    hdr = ctx.tables["Header"]
    eps = in_order(ctx.tables["Episodes"], ["CHILD"], ["DECOM"], ["DEC", "REASON_PLACE_CHANGE"], ["DECOM"],
                   dated_only=True)
    eps = eps.loc[(eps["REASON_PLACE_CHANGE"] == p["reason"]).fillna(False).astype(bool)]
    # the change happened when the next placement began; on the child's last episode, when it ended
    changed = eps["next_DECOM"].where(eps["has_next"], eps["DEC"])
    dob = hdr.loc[hdr["CHILD"].notna(), ["CHILD", "DOB", "_row"]].rename(columns={"_row": "_hdr_row"})
    m = eps.assign(_changed=changed)[["_row", "CHILD", "_changed"]].merge(dob, on="CHILD", how="inner")
    bad = (m["_changed"] < birthday(m["DOB"], p["min_age"])).fillna(False).astype(bool)
    failing = m.loc[bad.to_numpy(dtype=bool)]
    return pd.concat([ctx.flag("Episodes", failing["_row"].drop_duplicates()),
                      ctx.flag("Header", failing["_hdr_row"].drop_duplicates())], ignore_index=True)
