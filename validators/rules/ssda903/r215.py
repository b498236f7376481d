"""215: a care leaver (OC3 completed) must not also have the 12-months-looked-after items (OC2)."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements


@implements("215")
def care_leaver_and_oc2(ctx: Context) -> Hits:
    p = ctx.spec.rules["215"].params
    oc2, oc3 = ctx.tables["OC2"], ctx.tables["OC3"]
    leaver = oc3[p["care_leaver_items"]].notna().any(axis=1).to_numpy(dtype=bool)
    cla12 = oc2[p["looked_after_12_months_items"]].notna().any(axis=1).to_numpy(dtype=bool)
    leavers, cla12_children = oc3.loc[leaver, "CHILD"], oc2.loc[cla12, "CHILD"]
    return pd.concat([ctx.flag("OC3", member(oc3["CHILD"], cla12_children) & leaver),
                      ctx.flag("OC2", member(oc2["CHILD"], leavers) & cla12)], ignore_index=True)
