"""8569Q: an NFA episode must not have a referral date before the last working day before 1 April."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("8569Q")
def old_referral_flagged_nfa(ctx: Context) -> Hits:
    n = ctx.spec.rules["8569Q"].params["working_days_before_start"]
    threshold = ctx.add_working_days(pd.Series([ctx.period_start]), -n).iloc[0]
    ep = ctx.tables["CINdetails"]
    not_false = ~(ep["ReferralNFA"] == False).fillna(False).astype(bool)  # noqa: E712  true, blank or invalid
    return ctx.flag("CINdetails", (ep["CINreferralDate"] < threshold).fillna(False).astype(bool) & not_false)
