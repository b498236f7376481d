"""205D: a child in both years' returns who is UASC this year must have been UASC last year."""

from __future__ import annotations

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements


@implements("205D")
def uasc_new_this_year(ctx: Context) -> Hits:
    hdr, uasc = ctx.tables["Header"], ctx.tables["UASC"]
    prev_hdr, prev_uasc = ctx.previous["Header"], ctx.previous["UASC"]
    child = hdr["CHILD"]
    in_both = member(child, prev_hdr["CHILD"])
    # UASC status (C9): a row in that year's UASC table
    return ctx.flag("Header", in_both & member(child, uasc["CHILD"]) & ~member(child, prev_uasc["CHILD"]))
