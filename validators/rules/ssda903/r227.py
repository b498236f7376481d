"""227 and 228: the episode must start before (227), and not end after (228), the date the
setting with its URN closed or was deregistered, as the Ofsted URN lookup gives it."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements
from csc_returns.validators.rules.ssda903._ofsted import checked_episodes, date_entries, unmatched


@implements("227")
def starts_before_registration_ends(ctx: Context) -> Hits:
    episodes = checked_episodes(ctx, "227", ["DECOM"])

    def matches(pairs: pd.DataFrame) -> pd.Series:
        # a blank or unreadable DECOM takes no part in date comparisons
        return pairs["reg_end"].isna() | pairs["DECOM"].isna() | (pairs["DECOM"] < pairs["reg_end"])

    return unmatched(ctx, episodes, date_entries(ctx), matches, unknown_urn_fails=False, listed="registration ended")


@implements("228")
def ends_by_registration_end(ctx: Context) -> Hits:
    episodes = checked_episodes(ctx, "228", ["DEC"])

    def matches(pairs: pd.DataFrame) -> pd.Series:
        # an open episode needs a setting still registered at the year end (31 March)
        ended_in_time = pairs["DEC"].notna() & (pairs["DEC"] <= pairs["reg_end"])
        open_in_time = pairs["DEC"].isna() & (pairs["reg_end"] >= ctx.period_end)
        return pairs["reg_end"].isna() | ended_in_time | open_in_time

    return unmatched(ctx, episodes, date_entries(ctx), matches, unknown_urn_fails=False, listed="registration ended")
