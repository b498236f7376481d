"""205D: a child in both years' returns who is UASC this year must have been UASC last year."""

from __future__ import annotations

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import uasc_status


@implements("205D")
def uasc_new_this_year(ctx: Context) -> Hits:
    hdr, prev_hdr = ctx.tables["Header"], ctx.previous["Header"]
    child = hdr["CHILD"]
    in_both = member(child, prev_hdr["CHILD"])
    now, before = uasc_status(ctx), uasc_status(ctx, previous=True)  # C9
    return ctx.flag("Header", in_both & member(child, now) & ~member(child, before))
