"""8540: a born child with a further-action referral needs disability codes, all valid."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


def _isin(col: pd.Series, values: pd.Series | list) -> pd.Series:
    return col.isin(values).fillna(False).astype(bool)


@implements("8540")
def disability_missing_or_invalid(ctx: Context) -> Hits:
    codes = ctx.codes(ctx.spec.rules["8540"].params["codeset"])
    child = ctx.tables["Child"]
    episodes = ctx.tables["CINdetails"]
    dis = ctx.tables["Disabilities"]
    further_action = episodes.loc[(episodes["ReferralNFA"] == False).fillna(False).astype(bool), "_child"]  # noqa: E712
    in_scope = child["PersonBirthDate"].notna() & _isin(child["_child"], further_action)
    scoped = child.loc[in_scope.to_numpy(dtype=bool), "_child"]
    missing = in_scope & ~_isin(child["_child"], dis.loc[dis["Disability"].notna(), "_child"])
    invalid = _isin(dis["_child"], scoped) & dis["Disability"].notna() & ~_isin(dis["Disability"], codes)
    return pd.concat([ctx.flag("Child", missing), ctx.flag("Disabilities", invalid)], ignore_index=True)
