"""Indicators on small hand-checked tables (arithmetic in the comments), and the aggregate run.

CIN and 903 collection year 2026: the year runs 1 April 2025 to 31 March 2026.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from csc_returns.returns.aggregates import (
    AggregateError, canonical_frame, compute, empty_tables, load_aggregates, population_estimate, run_aggregate,
    service_planning_summary,
)
from csc_returns.returns.disclosure import get_profile, protect
from csc_returns.returns.errors import UsageError

FIX = Path(__file__).parent / "fixtures"
Y = 2026


def counts(ret, tables, previous=None, pop=None, year=Y) -> dict[str, dict[str, int]]:
    """indicator id -> {category label: true count} (one-way tables)."""
    out = {}
    for t in compute(ret, year, tables, previous, pop):
        out[t.indicator.id] = dict(zip(t.table.columns, t.table.counts[0].tolist()))
        out[t.indicator.id]["TOTAL"] = t.table.total
    return out


def _cin(details, assessments=(), s47=(), cpp=(), children=None):
    t = empty_tables("cin", Y)
    ids = sorted({d["LAchildID"] for d in details} | {p["LAchildID"] for p in cpp})
    child_no = {c: i + 1 for i, c in enumerate(ids)}
    t["Child"] = canonical_frame("cin", Y, "Child", children or [{"LAchildID": c, "_child": n} for c, n in child_no.items()])
    t["CINdetails"] = canonical_frame("cin", Y, "CINdetails", [dict(d, _child=child_no[d["LAchildID"]]) for d in details])
    t["Assessments"] = canonical_frame("cin", Y, "Assessments", list(assessments))
    t["Section47"] = canonical_frame("cin", Y, "Section47", list(s47))
    t["ChildProtectionPlans"] = canonical_frame("cin", Y, "ChildProtectionPlans",
                                                [dict(p, _child=child_no[p["LAchildID"]]) for p in cpp])
    return t


# --------------------------------------------------------------------------- CIN
DETAILS = [
    # A: referred in year, open, N1
    dict(LAchildID="A", _episode=1, CINreferralDate="2025-05-01", PrimaryNeedCode="N1", ReferralNFA=False),
    # B: one closed episode, then a referral on 1 March 2026 that led to no further action (open but NFA)
    dict(LAchildID="B", _episode=2, CINreferralDate="2025-09-15", CINclosureDate="2026-02-02", ReasonForClosure="RC7",
         PrimaryNeedCode="N4", ReferralNFA=False),
    dict(LAchildID="B", _episode=3, CINreferralDate="2026-03-01", ReferralNFA=True),
    # C: referred before the year, still open
    dict(LAchildID="C", _episode=4, CINreferralDate="2024-11-01", PrimaryNeedCode="N2", ReferralNFA=False),
    # D: referred, closed, re-referred in January 2026
    dict(LAchildID="D", _episode=5, CINreferralDate="2025-06-01", CINclosureDate="2025-07-01", ReasonForClosure="RC8",
         PrimaryNeedCode="N1", ReferralNFA=False),
    dict(LAchildID="D", _episode=6, CINreferralDate="2026-01-10", PrimaryNeedCode="N1", ReferralNFA=False),
    # E: referred on 1 April 2025 (last year's census has a referral on 1 April 2024)
    dict(LAchildID="E", _episode=7, CINreferralDate="2025-04-01", PrimaryNeedCode="N4", ReferralNFA=False),
    # F: referred on the census date itself
    dict(LAchildID="F", _episode=8, CINreferralDate="2026-03-31", PrimaryNeedCode="N0", ReferralNFA=False),
]

ASSESSMENTS = [
    # Mon 2 June 2025 -> Fri 1 Aug 2025: June after the 2nd has 20 weekdays, July 23, 1 Aug 1 = 44 (no bank holiday)
    dict(LAchildID="A", _episode=1, _assessment=1, AssessmentActualStartDate="2025-06-02", AssessmentAuthorisationDate="2025-08-01"),
    # ... -> Tue 5 Aug: 44 + Mon 4 + Tue 5 = 46: over
    dict(LAchildID="A", _episode=1, _assessment=2, AssessmentActualStartDate="2025-06-02", AssessmentAuthorisationDate="2025-08-05"),
    # ... -> Mon 4 Aug: 45 exactly: within
    dict(LAchildID="D", _episode=5, _assessment=3, AssessmentActualStartDate="2025-06-02", AssessmentAuthorisationDate="2025-08-04"),
    # completed last year: not counted
    dict(LAchildID="C", _episode=4, _assessment=4, AssessmentActualStartDate="2025-01-02", AssessmentAuthorisationDate="2025-03-20"),
    # not completed: not counted
    dict(LAchildID="F", _episode=8, _assessment=5, AssessmentActualStartDate="2026-03-31"),
    # no start date: its own category, outside the percentage base
    dict(LAchildID="E", _episode=7, _assessment=6, AssessmentAuthorisationDate="2025-10-01"),
    # Fri 22 Aug -> Tue 26 Aug 2025: Mon 25 Aug is the summer bank holiday, so 1 working day
    dict(LAchildID="D", _episode=6, _assessment=7, AssessmentActualStartDate="2025-08-22", AssessmentAuthorisationDate="2025-08-26"),
]

S47 = [
    # Mon 5 May -> Tue 27 May 2025: 6-9 May (4) + 12-16 (5) + 19-23 (5) + 26 May bank holiday (0) + 27 (1) = 15: within
    dict(LAchildID="A", _episode=1, _s47=1, S47ActualStartDate="2025-05-05", DateOfInitialCPC="2025-05-27", ICPCnotRequired=False),
    # ... -> Wed 28 May = 16: over
    dict(LAchildID="D", _episode=5, _s47=2, S47ActualStartDate="2025-05-05", DateOfInitialCPC="2025-05-28", ICPCnotRequired=False),
    dict(LAchildID="E", _episode=7, _s47=3, S47ActualStartDate="2025-06-10", ICPCnotRequired=True),
    dict(LAchildID="F", _episode=8, _s47=4, S47ActualStartDate="2026-03-20", ICPCnotRequired=False),
    # started last year, conference this year: Mon 10 Mar -> Wed 2 Apr 2025: 4 + 5 + 5 + 1 + 2 = 17: over
    dict(LAchildID="C", _episode=4, _s47=5, S47ActualStartDate="2025-03-10", DateOfInitialCPC="2025-04-02", ICPCnotRequired=False),
]

CPP = [
    dict(LAchildID="A", _episode=1, _cpp=1, CPPstartDate="2026-01-15", InitialCategoryOfAbuse="NEG", LatestCategoryOfAbuse="NEG", NumberOfPreviousCPP=0),
    dict(LAchildID="C", _episode=4, _cpp=2, CPPstartDate="2024-03-31", InitialCategoryOfAbuse="EMO", LatestCategoryOfAbuse="NEG", NumberOfPreviousCPP=1),
    dict(LAchildID="D", _episode=6, _cpp=3, CPPstartDate="2025-09-30", InitialCategoryOfAbuse="PHY", LatestCategoryOfAbuse="PHY", NumberOfPreviousCPP=0),
    dict(LAchildID="D", _episode=5, _cpp=4, CPPstartDate="2025-04-10", CPPendDate="2025-08-01", InitialCategoryOfAbuse="NEG", LatestCategoryOfAbuse="NEG", NumberOfPreviousCPP=0),
    dict(LAchildID="E", _episode=7, _cpp=5, CPPstartDate="2025-06-01", CPPendDate="2026-03-31", InitialCategoryOfAbuse="SAB", LatestCategoryOfAbuse="SAB", NumberOfPreviousCPP=2),
    dict(LAchildID="F", _episode=8, _cpp=6, CPPstartDate="2024-10-01", InitialCategoryOfAbuse="SAB", LatestCategoryOfAbuse="SAB", NumberOfPreviousCPP=0),
]


@pytest.fixture(scope="module")
def cin():
    return _cin(DETAILS, ASSESSMENTS, S47, CPP)


@pytest.fixture(scope="module")
def cin_counts(cin):
    return counts("cin", cin, pop=10000)


@pytest.fixture(scope="module")
def cin_previous():
    prev = empty_tables("cin", 2025)
    prev["CINdetails"] = canonical_frame("cin", 2025, "CINdetails", [
        dict(LAchildID="E", _child=1, _episode=1, CINreferralDate="2024-04-01", CINclosureDate="2024-06-01", ReferralNFA=False),
        # 30 April 2024 is one day outside A's window (1 May 2024 to 30 April 2025)
        dict(LAchildID="A", _child=2, _episode=2, CINreferralDate="2024-04-30", CINclosureDate="2024-06-01", ReferralNFA=False),
    ])
    prev["ChildProtectionPlans"] = canonical_frame("cin", 2025, "ChildProtectionPlans", [
        dict(LAchildID="A", _child=2, _episode=2, _cpp=1, CPPstartDate="2023-01-01", CPPendDate="2023-06-01",
             InitialCategoryOfAbuse="NEG", LatestCategoryOfAbuse="NEG", NumberOfPreviousCPP=0)])
    return prev


def test_children_in_need_at_31_march(cin_counts):
    c = cin_counts["cin_at_31_march"]
    # open at 31 March and not NFA: A (N1), C (N2), D ep6 (N1), E (N4), F (N0); B's open episode is NFA
    assert c["TOTAL"] == 5
    assert c["Abuse or neglect (worded \"Abuse, neglect and exploitation\" from 2025-26)"] == 2
    assert c["Child's disability"] == 1 and c["Family in acute stress"] == 1 and c["Not stated"] == 1


def test_cin_rate_per_10000(cin):
    # 5 children in need, 10,000 children: 5 / 10,000 x 10,000 = 5 per 10,000 (internal: nothing suppressed)
    [t] = [t for t in compute("cin", Y, cin, None, 10000) if t.indicator.id == "cin_at_31_march"]
    frame = protect([t.table], get_profile("internal"))[t.table.id]
    assert frame["rate_per_10000"].iloc[-1] == "5.0"
    assert frame["count"].iloc[-1] == "5"


def test_referrals_and_rereferrals_without_history(cin_counts):
    c = cin_counts["referrals"]
    # referrals 1 Apr 2025 - 31 Mar 2026: episodes 1,2,3,5,6,7,8 = 7 (episode 4 was in Nov 2024)
    assert c["TOTAL"] == 7
    # re-referrals: B ep3 (1 Mar 2026, previous 15 Sep 2025), D ep6 (10 Jan 2026, previous 1 Jun 2025) = 2
    assert c["Re-referral within 12 months of a previous referral"] == 2


def test_rereferrals_use_last_years_census(cin, cin_previous):
    c = counts("cin", cin, previous=cin_previous)["referrals"]
    # + E: referral 1 Apr 2025, previous 1 Apr 2024 = exactly 12 months earlier, inside the window -> 3
    # A: previous 30 Apr 2024 is before 1 May 2024 (12 months before 1 May 2025): not a re-referral
    assert c["Re-referral within 12 months of a previous referral"] == 3 and c["TOTAL"] == 7


def test_assessments_within_45_working_days(cin_counts, cin):
    c = cin_counts["assessments_within_45_days"]
    # completed in the year: 1, 2, 3, 6, 7 -> within: 1 (44 days), 3 (45), 7 (1) = 3; over: 2 (46) = 1; no start: 6
    assert (c["Completed within 45 working days"], c["Completed in more than 45 working days"],
            c["Start date not recorded"], c["TOTAL"]) == (3, 1, 1, 5)
    [t] = [t for t in compute("cin", Y, cin) if t.indicator.id == "assessments_within_45_days"]
    frame = protect([t.table], get_profile("internal"))[t.table.id]
    # percentage base = within + over = 4: 3 / 4 = 75.0%
    assert frame["percent"].iloc[0] == "75.0"


def test_section47_enquiries(cin_counts):
    c = cin_counts["section47_enquiries"]
    # started in the year: s47 1-4 (5 started in March 2025) -> ICPC held 2, not required 1, pending 1
    assert (c["Initial child protection conference held"], c["Initial child protection conference not required"],
            c["No conference decision recorded yet"], c["TOTAL"]) == (2, 1, 1, 4)


def test_icpcs_within_15_working_days(cin_counts):
    c = cin_counts["icpcs_within_15_days"]
    # conferences in the year: s47 1 (15 days, the 26 May bank holiday skipped), 2 (16), 5 (17) -> 1 within, 2 over
    assert (c["Held within 15 working days of the start of the section 47 enquiry"], c["TOTAL"]) == (1, 3)


def test_cpp_at_31_march_by_category_and_duration(cin_counts):
    c = cin_counts["cpp_at_31_march"]
    # open at 31 March: plans 1 (A, NEG), 2 (C, EMO), 3 (D, PHY), 6 (F, SAB); plan 5 ended ON 31 March; 4 ended
    assert (c["Neglect"], c["Emotional abuse"], c["Physical abuse"], c["Sexual abuse"], c["TOTAL"]) == (1, 1, 1, 1, 4)
    d = cin_counts["cpp_duration_at_31_march"]
    # 15 Jan 2026: <= 3 months; 30 Sep 2025 = 31 Mar less 6 months: "more than 3 to 6 months";
    # 1 Oct 2024: between 1 and 2 years; 31 Mar 2024 = exactly 2 years: "2 years or more"
    assert (d["3 months or less"], d["More than 3 months to 6 months"], d["More than 6 months to less than 1 year"],
            d["1 year to less than 2 years"], d["2 years or more"]) == (1, 1, 0, 1, 1)


def test_second_or_subsequent_plans(cin_counts, cin, cin_previous):
    c = cin_counts["cpp_second_or_subsequent"]
    # started in the year: plans 1, 3, 4, 5. Subsequent: 3 (D had plan 4 earlier), 5 (NumberOfPreviousCPP 2) = 2 of 4
    assert (c["Second or subsequent plan"], c["TOTAL"]) == (2, 4)
    # with last year's census A's plan 1 follows a 2023 plan: 3 of 4
    assert counts("cin", cin, previous=cin_previous)["cpp_second_or_subsequent"]["Second or subsequent plan"] == 3


# --------------------------------------------------------------------------- SSDA903
def _e(child, decom, rne, ls, place, dec=None, rec=None, post=None, cin="N1"):
    return dict(CHILD=child, DECOM=decom, RNE=rne, LS=ls, CIN=cin, PLACE=place, DEC=dec, REC=rec, PL_POST=post)


HEADER = [
    dict(CHILD="C1", SEX="F", DOB="2010-06-15", ETHNIC="WBRI", UPN="A123456789012"),
    dict(CHILD="C2", SEX="M", DOB="2015-03-31", ETHNIC="MWBC", UPN="UN1"),
    dict(CHILD="C3", SEX="F", DOB="2025-12-01", ETHNIC="NOBT", UPN="UN1"),
    dict(CHILD="C4", SEX="M", DOB="2009-01-01", ETHNIC="BAFR", UPN="UN2"),
    dict(CHILD="C5", SEX="F", DOB="2012-02-02", ETHNIC="WBRI", UPN="UN1"),
    dict(CHILD="C6", SEX="M", DOB="2016-01-01", ETHNIC="WBRI", UPN="UN1"),
    dict(CHILD="C7", SEX="M", DOB="2013-05-05", ETHNIC="AIND", UPN="UN1"),
    dict(CHILD="C8", SEX="F", DOB="2020-04-01", ETHNIC="WBRI", UPN="UN1"),
    dict(CHILD="C9", SEX="M", DOB="2008-09-09", ETHNIC="WBRI", UPN="UN1"),
]
EPISODES = [
    # C1: foster U4 since 2022 (open on 1 April), P to U6 in June, P back to U4 in September: 3 placements in the year
    _e("C1", "2022-01-10", "S", "C2", "U4", "2025-06-01", "X1", "AB1 2CD"),
    _e("C1", "2025-06-01", "P", "C2", "U6", "2025-09-01", "X1"),
    _e("C1", "2025-09-01", "P", "C2", "U4"),
    # C2: one placement since 2020
    _e("C2", "2020-05-01", "S", "C2", "U1"),
    # C3: started January 2026 under an EPO, legal status change only (RNE L): 1 placement
    _e("C3", "2026-01-05", "S", "L2", "U3", "2026-01-20", "X1", cin="N1"),
    _e("C3", "2026-01-20", "L", "C1", "U3"),
    # C4: UASC, started May 2025 in supported accommodation
    _e("C4", "2025-05-01", "S", "V2", "K3", cin="N8"),
    # C5: returned home in October 2025 as planned
    _e("C5", "2024-02-01", "S", "C2", "U4", "2025-10-01", "E4A"),
    # C6: short breaks only (V3): left out of everything
    _e("C6", "2025-05-01", "S", "V3", "U4"),
    # C7: a temporary placement (T3) and back to the same placement (same type, same postcode): 1 placement
    _e("C7", "2023-01-01", "S", "C2", "U4", "2025-07-01", "X1", "ZZ1 1AA"),
    _e("C7", "2025-07-01", "P", "C2", "T3", "2025-07-05", "X1"),
    _e("C7", "2025-07-05", "P", "C2", "U4", None, None, "ZZ1 1AA"),
    # C8: placed for adoption with the current foster carer (A5 after U4): not a new placement
    _e("C8", "2023-06-01", "S", "C2", "U4", "2025-05-01", "X1"),
    _e("C8", "2025-05-01", "B", "E1", "A5"),
    # C9: started twice, ceased twice in the year
    _e("C9", "2025-04-10", "S", "V2", "U6", "2025-05-10", "E13", cin="N4"),
    _e("C9", "2025-08-01", "S", "V2", "R1", "2025-12-01", "E8", cin="N5"),
]
MISSING = [
    dict(CHILD="C4", DOB="2009-01-01", MISSING="M", MIS_START="2025-07-01", MIS_END="2025-07-02"),
    dict(CHILD="C4", DOB="2009-01-01", MISSING="A", MIS_START="2025-08-01", MIS_END="2025-08-01"),
    dict(CHILD="C5", DOB="2012-02-02", MISSING="M", MIS_START="2025-03-25"),  # carried over from last year
    dict(CHILD="C5", DOB="2012-02-02", MISSING="A", MIS_START="2025-01-01", MIS_END="2025-01-05"),  # ended before
]
OC3 = [
    dict(CHILD="L1", DOB="2007-05-01", IN_TOUCH="YES", ACTIV="F2", ACCOM="U1"),  # 18 in May 2025
    dict(CHILD="L2", DOB="2006-02-10", IN_TOUCH="YES", ACTIV="G5", ACCOM="S2"),  # 20 in Feb 2026
    dict(CHILD="L3", DOB="2005-04-01", IN_TOUCH="NO", ACTIV="0", ACCOM="0"),  # 20 on 1 Apr 2025
    dict(CHILD="L4", DOB="2004-03-31", IN_TOUCH="YES", ACTIV="F1", ACCOM="U1"),  # 22 on 31 Mar 2026: too old
    dict(CHILD="L5", DOB="2005-06-06", IN_TOUCH="DIED", ACTIV="0", ACCOM="0"),  # died: left out
    dict(CHILD="L6", DOB="2004-09-09", IN_TOUCH="YES", ACTIV="F5", ACCOM="G1"),  # 21, gone abroad: no information
    dict(CHILD="L7", DOB="2008-11-11", IN_TOUCH="RHOM", ACTIV="0", ACCOM="0"),  # returned home: left out
]


def _903(episodes=EPISODES, year=Y):
    t = empty_tables("ssda903", year)
    t["Header"] = canonical_frame("ssda903", year, "Header", HEADER)
    t["Episodes"] = canonical_frame("ssda903", year, "Episodes", episodes)
    t["UASC"] = canonical_frame("ssda903", year, "UASC", [dict(CHILD="C4", SEX="M", DOB="2009-01-01")])
    t["Missing"] = canonical_frame("ssda903", year, "Missing", MISSING)
    t["OC3"] = canonical_frame("ssda903", year, "OC3", OC3)
    return t


@pytest.fixture(scope="module")
def cla():
    return counts("ssda903", _903(), pop=20000)


def test_cla_at_31_march_by_legal_status(cla):
    c = cla["cla_at_31_march"]
    # open at 31 March: C1, C2, C3, C4, C7, C8 = 6 (C5 and C9 ceased; C6 short breaks only)
    assert c["TOTAL"] == 6
    assert (c["Full care order"], c["Interim care order"], c["Placement order granted"],
            c["Voluntary agreement under section 20 (single period of accommodation)"]) == (3, 1, 1, 1)


def test_cla_breakdowns(cla):
    p = cla["cla_at_31_march_by_placement"]
    assert (p["Foster placements"], p["Placed for adoption"], p["Independent living or supported accommodation"]) == (4, 1, 1)
    a = cla["cla_at_31_march_by_age"]
    # ages at 31 Mar 2026: C3 0; C8 5 (6 on 1 April); C2 11 (birthday on 31 March counts); C7 12; C1 15; C4 17
    assert [a[k] for k in ("Under 1 year", "1 to 4 years", "5 to 9 years", "10 to 15 years", "16 years and over")] == [1, 0, 1, 3, 1]
    s = cla["cla_at_31_march_by_sex"]
    assert (s["Male"], s["Female"], s["Unknown"]) == (3, 3, 0)
    e = cla["cla_at_31_march_by_ethnicity"]
    assert (e["White"], e["Mixed or multiple ethnic groups"], e["Asian or Asian British"],
            e["Black, African, Caribbean or Black British"], e["Refused or information not yet obtained"]) == (2, 1, 1, 1, 1)
    u = cla["cla_at_31_march_by_uasc"]
    assert u["Unaccompanied asylum-seeking child"] == 1


def test_cla_rate_per_10000():
    [t] = [t for t in compute("ssda903", Y, _903(), None, 20000) if t.indicator.id == "cla_at_31_march"]
    # 6 / 20,000 x 10,000 = 3.0 per 10,000
    assert protect([t.table], get_profile("internal"))[t.table.id]["rate_per_10000"].iloc[-1] == "3.0"


def test_starts_and_ceases(cla):
    s = cla["cla_started"]
    # started (RNE S, DECOM in the year): C3 (N1), C4 (N8), C9 first start (N4); C6 is V3
    assert (s["TOTAL"], s["Abuse or neglect"], s["Family in acute stress"], s["Absent parenting"]) == (3, 1, 1, 1)
    c = cla["cla_ceased"]
    # ceased: C5 (E4A, as planned), C9 last time (E8, other); X1 endings are not ceasing
    assert (c["TOTAL"], c["Returned home to parents or relatives as part of the care plan"], c["Other reason"]) == (2, 1, 1)


def test_three_or_more_placements(cla):
    c = cla["cla_three_or_more_placements"]
    # C1: U4 (open 1 April), U6, U4 = 3; C3: RNE L keeps the placement; C7: temporary move back; C8: A5 with carer
    assert (c["1 placement"], c["2 placements"], c["3 or more placements"], c["TOTAL"]) == (5, 0, 1, 6)


def test_long_term_stability(cla):
    c = cla["cla_long_term_stability"]
    # cohort (under 16, looked after since 30 Sep 2023 or earlier): C1 (2022), C2 (2020), C7 (2023-01), C8 (2023-06)
    # same carer since 31 Mar 2024 or earlier: C2, C7 (T3 return), C8 (A5 with foster carer) = 3; C1 moved in Sep 2025
    assert (c["TOTAL"], c["Living with the same carer for at least 2 years (or placed for adoption with the previous "
                         "placement making 2 years)"]) == (4, 3)


def test_long_term_stability_uses_last_years_episodes():
    cur = [_e("C10", "2024-05-01", "L", "C2", "U4")]  # legal status change only: the carer did not change
    prev = [_e("C10", "2022-02-01", "S", "V2", "U4", "2024-05-01", "X1")]
    header = [dict(CHILD="C10", SEX="M", DOB="2014-01-01", ETHNIC="WBRI", UPN="UN1")]
    t = empty_tables("ssda903", Y)
    t["Header"] = canonical_frame("ssda903", Y, "Header", header)
    t["Episodes"] = canonical_frame("ssda903", Y, "Episodes", cur)
    p = empty_tables("ssda903", 2025)
    p["Episodes"] = canonical_frame("ssda903", 2025, "Episodes", prev)
    # without history: looked after since 1 May 2024 only -> not in the 2.5-year cohort
    assert counts("ssda903", t)["cla_long_term_stability"]["TOTAL"] == 0
    # with last year's episodes: since 1 Feb 2022, same carer throughout -> 1 of 1
    c = counts("ssda903", t, previous=p)["cla_long_term_stability"]
    assert c["TOTAL"] == 1 and c["Not with the same carer for 2 years"] == 0


def test_missing_and_away(cla):
    m = cla["cla_missing"]
    # looked after during the year: C1, C2, C3, C4, C5, C7, C8, C9 = 8; missing: C4, C5 (carried over) = 2
    assert (m["Missing at least once in the year"], m["TOTAL"]) == (2, 8)
    a = cla["cla_away"]
    assert a["Away from placement without authorisation at least once in the year"] == 1  # C5's ended in January
    i = cla["missing_incidents"]
    assert (i["TOTAL"], i[next(k for k in i if k.startswith("Missing"))]) == (3, 2)


def test_care_leavers(cla):
    acc = cla["care_leavers_19_21_accommodation"]
    # 19-21: L2 (20, S2 unsuitable), L3 (20, not in touch, 0), L6 (21, G1 abroad); L4 is 22, L5 died
    assert (acc["Accommodation considered suitable"], acc["Accommodation considered unsuitable"],
            acc["No information"], acc["TOTAL"]) == (0, 1, 2, 3)
    act = cla["care_leavers_19_21_activity"]
    assert (act["In education, employment or training"], act["Not in education, employment or training"],
            act["No information"]) == (1, 1, 1)
    young = cla["care_leavers_17_18_accommodation"]
    assert (young["Accommodation considered suitable"], young["TOTAL"]) == (1, 1)  # L1; L7 returned home


# --------------------------------------------------------------------------- spec and population
def test_specs_validate_and_every_indicator_has_a_definition():
    for r in ("cin", "ssda903"):
        af = load_aggregates(r)
        for i in af.indicators:
            assert i.numerator and i.denominator and i.window and i.reference, i.id


def test_spec_model_forbids_unknown_keys():
    from csc_returns.returns.aggregates import AggregatesFile

    data = load_aggregates("cin").model_dump(by_alias=True)
    data["indicators"][0]["colour"] = "red"
    with pytest.raises(Exception, match="colour"):
        AggregatesFile.model_validate(data)


def test_two_way_tables_may_not_share_a_breakdown():
    from csc_returns.returns.aggregates import AggregatesFile

    data = load_aggregates("ssda903").model_dump(by_alias=True)
    first = dict(data["indicators"][0])
    data["indicators"].append(dict(first, id="two_way", by=["legal_status", "sex"], headline=None))
    with pytest.raises(Exception, match="two-way"):
        AggregatesFile.model_validate(data)


def test_population_table():
    durham = population_estimate("840", 2025)  # 2024-25 uses mid-2024
    assert (durham.value, durham.mid_year, durham.provisional) == (100432, 2024, False)
    later = population_estimate("840", 2026)  # mid-2025 not carried yet: mid-2024, provisional
    assert later.mid_year == 2024 and later.provisional
    assert population_estimate("999", 2026) is None and population_estimate(None, 2026) is None


def test_unmapped_codes_need_a_missing_category():
    from csc_returns.returns.aggregates import Dimension, Category, categorise

    dim = Dimension(title="x", column="x", categories=[Category(key="a", label="A", codes=["A"])])
    with pytest.raises(AggregateError):
        categorise(pd.Series(["A", "B"], dtype="string"), dim, list(dim.categories), "test")


# --------------------------------------------------------------------------- the run
INPUTS = [FIX / "cin" / "small_2026.xml", FIX / "ssda903" / "2026"]


def test_run_writes_verified_tables_and_report(tmp_path):
    out = tmp_path / "agg"
    res = run_aggregate(INPUTS, None, out, "dfe", None, la="840")
    assert (out / "disclosure_report.json").exists() and (out / "indicators.json").exists()
    rep = json.loads((out / "disclosure_report.json").read_text())
    assert rep["profile"]["profile"] == "dfe" and rep["version"]
    assert rep["population"]["ssda903"]["mid_year_used"] == 2024 and rep["population"]["ssda903"]["provisional"]
    assert all(t["verified"] for t in rep["tables"].values())
    assert not list(tmp_path.glob(".agg.tmp-*"))  # no temporary folder left behind
    # small fixture: every non-zero count is 1-5, so every non-zero cell is suppressed
    for f in res.tables.values():
        assert not f["count"].isin([str(n) for n in range(1, 6)]).any()


def test_service_planning_summary_reads_suppressed_tables_only(tmp_path):
    res = run_aggregate(INPUTS, None, tmp_path / "a", "dfe", None, la="840")
    summary = service_planning_summary(res)
    assert summary and {s["id"] for s in summary} >= {"cin_at_31_march", "cla_at_31_march"}
    cla = next(s for s in summary if s["id"] == "cla_at_31_march")
    assert cla["value"] == "c"  # 3 children looked after: suppressed, so the rate is too
    assert service_planning_summary(tmp_path / "a") == summary  # the same from the folder
    internal = service_planning_summary(run_aggregate(INPUTS, None, tmp_path / "b", "internal", None, la="840"))
    assert next(s for s in internal if s["id"] == "cla_at_31_march")["value"] != "c"


def test_fail_closed_leaves_nothing(tmp_path, monkeypatch):
    import csc_returns.returns.aggregates as agg

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(agg, "_readme", boom)
    with pytest.raises(RuntimeError):
        run_aggregate(INPUTS, None, tmp_path / "out", "dfe", None)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_verification_writes_nothing(tmp_path, monkeypatch):
    import csc_returns.returns.aggregates as agg
    from csc_returns.returns.disclosure import DisclosureError

    def leaky(tables, profile):  # a "protection" that publishes everything
        return protect(tables, get_profile("internal"))

    monkeypatch.setattr(agg, "protect", leaky)
    with pytest.raises(DisclosureError):
        run_aggregate(INPUTS, None, tmp_path / "out", "dfe", None)
    assert list(tmp_path.iterdir()) == []


def test_output_folder_rules(tmp_path):
    other = tmp_path / "docs"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not empty"):
        run_aggregate(INPUTS, None, other, "dfe", None)
    assert (other / "mine.txt").read_text() == "keep me"
    out = tmp_path / "agg"
    run_aggregate(INPUTS, None, out, "dfe", None)
    run_aggregate(INPUTS, None, out, "strict", None)  # replaces its own earlier output
    assert json.loads((out / "disclosure_report.json").read_text())["profile"]["profile"] == "strict"


def test_cli_commands(tmp_path):
    import typer
    from typer.testing import CliRunner

    from csc_returns.returns.aggregates_cli import aggregate, keygen

    app = typer.Typer()
    app.command("aggregate")(aggregate)
    app.command("keygen")(keygen)
    runner = CliRunner()
    r = runner.invoke(app, ["aggregate", *map(str, INPUTS), "--out", str(tmp_path / "o"), "--la", "840"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "README.txt").exists()
    r = runner.invoke(app, ["keygen", str(tmp_path / "k.key")])
    assert r.exit_code == 0 and (tmp_path / "k.key").exists()


# --------------------------------------------------------------------------- sample data
def test_sample_data_figures_are_plausible():
    """The generator's LA (2,000 children in the census, as Halton, LA 876, had in 2024-25) against the spread
    of published 2024-25 figures for England LAs (DfE B1, C1, D3, CLA and placement-stability tables):
    5th-95th percentiles CIN 225-527 per 10,000, re-referrals 14-28%, CLA 35-128 per 10,000, 3+ placements
    6-15%, long-term stability 56-79%, second plans 13-32%, care leavers 19-21 in suitable accommodation
    80-96%. Bounds here are the England minimum and maximum, so the test catches a broken indicator, not
    a modelling choice of the generator."""
    generate = pytest.importorskip("csc_returns.sample_data.generate").generate
    gs = generate(children=2000, year=2026, seed=1, la="876")
    pop = population_estimate("876", 2026).value
    tabs = {t.indicator.id: t for t in compute("cin", 2026, gs.cin, gs.cin_previous, pop)
            + compute("ssda903", 2026, gs.ssda903, gs.ssda903_previous, pop)}

    def share(i, k):
        t = tabs[i]
        base = t.table.counts[0][[t.categories.index(c) for c in t.categories if
                                  t.indicator.percent_base is None or c.key in t.indicator.percent_base]].sum()
        j = [c.key for c in t.categories].index(k)
        return 100.0 * t.table.counts[0][j] / base

    def rate(i):
        return 10000.0 * tabs[i].table.total / pop

    assert 178 <= rate("cin_at_31_march") <= 815
    assert 27 <= rate("cla_at_31_march") <= 184
    assert 0 < share("referrals", "yes") <= 46.7
    assert 0 <= share("cla_three_or_more_placements", "three_plus") <= 18
    assert 52 <= share("cla_long_term_stability", "yes") <= 100
    assert 0 < share("cpp_second_or_subsequent", "yes") <= 44.1
    assert 45 <= share("care_leavers_19_21_accommodation", "suitable") <= 99
