"""Loaders on real files: CIN XML and SSDA903 CSVs, including the awkward ones LAs really send."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from csc_returns.returns.errors import LoadError, UsageError
from csc_returns.returns.load import collection_year_of, load

FIX = Path(__file__).parent / "fixtures"
CIN = FIX / "cin" / "small_2026.xml"
S903 = FIX / "ssda903" / "2026"


def codes(loaded) -> list[str]:
    return [f["code"] for f in loaded.findings]


# ------------------------------------------------------------------------------------ CIN XML
def test_cin_loads_structurally_with_surrogate_keys():
    l = load([CIN])
    assert (l.return_, l.year, l.la) == ("cin", 2026, "999")
    t = l.tables
    assert len(t["Child"]) == 3 and len(t["CINdetails"]) == 4
    assert t["CINdetails"]["_child"].tolist() == [1, 2, 2, 3]
    assert t["Assessments"]["_episode"].tolist() == [1, 2, 4]
    # factors are their own table, keyed to their assessment
    af = t["AssessmentFactors"]
    assert af["AssessmentFactors"].tolist() == ["3B", "4B", "21"]
    assert af["_assessment"].tolist() == [1, 1, 2]
    # every CPPreviewDate is kept, even when several share one <Reviews>
    assert t["Reviews"]["CPPreviewDate"].dt.strftime("%Y-%m-%d").tolist() == ["2025-08-12", "2026-01-20"]
    assert t["Reviews"]["LAchildID"].tolist() == ["SYN001", "SYN001"]
    assert str(t["CINdetails"]["ReferralNFA"].dtype) == "boolean"
    assert t["CINdetails"]["CINreferralDate"].dtype == "datetime64[ns]"
    assert t["Child"]["_source"].iloc[0].startswith("small_2026.xml:")
    assert not l.findings


def test_cin_default_namespace_is_tolerated(tmp_path):
    text = CIN.read_text().replace("<Message>", '<Message xmlns="http://www.dfe.gov.uk/CIN">', 1)
    p = tmp_path / "ns.xml"
    p.write_text(text)
    l = load([p])
    assert len(l.tables["Child"]) == 3 and len(l.tables["Reviews"]) == 2
    assert not l.findings


def test_cin_bad_dates_are_load_findings_not_guesses(tmp_path):
    text = CIN.read_text().replace("2025-05-02", "2024-02-30").replace("2025-09-16", "03/05/2024")
    p = tmp_path / "dates.xml"
    p.write_text(text)
    l = load([p])
    bad = [f for f in l.findings if f["code"] == "LOAD-DATE"]
    assert [(f["table"], f["fields"], f["value"]) for f in bad] == [
        ("Assessments", "AssessmentActualStartDate", "AssessmentActualStartDate=2024-02-30"),
        ("Assessments", "AssessmentActualStartDate", "AssessmentActualStartDate=03/05/2024"),
    ]
    assert bad[0]["child"] == "SYN001" and bad[0]["source"].startswith("dates.xml:")
    assert "yyyy-mm-dd" in bad[0]["detail"]


def test_cin_children_without_ids_stay_apart(tmp_path):
    text = CIN.read_text().replace("<LAchildID>SYN002</LAchildID>", "").replace("<LAchildID>SYN003</LAchildID>", "")
    p = tmp_path / "noid.xml"
    p.write_text(text)
    l = load([p])
    child = l.tables["Child"]
    assert child["LAchildID"].isna().sum() == 2
    assert l.tables["CINdetails"]["_child"].tolist() == [1, 2, 2, 3]


def test_cin_unknown_elements_are_reported(tmp_path):
    text = CIN.read_text().replace("<Ethnicity>WBRI</Ethnicity>", "<Ethnicity>WBRI</Ethnicity><Shoe>9</Shoe>")
    p = tmp_path / "extra.xml"
    p.write_text(text)
    l = load([p])
    f = [x for x in l.findings if x["code"] == "LOAD-ELEMENT-UNKNOWN"]
    assert len(f) == 1 and f[0]["fields"] == "Shoe" and f[0]["child"] == "SYN001" and f[0]["row"] == 1


def test_cin_truncated_xml_names_file_and_line(tmp_path):
    p = tmp_path / "cut.xml"
    p.write_text(CIN.read_text()[:1500])
    with pytest.raises(LoadError, match=r"cut\.xml: line \d+: the XML is not well formed"):
        load([p])


def test_cin_doctype_entity_refused(tmp_path):
    p = tmp_path / "xxe.xml"
    p.write_text('<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                 + CIN.read_text().split("\n", 1)[1].replace("SYN001", "&x;"))
    with pytest.raises(LoadError, match="DOCTYPE"):
        load([p])


def test_cin_empty_file(tmp_path):
    p = tmp_path / "empty.xml"
    p.write_text("")
    with pytest.raises(LoadError, match="empty"):
        load([p])


def test_unsupported_year():
    with pytest.raises(UsageError, match="2031 is not supported"):
        load([CIN], year=2031)


# ------------------------------------------------------------------------------------ 903 CSV
def test_903_folder_recognised_by_headers_whatever_the_names(tmp_path):
    for f in S903.iterdir():
        shutil.copy(f, tmp_path / f"export_{f.stem.upper()}.CSV")
    l = load([tmp_path])
    assert l.return_ == "ssda903" and l.year == 2026
    assert {i.table for i in l.inputs} >= {"Header", "Episodes", "Reviews", "Missing"}
    ep = l.tables["Episodes"]
    assert ep["DECOM"].dt.strftime("%Y-%m-%d").tolist() == ["2024-06-10", "2025-05-01"]
    assert ep["_source"].tolist() == ["export_EPISODES.CSV:2", "export_EPISODES.CSV:3"]
    assert str(l.tables["Header"]["MOTHER"].dtype) == "boolean"
    assert not [f for f in l.findings if f["severity"] == "error"]


def test_903_encodings_bom_cp1252_whitespace_and_blank_rows(tmp_path):
    shutil.copytree(S903, tmp_path / "r")
    hdr = tmp_path / "r" / "header.csv"
    text = "CHILD , SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\r\n S101 ,M, 01/02/2012 ,WBRI,A999000000017,,\r\nS102,F,15/07/2009,AIND,UN2,0,\r\n,,,,,,\r\n\r\n"
    hdr.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    ep = tmp_path / "r" / "episodes.csv"
    ep.write_bytes(ep.read_bytes().replace(b"ZZ1 1AA", "ZZ1 1AA\u00e9".encode("cp1252")))
    l = load([tmp_path / "r"])
    h = l.tables["Header"]
    assert h["CHILD"].tolist() == ["S101", "S102"]
    assert h["DOB"].dt.year.tolist() == [2012, 2009]
    assert l.tables["Episodes"]["HOME_POST"].iloc[0] == "ZZ1 1AA\u00e9"


def test_903_missing_episodes_is_a_finding_and_rules_skip(tmp_path):
    shutil.copytree(S903, tmp_path / "r")
    (tmp_path / "r" / "episodes.csv").unlink()
    l = load([tmp_path / "r"], year=2026)
    missing = [f for f in l.findings if f["code"] == "LOAD-TABLE-MISSING" and f["table"] == "Episodes"]
    assert missing and missing[0]["severity"] == "error"
    assert "Episodes" in l.absent


def test_903_extra_and_renamed_columns(tmp_path):
    shutil.copytree(S903, tmp_path / "r")
    ep = tmp_path / "r" / "episodes.csv"
    ep.write_text(ep.read_text().replace("DECOM", "DATE_COMM", 1).replace("URN\n", "URN,NOTES\n")
                  .replace("SC123456\n", "SC123456,hello\n").replace("SC654321\n", "SC654321,\n"))
    l = load([tmp_path / "r"], year=2026)  # no DECOM column: the year cannot be detected
    got = {(f["code"], f["fields"]) for f in l.findings if f.get("table") == "Episodes"}
    assert ("LOAD-COLUMN-MISSING", "DECOM") in got
    assert ("LOAD-COLUMN-EXTRA", "DATE_COMM") in got and ("LOAD-COLUMN-EXTRA", "NOTES") in got
    assert l.tables["Episodes"]["DECOM"].isna().all()


def test_903_impossible_date_is_a_load_finding(tmp_path):
    shutil.copytree(S903, tmp_path / "r")
    ep = tmp_path / "r" / "episodes.csv"
    ep.write_text(ep.read_text().replace("30/09/2025", "31/02/2025"))
    l = load([tmp_path / "r"])
    f = [x for x in l.findings if x["code"] == "LOAD-DATE"]
    assert len(f) == 1
    assert (f[0]["table"], f[0]["row"], f[0]["child"], f[0]["fields"], f[0]["source"]) == (
        "Episodes", 2, "S102", "DEC", "episodes.csv:3")
    assert "dd/mm/yyyy" in f[0]["detail"]


def test_903_ragged_rows_are_kept_and_reported(tmp_path):
    shutil.copytree(S903, tmp_path / "r")
    rv = tmp_path / "r" / "reviews.csv"
    rv.write_text(rv.read_text() + "S102,15/07/2009,01/10/2025,PN1,extra\n")
    l = load([tmp_path / "r"])
    assert len(l.tables["Reviews"]) == 3
    assert [f["source"] for f in l.findings if f["code"] == "LOAD-ROW-LENGTH"] == ["reviews.csv:4"]


def test_903_empty_file_and_unrelated_files(tmp_path):
    d = tmp_path / "r"
    shutil.copytree(S903, d)
    (d / "notes.txt").write_text("hello")
    (d / "staff.csv").write_text("NAME,ROLE\nAnn,SW\n")
    l = load([d])
    assert any(f["code"] == "LOAD-FILE" and "staff.csv" in f["source"] for f in l.findings)
    assert any("notes.txt" in n for n in l.notices)
    (d / "oc2.csv").write_text("")
    with pytest.raises(LoadError, match=r"oc2\.csv: the file is empty"):
        load([d])


def test_903_folder_of_only_unrelated_files(tmp_path):
    (tmp_path / "a.csv").write_text("X,Y\n1,2\n")
    with pytest.raises(LoadError, match="none of the files is an SSDA903 table"):
        load([tmp_path], year=2026)


def test_collection_year_boundaries():
    import datetime as dt

    assert collection_year_of(dt.date(2025, 3, 31)) == 2025
    assert collection_year_of(dt.date(2025, 4, 1)) == 2026


def test_no_input(tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        load([tmp_path / "nothing.xml"])
