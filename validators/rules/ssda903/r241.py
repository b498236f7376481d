"""241: a supported accommodation placement (K3) must be in an LA where the provider with its URN
has premises: PL_LA (derived from PL_POST) one of the LAs the Ofsted URN lookup gives for it."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.rules.ssda903._ofsted import checked_episodes, la_entries, unmatched


@implements("241")
def placement_la_has_premises(ctx: Context) -> Hits:
    episodes = checked_episodes(ctx, "241", ["PL_LA"])

    def matches(pairs: pd.DataFrame) -> pd.Series:
        # a PL_LA that cannot be derived fails; an entry whose LA is unknown cannot contradict
        return pairs["PL_LA"].notna() & (pairs["la"].isna() | (pairs["PL_LA"] == pairs["la"]))

    return unmatched(ctx, episodes, la_entries(ctx, episodes), matches, unknown_urn_fails=True, listed="LAs with premises")
