"""The Ofsted URN lookup (returns/ofsted.py): real XLSX and CSV files in each list layout, the
errors bad lists give, and the 903 URN rules end to end through the command line."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from csc_returns.returns.authorities import population_file
from csc_returns.returns.errors import LoadError
from csc_returns.returns.ofsted import OfstedLookup, la_numbers, read_ofsted
from csc_returns.returns.postcodes import TableDirectory

REPO = Path(__file__).resolve().parent.parent
S903 = Path(__file__).parent / "fixtures" / "ssda903" / "2026"
SAMPLE = REPO / "sample_data" / "data"
URN_RULES = ["219", "221", "224", "227", "228", "229", "241"]


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook with one sheet per entry, cells as given (datetime values become date cells)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list]) -> Path:
    pd.DataFrame(rows[1:], columns=rows[0]).to_csv(path, index=False)
    return path


def entry(lookup: OfstedLookup, urn: str) -> list[dict]:
    return lookup.entries.loc[lookup.entries["urn"] == urn].to_dict("records")


# ------------------------------------------------------------------------------ layouts
CH_HEADER = ["URN", "Setting name", "Local Authority", "Provider Code", "Provider Placement Code", "Closed Date",
             "Setting Postcode"]


def test_childrens_homes_list_provider_information_sheet(tmp_path):
    path = write_xlsx(tmp_path / "ch.xlsx", {
        "Read me": [["Children's homes in England"], ["Synthetic test list"]],
        "Provider information": [
            ["Ofsted children's homes list (synthetic)"], [],
            CH_HEADER,
            ["SC900001", "Home one", "Bristol, City of", "K2", "PR4/PR5", None, "zz1 1ab"],
            ["SC900002", "Home two", "Durham", "K2", "PR1", dt.datetime(2025, 9, 30), "ZZ1 1AC"],
            [None, None, None, None, None, None, None],
        ],
    })
    lookup = read_ofsted([path])
    assert len(lookup.entries) == 2 and lookup.description == "Ofsted URN lookup: 1 file, 2 providers"
    [one] = entry(lookup, "SC900001")
    assert one["place_codes"] == ("K2",) and one["provider_codes"] == ("PR4", "PR5")
    assert one["postcode"] == "ZZ11AB" and pd.isna(one["reg_end"])
    assert one["la_name"] == "Bristol, City of" and one["la"] == "801"
    assert one["source"] == "ch.xlsx:Provider information:4"
    [two] = entry(lookup, "SC900002")
    assert two["reg_end"] == pd.Timestamp("2025-09-30") and two["la"] == "840"  # County Durham


def test_childrens_homes_list_split_over_two_sheets(tmp_path):
    path = write_xlsx(tmp_path / "ch_split.xlsx", {
        "Settings and Inspection Info": [
            ["URN", "Local Authority", "Provider Code", "Provider Placement Code", "Closed Date"],
            ["SC900011", "Kent", "K2", "PR4", None],
            ["SC900012", "Telford & Wrekin", "K2", "PR2, PR4", "31/01/2026"],
        ],
        "Address Details": [
            ["URN", "Setting Address Line 1", "Setting Address Postcode"],
            ["SC900012", "1 Test Road", "ZZ2 1AA"],
            ["SC900011", "2 Test Road", "ZZ1 1AB"],
        ],
    })
    lookup = read_ofsted([path])
    [a] = entry(lookup, "SC900011")
    [b] = entry(lookup, "SC900012")
    assert a["postcode"] == "ZZ11AB" and a["la"] == "886"
    assert b["postcode"] == "ZZ21AA" and b["la"] == "894" and b["provider_codes"] == ("PR2", "PR4")
    assert b["reg_end"] == pd.Timestamp("2026-01-31") and b["source"] == "ch_split.xlsx:Settings and Inspection Info:3"


def test_social_care_providers_list_current_and_closed_sheets(tmp_path):
    scp = ["URN", "Provider type", "Local authority", "Placement code", "Placement provider code", "Setting postcode"]
    path = write_xlsx(tmp_path / "scp.xlsx", {
        "Current providers": [
            ["Social care providers (synthetic)"],
            scp,
            ["SC900021", "Independent fostering agency", "Leeds", "U4/U5/U6", "PR4", "ZZ3 1AA"],
        ],
        "Providers closed": [
            scp[:4] + ["Placement provider code", "Deregistration date", "Setting postcode"],
            ["SC900022", "Residential family centre", "St Helens", "R3", "PR5", "2025-06-30", "ZZ3 1AB"],
            ["SC900023", "Residential family centre", "Cumbria", "R3", "PR5", dt.datetime(2024, 1, 5), "ZZ3 1AC"],
        ],
        "Notes": [["URN", "Comment"], ["SC900021", "not a providers sheet: no codes"]],
    })
    lookup = read_ofsted([path])
    assert sorted(lookup.entries["urn"]) == ["SC900021", "SC900022", "SC900023"]
    [cur] = entry(lookup, "SC900021")
    assert cur["place_codes"] == ("U4", "U5", "U6") and pd.isna(cur["reg_end"]) and cur["la"] == "383"
    [closed] = entry(lookup, "SC900022")
    assert closed["reg_end"] == pd.Timestamp("2025-06-30") and closed["la"] == "342"
    [gone] = entry(lookup, "SC900023")
    assert gone["la_name"] == "Cumbria" and pd.isna(gone["la"])  # no longer an LA: left to the postcode


def test_combined_lists_csv_and_supported_accommodation_sheet_several_files(tmp_path):
    combined = ["urn", "local authority", "placement code", "placement provider code", "deregistration date",
                "setting address postcode"]
    csv_path = write_csv(tmp_path / "scpch.csv", [
        combined,
        ["SC900031", "Manchester", "K2", "PR4", "", "ZZ4 1AA"],
        ["SC900032", "999", "U1/U6", "PR1", "1/4/2025", "ZZ4 1AB"],
    ])
    xlsx_path = write_xlsx(tmp_path / "scpch.xlsx", {
        "SCP and CH": [combined, ["SC900033", "Manchester", "K2", "PR4", None, "ZZ4 1AC"]],
        "Supported accommodation": [
            ["urn", "provider local authority", "closed date", "setting address postcode"],
            ["SC900034", "Manchester", None, "ZZ4 1AD"],
            ["SC900034", "Salford", None, "ZZ4 1AE"],
        ],
    })
    lookup = read_ofsted([csv_path, xlsx_path])
    assert lookup.description == "Ofsted URN lookup: 2 files, 4 providers"
    [b] = entry(lookup, "SC900032")
    assert b["la"] == "999" and b["reg_end"] == pd.Timestamp("2025-04-01") and b["source"] == "scpch.csv:3"
    sa = entry(lookup, "SC900034")
    assert [e["la"] for e in sa] == ["352", "355"]  # premises in two LAs: two entries
    assert all(e["place_codes"] == ("K3",) and e["provider_codes"] == () for e in sa)
    assert sa[1]["source"] == "scpch.xlsx:Supported accommodation:3"


# ------------------------------------------------------------------------------ bad lists
def test_a_missing_column_names_the_file_sheet_and_column(tmp_path):
    path = write_xlsx(tmp_path / "scp_bad.xlsx", {
        "Current providers": [["URN", "Local authority", "Placement code", "Setting postcode"],
                              ["SC900041", "Leeds", "U4", "ZZ5 1AA"]],
    })
    with pytest.raises(LoadError) as err:
        read_ofsted([path])
    msg = str(err.value)
    assert "scp_bad.xlsx" in msg and "[Current providers]" in msg and "placement provider code" in msg.lower()


def test_a_bad_date_names_the_cell(tmp_path):
    path = write_csv(tmp_path / "bad_date.csv", [
        ["URN", "Local authority", "Placement code", "Placement provider code", "Deregistration date", "Setting postcode"],
        ["SC900051", "Leeds", "U4", "PR4", "31/02/2025", "ZZ5 1AA"],
    ])
    with pytest.raises(LoadError) as err:
        read_ofsted([path])
    assert "bad_date.csv" in str(err.value) and "bad_date.csv:2" in str(err.value) and "31/02/2025" in str(err.value)


def test_a_file_that_is_not_an_ofsted_list_and_a_missing_file(tmp_path):
    path = write_csv(tmp_path / "other.csv", [["CHILD", "DECOM"], ["1", "01/04/2025"]])
    with pytest.raises(LoadError, match="other.csv: no sheet of Ofsted providers"):
        read_ofsted([path])
    with pytest.raises(LoadError, match="no such file"):
        read_ofsted([tmp_path / "nope.xlsx"])


# ------------------------------------------------------------------------------ LAs
def test_every_la_name_maps_to_its_number_and_common_forms_do_too():
    las = population_file()["local_authorities"]
    names = pd.Series([v["name"] for v in las.values()], dtype="string")
    assert la_numbers(names).tolist() == list(las)
    forms = ["City of Bristol", "Bristol City Council", "bristol", "Kingston upon Hull, City of", "Hull",
             "Herefordshire", "St. Helens", "Saint Helens", "Southend on Sea", "Telford and Wrekin",
             "London Borough of Camden", "E06000023", "E07000105", "876", "Atlantis", None]
    assert la_numbers(pd.Series(forms, dtype="string")).tolist() == [
        "801", "801", "801", "810", "810", "884", "342", "342", "882", "894", "202", "801", "886", "876", pd.NA, pd.NA]


def test_provider_la_falls_back_on_the_setting_postcode():
    lookup = OfstedLookup.from_records([
        {"urn": "SC900061", "la_name": "Cumbria", "postcode": "ZZ6 1AA"},
        {"urn": "SC900062", "la_name": "Leeds", "postcode": "ZZ6 1AA"},
        {"urn": "SC900063", "la_name": "Atlantis", "postcode": "ZZ6 9ZZ"},
    ])
    directory = TableDirectory.from_records({"ZZ6 1AA": {"la": "E07000105", "easting": 1, "northing": 1}})
    las = lookup.provider_las(directory).set_index("urn")["la"]
    assert las["SC900061"] == "886" and las["SC900062"] == "383" and pd.isna(las["SC900063"])
    only = lookup.provider_las(directory, pd.Series(["SC900062"]))
    assert only["urn"].tolist() == ["SC900062"]


# ------------------------------------------------------------------------------ end to end
def run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "csc_returns.returns.cli", *map(str, args)],
                          capture_output=True, text=True)


def test_cli_runs_the_urn_rules_with_ofsted_and_skips_them_without(tmp_path):
    lists = write_csv(tmp_path / "ofsted.csv", [
        ["URN", "Local authority", "Placement code", "Placement provider code", "Deregistration date", "Setting postcode"],
        ["SC123456", "999", "K2", "PR1", "", "ZZ2 2BB"],  # the episode is U4: 219 fails
        ["SC654321", "Kent", "U6", "PR4", "", "ZZ4 4DD"],
    ])
    p = run("validate", S903, "--la", "999", "--ofsted", lists, "--out", tmp_path / "with")
    assert "Traceback" not in p.stderr, p.stderr
    data = json.loads((tmp_path / "with" / "findings.json").read_text())
    assert data["outcomes"]["219"] == "failed"
    [f] = [f for f in data["findings"] if f["code"] == "219"]
    assert f["child"] == "S101" and f["table"] == "Episodes" and "URN=SC123456" in f["value"]
    assert f["detail"] == "Ofsted URN lookup, SC123456: placement types K2"  # what the list says
    assert {data["outcomes"][c] for c in ("224", "227", "228", "229")} == {"passed"}
    assert "Ofsted URN lookup: 1 file, 2 providers" in json.dumps(data)

    p = run("validate", S903, "--la", "999", "--out", tmp_path / "without")
    assert "Traceback" not in p.stderr, p.stderr
    data = json.loads((tmp_path / "without" / "findings.json").read_text())
    for code in URN_RULES:
        assert data["outcomes"][code] == "skipped"
        assert "--ofsted" in data["outcome_reasons"][code]
    assert not [f for f in data["findings"] if f["code"] in URN_RULES]


def test_cli_bad_ofsted_list_is_one_message_and_exit_2(tmp_path):
    bad = write_csv(tmp_path / "ofsted.csv", [["URN", "Local authority"], ["SC1", "Leeds"]])
    p = run("validate", S903, "--ofsted", bad)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "ofsted.csv" in p.stderr


def test_sample_data_passes_the_urn_rules_with_its_synthetic_lists(tmp_path):
    from csc_returns.sample_data._reference import ofsted_list, postcode_list

    cur = pd.read_csv(SAMPLE / "ssda903" / "episodes.csv", dtype="string")
    prev = pd.read_csv(SAMPLE / "ssda903_previous" / "episodes.csv", dtype="string")
    lists = ofsted_list({"Episodes": pd.concat([cur, prev], ignore_index=True)})
    assert set(lists["urn"]) == set(pd.concat([cur, prev])["URN"].dropna()) - {"XXXXXXX"}
    lists.to_csv(tmp_path / "ofsted.csv", index=False)
    postcode_list([{"Episodes": cur}, {"Episodes": prev}]).to_csv(tmp_path / "postcodes.csv", index=False)
    p = run("validate", SAMPLE / "ssda903", "--previous", SAMPLE / "ssda903_previous", "--la", "999",
            "--postcodes", tmp_path / "postcodes.csv", "--ofsted", tmp_path / "ofsted.csv", "--out", tmp_path / "out")
    assert "Traceback" not in p.stderr, p.stderr
    data = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert [f for f in data["findings"] if f["code"] in URN_RULES] == []
    assert {c: data["outcomes"][c] for c in URN_RULES} == {c: "passed" for c in URN_RULES}
