"""207: a child recorded as a mother last year must still be recorded as a mother."""

from __future__ import annotations

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements


@implements("207")
def mother_status_kept(ctx: Context) -> Hits:
    hdr, eps, prev = ctx.tables["Header"], ctx.tables["Episodes"], ctx.previous["Header"]
    was_mother = prev.loc[prev["MOTHER"].fillna(False).astype(bool).to_numpy(dtype=bool), "CHILD"]
    checked = member(hdr["CHILD"], was_mother) & member(hdr["CHILD"], eps["CHILD"])
    not_mother_now = ~hdr["MOTHER"].fillna(False).astype(bool)  # 0 or blank
    return ctx.flag("Header", checked & not_mother_now)
