"""208: a child's UPN may change from last year only in the permitted ways."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("208")
def upn_unchanged(ctx: Context) -> Hits:
    p = ctx.spec.rules["208"].params
    unknown = [c.upper() for c in ctx.codes(p["unknown_codes"])]
    not_yet = p["not_yet_assigned"].upper()  # UN1: not of school age, no UPN yet
    hdr, prev = ctx.tables["Header"], ctx.previous["Header"]
    left = hdr.loc[hdr["CHILD"].notna(), ["_row", "CHILD", "UPN"]]
    right = prev.loc[prev["CHILD"].notna(), ["CHILD", "UPN"]].rename(columns={"UPN": "prev_UPN"})
    m = left.merge(right, on="CHILD", how="inner")
    cur, old = m["UPN"].str.upper(), m["prev_UPN"].str.upper()
    cur_blank, old_blank = cur.isna(), old.isna()
    cur_unknown = cur.isin(unknown).fillna(False).astype(bool)
    old_unknown = old.isin(unknown).fillna(False).astype(bool)
    cur_real = ~cur_blank & ~cur_unknown
    same = (cur_blank & old_blank) | (cur == old).fillna(False).astype(bool)
    allowed = (
        (old_blank & ~cur_blank)  # (a)/(b)/(c) from blank: any code or a real UPN
        | ((old == not_yet).fillna(False).astype(bool) & cur_unknown)  # (a) UN1 -> UN2-UN5
        | ((old_blank | old_unknown) & cur_real)  # (c) a UN code -> a real UPN
    )
    bad = ~same & ~allowed
    return ctx.flag("Header", m.loc[bad.to_numpy(dtype=bool), "_row"].drop_duplicates())
