"""142: every episode but a child's latest must have ended (date and reason episode ceased)."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("142")
def earlier_episode_not_ended(ctx: Context) -> Hits:
    ep = ctx.tables["Episodes"]
    valid = ep.loc[ep["DECOM"].notna() & ep["CHILD"].notna(), ["CHILD", "DECOM", "DEC", "REC", "_row"]]
    # order by start date; among episodes starting on the same day an open one (blank DEC) is the latest
    ordered = valid.assign(_open=valid["DEC"].isna()).sort_values(["CHILD", "DECOM", "_open", "_row"])
    latest = ~ordered.duplicated("CHILD", keep="last")
    not_ended = ordered["DEC"].isna() | ordered["REC"].isna()
    return ctx.flag("Episodes", ordered.loc[(~latest & not_ended).to_numpy(dtype=bool)])
