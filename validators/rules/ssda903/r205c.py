"""205C: a date UASC ceased (this year's or last year's) for a child UASC in neither year."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import member
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.kinds_903_c import uasc_status


@implements("205C")
def duc_without_uasc(ctx: Context) -> Hits:
    hdr, uasc, prev_uasc = ctx.tables["Header"], ctx.tables["UASC"], ctx.previous["UASC"]
    # a valid DUC in either year (an unreadable one is blank here: 104 reports it)
    with_duc = pd.concat([uasc.loc[uasc["DUC"].notna(), "CHILD"], prev_uasc.loc[prev_uasc["DUC"].notna(), "CHILD"]],
                         ignore_index=True)
    uasc_either = pd.concat([uasc_status(ctx), uasc_status(ctx, previous=True)], ignore_index=True)
    bad = with_duc[~member(with_duc, uasc_either)]
    return pd.concat([ctx.flag("UASC", member(uasc["CHILD"], bad)), ctx.flag("Header", member(hdr["CHILD"], bad))],
                     ignore_index=True)
