"""8839: at most one open Section 47 enquiry per episode."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("8839")
def one_open_s47_per_episode(ctx: Context) -> Hits:
    s47 = ctx.tables["Section47"]
    # open: no ICPC date and ICPCnotRequired not true (false, blank or invalid all count as open)
    not_required = s47["ICPCnotRequired"].fillna(False).astype(bool)
    open_ = s47[(s47["DateOfInitialCPC"].isna() & ~not_required & s47["_episode"].notna()).to_numpy(dtype=bool)]
    many = open_.groupby("_episode", sort=False)["_row"].transform("size") > 1
    return ctx.flag("Section47", open_[many.to_numpy(dtype=bool)])
