"""2883: more child protection plans starting in the year than initial conferences held in it."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("2883")
def more_plans_than_conferences(ctx: Context) -> Hits:
    def in_period(s):
        return int(((s >= ctx.period_start) & (s <= ctx.period_end)).fillna(False).astype(bool).sum())

    plans = in_period(ctx.tables["ChildProtectionPlans"]["CPPstartDate"])
    conferences = (in_period(ctx.tables["CINdetails"]["DateOfInitialCPC"])
                   + in_period(ctx.tables["Section47"]["DateOfInitialCPC"]))
    return ctx.flag_return(plans > conferences)
