"""The SSDA903 XML form (root <EXPSSDA903>) on real files: the same tables as the CSV form, the
UASC status flag kept, bad values as load findings, unsafe or foreign files refused, and the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from csc_returns.returns.errors import LoadError, UsageError
from csc_returns.returns.load import detect_return, load
from csc_returns.returns.load_903_xml import UASC_FLAG, compile_layout
from csc_returns.returns.run import validate
from csc_returns.returns.spec import resolve
from csc_returns.returns.writers import write_903

FIX = Path(__file__).parent / "fixtures"
XML = FIX / "ssda903_xml" / "return_2026.xml"
CSV = FIX / "ssda903_xml" / "csv_2026"  # the same three children as CSV tables
CIN = FIX / "cin" / "small_2026.xml"


def variant(tmp_path: Path, old: str, new: str, name: str = "variant.xml") -> Path:
    text = XML.read_text(encoding="utf-8")
    assert old in text, old
    p = tmp_path / name
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


def line_of(path: Path, text: str, start: str | None = None) -> int:
    """The 1-based line of `text` in `path`, or of the last `start` line before it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = next(n for n, line in enumerate(lines) if text in line)
    if start is not None:
        i = max(n for n in range(i + 1) if start in lines[n])
    return i + 1


# ------------------------------------------------------------------------------ the tables
@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_xml_layout_compiles_from_the_spec(year):
    spec = resolve("ssda903", year)
    layout = compile_layout(spec)
    assert layout.child == "CHILD"
    assert layout.records[("HEADER",)] == ["Header", "UASC", "OC3", "AD1"]
    assert layout.own == {"UASC": ["DUC"], "OC3": ["IN_TOUCH", "ACTIV", "ACCOM"],
                          "AD1": ["DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"]}
    assert {t for t in spec.tables if not spec.tables[t].xml} == ({"SWEpisodes", "DoLo"} if year >= 2027 else {"SWEpisodes"})
    assert dict(layout.fields["Episodes"])["PLACE"] == ("PL",)
    assert dict(layout.fields["Reviews"])["DOB"] == ("..", "DOB")


def test_xml_and_csv_forms_give_the_same_tables_cell_for_cell():
    x = load([XML])
    c = load([CSV], year=2026)
    assert (x.return_, x.year) == (c.return_, c.year) == ("ssda903", 2026)
    assert x.absent == c.absent == {"SWEpisodes"}
    assert [f for f in x.findings if f["severity"] == "error"] == []
    for name in x.spec.tables:
        xt = x.tables[name].drop(columns=["_source", UASC_FLAG], errors="ignore")
        ct = c.tables[name].drop(columns=["_source"])
        pd.testing.assert_frame_equal(xt, ct, obj=name)
    assert len(x.tables["Episodes"]) == 4 and len(x.tables["Reviews"]) == 3 and len(x.tables["OC3"]) == 1
    assert x.inputs[0].table is None and x.inputs[0].rows == 3 and len(x.inputs[0].sha256) == 64
    assert x.tables["Episodes"]["_source"].iloc[0] == f"{XML.name}:{line_of(XML, '<DECOM>15/06/2024', '<EPISODE>')}"


def test_uasc_flag_is_carried_on_header_and_makes_uasc_rows():
    t = load([XML]).tables
    assert t["Header"][UASC_FLAG].tolist() == ["1", "0", "1"]
    # X201: flag 1 with a DUC; X203: flag 1 and no DUC; X202: flag 0 and no DUC, so no row
    assert t["UASC"]["CHILD"].tolist() == ["X201", "X203"]
    assert t["UASC"]["DUC"].isna().tolist() == [False, True]
    assert UASC_FLAG not in t["UASC"] and UASC_FLAG not in t["Episodes"]


def test_a_date_ceased_with_flag_0_still_makes_a_uasc_row(tmp_path):
    p = variant(tmp_path, "<UASC>0</UASC>", "<UASC>0</UASC>\n      <DUC>01/01/2026</DUC>")
    u = load([p]).tables["UASC"]
    assert u["CHILD"].tolist() == ["X201", "X202", "X203"]


def test_the_flag_never_reaches_the_csv_layout(tmp_path):
    loaded = load([XML])
    write_903(loaded.tables, loaded.spec, tmp_path / "out")
    header = (tmp_path / "out" / "header.csv").read_text().splitlines()[0]
    assert header == "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
    again = load([tmp_path / "out"], year=2026)
    for name in ("Header", "Episodes", "UASC", "AD1"):
        pd.testing.assert_frame_equal(again.tables[name].drop(columns=["_source"]),
                                      loaded.tables[name].drop(columns=["_source", UASC_FLAG], errors="ignore"))


# ------------------------------------------------------------------------------ findings
def test_bad_date_is_a_load_finding_naming_file_line_field_and_value(tmp_path):
    p = variant(tmp_path, "<DEC>15/12/2025</DEC>", "<DEC>32/12/2025</DEC>", "bad.xml")
    f = [x for x in load([p]).findings if x["code"] == "LOAD-DATE"]
    assert len(f) == 1
    line = line_of(p, "<DEC>32/12/2025", "<EPISODE>")
    assert (f[0]["table"], f[0]["row"], f[0]["child"], f[0]["fields"], f[0]["source"], f[0]["value"]) == (
        "Episodes", 4, "X202", "DEC", f"bad.xml:{line}", "DEC=32/12/2025")
    assert "dd/mm/yyyy" in f[0]["detail"]


def test_unknown_repeated_and_stray_elements_are_warnings(tmp_path):
    text = XML.read_text(encoding="utf-8")
    text = text.replace("<ETHNIC>WBRI</ETHNIC>", "<ETHNIC>WBRI</ETHNIC>\n      <SHOE>9</SHOE>", 1)
    text = text.replace("<RNE>P</RNE>", "<RNE>P</RNE><RNE>S</RNE>", 1)
    text = text.replace("<REVIEW_CODE>PN0</REVIEW_CODE>", "<REVIEW_CODE>PN0</REVIEW_CODE><MOOD>ok</MOOD>", 1)
    text = text.replace("</EXPSSDA903>", "  <FOOTER>x</FOOTER>\n</EXPSSDA903>")
    p = tmp_path / "extra.xml"
    p.write_text(text, encoding="utf-8")
    loaded = load([p])
    got = [(f["table"], f["row"], f["child"], f["fields"], f["detail"]) for f in loaded.findings
           if f["code"] == "LOAD-ELEMENT-UNKNOWN"]
    assert sorted(got, key=str) == sorted([
        ("Header", 2, "X202", "SHOE", "unknown element <HEADER/SHOE>"),
        ("Episodes", 2, "X201", "RNE", "repeated element <EPISODE/RNE>"),
        ("Reviews", 3, "X202", "MOOD", "unknown element <AREVIEW/MOOD>"),
        (None, None, None, "FOOTER", "unknown element (not read) <EXPSSDA903/FOOTER>"),
    ], key=str)
    assert all(f["severity"] == "warning" for f in loaded.findings if f["code"] == "LOAD-ELEMENT-UNKNOWN")
    assert loaded.tables["Episodes"]["RNE"].iloc[1] == "P"  # the first of a repeated element


def test_doctype_and_entities_are_refused(tmp_path):
    p = tmp_path / "xxe.xml"
    p.write_text('<?xml version="1.0"?>\n<!DOCTYPE EXPSSDA903 [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                 + XML.read_text(encoding="utf-8").split("\n", 1)[1].replace("X201", "&x;"), encoding="utf-8")
    assert detect_return([p]) == "ssda903"
    with pytest.raises(LoadError, match="DOCTYPE.*SSDA903 XML files never do"):
        load([p], year=2026)


def test_truncated_and_empty_files(tmp_path):
    cut = tmp_path / "cut.xml"
    cut.write_text(XML.read_text(encoding="utf-8")[:2500], encoding="utf-8")
    with pytest.raises(LoadError, match=r"cut\.xml: line \d+: the XML is not well formed"):
        load([cut], year=2026)
    empty = tmp_path / "empty.xml"
    empty.write_text("")
    with pytest.raises(LoadError, match="empty"):
        load([empty], return_="ssda903", year=2026)


# ------------------------------------------------------------------------------ detection
def test_root_element_decides_the_return(tmp_path):
    assert detect_return([XML]) == "ssda903"
    assert detect_return([CIN]) == "cin"
    ns = variant(tmp_path, "<EXPSSDA903>", '<ns:EXPSSDA903 xmlns:ns="urn:x">', "ns.xml")
    ns.write_text(ns.read_text().replace("</EXPSSDA903>", "</ns:EXPSSDA903>"))
    assert detect_return([ns]) == "ssda903"
    utf16 = tmp_path / "utf16.xml"  # the root name is not visible in the raw bytes: parsed instead
    utf16.write_bytes(XML.read_text(encoding="utf-8").replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16"))
    assert detect_return([utf16]) == "ssda903" and len(load([utf16]).tables["Header"]) == 3
    with pytest.raises(LoadError, match=r"root element is <Message>, not <EXPSSDA903>"):
        load([CIN], return_="ssda903", year=2026)
    with pytest.raises(LoadError, match="no <Message> root element"):
        load([XML], return_="cin", year=2026)
    with pytest.raises(UsageError, match="different returns"):
        load([XML, CIN])
    with pytest.raises(UsageError, match="one SSDA903 XML file on its own"):
        load([XML, CSV])


def test_year_is_detected_like_csv_or_must_be_given(tmp_path):
    assert load([XML]).year == 2026  # the latest episode start, as for CSV
    text = XML.read_text(encoding="utf-8")
    no_episodes = tmp_path / "no_episodes.xml"
    no_episodes.write_text(re.sub(r"\s*<EPISODE>.*?</EPISODE>", "", text, flags=re.S), encoding="utf-8")
    assert "<EPISODE>" not in no_episodes.read_text()
    with pytest.raises(UsageError, match="cannot tell the SSDA903 collection year.*--year"):
        load([no_episodes])
    assert load([no_episodes], year=2026).year == 2026


# ------------------------------------------------------------------------------ rules and the CLI
def test_rule_105_fails_through_the_real_loader(tmp_path):
    p = variant(tmp_path, "<UASC>0</UASC>", "<UASC>Y</UASC>", "flag.xml")
    result, _ = validate([p], year=2026, gx=False)
    assert result.outcomes["105"].status == "failed"
    f = result.findings[result.findings["code"] == "105"]
    assert f[["table", "row", "child", "value"]].values.tolist() == [["Header", 2, "X202", "_uasc=Y"]]
    assert f["source"].iloc[0] == f"flag.xml:{line_of(p, '<CHILDID>X202', '<HEADER>')}"
    clean, _ = validate([XML], year=2026, gx=False)
    assert clean.outcomes["105"].status == "passed" and clean.outcomes["303"].status == "passed"


def test_previous_year_may_be_xml_too(tmp_path):
    prev = variant(tmp_path, "<UASC>0</UASC>", "<UASC>0</UASC>\n      <DUC>01/01/2025</DUC>", "last.xml")
    result, _ = validate([XML], previous=[prev], year=2026, gx=False)
    assert result.previous_inputs[0].path == str(prev)
    # X202 has a date ceased last year but is UASC in neither year
    assert result.outcomes["205C"].status == "failed"
    f = result.findings[result.findings["code"] == "205C"]
    assert f[["table", "child"]].values.tolist() == [["Header", "X202"]]
    csv_now, _ = validate([CSV], previous=[prev], year=2026, gx=False)
    assert csv_now.outcomes["205C"].status == "failed"  # a CSV return against last year's XML


def test_cli_validates_an_xml_return_end_to_end(tmp_path):
    p = subprocess.run([sys.executable, "-m", "csc_returns.returns.cli", "validate", str(XML), "--year", "2026",
                        "--format", "json", "--out", str(tmp_path)], capture_output=True, text=True)
    assert "Traceback" not in p.stderr + p.stdout, p.stderr
    data = json.loads(p.stdout)
    assert (data["return"], data["year"], data["summary"]["children"]) == ("ssda903", 2026, 3)
    assert p.returncode == (1 if data["summary"]["errors"] else 0)
    assert not [c for c, s in data["outcomes"].items() if s == "errored"]
    assert data["outcomes"]["105"] == "passed"
    assert (tmp_path / "report.html").stat().st_size > 0
