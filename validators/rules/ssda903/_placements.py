"""Shared by the rules on the derived placement fields (PL_LA, PL_LOCATION, PL_DISTANCE):
which episodes belong to children who are, or were last year, UASC, and how this year's first
episode pairs with last year's open episode."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.conditions import mask, member
from csc_returns.validators.engine import Context
from csc_returns.validators.kinds_903_c import uasc_children


def uasc_episodes(ctx: Context) -> pd.Series:
    """Episodes of a child who is UASC this year or was UASC last year (no distance is derived)."""
    ep = ctx.tables["Episodes"]
    return member(ep[ctx.child_field("Episodes")], uasc_children(ctx))


def not_respite_nor_uasc(ctx: Context, exempt_ls: list[str]) -> pd.Series:
    """Episodes the DfE derives a distance for: LS not on short breaks (a blank LS is not), and a
    child who is not UASC this year nor was last year."""
    respite = mask(ctx.tables["Episodes"]["LS"].isin(exempt_ls))
    return ~respite & ~uasc_episodes(ctx)


def carried_over(ctx: Context, fields: list[str]) -> pd.DataFrame:
    """Each child's first episode this year (by DECOM) beside last year's latest episode, where
    that episode was still open at year end and has the same RNE (the public validator's test for
    "the same episode carried over"). Columns: _row (this year's episode), <field>, <field>_last."""
    cur = ctx.tables["Episodes"]
    prev = ctx.previous["Episodes"]
    first = (cur.loc[cur["DECOM"].notna(), ["_row", "CHILD", "DECOM", "RNE", *fields]]
             .sort_values(["CHILD", "DECOM", "_row"], kind="stable").drop_duplicates("CHILD", keep="first"))
    last = (prev.loc[prev["DECOM"].notna(), ["CHILD", "DECOM", "DEC", "RNE", *fields]]
            .sort_values(["CHILD", "DECOM"], kind="stable").drop_duplicates("CHILD", keep="last"))
    last = last.loc[last["DEC"].isna()].drop(columns=["DEC", "DECOM"])
    pairs = first.merge(last, on="CHILD", how="inner", suffixes=("", "_last"))
    return pairs.loc[mask(pairs["RNE"] == pairs["RNE_last"])]
