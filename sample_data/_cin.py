"""CIN timelines: children's episodes (referral to closure) and what happened in them, over several years.

Everything is drawn once on a continuous timeline; a census for a year is a *view* of it (see
_render.py): what had happened by 31 March, and what was still relevant in that year. Activity is
generated so that every view is valid by construction, e.g. an assessment still open at 31 March
never started more than 45 working days before it (8670Q), an S47 enquiry open at 31 March never
started more than 15 working days before it (8675Q), review dates fall strictly inside their plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from csc_returns.sample_data._common import (
    INT, NA, Calendar, draw, draw_idx, lognormal_days, uniform_int,
)

# --------------------------------------------------------------------------------------- codes
# Referral sources, weighted roughly as the DfE CIN statistics (police and schools lead).
REFERRAL_SOURCES = ["1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F", "4",
                    "5A", "5B", "5C", "5D", "6", "7", "8", "9", "10"]
REFERRAL_WEIGHTS = [5, 1, 1, 1, 20, 2, 3, 2, 1, 1, 4, 3, 2, 2, 3, 2, 5, 29, 3, 4, 2, 2]

# Factors identified at the end of assessment: DfE c3 national counts 2024-25 (18A/19A not used,
# 8B-8F share the privately-fostered count).
FACTORS = ["1A", "1B", "1C", "2A", "2B", "2C", "3A", "3B", "3C", "4A", "4B", "4C", "5A", "5B", "5C",
           "6A", "6B", "6C", "7A", "8E", "8F", "9A", "10A", "11A", "12A", "13A", "14A", "15A", "16A",
           "17A", "18B", "18C", "19B", "19C", "20", "22A", "23A", "24A"]
FACTOR_WEIGHTS = [10620, 73250, 11600, 24550, 72620, 15930, 57930, 162890, 25560, 90400, 171780,
                  23600, 63240, 15170, 7510, 24220, 27600, 5310, 18960, 1000, 950, 6340, 16940,
                  12400, 2250, 8860, 35980, 25470, 90370, 97700, 15270, 61410, 12590, 18900, 83770,
                  780, 2240, 16250]

FACTOR_CODES = np.array(FACTORS + ["21"], dtype=object)
CATEGORIES = ["NEG", "EMO", "SAB", "PHY", "MUL"]
CATEGORY_WEIGHTS = [50, 38, 4, 4, 4]

# Episode kinds (what a referral led to)
NFA, ASSESS, CINPLAN, S47_NR, S47_ICPC, CP, LONG, CLA, SB = range(9)
# shares of referrals for children who are never looked after (c1: 6.5% NFA, ~31% not in need)
KIND_WEIGHTS = {NFA: 6.5, ASSESS: 30.0, CINPLAN: 31.0, S47_NR: 9.0, S47_ICPC: 4.0, CP: 15.5, LONG: 4.0}
PRIMARY_NEED = ["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9", "N0"]


@dataclass
class CinEpisodes:
    """One row per CIN episode on the continuous timeline, plus its activity tables."""

    child: np.ndarray  # index into the generator's person table
    referral: np.ndarray
    closure: np.ndarray  # NA = not closed (yet)
    reason: np.ndarray  # RC code, None while open
    nfa: np.ndarray  # bool
    need: np.ndarray  # N code or None
    source: np.ndarray
    # activity: each row points at its episode by index
    asm: dict[str, np.ndarray] = field(default_factory=dict)  # ep, start, auth
    factors: dict[str, np.ndarray] = field(default_factory=dict)  # asm, code
    plans: dict[str, np.ndarray] = field(default_factory=dict)  # ep, start, end
    s47: dict[str, np.ndarray] = field(default_factory=dict)  # ep, start, target, icpc, notreq
    cpp: dict[str, np.ndarray] = field(default_factory=dict)  # ep, start, end, init, latest, nprev
    reviews: dict[str, np.ndarray] = field(default_factory=dict)  # cpp, date


def _cap_open(cal: Calendar, start: np.ndarray, end: np.ndarray, census_ends: list[int], wd: int) -> np.ndarray:
    """Pull `end` back to the last working day before a 31 March where the item would otherwise be
    open at that date having started more than `wd` working days before it (8670Q / 8675Q)."""
    end = end.copy()
    for e in census_ends:
        limit = int(cal.before(np.array([e]), wd)[0])
        straddle = (start <= e) & (end > e) & (start < limit)
        if straddle.any():
            end[straddle] = np.maximum(cal.on_or_before(np.full(int(straddle.sum()), e)), start[straddle])
    return end


class CinBuilder:
    """Accumulates episodes and their activity, and hands out consecutive episode indices."""

    def __init__(self, rng: np.random.Generator, cal: Calendar, census_ends: list[int]) -> None:
        self.rng = rng
        self.cal = cal
        self.census_ends = census_ends
        self.parts: list[dict[str, np.ndarray]] = []
        self.asm: list[dict[str, np.ndarray]] = []
        self.factors: list[dict[str, np.ndarray]] = []
        self.plans: list[dict[str, np.ndarray]] = []
        self.s47: list[dict[str, np.ndarray]] = []
        self.cpp: list[dict[str, np.ndarray]] = []
        self.reviews: list[dict[str, np.ndarray]] = []
        self.n_ep = 0
        self.n_asm = 0
        self.n_cpp = 0

    # ----------------------------------------------------------------------------- activity
    def _assessment(self, ep: np.ndarray, referral: np.ndarray, not_before: np.ndarray,
                    factor_mode: np.ndarray, start_by: np.ndarray | None = None) -> np.ndarray:
        """One assessment per episode; returns the authorisation dates.

        factor_mode: 0 = real factors, 1 = "21" alone (no factors identified). start_by: the
        assessment starts no later than this (the S47 start, so no census holds an S47 enquiry
        without the assessment of its episode, 2991Q).
        """
        rng, cal = self.rng, self.cal
        n = len(ep)
        start = cal.on_or_after(referral + rng.integers(0, 3, n))
        if start_by is not None:
            start = np.maximum(np.minimum(start, start_by), referral)
        wd = np.where(rng.random(n) < 0.85, rng.integers(8, 46, n), rng.integers(46, 66, n))
        auth = cal.after(start, wd)
        auth = np.maximum(auth, not_before)
        auth = _cap_open(cal, start, auth, self.census_ends, 45)
        auth = np.maximum(auth, start)
        idx = np.arange(self.n_asm, self.n_asm + n, dtype=INT)
        self.n_asm += n
        self.asm.append({"ep": ep, "start": start, "auth": auth, "id": idx})
        # factors: 1-6 distinct codes (mean about 2.9, as DfE c3), or 21 alone
        k = np.clip(rng.poisson(2.2, n) + 1, 1, 6)
        k = np.where(factor_mode == 1, 1, k)
        rep = np.repeat(idx, k)
        ci = draw_idx(rng, FACTOR_WEIGHTS, len(rep))
        ci = np.where(np.repeat(factor_mode == 1, k), len(FACTORS), ci)  # index of "21"
        _, first = np.unique(rep * 64 + ci, return_index=True)  # one of each code (8898)
        keep = np.sort(first)
        self.factors.append({"asm": rep[keep], "code": ci[keep].astype(INT)})  # index into FACTOR_CODES
        return auth

    def _s47(self, ep: np.ndarray, referral: np.ndarray, with_icpc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One S47 enquiry per episode starting at referral; returns (start, ICPC date or NA)."""
        rng, cal = self.rng, self.cal
        n = len(ep)
        start = cal.on_or_after(referral + rng.integers(0, 2, n))
        wd = np.where(rng.random(n) < 0.8, rng.integers(4, 16, n), rng.integers(16, 26, n))
        icpc = cal.after(start, wd)
        icpc = _cap_open(cal, start, icpc, self.census_ends, 15)
        icpc = np.where(with_icpc, np.maximum(icpc, start), NA)
        target = cal.after(start, 15)
        self.s47.append({"ep": ep, "start": start, "target": target, "icpc": icpc, "notreq": ~with_icpc})
        return start, icpc

    def _cpp(self, ep: np.ndarray, start: np.ndarray, end: np.ndarray, nprev: np.ndarray) -> None:
        rng, cal = self.rng, self.cal
        n = len(ep)
        idx = np.arange(self.n_cpp, self.n_cpp + n, dtype=INT)
        self.n_cpp += n
        init = draw(rng, CATEGORIES, CATEGORY_WEIGHTS, n)
        latest = np.where(rng.random(n) < 0.88, init, draw(rng, CATEGORIES, CATEGORY_WEIGHTS, n))
        self.cpp.append({"ep": ep, "start": start, "end": end, "init": init, "latest": latest,
                         "nprev": nprev, "id": idx})
        # reviews: within 3 months of the conference, then at most every 6 months; strictly
        # inside the plan (8841), never on or after its end
        k = 8
        first = cal.after(start, 60 + rng.integers(0, 6, n))
        offs = np.arange(k, dtype=INT) * 182
        dates = first[:, None] + offs[None, :] + rng.integers(-10, 10, (n, k))
        dates = cal.on_or_before(dates.ravel()).reshape(n, k)
        ok = (dates > start[:, None]) & (dates < end[:, None])
        self.reviews.append({"cpp": np.broadcast_to(idx[:, None], (n, k))[ok], "date": dates[ok]})

    def _plans(self, ep: np.ndarray, first_start: np.ndarray, n_plans: np.ndarray,
               median: float, limit: np.ndarray | None = None) -> np.ndarray:
        """A chain of CIN plans (start after the previous end, 4014); returns the last end date."""
        rng = self.rng
        n = len(ep)
        kmax = int(n_plans.max()) if n else 0
        if kmax == 0:
            return np.full(n, NA, dtype=INT)
        lengths = np.clip(np.exp(rng.normal(np.log(median), 0.6, (n, kmax))), 21, 5000).astype(INT)
        gaps = rng.integers(1, 45, (n, kmax))
        starts = np.empty((n, kmax), INT)
        ends = np.empty((n, kmax), INT)
        s = first_start.copy()
        for j in range(kmax):  # s_0 = first start; s_j = e_(j-1) + gap (loop over <= 15 plans)
            if j:
                s = ends[:, j - 1] + gaps[:, j]
            starts[:, j] = s
            ends[:, j] = s + lengths[:, j]
        use = np.arange(kmax)[None, :] < n_plans[:, None]
        if limit is not None:
            use &= starts < limit[:, None]
            use[:, 0] = True
        last_end = np.where(use, ends, -NA).max(axis=1)
        self.plans.append({"ep": np.broadcast_to(ep[:, None], (n, kmax))[use], "start": starts[use],
                           "end": ends[use]})
        return last_end

    # ----------------------------------------------------------------------------- episodes
    def add(self, child: np.ndarray, referral: np.ndarray, kind: np.ndarray, need: np.ndarray,
            nprev_cpp: np.ndarray, care_start: np.ndarray | None = None,
            care_closure: np.ndarray | None = None, care_reason: np.ndarray | None = None,
            cla_cp: np.ndarray | None = None, sb_limit: np.ndarray | None = None) -> np.ndarray:
        """Add episodes (vectorised). Returns their closure dates (NA when open on the timeline).

        For kind CLA, `care_start` is when the child became looked after, `care_closure` and
        `care_reason` close the episode, `cla_cp` says whether a child protection plan came first.
        """
        rng = self.rng
        n = len(child)
        ep = np.arange(self.n_ep, self.n_ep + n, dtype=INT)
        self.n_ep += n
        closure = np.full(n, NA, dtype=INT)
        reason = np.full(n, None, dtype=object)
        source = draw(rng, REFERRAL_SOURCES, REFERRAL_WEIGHTS, n)
        nfa = kind == NFA

        # NFA: closed the day of the referral (RC7; RC8 needs an assessment, 8825Q)
        closure[nfa] = referral[nfa]
        reason[nfa] = "RC7"

        # assessed and closed: "21" (no factors) needs RC8/RC9 on a one-assessment episode (8873Q)
        m = kind == ASSESS
        if m.any():
            k = int(m.sum())
            mode = (rng.random(k) < 0.55).astype(INT)
            auth = self._assessment(ep[m], referral[m], referral[m], mode)
            closure[m] = auth
            reason[m] = np.where(rng.random(k) < 0.7, "RC8", "RC9")

        # assessment then CIN plan(s), S47 variants and CP
        for kk in (CINPLAN, S47_NR, S47_ICPC, CP, LONG):
            m = kind == kk
            if not m.any():
                continue
            k = int(m.sum())
            e, r = ep[m], referral[m]
            icpc = np.full(k, NA, dtype=INT)
            s_start = None
            if kk in (S47_NR, S47_ICPC, CP):
                s_start, icpc = self._s47(e, r, np.full(k, kk != S47_NR))
            not_before = np.where(icpc < NA, icpc, r)
            auth = self._assessment(e, r, not_before, np.zeros(k, INT), s_start)
            plan_from = auth + rng.integers(0, 10, k)
            end = auth.copy()
            if kk == CP:
                dur = _cpp_duration(rng, k)
                cpp_end = icpc + dur
                self._cpp(e, icpc, cpp_end, nprev_cpp[m])
                end = np.maximum(end, cpp_end)
                step = rng.random(k) < 0.6
                plan_from = cpp_end  # step-down plan may start the day the CPP ends (4016)
                n_plans = np.where(step, 1 + (rng.random(k) < 0.2), 0).astype(INT)
            elif kk == S47_NR:
                n_plans = (rng.random(k) < 0.5).astype(INT)
            elif kk == LONG:
                n_plans = np.full(k, 12, INT)
            else:
                n_plans = 1 + (rng.random(k) < 0.15).astype(INT)
            limit = None
            median = 150.0
            if kk == LONG:
                limit = r + lognormal_days(rng, 900, 0.6, k, 200, 4000)
                median = 330.0
            has = n_plans > 0
            if has.any():
                last = self._plans(e[has], plan_from[has], n_plans[has], median,
                                   None if limit is None else limit[has])
                end[has] = np.maximum(end[has], last)
            closure[m] = end + rng.integers(0, 25, k)
            reason[m] = draw(rng, ["RC7", "RC3", "RC5"], [94, 3, 3], k)

        # looked-after children: the episode runs while they are looked after (and as care leavers)
        m = kind == CLA
        if m.any():
            k = int(m.sum())
            e, r, c = ep[m], referral[m], care_start[m]
            cp = cla_cp[m] & (c - r > 45)
            icpc = np.full(k, NA, dtype=INT)
            s_start = np.full(k, NA, dtype=INT)
            if cp.any():
                s_start[cp], icpc[cp] = self._s47(e[cp], r[cp], np.ones(int(cp.sum()), bool))
                ok = icpc[cp] < c[cp] - 1
                sel = np.flatnonzero(cp)[ok]
                if len(sel):
                    self._cpp(e[sel], icpc[sel], c[sel], nprev_cpp[m][sel])
            not_before = np.where(icpc < NA, icpc, r)
            auth = self._assessment(e, r, not_before, np.zeros(k, INT), s_start)
            close = care_closure[m]
            close = np.where(close < NA, np.maximum(close, auth), NA)
            closure[m] = close
            reason[m] = np.where(close < NA, care_reason[m], None)

        # short breaks: a long CIN episode with a chain of CIN plans, open
        m = kind == SB
        if m.any():
            k = int(m.sum())
            e, r = ep[m], referral[m]
            auth = self._assessment(e, r, r, np.zeros(k, INT))
            self._plans(e, auth + rng.integers(0, 10, k), np.full(k, 15, INT), 330.0, sb_limit[m])

        self.parts.append({"child": child, "referral": referral, "closure": closure, "reason": reason,
                           "nfa": nfa, "need": np.where(nfa, None, need), "source": source, "id": ep})
        return closure

    def finish(self) -> CinEpisodes:
        def cat(parts: list[dict[str, np.ndarray]], keys: list[str]) -> dict[str, np.ndarray]:
            if not parts:
                return {k: np.array([], dtype=INT) for k in keys}
            return {k: np.concatenate([p[k] for p in parts]) for k in keys}

        e = cat(self.parts, ["child", "referral", "closure", "reason", "nfa", "need", "source", "id"])
        order = np.argsort(e["id"], kind="stable")
        e = {k: v[order] for k, v in e.items()}
        return CinEpisodes(
            child=e["child"], referral=e["referral"], closure=e["closure"], reason=e["reason"],
            nfa=e["nfa"].astype(bool), need=e["need"], source=e["source"],
            asm=cat(self.asm, ["ep", "start", "auth", "id"]),
            factors=cat(self.factors, ["asm", "code"]),
            plans=cat(self.plans, ["ep", "start", "end"]),
            s47=cat(self.s47, ["ep", "start", "target", "icpc", "notreq"]),
            cpp=cat(self.cpp, ["ep", "start", "end", "init", "latest", "nprev", "id"]),
            reviews=cat(self.reviews, ["cpp", "date"]),
        )


def _cpp_duration(rng: np.random.Generator, n: int) -> np.ndarray:
    """Length of child protection plans (DfE d5: most under a year, a few over two)."""
    band = draw_idx(rng, [34, 27, 25, 12, 2], n)
    lo = np.array([45, 92, 183, 366, 731])[band]
    hi = np.array([91, 182, 365, 730, 1100])[band]
    return uniform_int(rng, lo, hi)


def need_for_kind(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    """Primary need code: abuse or neglect dominates CP work; disability dominates long CIN."""
    n = len(kind)
    general = draw(rng, PRIMARY_NEED, [48, 9, 4, 10, 16, 4, 1, 3, 3, 2], n)
    cp = draw(rng, PRIMARY_NEED, [80, 1, 2, 4, 11, 1, 0.2, 0.5, 0, 0.3], n)
    out = np.where(np.isin(kind, [S47_ICPC, CP]), cp, general)
    out = np.where(kind == LONG, draw(rng, ["N2", "N1", "N3"], [80, 10, 10], n), out)
    return out
