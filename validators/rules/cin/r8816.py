"""8816: an open further-action episode must be the child's latest (no later referral date)."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("8816")
def open_episode_not_latest(ctx: Context) -> Hits:
    ep = ctx.tables["CINdetails"]
    latest = ep.groupby("_child")["CINreferralDate"].transform("max")  # blank dates are ignored
    open_fa = ep["CINclosureDate"].isna() & (ep["ReferralNFA"] == False).fillna(False).astype(bool)  # noqa: E712
    bad = open_fa & ep["CINreferralDate"].notna() & (ep["CINreferralDate"] < latest).fillna(False).astype(bool)
    failing_children = ep.loc[bad.to_numpy(dtype=bool), "_child"]
    is_latest = (ep["_child"].isin(failing_children).fillna(False).astype(bool)
                 & (ep["CINreferralDate"] == latest).fillna(False).astype(bool))
    return pd.concat([ctx.flag("CINdetails", bad), ctx.flag("CINdetails", is_latest)], ignore_index=True)
