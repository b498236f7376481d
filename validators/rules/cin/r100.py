"""100: the header ReferenceDate must be 31 March of the collection year being validated."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("100")
def reference_date(ctx: Context) -> Hits:
    p = ctx.spec.rules["100"].params
    expected = pd.Timestamp(year=ctx.year, month=p["month"], day=p["day"])
    header = ctx.tables["Header"]
    if header.empty:  # no header record at all: one finding for the return
        return ctx.flag_return(True)
    ref = header["ReferenceDate"]
    return ctx.flag("Header", ref.isna() | (ref != expected).fillna(True))
