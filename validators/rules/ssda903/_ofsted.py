"""Shared by the rules that check an episode's URN against the Ofsted URN lookup (219, 221, 224,
227, 228, 229, 241; returns/ofsted.py).

A URN may have several entries in the lookup (a provider in both lists, premises in several LAs).
The DfE intent is that an episode fails only when it matches none of them, so each rule says
what "matches" means for one (episode, entry) pair and an episode passes when any pair matches.
An entry that gives no value for what is compared (no codes, no date, no LA) cannot contradict
the episode, so it matches.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from csc_returns.validators.conditions import condition, mask
from csc_returns.validators.engine import Context, Hits

Matches = Callable[[pd.DataFrame], pd.Series]  # (episode, entry) pairs -> the pair matches


def checked_episodes(ctx: Context, code: str, fields: list[str]) -> pd.DataFrame:
    """The episodes the rule checks (its `where:` condition: a URN other than the placeholder,
    and the rule's placement types), with `urn`: the URN as the lookup keys it (upper case)."""
    ep = ctx.tables["Episodes"]
    sel = condition(ctx, ep, ctx.spec.rules[code].params["where"]).to_numpy(dtype=bool)
    out = ep.loc[sel, ["_row", *fields]]
    out["urn"] = ep.loc[sel, "URN"].astype("string").str.strip().str.upper()
    return out


def unmatched(ctx: Context, episodes: pd.DataFrame, entries: pd.DataFrame, matches: Matches,
              unknown_urn_fails: bool, listed: str) -> Hits:
    """Episodes with no matching entry. An episode whose URN is not in the lookup at all fails
    when `unknown_urn_fails` (the rule checks something the lookup must say), else passes.
    Each finding's detail says what the lookup gives for the URN (`listed` names it), so the data
    manager sees the disagreement without opening the list.

    Pairs are formed from the distinct values compared, not from every episode and every entry
    row: thousands of episodes with one fostering agency's URN, against a list that repeats the
    URN, would otherwise multiply into billions of pairs.
    """
    keys = [c for c in episodes.columns if c != "_row"]  # urn and the episode values compared
    pairs = episodes[keys].drop_duplicates().merge(entries.drop_duplicates(), on="urn", how="inner")
    ok = pairs.loc[mask(matches(pairs)).to_numpy(dtype=bool), keys].drop_duplicates().assign(_ok=True)
    # NA keys merge with NA keys, so an episode's blank value finds its own pair's outcome
    bad = episodes.merge(ok, on=keys, how="left")["_ok"].isna().to_numpy()
    if not unknown_urn_fails:
        bad = bad & episodes["urn"].isin(entries["urn"].dropna().unique()).to_numpy(dtype=bool)
    failed = episodes.loc[bad, ["_row", "urn"]]
    return ctx.flag("Episodes", failed.assign(detail=_what_the_list_says(failed["urn"], entries, listed)))


def _what_the_list_says(urns: pd.Series, entries: pd.DataFrame, listed: str) -> pd.Series:
    """'Ofsted URN lookup, SC123456: placement types K1, K2' (or: not in the lookup), per URN."""
    value = [c for c in entries.columns if c != "urn"][0]
    ent = entries.loc[entries["urn"].isin(urns.unique())]
    col = ent[value]
    shown = col.dt.strftime("%d/%m/%Y") if pd.api.types.is_datetime64_any_dtype(col) else col.astype("string")
    if value == "postcode":  # keyed without spaces; shown as written, the inward code apart
        shown = shown.str[:-3] + " " + shown.str[-3:]
    given = shown[ent[value].notna().to_numpy()].groupby(ent["urn"]).agg(lambda s: ", ".join(sorted(set(s))))
    text = urns.map(given)
    known = urns.isin(ent["urn"].dropna().unique())
    return ("Ofsted URN lookup, " + urns + ": " + listed + " " + text.fillna("not given")).where(
        known, urns + " is not in the Ofsted URN lookup")


def code_entries(ctx: Context, column: str) -> pd.DataFrame:
    """(urn, code) pairs of the lookup: place_codes or provider_codes, one row per code."""
    return ctx.reference.ofsted.codes(column)


def date_entries(ctx: Context) -> pd.DataFrame:
    """(urn, reg_end): each entry's closure or deregistration date (NaT while registered)."""
    return ctx.reference.ofsted.entries[["urn", "reg_end"]]


def la_entries(ctx: Context, episodes: pd.DataFrame) -> pd.DataFrame:
    """(urn, la) for the episodes' URNs: the provider's LA as the lookup names it, else inferred
    from the setting postcode with the run's postcode directory."""
    return ctx.reference.ofsted.provider_las(ctx.reference.postcodes, episodes["urn"])
