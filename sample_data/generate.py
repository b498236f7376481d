"""Synthetic CIN census and SSDA903 returns for one fictional local authority, valid by construction.

    from csc_returns.sample_data.generate import generate
    gs = generate(children=300, year=2026, seed=1)          # canonical tables, 4 returns
    gs.write("out/", manifest=True)                          # XML + CSVs (+ manifest.json)

    python -m csc_returns.sample_data.generate --children 300 --year 2026 --seed 1 --out DIR \
        [--defects all|name,name] [--manifest]

What it models (see sample_data/README.md): children in need on a continuous timeline (referrals,
assessments, S47 enquiries, conferences, CP and CIN plans, closures) and periods of care split into
903 episodes (legal status, placements, moves, temporary placements, adoption, leaving care), then
each return is a view of that timeline for its year. The CIN census for `year` and `year - 1` and
the 903 return for both years therefore agree: every looked-after child is a child in need with the
same ID, and what was open on 31 March last year continues this year. Only synthetic data: no
names, fictional postcodes (areas ZZ and ZY, which do not exist), IDs "SY" + 8 digits.

Defects (`defects=`) are deliberate errors from the DEFECTS registry, each applied to a few seeded
children of the current year's returns and listed in the manifest with the rule codes they should
trigger. Same seed, same arguments: byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lxml import etree

from csc_returns.returns.reference import Reference, reference_for
from csc_returns.returns.spec import resolve
from csc_returns.returns.writers import WriteError, write_903, write_cin, xsd_path
from csc_returns.sample_data import _cin as C
from csc_returns.sample_data._common import (
    INT, NA, Calendar, add_years, child_ids, day, draw, draw_idx, make_upns, postcodes, split_ymd,
    uniform_int,
)
from csc_returns.sample_data._lac import (
    AD, AR, FO, PP, RE, RH, RM, UA, Lac, build_episodes, draw_periods, group_last, missing, reviews,
    short_breaks, sw_chain, take,
)
from csc_returns.sample_data._reference import ofsted_list, postcode_list
from csc_returns.sample_data._render import REC_TO_RC, cin_tables, coded, period, ssda903_tables

CLA_SHARE = 0.20  # looked-after children (903 episodes in the year) per child in the CIN census
SHORT_BREAK_SHARE = 0.03  # of looked-after children: agreed series of short breaks (V3)

ETHNICITY = ["WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN",
             "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT"]
ETHNICITY_WEIGHTS = [66, 0.3, 0.3, 5, 0.7, 3, 1, 1, 3.5, 1.5, 2.5, 1, 2, 1.5, 4, 1.5, 0.3, 3, 0.5, 1.5]
ETHNICITY_UASC = ["OOTH", "BAFR", "AOTH", "BOTH", "WOTH", "MOTH"]
ETHNICITY_UASC_WEIGHTS = [30, 25, 22, 10, 8, 5]
DISABILITY = ["AUT", "LD", "BEH", "COMM", "CON", "MOB", "HAND", "PC", "INC", "HEAR", "VIS", "DDA"]
DISABILITY_WEIGHTS = [30, 20, 15, 10, 6, 5, 4, 3, 2, 2, 2, 1]
LA_PERM_CODES = ["201", "202", "204", "206", "208", "209", "210", "211", "212", "213", "302", "303",
                 "304", "305", "306", "330", "331", "333", "340", "341", "350", "351", "352", "354",
                 "380", "381", "382", "383", "384", "800", "801", "802", "803", "806", "807"]


# ============================================================================== the result
@dataclass
class GeneratedSet:
    """Canonical tables of four returns (CIN and 903, this year and last) and the defect manifest."""

    year: int
    la: str
    seed: int
    cin: dict[str, pd.DataFrame]
    cin_previous: dict[str, pd.DataFrame]
    ssda903: dict[str, pd.DataFrame]
    ssda903_previous: dict[str, pd.DataFrame]
    manifest: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def write(self, out: str | Path, manifest: bool = False) -> dict[str, list[Path]]:
        """Write DIR/cin/, DIR/cin_previous/, DIR/ssda903/, DIR/ssda903_previous/, DIR/reference/
        (the made-up postcodes' LAs and grid references, for `--postcodes`), and manifest.json.

        The CIN files go through write_cin, which checks them against the year's XSD; defects that
        need text no canonical table can hold (a date that is not a date, a missing ID) are applied
        to the written files afterwards.
        """
        out = Path(out)
        y = self.year
        written: dict[str, list[Path]] = {}
        written["cin"] = [_write_cin_checked(self.cin, y, out / "cin" / f"CIN_Census_{y}.xml")]
        written["cin_previous"] = [_write_cin_checked(self.cin_previous, y - 1,
                                                      out / "cin_previous" / f"CIN_Census_{y - 1}.xml")]
        written["ssda903"] = write_903(self.ssda903, resolve("ssda903", y), out / "ssda903")
        written["ssda903_previous"] = write_903(self.ssda903_previous, resolve("ssda903", y - 1),
                                                out / "ssda903_previous")
        for entry in self.manifest:
            if entry["level"] == "file":
                DEFECTS[entry["defect"]].file_fn(out, entry)  # type: ignore[misc]
        written["ssda903"] = [p for p in written["ssda903"] if p.exists()]
        written["reference"] = self._write_reference(out / "reference")
        if manifest:
            path = out / "manifest.json"
            doc = {"year": y, "la": self.la, "seed": self.seed, "stats": self.stats, "defects": self.manifest}
            path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n", encoding="utf-8")
            written["manifest"] = [path]
        return written


    def _write_reference(self, folder: Path) -> list[Path]:
        """What a real LA would take from the ONS Postcode Directory and Ofsted's provider lists,
        made up for this set: `--postcodes reference/postcodes.csv --ofsted reference/ofsted.csv`."""
        folder.mkdir(parents=True, exist_ok=True)
        episodes = pd.concat([self.ssda903["Episodes"], self.ssda903_previous["Episodes"]], ignore_index=True)
        tables = {"postcodes.csv": postcode_list([self.ssda903, self.ssda903_previous], la=self.la),
                  "ofsted.csv": ofsted_list({"Episodes": episodes}, la=self.la)}
        paths = []
        for name, table in tables.items():
            (folder / name).write_text(table.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
            paths.append(folder / name)
        return paths


def reference_of(out: str | Path, la: str = "999") -> Reference:
    """The reference data a written set is validated with (what `make demo` passes): its LA, its
    made-up postcodes (`reference/postcodes.csv`) and Ofsted list (`reference/ofsted.csv`)."""
    out = Path(out)
    ofsted = out / "reference" / "ofsted.csv"
    return reference_for(la, out / "reference" / "postcodes.csv", [ofsted] if ofsted.exists() else None)


def _write_cin_checked(tables: dict[str, pd.DataFrame], year: int, path: Path) -> Path:
    """write_cin, which validates against the committed XSD of the year. 2023-24 (loadable only as
    last year's return) has no committed XSD, so that file is checked against the schema built
    from the same spec by csc_returns.returns.xsd instead; either way an invalid file is an error."""
    spec = resolve("cin", year)
    if xsd_path(year).exists():
        return write_cin(tables, spec, path)
    from csc_returns.returns.xsd import build_xsd

    write_cin(tables, spec, path, validate=False)
    schema = etree.XMLSchema(etree.fromstring(build_xsd(spec)))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    if not schema.validate(etree.parse(str(path), parser)):
        errs = [f"line {e.line}: {e.message}" for e in list(schema.error_log)[:20]]
        path.unlink()
        raise WriteError(f"the CIN XML does not satisfy the {year} schema:\n  " + "\n  ".join(errs))
    return path


# ============================================================================== generation
def generate(children: int, year: int, seed: int = 1, defects: list[str] | None = None,
             la: str = "999") -> GeneratedSet:
    """Canonical tables for the CIN census and the SSDA903 return of `year` and `year - 1`.

    children: number of children in the CIN census for `year` (exact). About 20% of them are
    looked after during the year (DfE: ~70 CLA vs ~330 CIN per 10,000 children at 31 March).
    """
    if children < 10:
        raise ValueError("children must be at least 10 (a CIN census needs children in both years)")
    if not re.fullmatch(r"\d{3}", la):
        raise ValueError("la must be a three-digit DfE LA number")
    resolve("cin", year - 1)  # fail early on an unsupported year
    rng = np.random.default_rng(seed)
    S0, E0 = period(year - 1)
    S1, E1 = period(year)
    ends = [E0, E1]
    cal = Calendar(year - 26, year + 3)
    la_seed = int(la)

    n_lac = int(round(children * CLA_SHARE))
    n_sb = int(round(n_lac * SHORT_BREAK_SHARE))
    n_per = n_lac - n_sb

    # ---------------------------------------------------------------- periods of care (903)
    P = _select_periods(rng, n_per, S1, E1, ends)
    lead = _referral_lead(rng, P["scen"])
    r_cin = np.maximum(P["C"] - lead, P["dob"] - 200)
    b21 = add_years(P["dob"], 21)
    cin_close = np.where(P["leaver"], np.maximum(P["D"], b21 + rng.integers(0, 61, len(lead))), P["D"])
    keep = (r_cin <= E1) & (cin_close >= S0 - 200)
    P = take(P, np.flatnonzero(keep))
    r_cin, cin_close = r_cin[keep], cin_close[keep]
    n_p = len(P["C"])

    sb = short_breaks(rng, n_sb, S0 - 60, E1, ends)

    # ---------------------------------------------------------------- people (LAC, short breaks)
    lac_people = _people(rng, n_p, P["dob"], P["male"], P["scen"] == UA, disabled_share=0.10)
    lac_people["home_post"] = np.where(P["scen"] == UA, None, postcodes(np.arange(n_p) + 1, "ZZ", (1, 4)))
    lac_people["mc_dob"] = _mothers(rng, P, E1)
    lac_people["care_end"] = P["D"]
    sb_people = _people(rng, n_sb, sb["dob"], np.ones(n_sb, bool), np.zeros(n_sb, bool), disabled_share=1.0)
    sb_people["home_post"] = postcodes(np.arange(n_sb) + 10**6, "ZZ", (1, 4))
    sb_people["mc_dob"] = np.full(n_sb, NA, INT)
    sb_people["care_end"] = np.full(n_sb, NA, INT)

    # ---------------------------------------------------------------- 903 timeline
    ep = build_episodes(rng, P, la_seed, lac_people["home_post"])
    lac = _assemble_lac(rng, cal, P, ep, sb, n_p, r_cin, year)
    _prev_perm(rng, lac_people, P, n_p)
    _prev_perm(rng, sb_people, None, n_sb)

    # ---------------------------------------------------------------- CIN timeline
    builder = C.CinBuilder(rng, cal, ends)
    nprev = draw(rng, [0, 1, 2], [82, 14, 4], n_p).astype(INT)
    cla_cp = rng.random(n_p) < np.select([np.isin(P["scen"], [FO, AD, AR, PP]), np.isin(P["scen"], [RE, RH])],
                                         [0.45, 0.15], 0.0)
    reason = pd.Series(P["rec"], dtype=object).map(REC_TO_RC).fillna("RC7").to_numpy(dtype=object)
    lac_close = builder.add(np.arange(n_p, dtype=INT), r_cin, np.full(n_p, C.CLA), P["need"], nprev,
                            care_start=P["C"], care_closure=cin_close, care_reason=reason, cla_cp=cla_cp)
    first_break = np.full(n_sb, NA, INT)
    np.minimum.at(first_break, sb["child"], sb["start"])
    sb_ref = np.maximum(first_break - rng.integers(200, 2001, n_sb), sb["dob"] + 365)
    builder.add(np.arange(n_p, n_p + n_sb, dtype=INT), sb_ref, np.full(n_sb, C.SB), np.full(n_sb, "N2", object),
                np.zeros(n_sb, INT), sb_limit=np.full(n_sb, E1 + 400))
    in_cur = int(((r_cin <= E1) & (lac_close >= S1)).sum()) + int((sb_ref <= E1).sum())
    n_noncla = max(children - in_cur, 0)
    other = _noncla(rng, builder, n_p + n_sb, n_noncla, S0, S1, E1)

    people = _concat_people([lac_people, sb_people, other])
    people["id"], people["idnum"] = child_ids(rng, len(people["dob"]))
    people["id_pa"] = coded(people["id"], np.arange(len(people["id"])))
    people["upn"] = make_upns(rng, len(people["dob"]), split_ymd(people["dob"])[0] + 4)
    disab = _disabilities(rng, people["disabled"])
    cin = builder.finish()

    # ---------------------------------------------------------------- returns
    gs = GeneratedSet(
        year=year, la=la, seed=seed,
        cin=cin_tables(resolve("cin", year), people, disab, cin, la),
        cin_previous=cin_tables(resolve("cin", year - 1), people, disab, cin, la),
        ssda903=ssda903_tables(resolve("ssda903", year), people, lac, np.random.default_rng([seed, year, 903])),
        ssda903_previous=ssda903_tables(resolve("ssda903", year - 1), people, lac,
                                        np.random.default_rng([seed, year - 1, 903])),
    )
    gs.stats = _stats(gs)
    if defects:
        names = list(DEFECTS) if defects == ["all"] or "all" in defects else list(defects)
        unknown = [d for d in names if d not in DEFECTS]
        if unknown:
            raise ValueError(f"unknown defect(s): {', '.join(unknown)}; known: {', '.join(DEFECTS)}")
        used: dict[str, set[str]] = {"cin": set(), "ssda903": set()}
        for name in names:
            gs.manifest.extend(_apply_defect(gs, DEFECTS[name], seed, used))
    return gs


def _select_periods(rng: np.random.Generator, n_per: int, s1: int, e1: int, ends: list[int]) -> dict[str, np.ndarray]:
    """Draw periods of care until `n_per` touch the current year; keep the pool up to that point,
    so last year's children and older care leavers come in their natural proportions."""
    parts: list[dict[str, np.ndarray]] = []
    got = 0
    while got < n_per:
        chunk = draw_periods(rng, max(4 * n_per, 400), e1, ends)
        got += int(((chunk["C"] <= e1) & (chunk["D"] >= s1)).sum())
        parts.append(chunk)
    if not parts:
        return draw_periods(rng, 0, e1, ends)
    P = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    touch = (P["C"] <= e1) & (P["D"] >= s1)
    cut = int(np.searchsorted(np.cumsum(touch), n_per) + 1) if n_per else 0
    return take(P, np.arange(cut))


def _referral_lead(rng: np.random.Generator, scen: np.ndarray) -> np.ndarray:
    """Days from the CIN referral to the start of care."""
    n = len(scen)
    quick = rng.integers(0, 11, n)
    planned = np.where(rng.random(n) < 0.4, rng.integers(0, 31, n), rng.integers(60, 401, n))
    return np.where(np.isin(scen, [RH, RM, UA]), quick, planned).astype(INT)


def _people(rng: np.random.Generator, n: int, dob: np.ndarray, male: np.ndarray, uasc: np.ndarray,
            disabled_share: float) -> dict[str, np.ndarray]:
    eth = draw(rng, ETHNICITY, ETHNICITY_WEIGHTS, n)
    eth = np.where(uasc, draw(rng, ETHNICITY_UASC, ETHNICITY_UASC_WEIGHTS, n), eth)
    return {"dob": np.asarray(dob, INT), "male": np.asarray(male, bool), "eth": eth.astype(object),
            "uasc": np.asarray(uasc, bool), "disabled": rng.random(n) < disabled_share,
            "un5": rng.random(n) < 0.01, "upn_blank_nfa": rng.random(n) < 0.5,
            "cin_sel": np.ones(n, bool)}


def _mothers(rng: np.random.Generator, P: dict[str, np.ndarray], e1: int) -> np.ndarray:
    """Date of birth of a looked-after girl's first child (a few girls aged 15+).

    Care leavers are left out: a mother who is later reported only as a care leaver would need
    MC_DOB blank then (628/612) but unchanged (624), which cannot both hold.
    """
    n = len(P["C"])
    lo = np.maximum(add_years(P["dob"], 15), P["C"] - 300)
    hi = np.minimum(P["D"], e1) - 1
    ok = ~P["male"] & ~(P["leaver"]) & (hi - lo > 30) & (rng.random(n) < 0.07)
    return np.where(ok, uniform_int(rng, lo, np.maximum(hi, lo)), NA).astype(INT)


def _prev_perm(rng: np.random.Generator, people: dict[str, np.ndarray], P: dict[str, np.ndarray] | None,
               n: int) -> None:
    """Previous permanence option, asked of children who start to be looked after (630-635)."""
    if n == 0:
        people["prev_perm"] = people["la_perm"] = people["date_perm"] = np.array([], dtype=object)
        return
    code = draw(rng, ["Z1", "P2", "P3", "P1", "P4"], [92, 3, 2, 1, 2], n)
    if P is None:
        code = np.full(n, "Z1", dtype=object)
        start = np.zeros(n, INT)
    else:
        start = P["C"]
    dob = people["dob"]
    room = start - dob
    code = np.where(room < 500, "Z1", code).astype(object)
    when = dob + 200 + (rng.random(n) * np.maximum(room - 300, 1)).astype(INT)
    y, m, d = split_ymd(when)
    text = np.char.add(np.char.add(np.char.add(np.char.zfill(d.astype("U2"), 2), "/"),
                                   np.char.add(np.char.zfill(m.astype("U2"), 2), "/")), y.astype("U4"))
    # an unknown day is written zz (allowed by the DfE guide; 632 reads it as the month's end)
    text = np.where((code == "P4") | (rng.random(n) < 0.1), np.char.add("ZZ", np.char.lstrip(text, "0123456789")),
                    text)
    not_z1 = code != "Z1"
    people["prev_perm"] = code
    people["la_perm"] = np.where(not_z1, draw(rng, LA_PERM_CODES, np.ones(len(LA_PERM_CODES)), n), None)
    # a zz day must still fall before the start of care: keep it only a month or more earlier
    people["date_perm"] = np.where(not_z1, text, None).astype(object)


def _assemble_lac(rng: np.random.Generator, cal: Calendar, P: dict[str, np.ndarray], ep: dict[str, np.ndarray],
                  sb: dict[str, np.ndarray], n_p: int, r_cin: np.ndarray, year: int) -> Lac:
    S0, E0 = period(year - 1)
    S1, E1 = period(year)
    n_sb_breaks = len(sb["start"])
    # short breaks: each break a period (V3, residential respite R1, no postcodes or URN)
    per = {
        "person": np.r_[np.arange(n_p, dtype=INT), n_p + sb["child"]],
        "C": np.r_[P["C"], sb["start"]], "D": np.r_[P["D"], sb["end"]],
        "dob": np.r_[P["dob"], sb["dob"][sb["child"]] if n_sb_breaks else np.array([], INT)],
        "leaver": np.r_[P["leaver"], np.zeros(n_sb_breaks, bool)],
        "need": np.r_[P["need"], np.full(n_sb_breaks, "N2", dtype=object)],
    }
    sbp = np.arange(n_p, n_p + n_sb_breaks, dtype=INT)
    provider = draw(rng, ["PR1", "PR4"], [70, 30], n_sb_breaks)
    sb_ep = {"pid": sbp, "start": sb["start"], "end": sb["end"], "ls": np.full(n_sb_breaks, "V3", object),
             "place": np.full(n_sb_breaks, "R1", object), "carer": np.full(n_sb_breaks, -1, INT),
             "provider": provider, "urn": np.full(n_sb_breaks, None, object),
             "pl_post": np.full(n_sb_breaks, None, object), "rne": np.full(n_sb_breaks, "S", object),
             "rec": np.full(n_sb_breaks, "E4A", object), "reason": np.full(n_sb_breaks, None, object)}
    eps = {k: np.concatenate([ep[k], sb_ep[k]]) for k in ep}
    order = np.lexsort((eps["start"], per["person"][eps["pid"]]))
    eps = {k: v[order] for k, v in eps.items()}

    rv = reviews(rng, cal, P["C"], P["D"])
    ms = missing(rng, P["C"], P["D"], P["dob"], P["scen"] != UA, [E0, E1], E1)
    n_workers = max(8, n_p // 12)
    sw = sw_chain(rng, r_cin, np.full(n_p, day(f"{year - 3}-04-01"), INT), E1, n_workers)

    # deprivation of liberty orders: a few long children's home (K2) episodes
    e_len = eps["end"] - eps["start"]
    cand = np.flatnonzero((eps["place"] == "K2") & (e_len >= 90) & (rng.random(len(e_len)) < 0.05))
    d_start = eps["start"][cand] + 10 + (rng.random(len(cand)) * (e_len[cand] // 3)).astype(INT)
    d_end = d_start + 20 + (rng.random(len(cand)) * (e_len[cand] // 2)).astype(INT)
    ok = d_end < eps["end"][cand] - 5
    dolo = {"ep": cand[ok], "start": d_start[ok], "end": d_end[ok]}

    # adoption decisions (AD: adopted; AR: decision reversed) and the AD1 items
    ad = np.flatnonzero(P["scen"] == AD)
    ar = np.flatnonzero(P["scen"] == AR)
    last_place = np.full(n_p, None, dtype=object)
    is_last = group_last(eps["pid"])
    last_place[eps["pid"][is_last & (eps["pid"] < n_p)]] = eps["place"][is_last & (eps["pid"] < n_p)]
    n_ad = len(ad)
    match = np.maximum(P["a_start"][ad] - rng.integers(0, 46, n_ad), np.maximum(P["decision"][ad], P["t_e1"][ad]))
    ls_ad = draw(rng, ["L11", "L0", "L3", "L12", "L2", "L4"], [55, 17, 15, 5, 5, 3], n_ad)
    sex_ad = np.select([ls_ad == "L0", np.isin(ls_ad, ["L11", "L3"]), ls_ad == "L2"],
                       [draw(rng, ["F1", "M1"], [85, 15], n_ad), np.full(n_ad, "MF", object),
                        draw(rng, ["FF", "MM", "MF"], [45, 35, 20], n_ad)],
                       default=draw(rng, ["FF", "MM"], [55, 45], n_ad)).astype(object)
    adoption = {
        "per": np.r_[ad, ar],
        "decision": np.r_[P["decision"][ad], P["decision"][ar]],
        "ceased": np.r_[np.full(n_ad, NA, INT), P["ceased"][ar]],
        "reason": np.r_[np.full(n_ad, None, object), draw(rng, ["RD1", "RD2", "RD3", "RD4"], [30, 35, 20, 15], len(ar))],
        "adopted": np.r_[np.isin(P["rec"][ad], ["E11", "E12"]), np.zeros(len(ar), bool)],
        "match": np.r_[match, np.full(len(ar), NA, INT)],
        "foster_care": np.r_[last_place[ad] == "A5", np.zeros(len(ar), bool)],
        "nb": np.r_[np.where(ls_ad == "L0", 1, 2), np.zeros(len(ar), INT)],
        "sex": np.r_[sex_ad, np.full(len(ar), None, object)],
        "ls": np.r_[ls_ad, np.full(len(ar), None, object)],
    }
    return Lac(per=per, ep=eps, reviews=rv, missing=ms, dolo=dolo, sw=sw, adoption=adoption)


def _noncla(rng: np.random.Generator, builder: C.CinBuilder, first_person: int, n_needed: int,
            s0: int, s1: int, e1: int) -> dict[str, np.ndarray]:
    """Children in need who are never looked after: chains of up to three episodes.

    Children are drawn in chunks until `n_needed` of them have an episode in the current census;
    the pool up to that point is kept (so last year's census has its natural population)."""
    w0 = s0 - 2 * 365
    people: list[dict[str, np.ndarray]] = []
    got = 0
    start = first_person
    share = 0.45  # about this share of the pool has an episode in the current census
    while got < n_needed:
        m = int((n_needed - got) / share * 1.04) + 100
        r1 = rng.integers(w0, e1 + 1, m).astype(INT)
        band = draw_idx(rng, [9, 17, 24, 37, 13], m)
        lo = np.array([0, 1, 5, 10, 16])[band]
        hi = np.array([1, 5, 10, 16, 17.9])[band]
        age = lo + rng.random(m) * (hi - lo)
        dob = r1 - (age * 365.25).astype(INT)
        unborn = rng.random(m) < 0.02
        dob = np.where(unborn, r1 + rng.integers(20, 201, m), dob)
        b18 = add_years(dob, 18)
        child = np.arange(start, start + m, dtype=INT)
        kinds = list(C.KIND_WEIGHTS)
        weights = list(C.KIND_WEIGHTS.values())
        nprev = draw(rng, [0, 1, 2, 3], [76, 18, 4, 2], m).astype(INT)
        in_cur = np.zeros(m, bool)
        any_long = np.zeros(m, bool)
        ref = r1
        alive = np.ones(m, bool)
        for k in range(3):  # up to three episodes per child, one vectorised step each
            kind = np.asarray(kinds)[draw_idx(rng, weights, m)]
            if k == 0:
                kind = np.where(unborn & ~np.isin(kind, [C.ASSESS, C.CINPLAN, C.CP]), C.CINPLAN, kind)
            sel = np.flatnonzero(alive)
            if not len(sel):
                break
            close = builder.add(child[sel], ref[sel], kind[sel], C.need_for_kind(rng, kind[sel]), nprev[sel])
            in_cur[sel] |= (ref[sel] <= e1) & (close >= s1)
            any_long[sel] |= kind[sel] == C.LONG
            nprev[sel] += (kind[sel] == C.CP).astype(INT)
            nxt = np.full(m, NA, INT)
            nxt[sel] = np.where(close < NA, close + 1 + rng.exponential(250, len(sel)).astype(INT), NA)
            alive = (rng.random(m) < 0.3) & (nxt <= e1) & (nxt < b18) & alive
            ref = nxt
        share = max(0.2, float(in_cur.mean()))
        cum = np.cumsum(in_cur)
        need = n_needed - got
        if cum[-1] >= need:
            cut = int(np.searchsorted(cum, need) + 1)
        else:
            cut = m
        sel_mask = np.arange(m) < cut
        got += int(in_cur[:cut].sum())
        p = _people(rng, m, dob, rng.random(m) < 0.52, np.zeros(m, bool), disabled_share=0.06)
        p["disabled"] |= any_long
        p["cin_sel"] = sel_mask
        p["home_post"] = np.full(m, None, object)
        p["mc_dob"] = np.full(m, NA, INT)
        p["care_end"] = np.full(m, NA, INT)
        p["prev_perm"] = np.full(m, None, object)
        p["la_perm"] = np.full(m, None, object)
        p["date_perm"] = np.full(m, None, object)
        people.append(p)
        start += m
    if not people:
        return {}
    return {k: np.concatenate([p[k] for p in people]) for k in people[0]}


def _concat_people(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    parts = [p for p in parts if p]
    keys = parts[0].keys()
    return {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in keys}


def _disabilities(rng: np.random.Generator, disabled: np.ndarray) -> dict[str, np.ndarray]:
    """NONE, or one to three different codes (8790, 8794; 2887Q and 2888Q on the return)."""
    n = len(disabled)
    k = np.where(disabled, draw(rng, [1, 2, 3], [60, 30, 10], n).astype(INT), 1)
    person = np.repeat(np.arange(n, dtype=INT), k)
    ci = draw_idx(rng, DISABILITY_WEIGHTS, len(person))
    ci = np.where(np.repeat(disabled, k), ci, len(DISABILITY))  # index of NONE
    _, first = np.unique(person * 16 + ci, return_index=True)
    first = np.sort(first)
    return {"person": person[first], "code": np.array(DISABILITY + ["NONE"], dtype=object)[ci[first]]}


def _stats(gs: GeneratedSet) -> dict[str, Any]:
    def rows(t: dict[str, pd.DataFrame]) -> dict[str, int]:
        return {k: int(len(v)) for k, v in t.items()}

    return {
        "cin_children": int(len(gs.cin["Child"])), "cin_children_previous": int(len(gs.cin_previous["Child"])),
        "looked_after_children": int(gs.ssda903["Episodes"]["CHILD"].nunique()),
        "looked_after_children_previous": int(gs.ssda903_previous["Episodes"]["CHILD"].nunique()),
        "looked_after_at_31_march": int(gs.ssda903["Episodes"].loc[gs.ssda903["Episodes"]["DEC"].isna() &
                                                                  ~gs.ssda903["Episodes"]["LS"].isin(["V3", "V4"]),
                                                                  "CHILD"].nunique()),
        "care_leavers_oc3": int(len(gs.ssda903["OC3"])),
        "rows": {"cin": rows(gs.cin), "cin_previous": rows(gs.cin_previous), "ssda903": rows(gs.ssda903),
                 "ssda903_previous": rows(gs.ssda903_previous)},
    }


# ================================================================================== defects
@dataclass(frozen=True)
class Defect:
    name: str
    return_: str  # "cin" or "ssda903"
    table: str
    rules: tuple[str, ...]  # codes it should trigger (LOAD-/SCHEMA- codes are our own checks)
    description: str
    table_fn: Callable[..., list[str]] | None = None  # edits canonical tables, returns children hit
    file_fn: Callable[[Path, dict[str, Any]], None] | None = None  # edits the written files
    exclusive: bool = False  # hides other defects of its return (e.g. a whole file missing)
    by_child: bool = True  # findings carry the child's ID (not when the defect removes the ID)

    @property
    def level(self) -> str:
        return "file" if self.file_fn else "table"


def _renumber(df: pd.DataFrame, sort: list[str] | None = None) -> pd.DataFrame:
    if sort:
        df = df.sort_values(sort, kind="stable")
    df = df.reset_index(drop=True)
    df["_row"] = np.arange(1, len(df) + 1, dtype=np.int64)
    return df


def _pick(rng: np.random.Generator, candidates: pd.Series, used: set[str], k: int = 2) -> list[int]:
    """Row labels of up to k candidate rows whose child has no defect yet (one row per child)."""
    cand = candidates[~candidates.isin(used) & candidates.notna()]
    cand = cand[~cand.duplicated()]
    if cand.empty:
        return []
    take_n = min(k, len(cand))
    idx = rng.choice(len(cand), size=take_n, replace=False)
    labels = [cand.index[i] for i in sorted(idx)]
    used.update(cand.loc[labels].tolist())
    return labels


def _cin_period(gs: GeneratedSet) -> tuple[pd.Timestamp, pd.Timestamp]:
    s, e = period(gs.year)
    return pd.Timestamp(np.datetime64(s, "D")), pd.Timestamp(np.datetime64(e, "D"))


def d_cin_duplicate_id(gs: GeneratedSet, rng: np.random.Generator, used: set[str]) -> list[str]:
    t = gs.cin
    ch = t["Child"]
    rows = _pick(rng, ch["LAchildID"], used, 2)
    if len(rows) < 2:
        return []
    a, b = rows
    keep_id = ch.at[a, "LAchildID"]
    key = ch.at[b, "_child"]
    for name, df in t.items():
        if "_child" in df and "LAchildID" in df:
            df.loc[df["_child"] == key, "LAchildID"] = keep_id
    return [keep_id]


def d_cin_assessment_before_referral(gs, rng, used):
    t = gs.cin
    a = t["Assessments"].merge(t["CINdetails"][["_episode", "CINreferralDate"]], on="_episode")
    rows = _pick(rng, a["LAchildID"], used)
    for r in rows:
        m = t["Assessments"]["_assessment"] == a.at[r, "_assessment"]
        t["Assessments"].loc[m, "AssessmentActualStartDate"] = a.at[r, "CINreferralDate"] - pd.Timedelta(days=6)
    return a.loc[rows, "LAchildID"].tolist()


def d_cin_closure_before_referral(gs, rng, used):
    d = gs.cin["CINdetails"]
    s, _ = _cin_period(gs)
    cand = d["LAchildID"].where(d["CINclosureDate"].notna() & (d["CINreferralDate"] > s + pd.Timedelta(days=10)))
    rows = _pick(rng, cand, used)
    for r in rows:
        d.at[r, "CINclosureDate"] = d.at[r, "CINreferralDate"] - pd.Timedelta(days=3)
    return d.loc[rows, "LAchildID"].tolist()


def d_cin_factor_21(gs, rng, used):
    t = gs.cin
    f = t["AssessmentFactors"]
    real = f.groupby("_assessment")["AssessmentFactors"].agg(lambda s: "21" not in set(s))
    ok = f["_assessment"].map(real).fillna(False).astype(bool)
    rows = _pick(rng, f["LAchildID"].where(ok), used)
    extra = f.loc[rows].copy()
    extra["AssessmentFactors"] = "21"
    t["AssessmentFactors"] = _renumber(pd.concat([f, extra]), ["_assessment"])
    return extra["LAchildID"].tolist()


def d_cin_nfa_with_assessment(gs, rng, used):
    d = gs.cin["CINdetails"]
    has = d["_episode"].isin(gs.cin["Assessments"]["_episode"])
    rows = _pick(rng, d["LAchildID"].where(has & ~d["ReferralNFA"].astype(bool)), used)
    for r in rows:
        d.at[r, "ReferralNFA"] = True
    return d.loc[rows, "LAchildID"].tolist()


def d_cin_missing_need(gs, rng, used):
    d = gs.cin["CINdetails"]
    rows = _pick(rng, d["LAchildID"].where(~d["ReferralNFA"].astype(bool) & d["PrimaryNeedCode"].notna()), used)
    for r in rows:
        d.at[r, "PrimaryNeedCode"] = pd.NA
    return d.loc[rows, "LAchildID"].tolist()


def d_cin_cpp_end_before_start(gs, rng, used):
    c = gs.cin["ChildProtectionPlans"]
    rows = _pick(rng, c["LAchildID"].where(c["CPPendDate"].notna()), used)
    for r in rows:
        c.at[r, "CPPendDate"] = c.at[r, "CPPstartDate"] - pd.Timedelta(days=10)
    return c.loc[rows, "LAchildID"].tolist()


def d_cin_icpc_weekend(gs, rng, used):
    s47 = gs.cin["Section47"]
    s, e = _cin_period(gs)
    icpc = s47["DateOfInitialCPC"]
    sat = icpc + pd.to_timedelta((5 - icpc.dt.day_of_week) % 7, unit="D")
    ok = icpc.notna() & (sat <= e) & (icpc >= s)
    rows = _pick(rng, s47["LAchildID"].where(ok), used)
    for r in rows:
        s47.at[r, "DateOfInitialCPC"] = sat[r]
    return s47.loc[rows, "LAchildID"].tolist()


def d_cin_upn_check_letter(gs, rng, used):
    ch = gs.cin["Child"]
    rows = _pick(rng, ch["LAchildID"].where(ch["UPN"].notna()), used)
    for r in rows:
        upn = ch.at[r, "UPN"]
        letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
        ch.at[r, "UPN"] = letters[(letters.index(upn[0]) + 1) % 23] + upn[1:]
    return ch.loc[rows, "LAchildID"].tolist()


def d_cin_dob_after_reference(gs, rng, used):
    ch = gs.cin["Child"]
    _, e = _cin_period(gs)
    rows = _pick(rng, ch["LAchildID"].where(ch["PersonBirthDate"].notna()), used)
    for r in rows:
        ch.at[r, "PersonBirthDate"] = e + pd.Timedelta(days=20)
    return ch.loc[rows, "LAchildID"].tolist()


def d_cin_missing_id_pick(gs, rng, used):
    ch = gs.cin["Child"]
    rows = _pick(rng, ch["LAchildID"], used)
    return ch.loc[rows, "LAchildID"].tolist()


def d_cin_bad_date_pick(gs, rng, used):
    return d_cin_missing_id_pick(gs, rng, used)


def f_cin_missing_id(out: Path, entry: dict[str, Any]) -> None:
    path = out / "cin" / f"CIN_Census_{entry['year']}.xml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(f"<LAchildID>{entry['child']}</LAchildID>", "", 1)
    path.write_text(text, encoding="utf-8")


def f_cin_bad_date(out: Path, entry: dict[str, Any]) -> None:
    path = out / "cin" / f"CIN_Census_{entry['year']}.xml"
    text = path.read_text(encoding="utf-8")
    at = text.index(f"<LAchildID>{entry['child']}</LAchildID>")
    m = re.compile(r"<CINreferralDate>[^<]*</CINreferralDate>").search(text, at)
    if m:
        text = text[:m.start()] + f"<CINreferralDate>{entry['year'] - 1}-02-30</CINreferralDate>" + text[m.end():]
    path.write_text(text, encoding="utf-8")


def _eps_pairs(e: pd.DataFrame) -> pd.Series:
    """Boolean: the episode has an earlier episode of the same child in the table."""
    return e["CHILD"].duplicated(keep="first")


def d_903_overlap(gs, rng, used):
    e = gs.ssda903["Episodes"]
    later = _eps_pairs(e) & (e["DECOM"] - e["DECOM"].shift(1) > pd.Timedelta(days=10))
    rows = _pick(rng, e["CHILD"].where(later), used)
    for r in rows:
        prev_dec = e.at[r - 1, "DEC"]
        e.at[r, "DECOM"] = prev_dec - pd.Timedelta(days=5)
    return e.loc[rows, "CHILD"].tolist()


def d_903_invalid_place(gs, rng, used):
    e = gs.ssda903["Episodes"]
    rows = _pick(rng, e["CHILD"].where(e["PLACE"].isin(["U4", "U6", "U3", "U1"])), used)
    for r in rows:
        e.at[r, "PLACE"] = "P2"  # withdrawn from 2024-25
    return e.loc[rows, "CHILD"].tolist()


def d_903_review_code(gs, rng, used):
    rv = gs.ssda903["Reviews"]
    older = rv["REVIEW"] >= rv["DOB"] + pd.DateOffset(years=5)
    rows = _pick(rng, rv["CHILD"].where(older), used)
    for r in rows:
        rv.at[r, "REVIEW_CODE"] = "PN0"
    return rv.loc[rows, "CHILD"].tolist()


def d_903_no_rec(gs, rng, used):
    e = gs.ssda903["Episodes"]
    rows = _pick(rng, e["CHILD"].where(e["DEC"].notna()), used)
    for r in rows:
        e.at[r, "REC"] = pd.NA
    return e.loc[rows, "CHILD"].tolist()


def d_903_no_provider(gs, rng, used):
    e = gs.ssda903["Episodes"]
    rows = _pick(rng, e["CHILD"].where(e["PLACE"].isin(["U4", "U6", "U3", "U1", "K2"])), used)
    for r in rows:
        e.at[r, "PLACE_PROVIDER"] = pd.NA
    return e.loc[rows, "CHILD"].tolist()


def d_903_review_dob(gs, rng, used):
    rv = gs.ssda903["Reviews"]
    rows = _pick(rng, rv["CHILD"], used)
    for r in rows:
        rv.loc[rv["CHILD"] == rv.at[r, "CHILD"], "DOB"] = rv.at[r, "DOB"] + pd.Timedelta(days=1)
    return rv.loc[rows, "CHILD"].tolist()


def d_903_duplicate_header(gs, rng, used):
    h = gs.ssda903["Header"]
    rows = _pick(rng, h["CHILD"], used, 1)
    gs.ssda903["Header"] = _renumber(pd.concat([h, h.loc[rows]]), ["CHILD"])
    return h.loc[rows, "CHILD"].tolist()


def d_903_missing_sex(gs, rng, used):
    h = gs.ssda903["Header"]
    rows = _pick(rng, h["CHILD"], used)
    for r in rows:
        h.at[r, "SEX"] = pd.NA
    return h.loc[rows, "CHILD"].tolist()


def d_903_sdq_both(gs, rng, used):
    o = gs.ssda903["OC2"]
    rows = _pick(rng, o["CHILD"].where(o["SDQ_SCORE"].notna()), used)
    for r in rows:
        o.at[r, "SDQ_REASON"] = "SDQ4"
    return o.loc[rows, "CHILD"].tolist()


def d_903_bad_upn(gs, rng, used):
    h = gs.ssda903["Header"]
    rows = _pick(rng, h["CHILD"].where(h["UPN"].str.len() == 13), used)
    for r in rows:
        h.at[r, "UPN"] = h.at[r, "UPN"][:12]
    return h.loc[rows, "CHILD"].tolist()


def d_903_dec_before_decom(gs, rng, used):
    e = gs.ssda903["Episodes"]
    last = ~e["CHILD"].duplicated(keep="last")
    rows = _pick(rng, e["CHILD"].where(e["DEC"].notna() & last), used)
    for r in rows:
        e.at[r, "DEC"] = e.at[r, "DECOM"] - pd.Timedelta(days=3)
    return e.loc[rows, "CHILD"].tolist()


def d_903_file_pick(gs, rng, used):
    e = gs.ssda903["Episodes"]
    rows = _pick(rng, e["CHILD"], used, 1)
    return e.loc[rows, "CHILD"].tolist()


def f_903_missing_episodes(out: Path, entry: dict[str, Any]) -> None:
    (out / "ssda903" / "episodes.csv").unlink(missing_ok=True)


def f_903_bad_date(out: Path, entry: dict[str, Any]) -> None:
    path = out / "ssda903" / "episodes.csv"
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if line.startswith(entry["child"] + ","):
            cells = next(csv.reader([line]))
            cells[1] = f"31/02/{entry['year'] - 1}"
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow(cells)
            lines[i] = buf.getvalue()
            break
    path.write_text("\n".join(lines), encoding="utf-8")


DEFECTS: dict[str, Defect] = {d.name: d for d in [
    Defect("cin_missing_lachildid", "cin", "Child", ("8500",), "LAchildID element removed from a child",
           table_fn=d_cin_missing_id_pick, file_fn=f_cin_missing_id, by_child=False),
    Defect("cin_duplicate_lachildid", "cin", "Child", ("8510",), "two children share one LAchildID",
           table_fn=d_cin_duplicate_id),
    Defect("cin_assessment_before_referral", "cin", "Assessments", ("1103",),
           "assessment start date 6 days before the referral", table_fn=d_cin_assessment_before_referral),
    Defect("cin_closure_before_referral", "cin", "CINdetails", ("8630",),
           "CIN closure date 3 days before the referral", table_fn=d_cin_closure_before_referral),
    Defect("cin_bad_date_text", "cin", "CINdetails", ("LOAD-DATE", "8600"),
           "referral date written as an impossible date (30 February)",
           table_fn=d_cin_bad_date_pick, file_fn=f_cin_bad_date),
    Defect("cin_factor_21_with_others", "cin", "AssessmentFactors", ("8869",),
           "factor 21 (no factors) added beside other factors", table_fn=d_cin_factor_21),
    Defect("cin_nfa_with_assessment", "cin", "CINdetails", ("8831",),
           "referral marked NFA but the episode has an assessment", table_fn=d_cin_nfa_with_assessment),
    Defect("cin_missing_primary_need", "cin", "CINdetails", ("8610",),
           "primary need code removed from a further-action referral", table_fn=d_cin_missing_need),
    Defect("cin_cpp_end_before_start", "cin", "ChildProtectionPlans", ("8925",),
           "CP plan end date 10 days before its start", table_fn=d_cin_cpp_end_before_start),
    Defect("cin_icpc_weekend", "cin", "Section47", ("8875",),
           "initial child protection conference moved to a Saturday", table_fn=d_cin_icpc_weekend),
    Defect("cin_upn_bad_check_letter", "cin", "Child", ("1510",),
           "UPN check letter changed", table_fn=d_cin_upn_check_letter),
    Defect("cin_dob_after_reference", "cin", "Child", ("8520",),
           "date of birth 20 days after the reference date", table_fn=d_cin_dob_after_reference),
    Defect("903_overlapping_episodes", "ssda903", "Episodes", ("501",),
           "episode starts 5 days before the previous one ended", table_fn=d_903_overlap),
    Defect("903_invalid_placement_code", "ssda903", "Episodes", ("146",),
           "placement type P2 (withdrawn from 2024-25)", table_fn=d_903_invalid_place),
    Defect("903_review_code_under4", "ssda903", "Reviews", ("440",),
           "participation code PN0 (under 4) for a child aged 5 or over", table_fn=d_903_review_code),
    Defect("903_ceased_without_reason", "ssda903", "Episodes", ("148",),
           "episode has a DEC but no REC", table_fn=d_903_no_rec),
    Defect("903_missing_provider", "ssda903", "Episodes", ("526",),
           "placement provider left blank on a foster or children's home placement", table_fn=d_903_no_provider),
    Defect("903_dob_mismatch_reviews", "ssda903", "Reviews", ("INT17",),
           "date of birth in reviews.csv one day off the header's", table_fn=d_903_review_dob),
    Defect("903_duplicate_header", "ssda903", "Header", ("INT32",),
           "a child's header row appears twice", table_fn=d_903_duplicate_header),
    Defect("903_missing_sex", "ssda903", "Header", ("101",), "SEX left blank", table_fn=d_903_missing_sex),
    Defect("903_sdq_score_and_reason", "ssda903", "OC2", ("197a",),
           "both an SDQ score and a reason for no score", table_fn=d_903_sdq_both),
    Defect("903_invalid_upn", "ssda903", "Header", ("168",), "UPN cut to 12 characters", table_fn=d_903_bad_upn),
    Defect("903_dec_before_decom", "ssda903", "Episodes", ("356",),
           "episode ceased 3 days before it began", table_fn=d_903_dec_before_decom),
    Defect("903_bad_date_text", "ssda903", "Episodes", ("LOAD-DATE",),
           "DECOM written as an impossible date (31 February)", table_fn=d_903_file_pick, file_fn=f_903_bad_date),
    Defect("903_missing_episodes_file", "ssda903", "Episodes", ("LOAD-TABLE-MISSING",),
           "episodes.csv not supplied (hides every other Episodes defect)",
           table_fn=lambda gs, rng, used: [None], file_fn=f_903_missing_episodes, exclusive=True,
           by_child=False),
]}


def _apply_defect(gs: GeneratedSet, d: Defect, seed: int, used: dict[str, set[str]]) -> list[dict[str, Any]]:
    rng = np.random.default_rng([seed, zlib.crc32(d.name.encode("utf-8"))])
    hit = d.table_fn(gs, rng, used[d.return_]) if d.table_fn else []
    return [{"defect": d.name, "return": d.return_, "year": gs.year, "table": d.table, "child": child,
             "rules": list(d.rules), "level": d.level, "by_child": d.by_child, "exclusive": d.exclusive,
             "description": d.description} for child in hit]


# ====================================================================================== CLI
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m csc_returns.sample_data.generate",
                                 description="Write synthetic CIN census and SSDA903 returns (this year and last).")
    ap.add_argument("--children", type=int, help="children in the CIN census for --year")
    ap.add_argument("--year", type=int, help="collection (end) year, e.g. 2026 for 2025-26")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--la", default="999", help="three-digit LA number for the CIN header (default 999)")
    ap.add_argument("--out", type=Path, help="output folder")
    ap.add_argument("--defects", default="", help="'all' or a comma-separated list of defect names")
    ap.add_argument("--manifest", action="store_true", help="also write manifest.json")
    ap.add_argument("--list-defects", action="store_true", help="list the defect registry and exit")
    args = ap.parse_args(argv)
    if args.list_defects:
        for d in DEFECTS.values():
            print(f"{d.name:34} {d.return_:8} {','.join(d.rules):22} {d.description}")
        return 0
    missing_args = [f"--{a}" for a in ("children", "year", "out") if getattr(args, a) is None]
    if missing_args:
        ap.error("the following arguments are required: " + ", ".join(missing_args))
    names = [x.strip() for x in args.defects.split(",") if x.strip()] or None
    t0 = time.perf_counter()
    try:
        gs = generate(args.children, args.year, seed=args.seed, defects=names, la=args.la)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    t1 = time.perf_counter()
    gs.write(args.out, manifest=args.manifest)
    t2 = time.perf_counter()
    s = gs.stats
    print(f"CIN {args.year}: {s['cin_children']} children ({s['cin_children_previous']} in {args.year - 1}); "
          f"SSDA903: {s['looked_after_children']} looked after ({s['looked_after_at_31_march']} at 31 March), "
          f"{s['care_leavers_oc3']} care leavers; {len(gs.manifest)} defects. "
          f"Generated in {t1 - t0:.1f}s, written in {t2 - t1:.1f}s to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
