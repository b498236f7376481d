"""231 (query): an unaccompanied asylum-seeking child under 11 at 31 March: check the date of birth."""

from __future__ import annotations

from csc_returns.validators.conditions import birthday, member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import uasc_status


@implements("231")
def young_uasc(ctx: Context) -> Hits:
    age = ctx.spec.rules["231"].params["min_age"]
    hdr = ctx.tables["Header"]
    is_uasc = member(hdr["CHILD"], uasc_status(ctx))  # UASC status (C9)
    under = (birthday(hdr["DOB"], age) > ctx.period_end).fillna(False).astype(bool)
    return ctx.flag("Header", is_uasc & under)
