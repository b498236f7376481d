"""4003: a CPP review held while a CIN plan of the same episode is open."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements, no_hits
from csc_returns.validators.kinds_cin_b import within_pairs


@implements("4003")
def review_during_cin_plan(ctx: Context) -> Hits:
    # every review date (one row per CPPreviewDate) that falls in [plan start, plan end) or, for an
    # open plan, on or before the period end; CIN plan start counts as inside, its end as outside
    pairs = within_pairs(ctx, "Reviews", "CPPreviewDate", "CINPlanDates", "CINPlanStartDate", "CINPlanEndDate",
                         group=["_episode"], end_inclusive=False)
    if pairs.empty:
        return no_hits()
    reviews = ctx.tables["Reviews"][["_row", "_cpp"]].rename(columns={"_row": "_row_a"})
    cpp_end = ctx.tables["ChildProtectionPlans"][["_cpp", "CPPendDate"]].drop_duplicates("_cpp")
    pairs = pairs.merge(reviews, on="_row_a", how="left").merge(cpp_end, on="_cpp", how="left")
    # a review on the day its own plan ends may coincide with the CIN plan starting
    on_cpp_end = (pairs["_a_start"] == pairs["CPPendDate"]).fillna(False).astype(bool)
    pairs = pairs[~on_cpp_end.to_numpy(dtype=bool)]
    return pd.concat([ctx.flag("Reviews", pairs["_row_a"].drop_duplicates()),
                      ctx.flag("CINPlanDates", pairs["_row_b"].drop_duplicates())], ignore_index=True)
