"""8730: the number of previous child protection plans must be a whole number, zero or more."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("8730")
def previous_cpp_count(ctx: Context) -> Hits:
    minimum = ctx.spec.rules["8730"].params["min"]
    n = ctx.tables["ChildProtectionPlans"]["NumberOfPreviousCPP"]
    # a non-numeric value is blank here (the loader reports it) and so fails as missing
    bad = n.isna() | (n < minimum).fillna(False).astype(bool)
    return ctx.flag("ChildProtectionPlans", bad.fillna(False).astype(bool))
