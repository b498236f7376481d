"""8565: no activity dated after the episode's closure date."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("8565")
def activity_after_closure(ctx: Context) -> Hits:
    checks: dict[str, list[str]] = ctx.spec.rules["8565"].params["dates"]
    episodes = ctx.tables["CINdetails"]
    closed = episodes.loc[episodes["CINclosureDate"].notna().to_numpy(dtype=bool),
                          ["_episode", "_row", "CINclosureDate"]].drop_duplicates("_episode").rename(
        columns={"_row": "_episode_row", "CINclosureDate": "_closed"})
    hits: list[pd.DataFrame] = []
    bad_episode_rows: list[pd.Series] = []
    for table, fields in checks.items():  # one vectorised check per table, all tables always run
        df = ctx.tables[table]
        cols = ["_row", "_episode"] + [f for f in fields if f != "_episode"]
        j = df[cols].merge(closed, on="_episode", how="inner")
        later = pd.Series(False, index=j.index)
        for f in fields:
            later |= (j[f] > j["_closed"]).fillna(False).astype(bool)
        failing = j[later.to_numpy(dtype=bool)]
        if table != "CINdetails":
            hits.append(ctx.flag(table, failing["_row"]))
        bad_episode_rows.append(failing["_episode_row"])
    hits.append(ctx.flag("CINdetails", pd.concat(bad_episode_rows, ignore_index=True).drop_duplicates()))
    return pd.concat(hits, ignore_index=True)
