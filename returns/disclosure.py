"""Disclosure control for count tables: primary and secondary suppression, rounding, verification.

A table is a grid of counts (one row for a one-way table) with its row totals, and for a two-way
table its column totals and grand total. `protect` decides which cells to suppress and renders the
table as published text; `verify` re-checks the published text against the true counts with an
independent attack and raises `DisclosureError` if anything could be learned that should not be.

Why the secondary suppression is safe (the proof sketch the verifier implements):

* Write the table with its margins as an (R+1) x (C+1) grid E, the last row and column holding the
  totals (for a one-way table the column-total row is not published; it is a free unknown).
  Negate the margin cells except the grand total; then every row and every column of E sums to
  zero. So E is a flow on the complete bipartite graph between row nodes and column nodes, each
  cell an edge, and the published cells fix some edges.
* The unknown (suppressed) cells can change together exactly along alternating cycles of the
  graph formed by the unknown edges. A cell that lies on no such cycle (a bridge) is determined
  exactly by the totals; that is the "single c in a row with a total" case and its 2-D
  generalisations (a c found by differencing rows and columns in turn).
* A cell on a cycle can still be pinned by the bounds a reader knows: counts are never negative,
  and when true zeros are shown every suppressed cell is at least 1. The reader's best knowledge
  of a cell is therefore the interval [min, max] of a linear programme: min/max the cell subject to
  the row/column equations, the published values and those bounds. The constraint matrix is the
  incidence matrix of a bipartite graph, hence totally unimodular, so min and max are attained at
  whole numbers: the cell can be worked out exactly iff min == max.
* `verify` solves that programme for every suppressed cell (scipy's HiGHS) and requires
  max - min >= the profile's `min_uncertainty` (1 for dfe: at least two possible values). It also
  checks that no published count is in the primary range, that percentages and rates are exactly
  what the published counts give (so they add nothing), and that tables sharing a population
  publish the same total. `protect` uses a greedy complement choice and then loops on the same
  check, adding complements until it passes, so the algorithm cannot be weaker than the verifier.
* Rounding (strict) is applied after suppression; a reader of rounded values knows less than a
  reader of exact values, so checking the exact values is conservative.

What is not claimed: protection against a reader who links these tables with other outputs about
the same children beyond the shared table totals, or who exploits knowledge of which complement
the greedy choice would pick. Which suppressed cells were small and which are complements is
never published, because knowing it narrows the small ones down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from csc_returns.returns.spec import SpecError, _load_yaml, _validate, specs_root

TOTAL = "Total"
REASON = ("suppressed for disclosure control: a count in the profile's primary range, or a complementary "
          "cell suppressed so that such a count cannot be worked out from the totals (which is which is not "
          "published)")


class DisclosureError(Exception):
    """A table failed disclosure verification; nothing may be written."""


# --------------------------------------------------------------------------- profiles
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Primary(_Strict):
    min: int
    max: int


class Profile(_Strict):
    description: str
    suppress: bool
    primary: Primary
    show_zeros: bool = True
    min_uncertainty: int = 1
    rounding: int | None = None
    symbol: str = "c"
    percent_decimals: int = 1
    rate_decimals: int = 0
    name: str = ""

    def is_primary(self, values: np.ndarray) -> np.ndarray:
        v = np.asarray(values)
        hit = (v >= self.primary.min) & (v <= self.primary.max)
        if not self.show_zeros:
            hit |= v == 0
        return hit if self.suppress else np.zeros_like(hit, dtype=bool)

    @property
    def lower_bound(self) -> int:
        """What a reader knows about any suppressed cell: >= 1 when true zeros are shown."""
        return 1 if self.show_zeros else 0

    def summary(self) -> dict[str, Any]:
        return {"profile": self.name, "description": self.description, "suppression": self.suppress,
                "primary_range": [self.primary.min, self.primary.max] if self.suppress else None,
                "true_zeros_shown": self.show_zeros, "min_uncertainty": self.min_uncertainty,
                "rounding": self.rounding, "symbol": self.symbol}


class DisclosureFile(_Strict):
    profiles: dict[str, Profile]


@lru_cache(maxsize=None)
def load_profiles() -> dict[str, Profile]:
    path = specs_root() / "common" / "disclosure.yaml"
    f = _validate(DisclosureFile, _load_yaml(path), path)
    return {k: p.model_copy(update={"name": k}) for k, p in f.profiles.items()}


def get_profile(name: str) -> Profile:
    profiles = load_profiles()
    if name not in profiles:
        raise SpecError(f"unknown disclosure profile {name!r}; expected one of {', '.join(profiles)}")
    return profiles[name]


# --------------------------------------------------------------------------- tables
@dataclass
class CountTable:
    """True counts of one output table (never written anywhere: only its protected rendering is)."""

    id: str
    population: str  # tables with the same population share (and must publish the same) total
    columns: list[str]  # category labels (the breakdown)
    counts: np.ndarray  # (rows, columns) non-negative whole numbers
    rows: list[str] = field(default_factory=lambda: [""])  # row labels; one unnamed row = one-way table
    column_title: str = "category"
    row_title: str | None = None
    percent_base: list[int] | None = None  # columns summed for the percentage base; None = row total
    percent: bool = True
    rate_population: int | None = None  # child population for a rate per 10,000 of the table total

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts, dtype=np.int64).reshape(len(self.rows), len(self.columns))
        if (self.counts < 0).any():
            raise ValueError(f"{self.id}: negative count")
        labels = list(self.columns) + list(self.rows)
        if TOTAL in labels:
            raise ValueError(f"{self.id}: a category may not be called {TOTAL!r}")

    @property
    def two_way(self) -> bool:
        return len(self.rows) > 1

    def extended(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid with margins, and which of its cells are published at all."""
        r, c = self.counts.shape
        e = np.zeros((r + 1, c + 1), dtype=np.int64)
        e[:r, :c] = self.counts
        e[:r, c] = self.counts.sum(axis=1)
        e[r, :c] = self.counts.sum(axis=0)
        e[r, c] = self.counts.sum()
        published = np.ones_like(e, dtype=bool)
        if not self.two_way:
            published[r, :] = False  # column totals duplicate the cells; the row total is the total
        return e, published

    @property
    def total_pos(self) -> tuple[int, int]:
        r, c = self.counts.shape
        return (r, c) if self.two_way else (0, c)

    @property
    def total(self) -> int:
        return int(self.counts.sum())


# --------------------------------------------------------------------------- attack
def _lines(shape: tuple[int, int]) -> list[list[tuple[int, int]]]:
    """Every row and column of the extended grid (each sums to its last cell)."""
    R, C = shape
    return [[(i, j) for j in range(C)] for i in range(R)] + [[(i, j) for i in range(R)] for j in range(C)]


def feasible_ranges(e: np.ndarray, published: np.ndarray, suppressed: np.ndarray, lower: int) -> dict[tuple[int, int], tuple[float, float]]:
    """For each suppressed cell, the [min, max] a reader can deduce (inf when unbounded).

    Unknowns: suppressed cells (>= `lower`) and unpublished cells (>= 0). Equations: each interior
    row sums to its row total, each column to its column total, totals to the grand total.
    """
    R, C = e.shape
    if R == 2 and not published[1].any():
        return _one_way_ranges(e, suppressed, lower)
    return lp_ranges(e, published, suppressed, lower)


def _one_way_ranges(e: np.ndarray, suppressed: np.ndarray, lower: int) -> dict[tuple[int, int], tuple[float, float]]:
    """Closed form for one row and its total (equal to the linear programme; tested against it)."""
    C = e.shape[1] - 1
    cells = [j for j in range(C) if suppressed[0, j]]
    n = len(cells)
    out: dict[tuple[int, int], tuple[float, float]] = {}
    if suppressed[0, C]:
        visible = int(sum(e[0, j] for j in range(C) if not suppressed[0, j]))
        for j in cells:
            out[(0, j)] = (float(lower), float("inf"))
        # the total is free when a cell is; with every cell published it is their sum
        out[(0, C)] = (float(max(lower, visible + n * lower)), float("inf")) if n else (float(visible), float(visible))
        return out
    k = int(e[0, C] - sum(e[0, j] for j in range(C) if not suppressed[0, j]))
    for j in cells:
        out[(0, j)] = (float(k), float(k)) if n == 1 else (float(lower), float(k - (n - 1) * lower))
    return out


def lp_ranges(e: np.ndarray, published: np.ndarray, suppressed: np.ndarray, lower: int) -> dict[tuple[int, int], tuple[float, float]]:
    """The general case: min and max of each suppressed cell by linear programming."""
    from scipy.optimize import linprog  # imported here: only disclosure checks need it

    R, C = e.shape
    unknown = (~published) | suppressed
    idx = {pos: k for k, pos in enumerate(zip(*np.nonzero(unknown)))}
    if not any(suppressed[p] for p in idx):
        return {}
    n = len(idx)
    rows_a: list[np.ndarray] = []
    rhs: list[float] = []
    for line in _lines((R, C)):
        *parts, total = line
        a = np.zeros(n)
        b = 0.0
        for p, sign in [(p, 1.0) for p in parts] + [(total, -1.0)]:
            if p in idx:
                a[idx[p]] += sign
            else:
                b -= sign * e[p]
        if a.any():
            rows_a.append(a)
            rhs.append(b)
        elif abs(b) > 0:
            raise DisclosureError("published cells do not add up to their totals")
    A = np.array(rows_a) if rows_a else np.zeros((0, n))
    bounds = [(float(lower) if suppressed[p] else 0.0, None) for p in idx]
    out: dict[tuple[int, int], tuple[float, float]] = {}
    for p, k in idx.items():
        if not suppressed[p]:
            continue
        obj = np.zeros(n)
        obj[k] = 1.0
        lo = linprog(obj, A_eq=A if len(A) else None, b_eq=rhs if len(A) else None, bounds=bounds, method="highs")
        hi = linprog(-obj, A_eq=A if len(A) else None, b_eq=rhs if len(A) else None, bounds=bounds, method="highs")
        if lo.status != 0:
            raise DisclosureError(f"cannot solve the disclosure check ({lo.message})")
        vmin = float(round(lo.fun))
        vmax = float("inf") if hi.status == 3 else float(round(-hi.fun))
        if hi.status not in (0, 3):
            raise DisclosureError(f"cannot solve the disclosure check ({hi.message})")
        out[(int(p[0]), int(p[1]))] = (vmin, vmax)
    return out


def exposed_cells(e: np.ndarray, published: np.ndarray, suppressed: np.ndarray, profile: Profile) -> list[tuple[int, int]]:
    need = max(profile.min_uncertainty, 1)
    rng = feasible_ranges(e, published, suppressed, profile.lower_bound)
    return [p for p, (lo, hi) in rng.items() if hi - lo < need]


# --------------------------------------------------------------------------- protect
class NeedsTotal(Exception):
    """The table cannot be protected without suppressing its (shared) total."""


def _line_pass(e: np.ndarray, published: np.ndarray, sup: np.ndarray, eligible: np.ndarray, profile: Profile) -> None:
    """Cheap first pass: no fully published line may hold exactly one suppressed cell."""
    lines = [ln for ln in _lines(e.shape) if all(published[p] for p in ln)]
    changed = True
    while changed:
        changed = False
        for ln in lines:
            s = [p for p in ln if sup[p]]
            if len(s) == 1:
                c = _choose(e, sup, eligible, ln, profile, s)
                if c is not None:
                    sup[c] = True
                    changed = True


def _choose(e: np.ndarray, sup: np.ndarray, eligible: np.ndarray, cells: list[tuple[int, int]], profile: Profile,
            already: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The complement that suppresses least: the smallest cell that gives enough uncertainty."""
    lb = profile.lower_bound
    R, C = e.shape
    cands = [p for p in cells if eligible[p] and not sup[p] and (e[p] > 0 or not profile.show_zeros)]
    if not cands:
        return None
    need = max(profile.min_uncertainty, 1) + (len(already) + 1) * lb - sum(int(e[p]) for p in already)
    margin = {p: (p[0] == R - 1 or p[1] == C - 1) for p in cands}
    good = [p for p in cands if e[p] >= need]
    pool = good or cands
    key = (lambda p: (margin[p], int(e[p]))) if good else (lambda p: (margin[p], -int(e[p])))
    return min(pool, key=key)


def suppression_mask(table: CountTable, profile: Profile, force_total: bool = False) -> np.ndarray:
    e, published = table.extended()
    sup = published & profile.is_primary(e)
    if not profile.suppress:
        return sup
    tp = table.total_pos
    if force_total:
        sup[tp] = True
    eligible = published.copy()
    eligible[tp] = False  # a shared total is suppressed only when primary or forced for all its tables
    _line_pass(e, published, sup, eligible, profile)
    for _ in range(e.size + 1):
        exposed = exposed_cells(e, published, sup, profile)
        if not exposed:
            return sup
        p = exposed[0]
        R, C = e.shape
        row = [(p[0], j) for j in range(C)]
        col = [(i, p[1]) for i in range(R)]
        lines = sorted([ln for ln in (row, col) if all(published[q] for q in ln)],
                       key=lambda ln: sum(bool(sup[q]) for q in ln))
        choice = None
        for ln in lines:
            choice = _choose(e, sup, eligible, ln, profile, [q for q in ln if sup[q]])
            if choice is not None:
                break
        if choice is None:  # nothing left on its lines: widen to the whole table
            everything = [tuple(map(int, q)) for q in zip(*np.nonzero(published))]
            choice = _choose(e, sup, eligible, everything, profile, [])
        if choice is None:
            raise NeedsTotal(table.id)
        sup[choice] = True
    raise DisclosureError(f"{table.id}: secondary suppression did not converge")


def _round(v: np.ndarray, base: int | None) -> np.ndarray:
    if not base:
        return v
    return (np.floor(v / base + 0.5) * base).astype(np.int64)


# --------------------------------------------------------------------------- render
def _fmt(x: float, decimals: int) -> str:
    if decimals <= 0:
        return str(int(np.floor(x + 0.5)))
    q = np.floor(x * 10**decimals + 0.5) / 10**decimals
    return f"{q:.{decimals}f}"


def derived(table: CountTable, shown: np.ndarray, profile: Profile) -> tuple[dict[tuple[int, int], str], str]:
    """Percentages and the rate, computed from the published counts only (`shown`: NaN = hidden)."""
    e, published = table.extended()
    R, C = e.shape
    pct: dict[tuple[int, int], str] = {}
    rows = range(R) if table.two_way else range(1)
    base_cols = list(range(C - 1)) if table.percent_base is None else list(table.percent_base)
    other_cols = [j for j in range(C - 1) if j not in base_cols]
    if table.percent:
        for i in rows:
            if table.percent_base is None:
                base = shown[i, C - 1]
            elif not np.isnan(shown[i, base_cols]).any():
                base = shown[i, base_cols].sum()
            elif not np.isnan(shown[i, C - 1]) and not np.isnan(shown[i, other_cols]).any():
                base = shown[i, C - 1] - shown[i, other_cols].sum()
            else:
                base = np.nan
            targets = base_cols + ([C - 1] if table.percent_base is None else [])
            for j in targets:
                v = shown[i, j]
                if np.isnan(v):
                    pct[(i, j)] = profile.symbol
                elif v == 0 and (np.isnan(base) and profile.show_zeros or base > 0):
                    pct[(i, j)] = _fmt(0.0, profile.percent_decimals)  # 0 of anything (a hidden base is >= 1)
                elif np.isnan(base):
                    pct[(i, j)] = profile.symbol
                else:
                    pct[(i, j)] = "" if base == 0 else _fmt(100.0 * v / base, profile.percent_decimals)
    rate = ""
    if table.rate_population:
        t = shown[table.total_pos]
        rate = profile.symbol if np.isnan(t) else _fmt(10000.0 * t / table.rate_population, profile.rate_decimals)
    return pct, rate


def render(table: CountTable, sup: np.ndarray, profile: Profile) -> pd.DataFrame:
    """The published table: one row per cell (totals included), every value as text."""
    e, published = table.extended()
    shown = np.where(sup, np.nan, _round(e, profile.rounding).astype(float))
    pct, rate = derived(table, shown, profile)
    R, C = e.shape
    recs = []
    rows = range(R) if table.two_way else range(1)
    for i in rows:
        rlabel = table.rows[i] if i < R - 1 else TOTAL
        for j in range(C):
            clabel = table.columns[j] if j < C - 1 else TOTAL
            rec: dict[str, str] = {}
            if table.two_way:
                rec[table.row_title or "row"] = rlabel
            rec[table.column_title] = clabel
            rec["count"] = profile.symbol if sup[i, j] else str(int(shown[i, j]))
            if table.percent:
                rec["percent"] = pct.get((i, j), "")
            if table.rate_population:
                rec["rate_per_10000"] = rate if (i, j) == table.total_pos else ""
            recs.append(rec)
    return pd.DataFrame(recs, dtype="string")


# --------------------------------------------------------------------------- verify
def _parse(table: CountTable, frame: pd.DataFrame, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
    e, published = table.extended()
    R, C = e.shape
    rows = list(range(R)) if table.two_way else [0]
    expected = len(rows) * C
    if len(frame) != expected:
        raise DisclosureError(f"{table.id}: {len(frame)} published cells, expected {expected}")
    sup = np.zeros_like(published)
    shown = np.full(e.shape, np.nan)
    k = 0
    for i in rows:
        for j in range(C):
            text = str(frame["count"].iloc[k])
            if text == profile.symbol:
                sup[i, j] = True
            elif text.isdigit():
                shown[i, j] = int(text)
            else:
                raise DisclosureError(f"{table.id}: published count {text!r} is neither a number nor {profile.symbol!r}")
            k += 1
    return sup, shown


def verify(table: CountTable, frame: pd.DataFrame, profile: Profile) -> dict[str, Any]:
    """Re-check one published table against its true counts; raise DisclosureError on any failure."""
    e, published = table.extended()
    sup, shown = _parse(table, frame, profile)
    vis = published & ~sup
    problems: list[str] = []
    expected = _round(e, profile.rounding)
    if (shown[vis] != expected[vis]).any():
        problems.append("a published count differs from the (rounded) true count")
    if profile.suppress:
        if (vis & profile.is_primary(e)).any():
            problems.append(f"a count in the primary range {profile.primary.min}-{profile.primary.max} is visible")
        if profile.show_zeros and (sup & (e == 0)).any():
            problems.append("a true zero is suppressed although zeros are shown (a reader would assume >= 1)")
        exposed = exposed_cells(e, published, sup, profile)
        if exposed:
            problems.append(f"{len(exposed)} suppressed cell(s) can be worked out from the totals to within "
                            f"{max(profile.min_uncertainty, 1) - 1}")
    elif sup.any():
        problems.append("cells suppressed under a profile without suppression")
    pct, rate = derived(table, np.where(vis, shown, np.nan), profile)
    if table.percent and "percent" in frame:
        R, C = e.shape
        rows = list(range(R)) if table.two_way else [0]
        got = frame["percent"].astype("string").fillna("").tolist()
        want = [pct.get((i, j), "") for i in rows for j in range(C)]
        if got != want:
            problems.append("a percentage is not what the published counts give (it could reveal a hidden count)")
    if table.rate_population:
        got_rate = [x for x in frame["rate_per_10000"].astype("string").fillna("").tolist() if x]
        if got_rate != ([rate] if rate else []):
            problems.append("the rate is not what the published total gives")
    if problems:
        raise DisclosureError(f"table {table.id} failed disclosure verification: " + "; ".join(problems))
    R, C = e.shape
    cells = []
    for (i, j) in zip(*np.nonzero(sup)):
        cells.append({"row": (table.rows[i] if i < R - 1 else TOTAL) if table.two_way else None,
                      "category": table.columns[j] if j < C - 1 else TOTAL})
    return {"suppressed_cells": cells, "suppressed_count": len(cells), "verified": True}


def protect(tables: list[CountTable], profile: Profile) -> dict[str, pd.DataFrame]:
    """Suppress, round and render every table; tables that share a population share their total's fate."""
    by_pop: dict[str, list[CountTable]] = {}
    for t in tables:
        by_pop.setdefault(t.population, []).append(t)
    for pop, ts in by_pop.items():
        if len({t.total for t in ts}) > 1:
            raise DisclosureError(f"tables of population {pop} disagree on its total: {sorted({t.total for t in ts})}")
    forced: set[str] = set()
    masks: dict[str, np.ndarray] = {}
    for _ in range(2):
        need_again = False
        for t in tables:
            try:
                masks[t.id] = suppression_mask(t, profile, force_total=t.population in forced)
            except NeedsTotal:
                if t.population in forced:
                    raise DisclosureError(f"{t.id}: cannot be protected") from None
                forced.add(t.population)
                need_again = True
        if not need_again:
            break
    for pop, ts in by_pop.items():  # a total suppressed in one table is suppressed in all
        if any(masks[t.id][t.total_pos] for t in ts) and pop not in forced:
            forced.add(pop)
            for t in ts:
                masks[t.id] = suppression_mask(t, profile, force_total=True)
    return {t.id: render(t, masks[t.id], profile) for t in tables}


def verify_all(tables: list[CountTable], frames: dict[str, pd.DataFrame], profile: Profile) -> dict[str, dict[str, Any]]:
    """Verify every table, and that tables sharing a population publish the same total."""
    reports = {t.id: verify(t, frames[t.id], profile) for t in tables}
    totals: dict[str, set[str]] = {}
    for t in tables:
        f = frames[t.id]
        last = f.iloc[-1]
        totals.setdefault(t.population, set()).add(str(last["count"]))
    for pop, vals in totals.items():
        if len(vals) > 1:
            raise DisclosureError(f"tables of population {pop} publish different totals {sorted(vals)}")
    return reports
