"""4001: an open CIN plan and an open child protection plan in the same episode."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("4001")
def open_cin_plan_with_open_cpp(ctx: Context) -> Hits:
    plans = ctx.tables["CINPlanDates"]
    cpps = ctx.tables["ChildProtectionPlans"]
    open_plans = plans[(plans["CINPlanStartDate"].notna() & plans["CINPlanEndDate"].isna()).to_numpy(dtype=bool)]
    open_cpps = cpps[cpps["CPPendDate"].isna().to_numpy(dtype=bool)]
    both = set(open_plans["_episode"].dropna()) & set(open_cpps["_episode"].dropna())
    return pd.concat([ctx.flag("CINPlanDates", open_plans[open_plans["_episode"].isin(both)]),
                      ctx.flag("ChildProtectionPlans", open_cpps[open_cpps["_episode"].isin(both)])],
                     ignore_index=True)
