"""8873Q: an episode whose only assessment is completed with factor 21 should close RC8 or RC9."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("8873Q")
def single_assessment_no_factors_reason(ctx: Context) -> Hits:
    p = ctx.spec.rules["8873Q"].params
    assessments = ctx.tables["Assessments"]
    factors = ctx.tables["AssessmentFactors"]
    episodes = ctx.tables["CINdetails"]
    per_episode = assessments.groupby("_episode", sort=False)["_row"].size()
    single = assessments[assessments["_episode"].isin(per_episode.index[per_episode == 1])]
    # "the completed assessment" (DfE message): the only assessment has an authorisation date
    completed = single.loc[single["AssessmentAuthorisationDate"].notna().to_numpy(dtype=bool), "_assessment"]
    f21 = factors[factors["AssessmentFactors"].eq(p["factor"]).fillna(False).astype(bool)
                  & factors["_assessment"].isin(completed)]
    wrong_reason = ~episodes["ReasonForClosure"].isin(p["reasons"]).fillna(False).astype(bool)
    bad_episodes = episodes[wrong_reason & episodes["_episode"].isin(f21["_episode"])]
    return pd.concat([ctx.flag("CINdetails", bad_episodes),
                      ctx.flag("AssessmentFactors", f21[f21["_episode"].isin(bad_episodes["_episode"])])],
                     ignore_index=True)
