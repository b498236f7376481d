"""Looked-after children: periods of care on a continuous timeline, split into SSDA903 episodes.

A period of care is drawn whole (a scenario: return home, care order and long-term fostering,
adoption, residential care, remand, UASC, placed with parents; plus short-break children), then
built from two independent partitions of its time span:

* legal-status segments (L1/L2 emergency -> C1 interim care order -> C2 -> E1 placement order...);
* placement segments (each with a place type, carer, provider, URN and postcode; moves, long-term
  matches with the same carer, temporary placements and a return to the same carer).

Episodes are the overlay of the two partitions, and the reason for each new episode follows from
what changed (legal status only L; placement and carer P; placement, same carer T; both B / U), so
rules 433-436 and 380-383 hold by construction. Everything after the timeline (which episodes a
return holds, open episodes, codes that changed between years) is done by _render.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csc_returns.sample_data._common import (
    INT, NA, Calendar, add_years, draw, draw_idx, lognormal_days, postcodes, uniform_int,
)

RH, FO, AD, AR, RE, RM, UA, PP = range(8)  # scenarios (SB short breaks are built separately)
SCEN_WEIGHTS = [26, 30, 7, 2, 12, 4, 12, 7]
AGE_MIX = {  # (weight, from age, to age) in years at the start of care
    RH: [(20, 0, 1), (35, 1, 10), (45, 10, 17.6)],
    FO: [(22, 0, 1), (40, 1, 10), (38, 10, 16)],
    AD: [(65, 0, 1), (35, 1, 3.5)],
    AR: [(40, 0, 1), (60, 1, 5)],
    RE: [(100, 11, 17)],
    RM: [(100, 12, 17.5)],
    UA: [(15, 14, 15.5), (85, 15.5, 17.6)],
    PP: [(40, 0, 2), (60, 2, 12)],
}
MALE = np.array([0.52, 0.53, 0.5, 0.5, 0.62, 0.85, 0.92, 0.5])
CATEGORY_OF_NEED = ["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"]
LEAVER_REC = ["E17", "E5", "E6", "E8", "E4A", "E4B", "E13", "E9", "E14", "E16"]
REC_NOT_AGED_OUT = {
    RH: (["E4A", "E4B", "E13", "E8", "E16", "E3"], [55, 10, 20, 8, 2, 5]),
    FO: (["E4A", "E41", "E45", "E46", "E47", "E48", "E13", "E3", "E8", "E9", "E5", "E6"],
         [22, 8, 10, 8, 10, 5, 10, 6, 11, 3, 4, 3]),
    AD: (["E11", "E12"], [80, 20]),
    AR: (["E47", "E48", "E41", "E4A", "E8"], [30, 10, 20, 20, 20]),
    RE: (["E4A", "E13", "E8", "E9", "E3", "E5", "E6"], [20, 15, 20, 10, 5, 15, 15]),
    RM: (["E14", "E9"], [75, 25]),
    UA: (["E15", "E13", "E16", "E8"], [40, 20, 20, 20]),
    PP: (["E4A", "E41", "E8", "E13"], [55, 20, 10, 15]),
}
REC_AGED_OUT = {
    RE: (["E5", "E6", "E8", "E7"], [45, 20, 25, 10]),
    UA: (["E5", "E6", "E8", "E17"], [40, 20, 25, 15]),
}
REC_AGED_OUT_DEFAULT = (["E17", "E5", "E6", "E8"], [35, 30, 12, 23])
PLACE_REASONS = ["CARPL", "CREQB", "CREQO", "CHILD", "LAREQ", "STAND", "ALLEG", "CLOSE", "APPRR", "OTHER"]
PLACE_REASON_WEIGHTS = [30, 15, 15, 8, 10, 4, 3, 3, 2, 10]
FOSTER = np.array(["U1", "U2", "U3", "U4", "U5", "U6"], dtype=object)
TEMPORARY = np.array(["T0", "T1", "T2", "T3", "T4"], dtype=object)
BIG = 100_000  # key = period * BIG + day


def group_first(a: np.ndarray) -> np.ndarray:
    """True where a sorted key array starts a new group (works for empty arrays)."""
    out = np.ones(len(a), dtype=bool)
    out[1:] = a[1:] != a[:-1]
    return out


def group_last(a: np.ndarray) -> np.ndarray:
    out = np.ones(len(a), dtype=bool)
    out[:-1] = a[1:] != a[:-1]
    return out


def shift1(a: np.ndarray, fill: object) -> np.ndarray:
    """The previous element of each position (fill for the first)."""
    out = np.empty_like(a)
    if len(a):
        out[0] = fill
        out[1:] = a[:-1]
    return out


@dataclass
class Lac:
    """The looked-after population on the timeline (all arrays are per period / segment / row)."""

    per: dict[str, np.ndarray]  # one row per period of care (incl. short breaks); `person` index
    ep: dict[str, np.ndarray]  # one row per episode (sorted by period, start)
    reviews: dict[str, np.ndarray]
    missing: dict[str, np.ndarray]
    dolo: dict[str, np.ndarray]
    sw: dict[str, np.ndarray]
    adoption: dict[str, np.ndarray]  # one row per decision to place for adoption (+ AD1 items)


# ==================================================================================== periods
def draw_periods(rng: np.random.Generator, m: int, e1: int, ends: list[int]) -> dict[str, np.ndarray]:
    """m periods of care with start dates spread over the 18.6 years up to `e1` (stationary)."""
    scen = draw_idx(rng, SCEN_WEIGHTS, m)
    age = np.zeros(m)
    for s, mix in AGE_MIX.items():
        sel = np.flatnonzero(scen == s)
        if not len(sel):
            continue
        w, lo, hi = (np.array(x, dtype=float) for x in zip(*mix))
        comp = draw_idx(rng, w, len(sel))
        age[sel] = lo[comp] + rng.random(len(sel)) * (hi[comp] - lo[comp])
    C = rng.integers(e1 - int(18.6 * 365), e1 + 1, m).astype(INT)
    dob = C - (age * 365.25).astype(INT)
    b10, b14, b16, b18 = (add_years(dob, k) for k in (10, 14, 16, 18))
    male = rng.random(m) < MALE[scen]

    # legal-status timing
    pre_kind = np.zeros(m, INT)  # 0 none, 1 L1 police protection, 2 L2 EPO
    r = rng.random(m)
    pre_kind[(scen == FO) & (r < 0.12)] = 1
    pre_kind[(scen == FO) & (r >= 0.12) & (r < 0.25)] = 2
    pre_kind[(scen == AD) & (r < 0.15)] = 2
    pre_kind[(scen == RH) & (r < 0.15)] = 1
    pre_len = np.where(pre_kind == 1, rng.integers(1, 4, m), rng.integers(4, 22, m))
    pre_len = np.where(pre_kind == 0, 0, pre_len)
    c1_len = rng.integers(100, 301, m)
    care_order = np.isin(scen, [FO, AD, AR, PP]) | ((scen == RE) & (rng.random(m) < 0.45)) | (
        (scen == RH) & (rng.random(m) < 0.1))

    dur = np.select(
        [scen == RH, scen == FO, scen == RE, scen == RM, scen == UA],
        [lognormal_days(rng, 75, 1.0, m, 3, 1500), lognormal_days(rng, 1500, 0.8, m, 90, 7000),
         lognormal_days(rng, 550, 0.8, m, 30, 4000), rng.integers(7, 141, m),
         np.where(rng.random(m) < 0.85, 10**5, lognormal_days(rng, 300, 0.7, m, 30, 3000))],
        default=0).astype(INT)
    D = C + dur
    t_c2 = np.where(care_order, C + pre_len + c1_len, NA)
    t_e1 = np.full(m, NA, INT)
    a_start = np.full(m, NA, INT)
    decision = np.full(m, NA, INT)
    ceased = np.full(m, NA, INT)
    p1_start = np.full(m, NA, INT)
    # adoption: ICO, care order, placement order, placed for adoption, adopted
    ad = scen == AD
    t_e1[ad] = t_c2[ad] + rng.integers(60, 221, ad.sum())
    decision[ad] = t_c2[ad] + uniform_int(rng, 10, t_e1[ad] - t_c2[ad] - 5)
    a_start[ad] = t_e1[ad] + rng.integers(20, 201, ad.sum())
    D[ad] = a_start[ad] + rng.integers(100, 301, ad.sum())
    # adoption plan reversed (no placement order), then foster care or another order
    ar = scen == AR
    decision[ar] = t_c2[ar] + rng.integers(30, 201, ar.sum())
    ceased[ar] = decision[ar] + rng.integers(60, 301, ar.sum())
    D[ar] = np.maximum(ceased[ar] + 30, C[ar] + lognormal_days(rng, 1400, 0.6, int(ar.sum()), 200, 6000))
    # placed with parents under a care order
    pp = scen == PP
    p1_start[pp] = t_c2[pp] + rng.integers(0, 151, pp.sum())
    D[pp] = p1_start[pp] + rng.integers(90, 501, pp.sum())

    planned = D.copy()
    D = np.where(ad, D, np.minimum(D, b18))
    age_out = (~ad) & (planned >= b18)
    # ceasing on 31 March is awkward for the 12-month rules (C8): move it a day earlier
    on_end = np.isin(D, ends) & ~age_out
    D[on_end] -= 1
    # drop internal boundaries that fall too close to the end
    pre_len = np.where(C + pre_len >= D - 1, 0, pre_len)
    pre_kind = np.where(pre_len == 0, 0, pre_kind)
    t_c2 = np.where(t_c2 < D - 14, t_c2, NA)
    p1_start = np.where(p1_start < D - 1, p1_start, NA)

    # how the period ends
    rec = np.empty(m, dtype=object)
    for s in range(8):
        sel = np.flatnonzero((scen == s) & ~age_out)
        if len(sel):
            codes, w = REC_NOT_AGED_OUT[s]
            rec[sel] = draw(rng, codes, w, len(sel))
        sel = np.flatnonzero((scen == s) & age_out)
        if len(sel):
            codes, w = REC_AGED_OUT.get(s, REC_AGED_OUT_DEFAULT)
            rec[sel] = draw(rng, codes, w, len(sel))
    rec = np.where(np.isin(rec, ["E5", "E6", "E7"]) & (D < b16), "E8", rec)
    rec = np.where((rec == "E9") & (D < b10), "E8", rec)

    care14 = D - np.maximum(C, b14)
    leaver = np.isin(rec, LEAVER_REC) & (D > b16) & (care14 >= 91)
    need = draw(rng, CATEGORY_OF_NEED, [62, 3, 3, 8, 15, 2, 0.2, 7], m)
    need = np.where(scen == UA, "N8", need)
    need = np.where(scen == RM, draw(rng, ["N6", "N1", "N5"], [60, 20, 20], m), need)
    return dict(scen=scen, C=C, D=D, dob=dob, male=male, pre_kind=pre_kind, pre_len=pre_len,
                t_c2=t_c2, t_e1=t_e1, a_start=a_start, decision=decision, ceased=ceased,
                p1_start=p1_start, rec=rec, age_out=age_out, leaver=leaver, need=need,
                care_order=care_order, b16=b16, b18=b18)


def take(d: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in d.items()}


# ================================================================================= segments
def _ls_rows(P: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Legal-status segments as rows (period, start, LS), sorted by key."""
    n = len(P["C"])
    pid = np.arange(n, dtype=INT)
    scen = P["scen"]
    first_ls = np.select([scen == RM, P["care_order"]], ["J1", "C1"], default="V2").astype(object)
    rows_p, rows_t, rows_l = [], [], []
    pre = P["pre_kind"] > 0
    rows_p.append(pid)
    rows_t.append(P["C"])
    rows_l.append(np.where(P["pre_kind"] == 1, "L1", np.where(P["pre_kind"] == 2, "L2", first_ls)))
    rows_p.append(pid[pre])
    rows_t.append(P["C"][pre] + P["pre_len"][pre])
    rows_l.append(first_ls[pre])
    m = P["t_c2"] < NA
    rows_p.append(pid[m])
    rows_t.append(P["t_c2"][m])
    rows_l.append(np.full(m.sum(), "C2", dtype=object))
    m = P["t_e1"] < P["D"]
    rows_p.append(pid[m])
    rows_t.append(P["t_e1"][m])
    rows_l.append(np.full(m.sum(), "E1", dtype=object))
    p, t, ls = (np.concatenate(x) for x in (rows_p, rows_t, rows_l))
    key = p * BIG + t
    order = np.argsort(key, kind="stable")
    return p[order], t[order], ls[order]


def _init_place(rng: np.random.Generator, P: dict[str, np.ndarray]) -> np.ndarray:
    n = len(P["C"])
    scen = P["scen"]
    age = (P["C"] - P["dob"]) / 365.25
    out = np.empty(n, dtype=object)

    def pick(mask: np.ndarray, codes: list[str], w: list[float]) -> None:
        sel = np.flatnonzero(mask)
        if len(sel):
            out[sel] = draw(rng, codes, w, len(sel))

    pick((scen == RH) & (age >= 16), ["K3", "U6", "K2"], [35, 45, 20])
    pick((scen == RH) & (age >= 11) & (age < 16), ["U6", "U3", "K2"], [70, 15, 15])
    pick((scen == RH) & (age < 11), ["U6", "U3"], [75, 25])
    pick((scen == FO) & (age < 11), ["U6", "U3"], [70, 30])
    pick((scen == FO) & (age >= 11), ["U6", "U3", "K2"], [60, 20, 20])
    pick(scen == AD, ["U5", "U6", "U2"], [40, 50, 10])
    pick(scen == AR, ["U6", "U3"], [70, 30])
    pick((scen == RE) & (age >= 16), ["K3", "K2", "S1"], [50, 45, 5])
    pick((scen == RE) & (age < 16), ["K2", "S1"], [90, 10])
    pick((scen == RM) & (age >= 15), ["K1", "R5", "U6"], [30, 30, 40])
    pick((scen == RM) & (age < 15), ["K1", "U6"], [45, 55])
    pick((scen == UA) & (age >= 16), ["K3", "U6", "K2"], [65, 25, 10])
    pick((scen == UA) & (age < 16), ["U6", "K2"], [80, 20])
    pick(scen == PP, ["U6", "U3"], [70, 30])
    return out


PROVIDERS = {  # (codes, weights) by placement type; rules 527-531 and 550 decide what may go where
    "U": (["PR1", "PR4", "PR5", "PR2"], [58, 35, 4, 3]),
    "A": (["PR1", "PR2", "PR5"], [70, 20, 10]),
    "K1": (["PR2", "PR1"], [70, 30]),
    "K2": (["PR4", "PR1", "PR5"], [75, 15, 10]),
    "K3": (["PR4", "PR5", "PR1"], [65, 20, 15]),
    "S1": (["PR4", "PR5", "PR2"], [60, 30, 10]),
    "R5": (["PR3", "PR4"], [80, 20]),
    "R1": (["PR1", "PR4"], [70, 30]),
}


def _provider(rng: np.random.Generator, place: np.ndarray) -> np.ndarray:
    n = len(place)
    out = np.full(n, None, dtype=object)
    fam = np.where(np.isin(place, FOSTER), "U", np.where(np.char.startswith(place.astype("U3"), "A"), "A", place))
    for f, (codes, w) in PROVIDERS.items():
        sel = np.flatnonzero(fam == f)
        if len(sel):
            out[sel] = draw(rng, codes, w, len(sel))
    out[place == "P1"] = "PR0"
    return out


def _urn(la_seed: int, place: np.ndarray, provider: np.ndarray, carer: np.ndarray) -> np.ndarray:
    """URN by placement type (rules 218, 222, 242): fostering services and children's homes have
    "SC" + 6 digits, regional adoption agencies the DfE placeholder XXXXXXX, others none."""
    n = len(place)
    out = np.full(n, None, dtype=object)
    fost = np.isin(place, FOSTER)
    own = (la_seed * 7919) % 900000 + 100000
    agency = (carer * 2654435761) % 40  # independent and other-LA fostering agencies
    fost_urn = np.where(provider == "PR1", own, 500000 + agency * 1013)
    home = np.isin(place, ["K1", "K2", "K3", "S1", "R3"])
    home_urn = 200000 + (carer * 40503) % 300000
    num = np.where(fost, fost_urn, home_urn)
    text = np.char.add("SC", num.astype("U6")).astype(object)
    out[fost | home] = text[fost | home]
    out[np.char.startswith(place.astype("U3"), "A")] = "XXXXXXX"
    return out


def _placement_rows(rng: np.random.Generator, P: dict[str, np.ndarray], la_seed: int,
                    home_post: np.ndarray, ls_key: np.ndarray) -> dict[str, np.ndarray]:
    n = len(P["C"])
    pid = np.arange(n, dtype=INT)
    scen, C, D = P["scen"], P["C"], P["D"]
    init = _init_place(rng, P)
    # phase rows: (period, start, place, same carer as before, movable)
    ph = {"p": [pid], "t": [C], "place": [init], "same": [np.zeros(n, bool)]}

    def add(mask: np.ndarray, t: np.ndarray, place: np.ndarray, same: np.ndarray | bool) -> None:
        sel = np.flatnonzero(mask)
        ph["p"].append(pid[sel])
        ph["t"].append(t[sel])
        ph["place"].append(np.asarray(place, dtype=object)[sel] if np.ndim(place) else np.full(len(sel), place, dtype=object))
        ph["same"].append(np.asarray(same)[sel] if np.ndim(same) else np.full(len(sel), same))

    long_term = np.where(init == "U3", "U1", "U4").astype(object)
    # care order cases: long-term match with the same carer; 16+ may move to supported accommodation
    k3 = np.maximum(P["b16"], C + 30) + rng.integers(0, 121, n)
    k3_ok = (k3 < D - 30) & (P["b16"] < D - 60)
    lt = np.where(P["t_c2"] < NA, P["t_c2"], C) + rng.integers(60, 401, n)
    ar = scen == AR
    lt[ar] = P["ceased"][ar] + rng.integers(30, 301, ar.sum())
    fo_k3 = (scen == FO) & k3_ok & (rng.random(n) < 0.25) & np.isin(init, FOSTER)
    lt_ok = np.isin(scen, [FO, AR]) & np.isin(init, ["U6", "U3"]) & (lt < D - 30) & (rng.random(n) < 0.6)
    lt_ok &= ~(fo_k3 & (k3 <= lt))
    add(lt_ok, lt, long_term, True)
    add(fo_k3, k3, "K3", False)
    re_k3 = (scen == RE) & k3_ok & (init != "K3") & (rng.random(n) < 0.6)
    add(re_k3, k3, "K3", False)
    ua_k3 = (scen == UA) & k3_ok & (init != "K3") & (rng.random(n) < 0.5)
    add(ua_k3, k3, "K3", False)
    # an unregistered ("other") placement for a few residential children (Z1 / Z11-Z14)
    z_start = C + rng.integers(30, 201, n)
    z_end = z_start + rng.integers(30, 151, n)
    z_limit = np.where(re_k3, k3, D) - 30
    z_ok = (scen == RE) & (z_end < z_limit) & (rng.random(n) < 0.06)
    add(z_ok, z_start, draw(rng, ["Z11", "Z12", "Z13", "Z14"], [25, 35, 30, 10], n), False)
    add(z_ok, z_end, "K2", False)
    # adoption: placed for adoption with the current foster carer (A5) or new adopters (A6)
    a_same = np.isin(init, ["U5", "U2"]) | ((init == "U6") & (rng.random(n) < 0.2))
    ad = (scen == AD) & (P["a_start"] < D)
    add(ad, P["a_start"], np.where(a_same, "A5", "A6"), a_same)
    # placed with parents
    pp = (scen == PP) & (P["p1_start"] < NA)
    add(pp, P["p1_start"], "P1", False)

    p = np.concatenate(ph["p"])
    t = np.concatenate(ph["t"])
    place = np.concatenate(ph["place"])
    same = np.concatenate(ph["same"])
    order = np.argsort(p * BIG + t, kind="stable")
    p, t, place, same = p[order], t[order], place[order], same[order]
    # phase end = next phase start (same period) or D
    nxt = np.r_[t[1:], NA]
    last = group_last(p)
    end = np.where(last, D[p], nxt)

    # random moves (new carer, same type) inside movable phases
    rate = np.array([0.6, 0.35, 0.2, 0.3, 0.6, 0.0, 0.5, 0.2])[scen[p]]
    movable = np.isin(place, FOSTER) | np.isin(place, ["K2", "K3"])
    span = end - t - 44
    k = np.where(movable & (span > 0), np.minimum(rng.poisson(rate * np.maximum(span, 0) / 365.0), 4), 0)
    mi = np.repeat(np.arange(len(p)), k)
    mt = t[mi] + 14 + (rng.random(len(mi)) * span[mi]).astype(INT)
    p = np.r_[p, p[mi]]
    tt = np.r_[t, mt]
    place = np.r_[place, place[mi]]
    same = np.r_[same, np.zeros(len(mi), bool)]
    tag = np.r_[np.zeros(len(t), INT), np.ones(len(mi), INT)]
    t = tt
    order = np.lexsort((tag, t, p))
    p, t, place, same, tag = p[order], t[order], place[order], same[order], tag[order]
    key = p * BIG + t
    dup = ~group_first(key)  # a move on the day of a phase change: keep the phase
    p, t, place, same = p[~dup], t[~dup], place[~dup], same[~dup]

    # carers: a new carer per row unless the row keeps the carer of the row before
    nrow = len(p)
    carer_new = np.arange(nrow, dtype=INT) + 1
    src = np.where(same, 0, np.arange(nrow))
    src = np.maximum.accumulate(src)
    carer = carer_new[src]
    provider = _provider(rng, place)
    # same carer: keep the provider unless the placement becomes an adoption placement
    keep = same & ~np.char.startswith(place.astype("U3"), "A")
    provider[keep] = provider[src[keep]]
    urn = _urn(la_seed, place, provider, carer)
    urn[keep] = urn[src[keep]]
    # placement postcodes: most within the area, some further away; with parents = home
    pl_post = _carer_postcodes(carer, 0)
    # a move to a new carer always changes the postcode (435 needs something to differ)
    same_period = ~group_first(p)
    for attempt in range(1, 4):
        clash = same_period & (carer != shift1(carer, -1)) & (pl_post == shift1(pl_post, None))
        if not clash.any():
            break
        redo = np.isin(src, np.flatnonzero(clash))
        pl_post[redo] = _carer_postcodes(carer[redo], attempt)
    is_p1 = place == "P1"
    pl_post[is_p1] = home_post[p[is_p1]]
    rows = {"p": p, "t": t, "place": place, "carer": carer, "provider": provider, "urn": urn,
            "pl_post": pl_post}
    return _temporary(rng, rows, D, ls_key)


def _carer_postcodes(carer: np.ndarray, salt: int) -> np.ndarray:
    """A carer's postcode: most within the area (ZZ5-ZZ9), some further away (ZY1-ZY60)."""
    key = carer + salt * 10**7
    far = ((key * 2246822519) >> 7) % 100 < 38
    return np.where(far, postcodes(key, "ZY", (1, 60)), postcodes(key, "ZZ", (5, 9)))


def _temporary(rng: np.random.Generator, r: dict[str, np.ndarray], D: np.ndarray,
               ls_key: np.ndarray) -> dict[str, np.ndarray]:
    """Insert temporary placements (T1-T4) into some foster placements, with a return afterwards to
    the same placement (rule 383): before -P-> temporary -P-> same carer, type and postcode."""
    p, t = r["p"], r["t"]
    last = group_last(p)
    end = np.where(last, D[p], np.r_[t[1:], NA])
    length = end - t
    cand = np.isin(r["place"], FOSTER) & (length >= 120)
    prob = np.minimum(0.6, 0.15 * length / 365.0)
    pick = cand & (rng.random(len(p)) < prob)
    idx = np.flatnonzero(pick)
    n = len(idx)
    if n == 0:
        return r
    kind = draw(rng, ["T3", "T1", "T2", "T4"], [50, 20, 15, 15], n)
    tlen = np.select([kind == "T3", kind == "T1", kind == "T2"],
                     [rng.integers(2, 15, n), rng.integers(1, 22, n), rng.integers(2, 11, n)],
                     default=rng.integers(1, 8, n)).astype(INT)
    room = length[idx] - 60 - tlen
    t0 = t[idx] + 30 + (rng.random(n) * np.maximum(room, 0)).astype(INT)
    t1 = t0 + tlen
    ok = room > 0
    # no change of legal status may fall inside [t0, t1] (383 looks at three episodes in a row)
    k0 = p[idx] * BIG + t0
    j = np.searchsorted(ls_key, k0, side="left")
    nxt = np.where(j < len(ls_key), ls_key[np.minimum(j, len(ls_key) - 1)], NA * BIG)
    ok &= ~((nxt // BIG == p[idx]) & (nxt % BIG <= t1))
    # at most two T3 placements per child (377)
    idx, kind, t0, t1 = idx[ok], kind[ok], t0[ok], t1[ok]
    is3 = kind == "T3"
    c3 = np.zeros(len(idx), INT)
    if is3.any():
        pp = p[idx][is3]
        _, first, counts = np.unique(pp, return_index=True, return_counts=True)
        rank = np.arange(len(pp)) - np.repeat(first, counts)
        c3[np.flatnonzero(is3)] = rank
    keep = c3 < 2
    idx, kind, t0, t1 = idx[keep], kind[keep], t0[keep], t1[keep]
    n = len(idx)
    if n == 0:
        return r
    new_carer = r["carer"].max() + 1 + np.arange(n, dtype=INT)
    tmp = {"p": p[idx], "t": t0, "place": kind.astype(object), "carer": new_carer,
           "provider": np.full(n, None, dtype=object), "urn": np.full(n, None, dtype=object),
           "pl_post": postcodes(new_carer, "ZZ", (5, 9))}
    back = {k: v[idx] for k, v in r.items()}
    back["t"] = t1
    out = {k: np.concatenate([r[k], tmp[k], back[k]]) for k in r}
    order = np.argsort(out["p"] * BIG + out["t"], kind="stable")
    return {k: v[order] for k, v in out.items()}


# ================================================================================= episodes
def build_episodes(rng: np.random.Generator, P: dict[str, np.ndarray], la_seed: int,
                   home_post: np.ndarray) -> dict[str, np.ndarray]:
    """Overlay the legal-status and placement partitions of each period into episodes."""
    lp, lt, lls = _ls_rows(P)
    ls_key = lp * BIG + lt
    r = _placement_rows(rng, P, la_seed, home_post, ls_key)
    pl_key = r["p"] * BIG + r["t"]
    keys = np.unique(np.r_[ls_key, pl_key])
    pid = keys // BIG
    start = keys % BIG
    li = np.searchsorted(ls_key, keys, side="right") - 1
    pi = np.searchsorted(pl_key, keys, side="right") - 1
    first = group_first(pid)
    last = group_last(pid)
    end = np.where(last, P["D"][pid], np.r_[start[1:], NA])
    ls = lls[li]
    place = r["place"][pi]
    carer = r["carer"][pi]
    prev = np.maximum(np.arange(len(keys)) - 1, 0)
    ls_ch = ls != ls[prev]
    pl_ch = pi != pi[prev]
    carer_ch = carer != carer[prev]
    rne = np.select([ls_ch & ~pl_ch, ~ls_ch & pl_ch & carer_ch, ~ls_ch & pl_ch & ~carer_ch,
                     ls_ch & pl_ch & carer_ch, ls_ch & pl_ch & ~carer_ch], ["L", "P", "T", "B", "U"],
                    default="?").astype(object)
    rne[first] = "S"
    # the reason the period ended, fitted to the final placement (390, 516; E17 is for carers)
    rec_final = P["rec"][pid].copy()
    foster_final = np.isin(place, FOSTER)
    rec_final = np.where(np.isin(rec_final, ["E45", "E46"]) & ~foster_final,
                         np.where(rec_final == "E45", "E47", "E48"), rec_final)
    rec_final = np.where((rec_final == "E17") & ~foster_final, "E8", rec_final)
    rec = np.where(last, rec_final, "X1").astype(object)
    # keep the period's final reason in step (leaver status depends on it)
    P["rec"][pid[last]] = rec_final[last]
    # reason for placement change, on the episode that ends (225/226)
    nxt = np.minimum(np.arange(len(keys)) + 1, max(len(keys) - 1, 0))
    next_rne = np.where(last, "", rne[nxt])
    temp = np.isin(place, TEMPORARY)
    needs = (~last) & np.isin(next_rne, ["P", "B", "T", "U"]) & ~temp & ~temp[nxt]
    reason = np.full(len(keys), None, dtype=object)
    k = int(needs.sum())
    reason[needs] = draw(rng, PLACE_REASONS, PLACE_REASON_WEIGHTS, k)
    reason[needs & np.isin(next_rne, ["T", "U"])] = "PLACE"
    reason[needs & (np.char.startswith(place[nxt].astype("U3"), "A") | (place[nxt] == "P1"))] = "CARPL"
    return {"pid": pid, "start": start, "end": end, "ls": ls, "place": place, "carer": carer,
            "provider": r["provider"][pi], "urn": r["urn"][pi], "pl_post": r["pl_post"][pi],
            "rne": rne, "rec": rec, "reason": reason}


# ============================================================================== short breaks
def short_breaks(rng: np.random.Generator, n: int, w0: int, e1: int, ends: list[int]) -> dict[str, np.ndarray]:
    """Children on an agreed series of short breaks (V3): every break is its own period of care."""
    dob = e1 - rng.integers(int(6 * 365), int(16 * 365), n)
    kmax = 40
    gaps = rng.integers(30, 91, (n, kmax))
    lens = rng.integers(1, 6, (n, kmax))
    first = w0 - rng.integers(0, 90, n)
    starts = np.empty((n, kmax), INT)
    s = first.copy()
    for j in range(kmax):  # break number j (<= 40), vectorised over children
        starts[:, j] = s
        s = s + lens[:, j] + gaps[:, j]
    endd = starts + lens
    ok = (endd <= e1 + 200)
    for e in ends:  # a break never spans 31 March
        ok &= ~((starts <= e) & (endd > e))
    child = np.broadcast_to(np.arange(n)[:, None], (n, kmax))[ok]
    return {"child": child, "start": starts[ok], "end": endd[ok], "dob": dob}


# ================================================================================== extras
def reviews(rng: np.random.Generator, cal: Calendar, C: np.ndarray, D: np.ndarray) -> dict[str, np.ndarray]:
    """Statutory reviews: within 20 working days, 3 months later, then every 6 months."""
    n = len(C)
    k = 40
    first = cal.after(C, 20)
    second = first + 91
    offs = np.r_[0, np.arange(k - 1) * 182]
    dates = second[:, None] + offs[None, :] + rng.integers(-14, 15, (n, k))
    dates[:, 0] = first
    dates = cal.on_or_before(dates.ravel()).reshape(n, k)
    ok = (dates > C[:, None]) & (dates < D[:, None])
    per = np.broadcast_to(np.arange(n)[:, None], (n, k))[ok]
    return {"per": per, "date": dates[ok]}


def missing(rng: np.random.Generator, C: np.ndarray, D: np.ndarray, dob: np.ndarray, eligible: np.ndarray,
            ends: list[int], e1: int) -> dict[str, np.ndarray]:
    """Missing / away-from-placement incidents, strictly inside the period, not across 31 March."""
    n = len(C)
    lo = np.maximum(C, add_years(dob, 11)) + 3
    hi = np.minimum(D, e1 + 200) - 5
    span = hi - lo
    lam = np.where(eligible & (span > 0) & (rng.random(n) < 0.18), 2.5 * span / 365.0, 0)
    k = np.minimum(rng.poisson(lam), 25)
    per = np.repeat(np.arange(n), k)
    start = lo[per] + (rng.random(len(per)) * span[per]).astype(INT)
    length = draw(rng, [0, 1, 2, 3, 5], [45, 30, 12, 8, 5], len(per)).astype(INT)
    order = np.lexsort((start, per))
    per, start, length = per[order], start[order], length[order]
    endd = start + length
    # no overlaps: each incident starts on or after the previous one's end (574)
    same = ~group_first(per)
    prev_end = shift1(endd, 0)
    clash = same & (start < prev_end)
    ok = ~clash & (endd < hi[per])
    for e in ends:
        ok &= ~((start <= e) & (endd > e))
    kind = draw(rng, ["M", "A"], [60, 40], len(per))
    return {"per": per[ok], "start": start[ok], "end": endd[ok], "kind": kind[ok]}


def sw_chain(rng: np.random.Generator, first: np.ndarray, window_from: np.ndarray, until: int,
             n_workers: int) -> dict[str, np.ndarray]:
    """Social worker episodes from first contact onwards, back to back, each 2-15 months."""
    n = len(first)
    t0 = np.maximum(first, window_from - rng.integers(0, 400, n))
    is_first = t0 == first
    kmax = 16
    lens = rng.integers(60, 451, (n, kmax))
    starts = np.empty((n, kmax), INT)
    s = t0.copy()
    for j in range(kmax):  # social worker number j (<= 16), vectorised over children
        starts[:, j] = s
        s = s + lens[:, j]
    ends = starts + lens
    ok = starts <= until
    worker = rng.integers(0, n_workers, (n, kmax))
    bump = np.r_["1", np.zeros((n, 1), INT), (worker[:, 1:] == worker[:, :-1]).astype(INT)]
    worker = (worker + bump) % n_workers
    reason = draw(rng, ["MANAGE", "LEFTRL", "ORGRST", "ABSENC", "CHCHAN", "PCCHAN", "TSPROC", "OTHERS"],
                  [25, 30, 10, 5, 8, 5, 12, 5], n * kmax).reshape(n, kmax)
    reason[:, 0] = np.where(is_first, "FCONTA", reason[:, 0])
    per = np.broadcast_to(np.arange(n)[:, None], (n, kmax))[ok]
    return {"per": per, "start": starts[ok], "end": ends[ok], "worker": worker[ok], "reason": reason[ok]}
