"""1104: the initial child protection conference cannot be before the episode's referral date."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("1104")
def icpc_not_before_referral(ctx: Context) -> Hits:
    episodes = ctx.tables["CINdetails"]
    s47 = ctx.tables["Section47"]
    ref = episodes[["_episode", "CINreferralDate", "_row"]].drop_duplicates("_episode").rename(
        columns={"_row": "_episode_row"})
    joined = s47[["_row", "_episode", "DateOfInitialCPC"]].merge(ref, on="_episode", how="inner")
    s47_bad = joined[(joined["DateOfInitialCPC"] < joined["CINreferralDate"]).fillna(False).astype(bool)
                     .to_numpy(dtype=bool)]
    # the same item (N00110) recorded at CINdetails level
    own_bad = (episodes["DateOfInitialCPC"] < episodes["CINreferralDate"]).fillna(False).astype(bool)
    return pd.concat([ctx.flag("Section47", s47_bad),
                      ctx.flag("CINdetails", s47_bad["_episode_row"].drop_duplicates()),
                      ctx.flag("CINdetails", own_bad)], ignore_index=True)
