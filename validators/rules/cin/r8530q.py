"""8530Q: an expected date of birth should fall from the census end minus 30 days to plus 9 months."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("8530Q")
def expected_birth_in_range(ctx: Context) -> Hits:
    p = ctx.spec.rules["8530Q"].params
    lo = ctx.period_end - pd.Timedelta(days=p["days_before"])
    hi = ctx.period_end + pd.DateOffset(months=p["months_after"])
    d = ctx.tables["Child"]["ExpectedPersonBirthDate"]
    return ctx.flag("Child", d.notna() & ((d < lo) | (d > hi)))
