"""8995Q (return level): no pre-proceedings and FGDM (module 5) record for any child."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("8995Q")
def no_module_5_data(ctx: Context) -> Hits:
    return ctx.flag_return(len(ctx.tables["PreProceedingsandFGDM"]) == 0)
