"""221: the placement postcode must be the setting postcode the Ofsted URN lookup gives for the
episode's URN (compared upper case, spaces removed)."""

from __future__ import annotations

import pandas as pd

from csc_returns.returns.postcodes import normalise
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.rules.ssda903._ofsted import checked_episodes, unmatched


@implements("221")
def postcode_matches_urn(ctx: Context) -> Hits:
    episodes = checked_episodes(ctx, "221", ["PL_POST"])
    episodes["pl_post"] = normalise(episodes["PL_POST"])
    entries = ctx.reference.ofsted.entries[["urn", "postcode"]]

    def matches(pairs: pd.DataFrame) -> pd.Series:
        return pairs["postcode"].isna() | (pairs["pl_post"] == pairs["postcode"])

    return unmatched(ctx, episodes, entries, matches, unknown_urn_fails=True, listed="setting postcode")
