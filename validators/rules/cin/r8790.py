"""8790: NONE must not be recorded together with any other disability entry of the same child."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("8790")
def none_with_others(ctx: Context) -> Hits:
    none = ctx.spec.rules["8790"].params["none"]
    dis = ctx.tables["Disabilities"]
    is_none = (dis["Disability"] == none).fillna(False).astype(bool)
    child_has_none = dis["_child"].isin(dis.loc[is_none, "_child"]).fillna(False).astype(bool)
    return ctx.flag("Disabilities", child_has_none & ~is_none)  # the other entries, blanks included
