"""2887Q (return level): fewer than 8 different disability codes (besides NONE) used in the return."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("2887Q")
def few_disability_codes(ctx: Context) -> Hits:
    p = ctx.spec.rules["2887Q"].params
    valid = set(ctx.codes(p["codeset"])) - {p["none"]}
    used = ctx.tables["Disabilities"]["Disability"].dropna()
    distinct = used[used.isin(valid)].nunique()
    return ctx.flag_return(distinct < p["min_codes"])
