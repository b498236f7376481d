"""229: own provision (PR1) must be a provider in the reporting LA, and other LA provision (PR2)
a provider in another LA, going by the provider's LA in the Ofsted URN lookup."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import mask
from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.rules.ssda903._ofsted import checked_episodes, la_entries, unmatched


@implements("229")
def provider_la_matches(ctx: Context) -> Hits:
    p = ctx.spec.rules["229"].params
    episodes = checked_episodes(ctx, "229", ["PLACE_PROVIDER"])
    own_la = ctx.reference.la.number

    def matches(pairs: pd.DataFrame) -> pd.Series:
        provider = pairs["PLACE_PROVIDER"]
        here = mask(pairs["la"] == own_la)
        own = mask(provider.isin(p["own_la_provider"]))
        other = mask(provider.isin(p["other_la_provider"]))
        # an entry whose LA is unknown (name not mapped, postcode not found) cannot contradict;
        # other provider codes are not this rule's concern
        return pairs["la"].isna() | (own & here) | (other & ~here) | ~(own | other)

    return unmatched(ctx, episodes, la_entries(ctx, episodes), matches, unknown_urn_fails=False, listed="provider's LA")
