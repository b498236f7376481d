"""The command line, end to end, as a user runs it: real files in, exit codes and outputs out."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

FIX = Path(__file__).parent / "fixtures"
CIN = FIX / "cin" / "small_2026.xml"
S903 = FIX / "ssda903" / "2026"
REPO = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "csc_returns.returns.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def no_traceback(p: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr


def test_validate_writes_outputs_and_json_contract(tmp_path):
    p = run("validate", CIN, "--out", tmp_path, "--format", "json")
    no_traceback(p)
    data = json.loads(p.stdout)
    assert data["tool"] == "csc-returns" and data["return"] == "cin" and data["year"] == 2026
    assert set(data) >= {"version", "findings", "outcomes", "summary", "inputs"}
    assert data["inputs"][0]["sha256"] and len(data["inputs"][0]["sha256"]) == 64
    for f in data["findings"]:
        assert set(f) >= {"code", "severity", "table", "row", "child", "fields", "source", "message"}
    assert set(data["outcomes"].values()) <= {"passed", "failed", "skipped", "errored"}
    assert p.returncode == (1 if data["summary"]["errors"] else 0)
    for name in ("report.html", "findings.json", "findings.csv"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "findings.json").read_text())["year"] == 2026


def test_exit_code_1_on_errors_and_findings_point_into_the_file(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text(CIN.read_text().replace("<LAchildID>SYN002</LAchildID>", ""))
    p = run("validate", bad, "--format", "json")
    no_traceback(p)
    assert p.returncode == 1
    f = [x for x in json.loads(p.stdout)["findings"] if x["code"] == "8500"]
    assert len(f) == 1 and f[0]["row"] == 2 and f[0]["source"].startswith("bad.xml:")


def test_csv_and_junit_formats():
    p = run("validate", S903, "--format", "csv")
    no_traceback(p)
    assert p.stdout.splitlines()[0].startswith("code,severity,message,child")
    j = run("validate", S903, "--format", "junit")
    assert j.stdout.lstrip().startswith("<?xml") and "<testsuite" in j.stdout


def test_previous_year_is_accepted(tmp_path):
    prev = tmp_path / "prev"
    shutil.copytree(S903, prev)
    p = run("validate", S903, "--previous", prev, "--format", "json")
    no_traceback(p)
    data = json.loads(p.stdout)
    assert data["previous_inputs"]
    assert "needs last year's return (give it with --previous)" not in data.get("outcome_reasons", {}).values()


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (lambda d: d.joinpath("cut.xml").write_text(CIN.read_text()[:900]) and d / "cut.xml", r"cut.xml: line \d+"),
        (lambda d: d.joinpath("e.xml").write_text("") or d / "e.xml", "e.xml: the file is empty"),
        (lambda d: d.joinpath("x.xml").write_text('<?xml version="1.0"?><!DOCTYPE M [<!ENTITY a "b">]><Message/>') and d / "x.xml", "DOCTYPE"),
        (lambda d: (d / "missing.xml"), "no such file"),
    ],
)
def test_bad_input_is_one_clear_message_and_exit_2(tmp_path, make, expect):
    import re

    p = run("validate", make(tmp_path))
    no_traceback(p)
    assert p.returncode == 2
    assert re.search(expect, " ".join(p.stderr.split())), p.stderr


def test_unknown_year_exit_2():
    p = run("validate", CIN, "--year", "2031")
    no_traceback(p)
    assert p.returncode == 2 and "2031 is not supported" in " ".join(p.stderr.split())


def test_missing_episodes_is_reported_not_crashed(tmp_path):
    d = tmp_path / "r"
    shutil.copytree(S903, d)
    (d / "episodes.csv").unlink()
    p = run("validate", d, "--year", "2026", "--format", "json")
    no_traceback(p)
    data = json.loads(p.stdout)
    assert p.returncode == 1
    assert any(f["code"] == "LOAD-TABLE-MISSING" and f["table"] == "Episodes" for f in data["findings"])
    assert any("table Episodes not supplied" in r for r in data["outcome_reasons"].values())


def test_build_refuses_on_errors_then_forces(tmp_path):
    bad = tmp_path / "bad.xml"  # an assessment starting before its referral (rule 1103): XSD-valid, DfE-invalid
    bad.write_text(CIN.read_text().replace("<AssessmentActualStartDate>2025-05-02", "<AssessmentActualStartDate>2025-04-20"))
    out = tmp_path / "out"
    p = run("build", bad, "--out", out)
    no_traceback(p)
    assert p.returncode == 1 and "--force" in " ".join(p.stderr.split())
    assert not list(out.glob("*.xml"))
    p = run("build", bad, "--out", out, "--force")
    no_traceback(p)
    assert p.returncode == 0 and list(out.glob("CIN_Census_2026*.xml"))
    assert json.loads((out / "findings.json").read_text())["forced"] is True


def test_build_refuses_what_the_xsd_rejects_even_when_forced(tmp_path):
    bad = tmp_path / "bad.xml"  # no LAchildID: the DfE schema itself rejects the file
    bad.write_text(CIN.read_text().replace("<LAchildID>SYN002</LAchildID>", ""))
    p = run("build", bad, "--out", tmp_path / "out", "--force")
    no_traceback(p)
    assert p.returncode == 2 and "does not satisfy the 2026 schema" in p.stderr
    assert not list((tmp_path / "out").glob("*.xml"))


def test_build_903_round_trips(tmp_path):
    p = run("build", S903, "--out", tmp_path / "o", "--force")
    no_traceback(p)
    assert (tmp_path / "o" / "episodes.csv").exists()
    p2 = run("validate", tmp_path / "o", "--year", "2026", "--format", "json")
    assert json.loads(p2.stdout)["summary"]["tables"]["Episodes"] == 2


def test_rules_listing_and_explain():
    p = run("rules", "cin", "--year", "2026", "--format", "csv")
    no_traceback(p)
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0] == "return,code,severity,message,kind,level,tables,fields,years,status,needs"
    assert any(l.startswith("cin,8500,error,LA Child ID missing") for l in lines)
    e = run("rules", "explain", "8869")
    assert e.returncode == 0 and "Example of a failing record" in e.stdout and "21" in e.stdout
    bad = run("rules", "explain", "NOPE")
    no_traceback(bad)
    assert bad.returncode == 2
    # an example run with made-up reference data says so: its ZZ postcodes are only in that directory
    pc = run("rules", "explain", "392c", "--return", "ssda903")
    assert pc.returncode == 0 and "--la 999" in pc.stdout and "postcode directory holding only: ZZ1 1AA" in pc.stdout
    ssda = run("rules", "ssda903", "--year", "2026", "--format", "csv").stdout.splitlines()
    assert any(l.startswith("ssda903,411,") and l.endswith(",postcodes;la") for l in ssda)


def test_rules_markdown_reference_is_current():
    for ret in ("cin", "ssda903"):
        p = run("rules", ret, "--format", "markdown")
        path = REPO / "specs" / ret / "RULES.md"
        assert path.exists() and path.read_text() == p.stdout, f"regenerate {path} with `make rules-docs`"


def test_no_top_level_modules_in_the_wheel(tmp_path):
    """PyPI has packages called returns, validators, reports, specs: we must never install them."""
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(tmp_path), str(REPO)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {p.stderr.strip()[-200:]}")
    [whl] = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(whl).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"csc_returns"}
    assert any(n.startswith("csc_returns/specs/cin/xsd/") for n in names)
    assert any(n.startswith("csc_returns/rulecases/cin/") for n in names)
