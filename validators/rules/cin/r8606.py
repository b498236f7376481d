"""8606: a referral must not be more than 40 weeks (280 days) before the (expected) date of birth."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("8606")
def referral_long_before_birth(ctx: Context) -> Hits:
    days = pd.Timedelta(days=ctx.spec.rules["8606"].params["days"])
    child = ctx.tables["Child"][["_child", "_row", "PersonBirthDate", "ExpectedPersonBirthDate"]]
    ep = ctx.tables["CINdetails"][["_child", "_row", "CINreferralDate"]].merge(
        child.rename(columns={"_row": "_child_row"}), on="_child", how="left")
    ref = ep["CINreferralDate"]
    bad = ((ref < ep["PersonBirthDate"] - days).fillna(False)
           | (ref < ep["ExpectedPersonBirthDate"] - days).fillna(False))
    failing = ep.loc[bad.to_numpy(dtype=bool)]
    return pd.concat([ctx.flag("CINdetails", failing["_row"]),
                      ctx.flag("Child", failing["_child_row"].dropna().drop_duplicates())], ignore_index=True)
