"""303: a child with a date UASC ceased must have UASC status 1 (only an XML return can fail)."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import uasc_status


@implements("303")
def duc_needs_uasc_status(ctx: Context) -> Hits:
    hdr, uasc = ctx.tables["Header"], ctx.tables["UASC"]
    # only whether DUC is given counts, not whether it is a valid date
    given = uasc["DUC"].notna() | ctx.unreadable("UASC", "DUC")
    in_header = member(uasc["CHILD"], hdr["CHILD"])
    bad = uasc.loc[(given & in_header & ~member(uasc["CHILD"], uasc_status(ctx))).to_numpy(dtype=bool)]
    return pd.concat([ctx.flag("UASC", bad), ctx.flag("Header", member(hdr["CHILD"], bad["CHILD"]))],
                     ignore_index=True)
