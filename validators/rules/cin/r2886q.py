"""2886Q (return level): more than 2% of the children who are not unborn have no sex recorded."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("2886Q")
def share_without_sex(ctx: Context) -> Hits:
    p = ctx.spec.rules["2886Q"].params
    child = ctx.tables["Child"]
    n = len(child)
    if n == 0:  # nothing to divide by: no finding
        return ctx.flag_return(False)
    unborn = child["ExpectedPersonBirthDate"].notna() & child["PersonBirthDate"].isna()
    value = child[p["field"]]
    not_recorded = value.isna() | value.isin(p["not_recorded"]).fillna(False).astype(bool)
    m = int((not_recorded & ~unborn).sum())
    return ctx.flag_return(m / n > p["max_share"])
