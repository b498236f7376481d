"""Disclosure control: suppression, rounding, verification, and property tests with independent attacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from csc_returns.returns.disclosure import (
    CountTable, DisclosureError, _one_way_ranges, get_profile, load_profiles, lp_ranges, protect, render, verify,
    verify_all,
)

DFE = get_profile("dfe")
STRICT = get_profile("strict")
INTERNAL = get_profile("internal")


def one_way(values, id="t", population=None, **kw) -> CountTable:
    return CountTable(id=id, population=population or id, columns=[f"k{i}" for i in range(len(values))],
                      counts=[values], **kw)


def two_way(grid, id="t") -> CountTable:
    grid = np.asarray(grid)
    return CountTable(id=id, population=id, columns=[f"c{j}" for j in range(grid.shape[1])], counts=grid,
                      rows=[f"r{i}" for i in range(grid.shape[0])], row_title="row")


def published(table: CountTable, frame: pd.DataFrame, symbol: str = "c") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(extended true grid, published mask, shown values with NaN for suppressed) from the published text."""
    e, pub = table.extended()
    shown = np.full(e.shape, np.nan)
    rows = range(e.shape[0]) if table.two_way else range(1)
    k = 0
    for i in rows:
        for j in range(e.shape[1]):
            v = frame["count"].iloc[k]
            shown[i, j] = np.nan if v == symbol else float(v)
            k += 1
    return e, pub, shown


# --------------------------------------------------------------------------- independent attacks
def differencing_attack(pub: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """What a reader recovers by subtracting, line after line, until nothing changes."""
    known = shown.copy()
    R, C = known.shape
    lines = [[(i, j) for j in range(C)] for i in range(R)] + [[(i, j) for i in range(R)] for j in range(C)]
    lines = [ln for ln in lines if all(pub[p] for p in ln)]
    changed = True
    while changed:
        changed = False
        for ln in lines:
            *parts, total = ln
            unknown = [p for p in ln if np.isnan(known[p])]
            if len(unknown) == 1:
                u = unknown[0]
                if u == total:
                    known[u] = sum(known[p] for p in parts)
                else:
                    known[u] = known[total] - sum(known[p] for p in parts if p != u)
                changed = True
    return known


def lp_attack(pub: np.ndarray, shown: np.ndarray, lower: int) -> dict[tuple[int, int], tuple[float, float]]:
    """Min and max of each suppressed cell over ALL cells as variables (visible ones fixed by bounds)."""
    R, C = shown.shape
    n = R * C
    A, b = [], []
    for i in range(R):  # every row of the extended grid: cells sum to the last
        a = np.zeros(n)
        a[[i * C + j for j in range(C - 1)]] = 1
        a[i * C + C - 1] = -1
        A.append(a)
        b.append(0)
    for j in range(C):
        a = np.zeros(n)
        a[[i * C + j for i in range(R - 1)]] = 1
        a[(R - 1) * C + j] = -1
        A.append(a)
        b.append(0)
    bounds = []
    for i in range(R):
        for j in range(C):
            if not pub[i, j]:
                bounds.append((0, None))
            elif np.isnan(shown[i, j]):
                bounds.append((lower, None))
            else:
                bounds.append((shown[i, j], shown[i, j]))
    out = {}
    for i in range(R):
        for j in range(C):
            if pub[i, j] and np.isnan(shown[i, j]):
                c = np.zeros(n)
                c[i * C + j] = 1
                lo = linprog(c, A_eq=np.array(A), b_eq=b, bounds=bounds, method="highs")
                hi = linprog(-c, A_eq=np.array(A), b_eq=b, bounds=bounds, method="highs")
                assert lo.status == 0
                out[(i, j)] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return out


def assert_safe(table: CountTable, frame: pd.DataFrame, profile=DFE) -> None:
    e, pub, shown = published(table, frame, profile.symbol)
    vis = pub & ~np.isnan(shown)
    # 1. no published count in the primary range, and counts are the (rounded) truth
    assert not (vis & (e >= profile.primary.min) & (e <= profile.primary.max)).any()
    base = profile.rounding or 1
    assert (shown[vis] % base == 0).all()
    # 2. no suppressed cell recovered by differencing rows, columns and totals
    known = differencing_attack(pub, shown)
    assert not (pub & np.isnan(shown) & ~np.isnan(known)).any(), "a suppressed cell was recovered by differencing"
    # 3. no suppressed cell pinned down by the linear programme (reader knows suppressed cells are >= 1)
    if profile.rounding is None:  # exact counts published; with rounding the check below is on true values
        for p, (lo, hi) in lp_attack(pub, shown, profile.lower_bound).items():
            assert hi - lo >= max(profile.min_uncertainty, 1) - 1e-6, f"cell {p} pinned to [{lo}, {hi}]"


# --------------------------------------------------------------------------- examples
def test_profiles_are_data():
    assert set(load_profiles()) == {"dfe", "strict", "internal"}
    assert (DFE.primary.min, DFE.primary.max, DFE.rounding) == (1, 5, None)
    assert (STRICT.primary.max, STRICT.rounding) == (9, 5)


def test_classic_single_suppressed_cell_in_a_row_with_a_total():
    t = one_way([3, 20, 30])
    frame = protect([t], DFE)["t"]
    # 3 is primary; alone it would be 53 - 20 - 30 = 3, so the next smallest (20) is suppressed too
    assert frame["count"].tolist() == ["c", "c", "30", "53"]
    assert frame["percent"].tolist() == ["c", "c", "56.6", "100.0"]  # 30 / 53 = 56.6%
    assert_safe(t, frame)
    leaky = frame.copy()
    leaky.loc[1, "count"] = "20"
    leaky.loc[1, "percent"] = "37.7"
    with pytest.raises(DisclosureError, match="worked out"):
        verify(t, leaky, DFE)


def test_true_zeros_are_shown_and_never_used_as_complements():
    t = one_way([4, 0, 0, 9])
    frame = protect([t], DFE)["t"]
    # 4 needs a complement; the zeros would not protect it (a reader knows a c is >= 1), so 9 goes
    assert frame["count"].tolist() == ["c", "0", "0", "c", "13"]
    assert frame["percent"].tolist()[1] == "0.0"


def test_two_small_cells_that_would_pin_each_other():
    # 1 + 1 = 2 with both >= 1 means both are 1: a third cell must be suppressed
    t = one_way([1, 1, 50, 60])
    frame = protect([t], DFE)["t"]
    assert frame["count"].tolist()[:3] == ["c", "c", "c"]
    assert_safe(t, frame)


def test_a_table_of_ones_suppresses_its_total_in_every_table_of_the_population():
    ones = one_way([1, 1, 1, 1, 1, 1], id="ones", population="p")  # total 6: every c would be 1
    other = one_way([6, 0], id="other", population="p")
    frames = protect([ones, other], DFE)
    assert frames["ones"]["count"].iloc[-1] == "c" and frames["other"]["count"].iloc[-1] == "c"
    verify_all([ones, other], frames, DFE)
    bad = dict(frames)
    bad["other"] = render(other, np.zeros((2, 3), dtype=bool), INTERNAL)
    with pytest.raises(DisclosureError):
        verify_all([ones, other], bad, DFE)


def test_two_way_differencing_chain_is_blocked():
    t = two_way([[3, 40, 50], [30, 25, 60], [20, 35, 45]])
    frame = protect([t], DFE)["t"]
    assert_safe(t, frame)
    sup = frame["count"] == "c"
    assert sup.sum() >= 4  # a c needs a partner in its row and in its column


def test_rate_and_percentages_follow_their_counts():
    t = one_way([2, 10, 10], rate_population=10000)
    frame = protect([t], DFE)["t"]
    assert frame["rate_per_10000"].iloc[-1] == "22"  # 22 / 10,000 x 10,000
    small = one_way([2, 0], rate_population=10000)
    f2 = protect([small], DFE)["t"]
    assert f2["count"].iloc[-1] == "c" and f2["rate_per_10000"].iloc[-1] == "c"
    tampered = f2.copy()
    tampered.loc[len(tampered) - 1, "rate_per_10000"] = "2"
    with pytest.raises(DisclosureError, match="rate"):
        verify(small, tampered, DFE)


def test_percentage_with_a_hidden_base_is_suppressed():
    # base = the first two categories; the third is "not known"
    t = one_way([3, 40, 12], percent_base=[0, 1])
    frame = protect([t], DFE)["t"]
    assert frame["count"].tolist()[:3] == ["c", "c", "12"] or frame["count"].tolist()[:3] == ["c", "40", "c"]
    assert "c" in frame["percent"].tolist()[:2]


def test_verify_rejects_a_visible_small_count_and_a_suppressed_zero():
    t = one_way([3, 10, 10])
    with pytest.raises(DisclosureError, match="primary range"):
        verify(t, render(t, np.zeros((2, 4), dtype=bool), DFE), DFE)
    z = one_way([0, 10, 10])
    mask = np.zeros((2, 4), dtype=bool)
    mask[0, 0] = mask[0, 1] = True
    with pytest.raises(DisclosureError, match="zero"):
        verify(z, render(z, mask, DFE), DFE)


def test_strict_rounds_to_five_and_suppresses_under_ten():
    t = one_way([7, 12, 31, 48])
    frame = protect([t], STRICT)["t"]
    # 7 < 10 is suppressed with its smallest partner 12 (7 + 12 = 19 leaves each c a range of 1 to 18);
    # the rest rounded to the nearest 5: 31 -> 30, 48 -> 50, total 98 -> 100 (totals are rounded on their own)
    assert frame["count"].tolist() == ["c", "c", "30", "50", "100"]
    assert frame["percent"].tolist() == ["c", "c", "30", "50", "100"]  # from the rounded counts: 30 / 100
    verify(t, frame, STRICT)


def test_internal_profile_shows_everything():
    t = one_way([1, 2, 3])
    frame = protect([t], INTERNAL)["t"]
    assert frame["count"].tolist() == ["1", "2", "3", "6"]
    verify(t, frame, INTERNAL)


def test_category_called_total_is_refused():
    with pytest.raises(ValueError):
        CountTable(id="x", population="x", columns=["Total"], counts=[[1]])


# --------------------------------------------------------------------------- properties
cell = st.one_of(st.just(0), st.integers(1, 5), st.integers(6, 60))


@st.composite
def one_way_tables(draw):
    values = draw(st.lists(cell, min_size=1, max_size=7))
    return one_way(values)


@st.composite
def two_way_tables(draw):
    r = draw(st.integers(2, 4))
    c = draw(st.integers(2, 4))
    grid = draw(st.lists(st.lists(cell, min_size=c, max_size=c), min_size=r, max_size=r))
    return two_way(grid)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one_way_tables())
def test_property_one_way_tables_are_safe(t):
    frame = protect([t], DFE)[t.id]
    verify(t, frame, DFE)
    assert_safe(t, frame)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(two_way_tables())
def test_property_two_way_tables_are_safe(t):
    frame = protect([t], DFE)[t.id]
    verify(t, frame, DFE)
    assert_safe(t, frame)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(one_way_tables(), two_way_tables()))
def test_property_strict_tables_are_safe(t):
    frame = protect([t], STRICT)[t.id]
    verify(t, frame, STRICT)
    assert_safe(t, frame, STRICT)
    # the independent attack on the TRUE values of the visible cells (what a reader of rounded values knows
    # at most) still cannot narrow a suppressed cell below the strict uncertainty
    e, pub, shown = published(t, frame)
    exact = np.where(np.isnan(shown), np.nan, e.astype(float))
    for p, (lo, hi) in lp_attack(pub, exact, STRICT.lower_bound).items():
        assert hi - lo >= STRICT.min_uncertainty - 1e-6


@settings(max_examples=100, deadline=None)
@given(st.lists(cell, min_size=1, max_size=6), st.data())
def test_property_closed_form_equals_the_linear_programme(values, data):
    t = one_way(values)
    e, pub = t.extended()
    sup = np.zeros_like(pub)
    for j in range(e.shape[1]):
        sup[0, j] = data.draw(st.booleans()) and e[0, j] > 0
    assert _one_way_ranges(e, sup, 1) == lp_ranges(e, pub, sup, 1)


@settings(max_examples=100, deadline=None)
@given(one_way_tables())
def test_property_percentages_are_what_the_published_counts_give(t):
    frame = protect([t], DFE)[t.id]
    total = frame["count"].iloc[-1]
    for cnt, pct in zip(frame["count"], frame["percent"]):
        if cnt == "c":
            assert pct == "c"
        elif total != "c" and int(total) > 0:
            assert pct == f"{np.floor(1000.0 * int(cnt) / int(total) + 0.5) / 10:.1f}"
