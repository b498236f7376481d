"""8775Q: a child who turned 25 must not have an episode open, or closed, after their 25th birthday."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("8775Q")
def over_25(ctx: Context) -> Hits:
    years = ctx.spec.rules["8775Q"].params["age"]
    child = ctx.tables["Child"]
    old = child.loc[(child["PersonBirthDate"] < ctx.period_end - pd.DateOffset(years=years)).fillna(False).astype(bool),
                    ["_child", "_row", "PersonBirthDate"]]
    if old.empty:
        return ctx.flag("Child", old)
    ep = ctx.tables["CINdetails"][["_child", "_row", "CINclosureDate"]].merge(
        old.rename(columns={"_row": "_child_row"}), on="_child")
    turned = ep["PersonBirthDate"] + pd.DateOffset(years=years)
    bad = ep["CINclosureDate"].isna() | (ep["CINclosureDate"] > turned).fillna(False)
    failing = ep.loc[bad.to_numpy(dtype=bool)]
    return pd.concat([ctx.flag("CINdetails", failing["_row"]),
                      ctx.flag("Child", failing["_child_row"].drop_duplicates())], ignore_index=True)
