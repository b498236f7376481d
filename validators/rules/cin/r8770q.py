"""8770Q: a school-age child with a further-action referral needs a UPN or a valid UPNunknown reason."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("8770Q")
def upn_expected(ctx: Context) -> Hits:
    p = ctx.spec.rules["8770Q"].params
    age = p["born_on_or_before"]
    year = ctx.period_end.year - age["years_before_reference"]
    if "month" in age:  # a fixed cut-off (31 August: school age)
        cutoff = pd.Timestamp(year=year, month=age["month"], day=age["day"])
    else:  # the reference date itself, that many years back
        cutoff = ctx.period_end - pd.DateOffset(years=age["years_before_reference"])
    child = ctx.tables["Child"]
    episodes = ctx.tables["CINdetails"]
    further_action = episodes.loc[(episodes["ReferralNFA"] == False).fillna(False).astype(bool), "_child"]  # noqa: E712
    school_age = (child["PersonBirthDate"] <= cutoff).fillna(False).astype(bool)
    in_scope = child["_child"].isin(further_action).fillna(False).astype(bool) & school_age
    no_reason = ~child["UPNunknown"].isin(p["valid_reasons"]).fillna(False).astype(bool)
    return ctx.flag("Child", in_scope & child["UPN"].isna() & no_reason)
