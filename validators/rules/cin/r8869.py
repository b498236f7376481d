"""8869: factor 21 ("no factors identified") must stand alone within one assessment."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("8869")
def factor_21_alone(ctx: Context) -> Hits:
    f = ctx.tables["AssessmentFactors"]
    code = ctx.spec.rules["8869"].params["alone"]
    is_alone = f["AssessmentFactors"].eq(code).fillna(False).astype(bool)
    # built-in group reductions only (a Python lambda per assessment takes minutes on a big file)
    has_alone = is_alone.groupby(f["_assessment"], sort=False).transform("any")
    distinct = f.groupby("_assessment", sort=False)["AssessmentFactors"].transform("nunique")
    # every factor row of an assessment that mixes 21 with any other code
    bad = (has_alone.fillna(False).astype(bool) & (distinct > 1).fillna(False).astype(bool))
    return ctx.flag("AssessmentFactors", bad.astype(bool))
