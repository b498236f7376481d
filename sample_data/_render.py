"""Views of the timelines as canonical tables for one collection year (CIN census and SSDA903).

A return for year Y holds what was known on 31 March Y and relevant to 1 April Y-1 .. 31 March Y:
later dates are not yet known (an end after 31 March is blank, an item that starts later is left
out), items that finished before 1 April are left out where DfE rules say so (assessments, S47
enquiries, plans and reviews that ended in an earlier year). Codes that changed between years are
written as that year had them (CIN GenderCurrent/Sex, 903 sex 1/2 -> M/F, H5 -> K3, Z1 -> Z11-Z14).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from csc_returns.returns.spec import Spec
from csc_returns.sample_data._cin import FACTOR_CODES, CinEpisodes
from csc_returns.sample_data._common import INT, NA, add_years, day, draw, to_dt64
from csc_returns.sample_data._lac import Lac

FACTOR_CODES_PA = pa.array(list(FACTOR_CODES), type=pa.large_string())
REC_TO_RC = {"E11": "RC1", "E12": "RC1", "E45": "RC4", "E46": "RC4", "E47": "RC4", "E48": "RC4",
             "E41": "RC3", "E3": "RC5", "E7": "RC6", "E2": "RC2"}


def period(year: int) -> tuple[int, int]:
    return day(f"{year - 1}-04-01"), day(f"{year}-03-31")


# ------------------------------------------------------------------------------------ frames
def frame(spec: Spec, table: str, data: dict[str, np.ndarray], n: int,
          keys: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """A canonical table: _row, _source, surrogate keys, the year's fields, the child id column."""
    t = spec.tables[table]
    out: dict[str, object] = {
        "_row": pd.Series(np.arange(1, n + 1, dtype=np.int64)),
        "_source": _strings(None, n),
    }
    for k, v in (keys or {}).items():
        out[k] = pd.Series(pd.array(np.asarray(v, dtype=np.int64), dtype="Int64"))
    for f in t.fields:
        v = data.get(f.name)
        if f.type == "date":
            col = pd.Series(to_dt64(np.full(n, NA, INT) if v is None else v), dtype="datetime64[ns]")
        elif f.type in ("bool", "int"):
            col = _masked(v, n, f.type)
        else:
            col = _strings(v, n)
        out[f.name] = col
    if t.child_field not in out:
        out[t.child_field] = _strings(data.get(t.child_field), n)
    return pd.DataFrame(out)


def _masked(v: np.ndarray | None, n: int, kind: str) -> pd.Series:
    """bool -> "boolean", int -> "Int64"; None in an object array becomes NA."""
    if v is None:
        v = np.full(n, None, dtype=object)
    v = np.asarray(v)
    if v.dtype == object:
        mask = np.array([x is None for x in v], dtype=bool) if n < 1000 else pd.isna(pd.Series(v)).to_numpy()
        filled = np.where(mask, 0, v)
    else:
        mask = np.zeros(n, dtype=bool)
        filled = v
    if kind == "bool":
        return pd.Series(pd.arrays.BooleanArray(filled.astype(bool), mask))
    return pd.Series(pd.arrays.IntegerArray(filled.astype(np.int64), mask))


class Coded:
    """A string column given as positions into a dictionary of values (built once, taken fast)."""

    def __init__(self, values: pa.Array, idx: np.ndarray) -> None:
        self.values = values
        self.idx = np.asarray(idx, dtype=np.int64)

    def __getitem__(self, sel: np.ndarray) -> "Coded":
        return Coded(self.values, self.idx[sel])

    def __len__(self) -> int:
        return len(self.idx)


def coded(values: np.ndarray, idx: np.ndarray) -> Coded:
    return Coded(pa.array(np.asarray(values, dtype=object), type=pa.large_string()), idx)


def _strings(v: np.ndarray | Coded | None, n: int) -> pd.Series:
    """An object array of str/None as a pandas "string" column (built through Arrow: fast)."""
    if v is None:
        return pd.Series(pd.arrays.ArrowStringArray(pa.nulls(n, pa.large_string())))
    if isinstance(v, Coded):
        return pd.Series(pd.arrays.ArrowStringArray(v.values.take(pa.array(v.idx))))
    codes, uniques = pd.factorize(np.asarray(v, dtype=object), use_na_sentinel=True)
    dictionary = pa.array(np.asarray(uniques, dtype=object), type=pa.large_string())
    arr = dictionary.take(pa.array(codes, mask=codes < 0))
    return pd.Series(pd.arrays.ArrowStringArray(arr))


def _opt(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Object array with None where not present."""
    out = np.asarray(values, dtype=object).copy()
    out[~present] = None
    return out


def _rank(selected: np.ndarray, size: int) -> np.ndarray:
    """Map global indices -> 0..k-1 in the given order (-1 for indices not selected)."""
    r = np.full(size, -1, dtype=INT)
    r[selected] = np.arange(len(selected), dtype=INT)
    return r


def has_upn(dob: np.ndarray, year: int) -> np.ndarray:
    """A UPN is held from school entry: born on or before 31 August five years before the census year."""
    return dob <= day(f"{year - 5}-08-31")


# ================================================================================== CIN census
def cin_tables(spec: Spec, persons: dict[str, np.ndarray], disab: dict[str, np.ndarray],
               cin: CinEpisodes, la: str) -> dict[str, pd.DataFrame]:
    year = spec.year
    S, E = period(year)
    n_people = len(persons["id"])
    ep_ok = persons["cin_sel"][cin.child] & (cin.referral <= E) & (cin.closure >= S)
    ep_idx = np.flatnonzero(ep_ok)
    # children in LAchildID order, episodes in referral order
    child_of = cin.child[ep_idx]
    people = np.unique(child_of)
    people = people[np.argsort(persons["idnum"][people], kind="stable")]
    prank = _rank(people, n_people)
    ep_idx = ep_idx[np.lexsort((cin.referral[ep_idx], prank[cin.child[ep_idx]]))]
    erank = _rank(ep_idx, len(cin.referral))
    ep_child = prank[cin.child[ep_idx]]
    cid = persons["id_pa"][people]  # LAchildID by child rank

    # --- Child
    dob = persons["dob"][people]
    born = dob <= E
    male = persons["male"][people]
    nfa_only = np.ones(len(people), bool)
    np.logical_and.at(nfa_only, ep_child, cin.nfa[ep_idx])
    school = has_upn(dob, year) & born
    uasc = persons["uasc"][people]
    un5 = persons["un5"][people] & school & ~uasc
    use_upn = school & ~uasc & ~un5 & ~(nfa_only & persons["upn_blank_nfa"][people])
    upn_unknown = np.select([uasc, un5, ~born, school & ~use_upn, nfa_only], ["UN2", "UN5", "UN1", "UN7", "UN7"],
                            default="UN1").astype(object)
    upn_unknown[use_upn] = None
    child = {
        "LAchildID": cid,
        "UPN": _opt(persons["upn"][people], use_upn),
        "UPNunknown": upn_unknown,
        "PersonBirthDate": np.where(born, dob, NA),
        "ExpectedPersonBirthDate": np.where(born, NA, dob),
        "Ethnicity": persons["eth"][people],
    }
    if "Sex" in spec.tables["Child"].field_names:
        child["Sex"] = np.where(~born, "U", np.where(male, "M", "F")).astype(object)
    if "GenderCurrent" in spec.tables["Child"].field_names:
        child["GenderCurrent"] = np.where(~born, "0", np.where(male, "1", "2")).astype(object)
    n_child = len(people)
    ckey = np.arange(1, n_child + 1)
    tables = {"Child": frame(spec, "Child", child, n_child, {"_child": ckey})}

    # --- Disabilities (born children only)
    d_ok = (prank[disab["person"]] >= 0) & born[np.maximum(prank[disab["person"]], 0)]
    d_idx = np.flatnonzero(d_ok)
    d_idx = d_idx[np.argsort(prank[disab["person"][d_idx]], kind="stable")]
    dc = prank[disab["person"][d_idx]]
    tables["Disabilities"] = frame(spec, "Disabilities", {"Disability": disab["code"][d_idx],
                                                          "LAchildID": cid[dc]},
                                   len(d_idx), {"_child": dc + 1})

    # --- CINdetails
    closure = cin.closure[ep_idx]
    closed = closure <= E
    det = {
        "CINreferralDate": cin.referral[ep_idx],
        "ReferralSource": cin.source[ep_idx],
        "PrimaryNeedCode": cin.need[ep_idx],
        "CINclosureDate": np.where(closed, closure, NA),
        "ReasonForClosure": _opt(cin.reason[ep_idx], closed),
        "ReferralNFA": cin.nfa[ep_idx],
        "LAchildID": cid[ep_child],
    }
    n_ep = len(ep_idx)
    ekey = np.arange(1, n_ep + 1)
    tables["CINdetails"] = frame(spec, "CINdetails", det, n_ep, {"_child": ep_child + 1, "_episode": ekey})

    def sub(rows: dict[str, np.ndarray], keep: np.ndarray, sort_by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = np.flatnonzero(keep & (erank[rows["ep"]] >= 0))
        idx = idx[np.lexsort((sort_by[idx], erank[rows["ep"][idx]]))]
        return idx, erank[rows["ep"][idx]]

    # --- Assessments (+ factors)
    a = cin.asm
    a_auth = np.where(a["auth"] <= E, a["auth"], NA)
    a_keep = (a["start"] <= E) & ((a_auth >= NA) | (a_auth >= S))
    ai, ae = sub(a, a_keep, a["start"])
    akey = np.arange(1, len(ai) + 1)
    tables["Assessments"] = frame(spec, "Assessments", {
        "AssessmentActualStartDate": a["start"][ai], "AssessmentAuthorisationDate": a_auth[ai],
        "LAchildID": cid[ep_child[ae]]}, len(ai),
        {"_child": ep_child[ae] + 1, "_episode": ae + 1, "_assessment": akey})
    arank = _rank(a["id"][ai], int(a["id"].max()) + 1 if len(a["id"]) else 0)
    f = cin.factors
    f_ok = np.zeros(len(f["asm"]), bool)
    if len(f["asm"]):
        fr = arank[f["asm"]]
        f_ok = fr >= 0
        f_ok[f_ok] = a_auth[ai][fr[f_ok]] < NA
    fi = np.flatnonzero(f_ok)
    fi = fi[np.argsort(arank[f["asm"][fi]], kind="stable")]
    fa = arank[f["asm"][fi]]
    tables["AssessmentFactors"] = frame(spec, "AssessmentFactors", {
        "AssessmentFactors": Coded(FACTOR_CODES_PA, f["code"][fi]), "LAchildID": cid[ep_child[ae[fa]]]}, len(fi),
        {"_child": ep_child[ae[fa]] + 1, "_episode": ae[fa] + 1, "_assessment": fa + 1})

    # --- CIN plans
    p = cin.plans
    p_end = np.where(p["end"] <= E, p["end"], NA)
    pi, pe = sub(p, (p["start"] <= E) & ((p_end >= NA) | (p_end >= S)), p["start"])
    tables["CINPlanDates"] = frame(spec, "CINPlanDates", {
        "CINPlanStartDate": p["start"][pi], "CINPlanEndDate": p_end[pi],
        "LAchildID": cid[ep_child[pe]]}, len(pi),
        {"_child": ep_child[pe] + 1, "_episode": pe + 1, "_plan": np.arange(1, len(pi) + 1)})

    # --- Section 47
    s = cin.s47
    icpc = np.where(s["icpc"] <= E, s["icpc"], NA)
    s_keep = (s["start"] <= E) & (((icpc < NA) & (icpc >= S)) | ((s["icpc"] > E) & ~s["notreq"]) |
                                  (s["notreq"] & (s["start"] >= S)))
    si, se = sub(s, s_keep, s["start"])
    tables["Section47"] = frame(spec, "Section47", {
        "S47ActualStartDate": s["start"][si], "InitialCPCtarget": s["target"][si],
        "DateOfInitialCPC": icpc[si], "ICPCnotRequired": s["notreq"][si],
        "LAchildID": cid[ep_child[se]]}, len(si),
        {"_child": ep_child[se] + 1, "_episode": se + 1, "_s47": np.arange(1, len(si) + 1)})

    # --- Child protection plans (+ reviews)
    c = cin.cpp
    c_end = np.where(c["end"] <= E, c["end"], NA)
    ci, ce = sub(c, (c["start"] <= E) & ((c_end >= NA) | (c_end >= S)), c["start"])
    tables["ChildProtectionPlans"] = frame(spec, "ChildProtectionPlans", {
        "CPPstartDate": c["start"][ci], "CPPendDate": c_end[ci], "InitialCategoryOfAbuse": c["init"][ci],
        "LatestCategoryOfAbuse": c["latest"][ci], "NumberOfPreviousCPP": c["nprev"][ci],
        "LAchildID": cid[ep_child[ce]]}, len(ci),
        {"_child": ep_child[ce] + 1, "_episode": ce + 1, "_cpp": np.arange(1, len(ci) + 1)})
    crank = _rank(c["id"][ci], int(c["id"].max()) + 1 if len(c["id"]) else 0)
    r = cin.reviews
    r_ok = np.zeros(len(r["cpp"]), bool)
    if len(r["cpp"]):
        r_ok = (crank[r["cpp"]] >= 0) & (r["date"] >= S) & (r["date"] <= E)
    ri = np.flatnonzero(r_ok)
    ri = ri[np.lexsort((r["date"][ri], crank[r["cpp"][ri]]))]
    rc = crank[r["cpp"][ri]]
    tables["Reviews"] = frame(spec, "Reviews", {"CPPreviewDate": r["date"][ri],
                                                "LAchildID": cid[ep_child[ce[rc]]]}, len(ri),
                              {"_child": ep_child[ce[rc]] + 1, "_episode": ce[rc] + 1, "_cpp": rc + 1})
    if "PreProceedingsandFGDM" in spec.tables:  # 2026-27: optional, left blank (rule 9000Q)
        tables["PreProceedingsandFGDM"] = frame(spec, "PreProceedingsandFGDM", {}, 0,
                                                {"_child": [], "_episode": [], "_pp": []})

    # --- Header
    tables["Header"] = frame(spec, "Header", {
        "Collection": np.array(["CIN"], dtype=object), "Year": np.array([year]), "ReferenceDate": np.array([E]),
        "SourceLevel": np.array(["L"], dtype=object), "LEA": np.array([la], dtype=object),
        "SoftwareCode": np.array(["csc-returns synthetic data"], dtype=object),
        "Release": np.array(["1"], dtype=object), "SerialNo": np.array(["001"], dtype=object),
        "DateTime": np.array([f"{year}-05-01T09:00:00"], dtype=object)}, 1)
    order = ["Header", "Child", "Disabilities", "CINdetails", "Assessments", "AssessmentFactors",
             "CINPlanDates", "Section47", "ChildProtectionPlans", "Reviews", "PreProceedingsandFGDM"]
    return {k: tables[k] for k in order if k in tables and k in spec.tables}


# ==================================================================================== SSDA903
def render_place(place: np.ndarray, year: int) -> np.ndarray:
    out = place.copy()
    if year <= 2024:
        out[out == "K3"] = "H5"
    if year <= 2025:
        out[np.isin(out, ["Z11", "Z12", "Z13", "Z14"])] = "Z1"
    return out


def cla12(child: np.ndarray, decom: np.ndarray, dec: np.ndarray, rne: np.ndarray, rec: np.ndarray,
          ls: np.ndarray, cs: int, ce: int, n_children: int) -> np.ndarray:
    """Looked after continuously for 12 months at 31 March (the C8 definition of the rule logic)."""
    open_ = dec >= NA
    touches = (decom <= ce) & (open_ | (dec >= cs))
    brk = ((rne == "S") & (decom > cs) & (decom <= ce)) | (
        (rec != "X1") & ~open_ & (dec >= cs) & (dec < ce)) | (np.isin(ls, ["V3", "V4"]) & touches)
    any_touch = np.zeros(n_children, bool)
    any_brk = np.zeros(n_children, bool)
    np.logical_or.at(any_touch, child, touches)
    np.logical_or.at(any_brk, child, brk)
    return any_touch & ~any_brk


def ssda903_tables(spec: Spec, persons: dict[str, np.ndarray], lac: Lac, rng: np.random.Generator
                   ) -> dict[str, pd.DataFrame]:
    year = spec.year
    CS, CE = period(year)
    per, ep = lac.per, lac.ep
    ids = persons["id_pa"]
    n_people = len(ids)
    e_person = per["person"][ep["pid"]]
    e_ok = (ep["start"] <= CE) & (ep["end"] >= CS)
    ei = np.flatnonzero(e_ok)
    num = persons["idnum"]
    ei = ei[np.lexsort((ep["start"][ei], num[e_person[ei]]))]
    dec_known = ep["end"][ei] <= CE
    with_eps = np.unique(e_person[ei])

    # care leavers around their 17th-21st birthdays (OC3), not looked after on the birthday
    dob_p = per["dob"]
    oc3_per = np.zeros(len(dob_p), bool)
    oc3_age = np.zeros(len(dob_p), INT)
    for k in range(17, 22):
        b = add_years(dob_p, k)
        hit = per["leaver"] & (b >= CS) & (b <= CE) & (per["D"] < b)
        oc3_per |= hit
        oc3_age = np.where(hit, k, oc3_age)
    oc3_people = np.unique(per["person"][oc3_per])
    header_people = np.union1d(with_eps, oc3_people)
    header_people = header_people[np.argsort(num[header_people], kind="stable")]
    hrank = _rank(header_people, n_people)
    dob = persons["dob"]
    male = persons["male"]
    sex_codes = ("1", "2") if year <= 2024 else ("M", "F")
    sex = np.where(male, sex_codes[0], sex_codes[1]).astype(object)

    # --- Episodes
    e_child = ids[e_person[ei]]
    place = render_place(ep["place"][ei], year)
    episodes = {
        "CHILD": e_child, "DECOM": ep["start"][ei], "RNE": ep["rne"][ei], "LS": ep["ls"][ei],
        "CIN": per["need"][ep["pid"][ei]], "PLACE": place, "PLACE_PROVIDER": ep["provider"][ei],
        "DEC": np.where(dec_known, ep["end"][ei], NA), "REC": _opt(ep["rec"][ei], dec_known),
        "REASON_PLACE_CHANGE": _opt(ep["reason"][ei], dec_known),
        "HOME_POST": persons["home_post"][e_person[ei]], "PL_POST": ep["pl_post"][ei], "URN": ep["urn"][ei],
    }
    v34 = np.isin(ep["ls"][ei], ["V3", "V4"])
    episodes["HOME_POST"] = _opt(episodes["HOME_POST"], ~v34)
    tables = {"Episodes": frame(spec, "Episodes", episodes, len(ei))}

    # --- Header
    hp = header_people
    has_eps_h = np.isin(hp, with_eps)
    non_v = np.zeros(n_people, bool)
    np.logical_or.at(non_v, e_person[ei], ~v34)
    girl_in_care = ~male[hp] & non_v[hp]
    mc = persons["mc_dob"][hp]
    mother = np.where(girl_in_care, mc <= CE, False)
    upn = np.where(has_upn(dob[hp], year), persons["upn"][hp], "UN1").astype(object)
    upn[persons["un5"][hp] & has_upn(dob[hp], year)] = "UN5"
    upn[persons["uasc"][hp]] = "UN2"
    header = {"CHILD": ids[hp], "SEX": sex[hp], "DOB": dob[hp], "ETHNIC": persons["eth"][hp], "UPN": upn,
              "MOTHER": np.where(girl_in_care, mother, None), "MC_DOB": np.where(mother, mc, NA)}
    tables["Header"] = frame(spec, "Header", header, len(hp))

    # --- UASC (children with episodes, until their 18th birthday)
    # DUC: the 18th birthday while still UASC (205B); the end of care once that is known (205A)
    ua = hp[persons["uasc"][hp] & has_eps_h & (add_years(dob[hp], 18) >= CS)]
    b18 = add_years(dob[ua], 18)
    care_end = persons["care_end"][ua]
    duc = np.where(care_end <= CE, np.minimum(b18, care_end), b18)
    tables["UASC"] = frame(spec, "UASC", {"CHILD": ids[ua], "SEX": sex[ua], "DOB": dob[ua], "DUC": duc}, len(ua))

    # --- Reviews
    rv = lac.reviews
    rp = per["person"][rv["per"]]
    ri = np.flatnonzero((rv["date"] >= CS) & (rv["date"] <= CE))
    ri = ri[np.lexsort((rv["date"][ri], num[rp[ri]]))]
    rchild = rp[ri]
    under4 = rv["date"][ri] < add_years(dob[rchild], 4)
    code = draw(rng, ["PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7"], [45, 10, 5, 5, 10, 15, 10], len(ri))
    code = np.where(under4, "PN0", code).astype(object)
    tables["Reviews"] = frame(spec, "Reviews", {"CHILD": ids[rchild], "DOB": dob[rchild], "REVIEW": rv["date"][ri],
                                                "REVIEW_CODE": code}, len(ri))

    # --- Missing
    ms = lac.missing
    mp = per["person"][ms["per"]]
    mi = np.flatnonzero((ms["start"] >= CS) & (ms["start"] <= CE))
    mi = mi[np.lexsort((ms["start"][mi], num[mp[mi]]))]
    tables["Missing"] = frame(spec, "Missing", {"CHILD": ids[mp[mi]], "DOB": dob[mp[mi]], "MISSING": ms["kind"][mi],
                                                "MIS_START": ms["start"][mi],
                                                "MIS_END": np.where(ms["end"][mi] <= CE, ms["end"][mi], NA)}, len(mi))

    # --- OC2: children looked after for 12 months at 31 March (C8)
    is12 = cla12(e_person[ei], ep["start"][ei], np.where(dec_known, ep["end"][ei], NA), ep["rne"][ei],
                 np.where(dec_known, ep["rec"][ei], ""), ep["ls"][ei], CS, CE, n_people)
    oc = hp[is12[hp]]
    tables["OC2"] = frame(spec, "OC2", _oc2(rng, dob[oc], CS, CE) | {"CHILD": ids[oc], "DOB": dob[oc]}, len(oc))

    # --- OC3
    o_per = np.flatnonzero(oc3_per)
    o_per = o_per[np.argsort(num[per["person"][o_per]], kind="stable")]
    op = per["person"][o_per]
    tables["OC3"] = frame(spec, "OC3", _oc3(rng, oc3_age[o_per]) | {"CHILD": ids[op], "DOB": dob[op]}, len(op))

    # --- AD1 (adopted during the year) and PlacedAdoption (decisions open in the year)
    ad = lac.adoption
    ap = per["person"][ad["per"]]
    pD = per["D"][ad["per"]]
    pC = per["C"][ad["per"]]
    adopted = (ad["adopted"]) & (pD >= CS) & (pD <= CE)
    a1 = np.flatnonzero(adopted)
    a1 = a1[np.argsort(num[ap[a1]], kind="stable")]
    tables["AD1"] = frame(spec, "AD1", {
        "CHILD": ids[ap[a1]], "DOB": dob[ap[a1]], "DATE_INT": ad["decision"][a1], "DATE_MATCH": ad["match"][a1],
        "FOSTER_CARE": ad["foster_care"][a1], "NB_ADOPTR": ad["nb"][a1], "SEX_ADOPTR": ad["sex"][a1],
        "LS_ADOPTR": ad["ls"][a1]}, len(a1))
    ceased = ad["ceased"]
    pr = np.flatnonzero((ad["decision"] <= CE) & ((ceased >= NA) | (ceased >= CS)) & (pC <= CE) & (pD >= CS))
    pr = pr[np.lexsort((ad["decision"][pr], num[ap[pr]]))]
    c_known = ceased[pr] <= CE
    tables["PlacedAdoption"] = frame(spec, "PlacedAdoption", {
        "CHILD": ids[ap[pr]], "DOB": dob[ap[pr]], "DATE_PLACED": ad["decision"][pr],
        "DATE_PLACED_CEASED": np.where(c_known, ceased[pr], NA),
        "REASON_PLACED_CEASED": _opt(ad["reason"][pr], c_known)}, len(pr))

    # --- PrevPerm: children who started to be looked after during the year (630)
    started = e_person[ei][(ep["rne"][ei] == "S") & (ep["start"][ei] >= CS)]
    pp = np.unique(started)
    pp = pp[np.argsort(num[pp], kind="stable")]
    tables["PrevPerm"] = frame(spec, "PrevPerm", {
        "CHILD": ids[pp], "DOB": dob[pp], "PREV_PERM": persons["prev_perm"][pp],
        "LA_PERM": persons["la_perm"][pp], "DATE_PERM": persons["date_perm"][pp]}, len(pp))

    # --- SWEpisodes: children looked after at 31 March (not on short breaks)
    if "SWEpisodes" in spec.tables:
        open_at_end = ~dec_known & ~v34
        lac_end = np.zeros(n_people, bool)
        lac_end[e_person[ei][open_at_end]] = True
        sw = lac.sw
        sp = per["person"][sw["per"]]
        sw_from = day(f"{year - 2}-04-01")  # the social worker reporting period: 2 years
        si = np.flatnonzero(lac_end[sp] & (sw["start"] <= CE) & (sw["end"] >= sw_from))
        si = si[np.lexsort((sw["start"][si], num[sp[si]]))]
        end_known = sw["end"][si] <= CE
        tables["SWEpisodes"] = frame(spec, "SWEpisodes", {
            "CHILD": ids[sp[si]], "DOB": dob[sp[si]],
            "SW_ID": np.char.add("SW", (sw["worker"][si] + 100001).astype("U6")).astype(object),
            "SW_DECOM": sw["start"][si], "SW_DEC": np.where(end_known, sw["end"][si], NA),
            "SW_REASON": sw["reason"][si]}, len(si))

    # --- DoLo (2026-27 on)
    if "DoLo" in spec.tables:
        dl = lac.dolo
        dp = per["person"][ep["pid"][dl["ep"]]] if len(dl["ep"]) else np.array([], dtype=INT)
        di = np.flatnonzero((dl["start"] <= CE) & (dl["end"] >= CS)) if len(dl["ep"]) else np.array([], dtype=INT)
        di = di[np.lexsort((dl["start"][di], num[dp[di]]))] if len(di) else di
        tables["DoLo"] = frame(spec, "DoLo", {
            "CHILD": ids[dp[di]], "DOB": dob[dp[di]], "DOLO_START": dl["start"][di],
            "DOLO_END": np.where(dl["end"][di] <= CE, dl["end"][di], NA)}, len(di))
    return {k: tables[k] for k in spec.tables if k in tables}


def _oc2(rng: np.random.Generator, dob: np.ndarray, cs: int, ce: int) -> dict[str, np.ndarray]:
    """Outcomes of children looked after for 12 months, consistent with rules 157-198 and 542-547."""
    n = len(dob)
    b4, b5, b10, b17 = (add_years(dob, k) for k in (4, 5, 10, 17))
    # 186 + 197B want an SDQ entry, 188 and 189 forbid one outside; a 17th birthday on 1 April
    # counts as "17 at the beginning of the year" (189), as the catalogue reads the DfE message
    sdq_due = (b4 <= ce) & (b17 > cs)
    full_year = (b4 <= cs) & (b17 > ce)  # SDQ1 ("under 4 or over 16") is wrong for these (157)
    scored = sdq_due & (rng.random(n) < 0.78)
    score = np.clip(np.round(rng.normal(14, 6.5, n)), 0, 40).astype(INT)
    reason = np.where(full_year, draw(rng, ["SDQ2", "SDQ3", "SDQ4", "SDQ5"], [25, 15, 40, 20], n),
                      draw(rng, ["SDQ1", "SDQ4"], [70, 30], n)).astype(object)
    under5 = b5 > ce
    ten = b10 <= ce
    older = add_years(dob, 12) <= ce
    misuse = older & (rng.random(n) < 0.05)
    received = misuse & (rng.random(n) < 0.6)
    return {
        "SDQ_SCORE": np.where(scored, score, None),
        "SDQ_REASON": _opt(reason, sdq_due & ~scored),
        "CONVICTED": np.where(ten, rng.random(n) < 0.03, None),
        "HEALTH_CHECK": np.where(under5, rng.random(n) < 0.9, None),
        "IMMUNISATIONS": rng.random(n) < 0.86,
        "TEETH_CHECK": rng.random(n) < 0.8,
        "HEALTH_ASSESSMENT": rng.random(n) < 0.9,
        "SUBSTANCE_MISUSE": misuse,
        "INTERVENTION_RECEIVED": np.where(misuse, received, None),
        "INTERVENTION_OFFERED": np.where(misuse & ~received, rng.random(n) < 0.7, None),
    }


def _oc3(rng: np.random.Generator, age: np.ndarray) -> dict[str, np.ndarray]:
    """Care leavers' contact, activity and accommodation (rules 131-133, 344-347, 3001)."""
    n = len(age)
    touch = draw(rng, ["YES", "NO", "REFU", "NREQ", "RHOM"], [86, 5, 3, 3, 3], n)
    activ = draw(rng, ["F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6"],
                 [6, 1, 25, 3, 4, 1, 12, 3, 8, 30, 7], n)
    accom = draw(rng, ["D1", "E1", "U1", "Z1", "B1", "K1", "T1", "C1", "X2", "S2", "W2", "Y1", "D2", "U2"],
                 [20, 6, 25, 8, 14, 3, 3, 5, 2, 1, 1, 4, 4, 4], n)
    young = age == 17
    # staying put (Z) is not for 17-year-olds (3001), foyers (T) not for under-18s (347)
    accom = np.where(young & np.isin(accom, ["Z1", "T1"]), "D1", accom)
    not_in_touch = np.isin(touch, ["NO", "REFU"])
    activ = np.where(not_in_touch, "G5", activ)
    accom = np.where(not_in_touch, "R1", accom)
    rhom = touch == "RHOM"
    activ = np.where(rhom, "0", activ)
    accom = np.where(rhom, "0", accom)
    return {"IN_TOUCH": touch, "ACTIV": activ.astype(object), "ACCOM": accom.astype(object)}
