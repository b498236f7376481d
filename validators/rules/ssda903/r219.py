"""219 and 224: the placement type (219) and the placement provider (224) must be ones the Ofsted
URN lookup gives for the episode's URN."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.rules.ssda903._ofsted import checked_episodes, code_entries, unmatched


def _code_listed(ctx: Context, code: str, field: str, column: str, listed: str) -> Hits:
    episodes = checked_episodes(ctx, code, [field])

    def matches(pairs: pd.DataFrame) -> pd.Series:
        # a blank episode value never matches; an entry listing no code says nothing against it
        return pairs[field].notna() & (pairs["code"].isna() | (pairs[field] == pairs["code"]))

    return unmatched(ctx, episodes, code_entries(ctx, column), matches, unknown_urn_fails=True, listed=listed)


@implements("219")
def placement_type_matches_urn(ctx: Context) -> Hits:
    return _code_listed(ctx, "219", "PLACE", "place_codes", "placement types")


@implements("224")
def provider_matches_urn(ctx: Context) -> Hits:
    return _code_listed(ctx, "224", "PLACE_PROVIDER", "provider_codes", "placement providers")
