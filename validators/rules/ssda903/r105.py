"""105: the UASC status flag in an XML return's child HEADER must be exactly 0 or 1."""

from __future__ import annotations

from csc_returns.returns.load_903_xml import UASC_FLAG
from csc_returns.validators.engine import Context, Hits, implements, no_hits


@implements("105")
def uasc_flag_invalid(ctx: Context) -> Hits:
    hdr = ctx.tables["Header"]
    if UASC_FLAG not in hdr.columns:  # a CSV return: no such item, nothing to check
        return no_hits()
    # the raw text, so that 01, 1.0 or Y fail; a missing or blank flag fails too
    valid = hdr[UASC_FLAG].astype("string").str.strip().isin(["0", "1"]).fillna(False)
    return ctx.flag("Header", ~valid.astype(bool))
