"""187: a child looked after continuously for 12 months at 31 March (OC2 cohort) cannot have
adoption (AD1) or care-leaver (OC3) information."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import condition, member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_a import cla12_children


@implements("187")
def cla12_with_adoption_or_care_leaver_data(ctx: Context) -> Hits:
    p = ctx.spec.rules["187"].params
    cla12 = cla12_children(ctx, p["cla12"])
    hits = []
    for table, fields in (("AD1", p["adoption_fields"]), ("OC3", p["care_leaver_fields"])):
        df = ctx.tables[table]
        hits.append(ctx.flag(table, condition(ctx, df, {"any_present": fields}) & member(df["CHILD"], cla12)))
    return pd.concat(hits, ignore_index=True)
