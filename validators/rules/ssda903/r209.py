"""209: UN1 ("not of school age") is not allowed for a child of school age."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import birthday
from csc_returns.validators.engine import Context, Hits, implements


@implements("209")
def un1_school_age(ctx: Context) -> Hits:
    p = ctx.spec.rules["209"].params
    ref = p["reference_date"]  # a day and month in the calendar year before the collection starts
    reference = pd.Timestamp(ctx.period_start.year + ref["year_offset"], ref["month"], ref["day"])
    hdr = ctx.tables["Header"]
    school_age = (birthday(hdr["DOB"], p["school_age"]) <= reference).fillna(False).astype(bool)
    is_code = (hdr["UPN"].str.upper() == p["code"]).fillna(False).astype(bool)
    return ctx.flag("Header", is_code & school_age)
