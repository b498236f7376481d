"""165: MOTHER must be blank for a male child, and given for a female child unless she has no
(non-respite) episode in the year and has care-leaver information in OC3."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import condition, member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_a import overlaps_year


@implements("165")
def mother_status(ctx: Context) -> Hits:
    p = ctx.spec.rules["165"].params
    h = ctx.tables["Header"]
    ep = ctx.tables["Episodes"]
    oc3 = ctx.tables["OC3"]
    looked_after = ~ep["LS"].isin(p["respite_ls"]).fillna(False).astype(bool) & overlaps_year(ctx, ep)
    in_year = member(h["CHILD"], ep.loc[looked_after.to_numpy(dtype=bool), "CHILD"].dropna().unique())
    with_cl = condition(ctx, oc3, {"any_present": p["care_leaver_fields"]})
    care_leaver = member(h["CHILD"], oc3.loc[with_cl.to_numpy(dtype=bool), "CHILD"].dropna().unique())
    male = h["SEX"].isin(p["male"]).fillna(False).astype(bool)
    female = h["SEX"].isin(p["female"]).fillna(False).astype(bool)
    mother = h["MOTHER"].notna()
    bad = (mother & male) | (~mother & female & (in_year | ~care_leaver))
    bad_children = h.loc[bad.to_numpy(dtype=bool), "CHILD"].dropna().unique()
    return pd.concat([ctx.flag("Header", bad),
                      ctx.flag("OC3", member(oc3["CHILD"], bad_children))], ignore_index=True)
