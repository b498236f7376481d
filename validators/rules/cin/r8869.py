"""8869: factor 21 ("no factors identified") must stand alone within one assessment."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("8869")
def factor_21_alone(ctx: Context) -> Hits:
    f = ctx.tables["AssessmentFactors"]
    code = ctx.spec.rules["8869"].params["alone"]
    per_assessment = f.groupby("_assessment", sort=False)["AssessmentFactors"]
    has_alone = per_assessment.transform(lambda s: (s == code).any())
    distinct = per_assessment.transform("nunique")
    # every factor row of an assessment that mixes 21 with any other code
    return ctx.flag("AssessmentFactors", has_alone & (distinct > 1))
