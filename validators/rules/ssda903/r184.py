"""184: the decision that the child should be placed for adoption is dated before their birth."""

from __future__ import annotations

from csc_returns.validators.engine import Context, Hits, implements


@implements("184")
def placed_before_birth(ctx: Context) -> Hits:
    pa = ctx.tables["PlacedAdoption"]
    header = ctx.tables["Header"]
    dob = header.loc[header["CHILD"].notna(), ["CHILD", "DOB"]].drop_duplicates("CHILD")
    dob = dob.rename(columns={"DOB": "_header_dob"})
    m = pa[["_row", "CHILD", "DATE_PLACED", "DOB"]].merge(dob, on="CHILD", how="left")
    # Header's DOB; the PlacedAdoption row's own DOB when the child is not in Header
    born = m["_header_dob"].fillna(m["DOB"])
    bad = (m["DATE_PLACED"] < born).fillna(False).astype(bool)
    return ctx.flag("PlacedAdoption", m.loc[bad.to_numpy(dtype=bool)])
