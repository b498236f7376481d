"""8615: a Section 47 enquiry with an ICPC date needs a start date on or before it."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("8615")
def s47_start_not_after_icpc(ctx: Context) -> Hits:
    s47 = ctx.tables["Section47"]
    icpc, start = s47["DateOfInitialCPC"], s47["S47ActualStartDate"]
    bad = icpc.notna() & (start.isna() | (start > icpc).fillna(False).astype(bool))
    return ctx.flag("Section47", bad.fillna(False).astype(bool))
