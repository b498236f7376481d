"""8897Q: a completed assessment (authorised in or after the census year) needs valid factors."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("8897Q")
def completed_assessment_factors(ctx: Context) -> Hits:
    codeset = ctx.spec.rules["8897Q"].params["codeset"]
    assessments = ctx.tables["Assessments"]
    factors = ctx.tables["AssessmentFactors"]
    in_scope = assessments[(assessments["AssessmentAuthorisationDate"] >= ctx.period_start)
                           .fillna(False).astype(bool)]
    own = factors[factors["_assessment"].isin(in_scope["_assessment"])]
    invalid = own[~own["AssessmentFactors"].isin(ctx.codes(codeset)).fillna(False).astype(bool)]
    no_factors = ~in_scope["_assessment"].isin(own["_assessment"])
    has_invalid = in_scope["_assessment"].isin(invalid["_assessment"])
    bad = in_scope[(no_factors | has_invalid).to_numpy(dtype=bool)]
    return pd.concat([ctx.flag("Assessments", bad), ctx.flag("AssessmentFactors", invalid)], ignore_index=True)
