"""2888Q (return level): no child has more than one disability code recorded."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("2888Q")
def one_code_per_child(ctx: Context) -> Hits:
    none = ctx.spec.rules["2888Q"].params["none"]
    dis = ctx.tables["Disabilities"]
    real = dis[dis["Disability"].notna() & (dis["Disability"] != none).fillna(False)]
    if real.empty:  # no child with a disability: nothing to judge
        return ctx.flag_return(False)
    per_child = real.groupby("_child")["Disability"].nunique()
    return ctx.flag_return(bool((per_child <= 1).all()))
