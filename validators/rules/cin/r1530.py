"""1530: characters 2-4 of a 13-character UPN must be a recognised LA code (list in params)."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


def _expand(ranges: list[str]) -> set[str]:
    """'001-005' -> {'001', ..., '005'}; a single code stands for itself."""
    out: set[str] = set()
    for r in ranges:
        lo, _, hi = str(r).partition("-")
        out |= {f"{n:03d}" for n in range(int(lo), int(hi or lo) + 1)}
    return out


@implements("1530")
def upn_la_code(ctx: Context) -> Hits:
    codes = _expand(ctx.spec.rules["1530"].params["la_codes"])
    upn = ctx.tables["Child"]["UPN"]
    bad = (upn.str.len() == 13) & ~upn.str.slice(1, 4).isin(codes)
    return ctx.flag("Child", bad.fillna(False).astype(bool))
