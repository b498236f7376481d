"""9000Q (return level): no pre-proceedings record in the return gives a PPStartDate (N00826)."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("9000Q")
def no_pp_start_dates(ctx: Context) -> Hits:
    return ctx.flag_return(not ctx.tables["PreProceedingsandFGDM"]["PPStartDate"].notna().any())
