"""1510: the UPN's first character must be the check letter computed from characters 2-13."""

from __future__ import annotations

import pandas as pd

from csc_returns.validators.engine import Context, Hits, implements


@implements("1510")
def upn_check_letter(ctx: Context) -> Hits:
    p = ctx.spec.rules["1510"].params
    letters: str = p["check_letters"]  # the 23 check letters; a letter's value is its index
    w0: int = p["first_weight"]  # weight of character 2; each later character weighs one more
    child = ctx.tables["Child"]
    upn = child["UPN"]
    values = {str(d): d for d in range(10)} | {c: i for i, c in enumerate(letters)}
    last = upn.str.slice(12, 13).map(values)  # character 13: a digit, or a temporary-UPN letter
    shaped = (upn.str.len() == 13) & upn.str.slice(1, 12).str.fullmatch("[0-9]{11}")
    eligible = (shaped.fillna(False) & last.notna()).astype(bool)
    if not eligible.any():
        return ctx.flag("Child", eligible)
    sub = upn[eligible]
    total = pd.Series(0, index=sub.index, dtype="int64")
    for pos in range(1, 12):  # characters 2-12 (one pass per character position, not per row)
        total += sub.str.slice(pos, pos + 1).astype("int64") * (w0 + pos - 1)
    total += last[eligible].astype("int64") * (w0 + 11)
    expected = (total % len(letters)).map(dict(enumerate(letters)))
    bad = pd.Series(False, index=child.index)
    bad[eligible] = (sub.str.slice(0, 1) != expected).fillna(True).astype(bool)
    return ctx.flag("Child", bad)
