"""Return writers: DfE layout, XSD-checked CIN XML, and load(write(tables)) == tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from csc_returns.returns.load import load
from csc_returns.returns.writers import WriteError, write_903, write_cin, write_return

FIX = Path(__file__).parent / "fixtures"
CIN = FIX / "cin" / "small_2026.xml"
S903 = FIX / "ssda903" / "2026"


def same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        left = a[name].drop(columns=["_source"]).reset_index(drop=True)
        right = b[name].drop(columns=["_source"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, check_like=False, obj=name)


def test_cin_round_trip(tmp_path):
    first = load([CIN])
    out = write_cin(first.tables, first.spec, tmp_path / "out.xml")
    second = load([out])
    same_tables(first.tables, second.tables)
    assert not second.findings


def test_cin_written_in_dfe_element_order(tmp_path):
    first = load([CIN])
    out = write_cin(first.tables, first.spec, tmp_path / "out.xml")
    doc = etree.parse(str(out))
    details = doc.find("Children/Child/CINdetails")
    order = [c.tag for c in details]
    # ReferralNFA sits after Section47 and before ChildProtectionPlans in the DfE sequence
    assert order.index("Section47") < order.index("ReferralNFA") < order.index("ChildProtectionPlans")
    reviews = doc.findall("Children/Child/CINdetails/ChildProtectionPlans/Reviews")
    assert len(reviews) == 1 and [r.text for r in reviews[0]] == ["2025-08-12", "2026-01-20"]


def test_cin_writer_refuses_what_the_xsd_rejects(tmp_path):
    first = load([CIN])
    tables = dict(first.tables)
    child = tables["Child"].copy()
    child.loc[0, "Ethnicity"] = "ZZZZ"
    tables["Child"] = child
    target = tmp_path / "bad.xml"
    with pytest.raises(WriteError, match="does not satisfy the 2026 schema"):
        write_cin(tables, first.spec, target)
    assert not target.exists() and not list(tmp_path.iterdir())  # nothing half-written left behind


def test_903_round_trip_and_layout(tmp_path):
    first = load([S903])
    files = write_903(first.tables, first.spec, tmp_path)
    assert {p.name for p in files} >= {"header.csv", "episodes.csv", "reviews.csv"}
    ep = (tmp_path / "episodes.csv").read_text().splitlines()
    assert ep[0] == "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
    assert ep[1].startswith("S101,10/06/2024,S,C2,N1,U4,PR1,,,")
    second = load([tmp_path], year=2026)
    same_tables({k: v for k, v in first.tables.items() if k not in first.absent},
                {k: v for k, v in second.tables.items() if k not in second.absent})


def test_write_return_names_cin_file_by_year_and_la(tmp_path):
    first = load([CIN])
    [p] = write_return(first.tables, first.spec, tmp_path)
    assert p.name == "CIN_Census_2026_999.xml"
