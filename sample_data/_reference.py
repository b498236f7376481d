"""Reference data for the synthetic returns: what a real LA would take from the ONS Postcode
Directory and Ofsted's provider lists, made up to match the generated records.

The generator's postcodes are fictional (areas ZZ and ZY, see _common.postcodes), so no national
directory knows them; `postcode_list` gives each one an LA and a grid reference, to be passed with
`--postcodes` (csc-returns looks local postcodes up before the ONS directory).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from csc_returns.returns.authorities import population_file

HOME_LA = "999"  # the generator's fictional LA (no England LA has this number)
CENTRE = (450_000, 350_000)  # OS grid metres: the fictional LA's centre (somewhere in the Midlands)


def _unit(text: str, salt: str) -> float:
    """A stable number in [0, 1) from a postcode (no random state: same postcode, same place)."""
    h = hashlib.sha256(f"{salt}:{text}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def _place(postcode: str, las: list[str], home: str) -> tuple[str, int, int]:
    """ZZ: inside the LA, within 8 km of its centre. ZY<n>: another LA (a real LA number), 30 to
    200 km away in a direction set by the district n, so every distance stays under 350 miles."""
    outward = postcode.split()[0]
    if outward.startswith("ZZ"):
        radius, angle, la = 8_000 * _unit(postcode, "r"), 2 * np.pi * _unit(postcode, "a"), home
    else:
        n = int(outward[2:])
        radius = 30_000 + 170_000 * _unit(outward, "r") + 2_000 * _unit(postcode, "j")
        angle = 2 * np.pi * _unit(outward, "a")
        la = las[n % len(las)]
    return la, int(CENTRE[0] + radius * np.cos(angle)), int(CENTRE[1] + radius * np.sin(angle))


def postcode_list(tables: list[dict[str, pd.DataFrame]], la: str = HOME_LA) -> pd.DataFrame:
    """The local postcode file (postcode, la, easting, northing) for every HOME_POST and PL_POST of
    the given 903 returns of LA `la`, sorted."""
    codes: set[str] = set()
    for t in tables:
        for col in ("HOME_POST", "PL_POST"):
            codes |= set(t["Episodes"][col].dropna().astype(str))
    las = [n for n in sorted(population_file()["local_authorities"]) if n != la]
    rows = [(pc, *_place(pc, las, la)) for pc in sorted(codes)]
    return pd.DataFrame(rows, columns=["postcode", "la", "easting", "northing"])


# ------------------------------------------------------------------------------ Ofsted list
OFSTED_COLUMNS = ["urn", "local authority", "placement code", "placement provider code",
                  "deregistration date", "setting address postcode"]  # the combined SCP/CH layout
PLACEHOLDER_URN = "XXXXXXX"
OWN_PROVISION, OTHER_LA_PROVISION = "PR1", "PR2"


def _dates(values: pd.Series) -> pd.Series:
    """Dates as the tables hold them: already dates, or dd/mm/yyyy text."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    return pd.to_datetime(values.astype("string"), format="%d/%m/%Y", errors="coerce")


def _la_of(postcode: str, las: list[str], home: str) -> str | None:
    """The LA number `postcode_list` gives a generated postcode (ZZ, ZY<n>); None for any other."""
    return _place(postcode, las, home)[0] if postcode[:2] in ("ZZ", "ZY") else None


def ofsted_list(ssda903_tables: dict[str, pd.DataFrame], la: str = HOME_LA) -> pd.DataFrame:
    """A synthetic Ofsted provider list (the combined SCP/CH CSV layout) for every URN the 903
    Episodes use (both years' tables may be passed concatenated), made consistent with them so the
    clean data passes the URN rules (219, 221, 224, 227, 228, 229, 241) with `--la 999` (or the
    `la` given) and the `postcode_list` file:

    - one entry per URN and placement postcode, with every placement type and provider code the
      URN is used with, and the LA `postcode_list` gives that postcode (a fostering agency's
      carers, a supported accommodation provider's premises in several LAs);
    - an extra entry in the home LA for a URN used as own provision (PR1) with no premises there,
      and one in another LA for a URN used as other LA provision (PR2) with premises only here;
    - a deregistration date, some weeks after its last episode ended, for about a quarter of the
      URNs whose episodes have all ended.
    LA names are population.yaml's; an LA with none (the fictional 999) is given by number."""
    ep = ssda903_tables["Episodes"]
    text = {c: ep[c].astype("string").str.strip().replace("", pd.NA) for c in ("URN", "PLACE", "PLACE_PROVIDER", "PL_POST")}
    ep = pd.DataFrame({**text, "DEC": _dates(ep["DEC"])}, index=ep.index)
    ep = ep.loc[ep["URN"].notna() & (ep["URN"] != PLACEHOLDER_URN)]
    las = [n for n in sorted(population_file()["local_authorities"]) if n != la]  # as postcode_list
    names = {k: str(v["name"]) for k, v in population_file()["local_authorities"].items()}

    def joined(col: str) -> pd.Series:
        return ep.dropna(subset=[col]).groupby("URN")[col].agg(lambda s: "/".join(sorted(set(s))))

    urns = pd.DataFrame(index=pd.Index(sorted(ep["URN"].unique()), name="URN"))
    urns["place"], urns["provider"] = joined("PLACE"), joined("PLACE_PROVIDER")
    # premises: one entry per URN and placement postcode (a URN with no postcode: one blank entry)
    posts = ep[["URN", "PL_POST"]].drop_duplicates()
    posts = posts.loc[posts["PL_POST"].notna() | ~posts["URN"].isin(posts.dropna()["URN"])]
    unique_posts = posts["PL_POST"].dropna().unique()
    la_by_post = dict(zip(unique_posts, [_la_of(str(pc), las, la) for pc in unique_posts]))
    posts["la"] = posts["PL_POST"].map(la_by_post)
    uses = ep.groupby("URN")["PLACE_PROVIDER"].agg(lambda s: set(s.dropna()))
    here = posts.groupby("URN")["la"].agg(lambda s: set(s.dropna()))
    need_home = [u for u in urns.index if OWN_PROVISION in uses[u] and la not in here[u]]
    need_away = [u for u in urns.index if OTHER_LA_PROVISION in uses[u] and not (here[u] - {la})]
    first_post = posts.groupby("URN")["PL_POST"].first()
    extra = pd.DataFrame({"URN": need_home + need_away,
                          "PL_POST": [first_post[u] for u in need_home + need_away],
                          "la": [la] * len(need_home) + [las[int(_unit(u, "la") * len(las))] for u in need_away]})
    entries = pd.concat([posts, extra], ignore_index=True).merge(urns, left_on="URN", right_index=True)
    # deregistered: a quarter of the URNs whose every episode has ended, weeks after the last end
    ended = ep.groupby("URN")["DEC"].agg(lambda s: s.max() if s.notna().all() else pd.NaT).dropna()
    closed = ended[[_unit(u, "closed") < 0.25 for u in ended.index]]
    reg_end = closed + pd.to_timedelta([14 + int(_unit(u, "days") * 60) for u in closed.index], unit="D")
    entries["reg_end"] = entries["URN"].map(reg_end.dt.strftime("%d/%m/%Y")).astype("string").fillna("")
    out = pd.DataFrame({
        "urn": entries["URN"], "local authority": entries["la"].map(lambda n: names.get(n, n)),
        "placement code": entries["place"], "placement provider code": entries["provider"],
        "deregistration date": entries["reg_end"], "setting address postcode": entries["PL_POST"]})
    out = out.fillna("").sort_values(["urn", "setting address postcode", "local authority"], kind="stable")
    return out[OFSTED_COLUMNS].reset_index(drop=True)
