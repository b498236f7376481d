"""231 (query): an unaccompanied asylum-seeking child under 11 at 31 March: check the date of birth."""

from __future__ import annotations

from csc_returns.validators.conditions import birthday, member
from csc_returns.validators.engine import Context, Hits, implements


@implements("231")
def young_uasc(ctx: Context) -> Hits:
    age = ctx.spec.rules["231"].params["min_age"]
    hdr, uasc = ctx.tables["Header"], ctx.tables["UASC"]
    is_uasc = member(hdr["CHILD"], uasc["CHILD"])  # UASC status (C9): a row in the UASC table
    under = (birthday(hdr["DOB"], age) > ctx.period_end).fillna(False).astype(bool)
    return ctx.flag("Header", is_uasc & under)
