"""The SSDA903 specification data: tables, code sets and their year changes.

Years are collection END years: 2025 = 2024-25, 2026 = 2025-26, 2027 = 2026-27.
"""

from __future__ import annotations

import re

import pytest

from csc_returns.returns.spec import SUPPORTED_YEARS, load_codesets, load_tables, resolve, specs_root

YEARS = (2025, 2026, 2027)

# The contract with the loader, writer and rules: table names, file names and CSV column order.
LAYOUT = {
    "Header": ("header.csv", ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]),
    "Episodes": (
        "episodes.csv",
        ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
         "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"],
    ),
    "Reviews": ("reviews.csv", ["CHILD", "DOB", "REVIEW", "REVIEW_CODE"]),
    "UASC": ("uasc.csv", ["CHILD", "SEX", "DOB", "DUC"]),
    "OC2": (
        "oc2.csv",
        ["CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS",
         "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED",
         "INTERVENTION_OFFERED"],
    ),
    "OC3": ("oc3.csv", ["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"]),
    "AD1": (
        "ad1.csv",
        ["CHILD", "DOB", "DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"],
    ),
    "PlacedAdoption": ("placed_adoption.csv", ["CHILD", "DOB", "DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED"]),
    "PrevPerm": ("prev_perm.csv", ["CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"]),
    "Missing": ("missing.csv", ["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"]),
    "SWEpisodes": ("sw_episodes.csv", ["CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"]),
    "DoLo": ("dolo.csv", ["CHILD", "DOB", "DOLO_START", "DOLO_END"]),
}


def codes(name: str, year: int) -> set[str]:
    """A code set's codes in a year, straight from the code set (works for 2024 too)."""
    return set(load_codesets("ssda903")[name].resolve(year))


# --------------------------------------------------------------------------- resolving
@pytest.mark.parametrize("year", YEARS)
def test_resolves_for_supported_years(year):
    assert year in SUPPORTED_YEARS
    spec = resolve("ssda903", year)
    assert spec.year == year
    assert spec.date_format == "%d/%m/%Y"
    assert {"Header", "Episodes", "Reviews", "UASC", "OC2", "OC3", "AD1", "PlacedAdoption",
            "PrevPerm", "Missing", "SWEpisodes"} <= set(spec.tables)


@pytest.mark.parametrize("year", YEARS)
def test_layout_is_the_dfe_csv_layout(year):
    spec = resolve("ssda903", year)
    for name, table in spec.tables.items():
        file, columns = LAYOUT[name]
        assert table.file == file, name
        assert table.field_names == columns, name
        assert table.child_field == "CHILD"


@pytest.mark.parametrize("year", YEARS)
def test_every_table_has_a_file_and_unique_columns(year):
    for table in resolve("ssda903", year).tables.values():
        assert table.file and table.file.endswith(".csv"), table.name
        assert len(table.field_names) == len(set(table.field_names)), table.name
    files = [t.file for t in resolve("ssda903", year).tables.values()]
    assert len(files) == len(set(files))


def test_declared_tables_have_unique_columns_over_all_years():
    for table in load_tables("ssda903").tables:
        names = [f.name for f in table.fields]
        assert len(names) == len(set(names)), table.name
        assert table.file, table.name


def test_sw_episodes_since_2024_and_dolo_only_from_2027():
    declared = {t.name: t for t in load_tables("ssda903").tables}
    assert declared["SWEpisodes"].since == 2024
    assert declared["DoLo"].since == 2027
    for year in YEARS:
        tables = resolve("ssda903", year).tables
        assert "SWEpisodes" in tables
        assert ("DoLo" in tables) == (year >= 2027)


# --------------------------------------------------------------------------- code sets exist
def test_every_referenced_code_set_exists_in_every_year_of_its_map():
    sets = load_codesets("ssda903")
    for table in load_tables("ssda903").tables:
        for f in table.fields:
            refs = f.codeset.values() if isinstance(f.codeset, dict) else [f.codeset]
            for ref in refs:
                if ref is not None:
                    assert ref in sets, f"{table.name}.{f.name}: no code set {ref!r}"
            if f.type == "code":
                assert f.codeset, f"{table.name}.{f.name} is a code without a code set"


@pytest.mark.parametrize("year", YEARS)
def test_resolved_code_fields_have_non_empty_code_sets(year):
    spec = resolve("ssda903", year)
    for table in spec.tables.values():
        for f in table.fields:
            if f.type == "code":
                assert spec.codes(f.codeset), f"{table.name}.{f.name} -> {f.codeset} is empty in {year}"


def test_903_code_sets_are_documented():
    own = {p.stem for p in (specs_root() / "ssda903" / "codesets").glob("*.yaml")}
    expected = {
        "sex", "sex_numeric", "legal_status", "placement_type", "placement_provider",
        "reason_new_episode", "category_of_need", "reason_episode_ceased", "reason_place_change",
        "missing_type", "review_participation", "sdq_reason", "in_touch", "activity",
        "accommodation", "sex_adopter", "ls_adopter", "reason_placed_ceased", "prev_perm",
        "sw_reason", "upn_unknown",
    }
    assert expected <= own
    sets = load_codesets("ssda903")
    for name in own:
        cs = sets[name]
        assert cs.source and cs.notes and cs.description, name
        assert all(c.label.strip() for c in cs.codes), name
    assert "ethnicity" in sets  # shared with CIN, from specs/common


# --------------------------------------------------------------------------- year changes
@pytest.mark.parametrize("year", YEARS)
def test_sex_is_m_f_u_from_2025(year):
    spec = resolve("ssda903", year)
    for table in ("Header", "UASC"):
        field = spec.tables[table].field("SEX")
        assert field.codeset == "sex"
        assert set(spec.codes(field.codeset)) == {"M", "F", "U"}


def test_sex_was_numeric_until_2024():
    declared = {t.name: t for t in load_tables("ssda903").tables}
    for table in ("Header", "UASC"):
        sex = next(f for f in declared[table].fields if f.name == "SEX")
        assert sex.codeset == {2016: "sex_numeric", 2025: "sex"}
    assert codes("sex_numeric", 2024) == {"1", "2"}
    assert codes("sex", 2024) == set()
    assert codes("sex_numeric", 2025) == set()


def test_k3_valid_from_2025():
    assert "K3" not in codes("placement_type", 2024)
    for year in YEARS:
        assert "K3" in resolve("ssda903", year).codes("placement_type")


def test_z1_until_2025_then_z11_to_z14():
    z1x = {"Z11", "Z12", "Z13", "Z14"}
    p2025 = set(resolve("ssda903", 2025).codes("placement_type"))
    assert "Z1" in p2025 and not (z1x & p2025)
    for year in (2026, 2027):
        place = set(resolve("ssda903", year).codes("placement_type"))
        assert "Z1" not in place
        assert z1x <= place


def test_z11_to_z14_labels_admit_they_are_not_the_dfe_wording():
    labels = resolve("ssda903", 2026).codes("placement_type")
    for code in ("Z11", "Z12", "Z13", "Z14"):
        assert "not available" in labels[code]


def test_h5_and_p2_withdrawn_from_2024_25():
    """DECISION (specs/ssda903/codesets/placement_type.yaml): H5 and P2 are valid until 2023-24
    (until: 2024) and invalid from 2024-25, although the public validator's 2024-25 rule 146 still
    lists them. liiatools drops them in 2025; DfE rule 503D accepts an open H5 placement becoming
    K3 "for 2025 only"; rule 371 moved from H5 to K3; rules 218/222 dropped H5 and P2. A 2024-25
    file with H5 or P2 therefore fails rule 146 here but passes the public validator."""
    assert {"H5", "P2"} <= codes("placement_type", 2024)
    for year in YEARS:
        place = resolve("ssda903", year).codes("placement_type")
        assert "H5" not in place and "P2" not in place
    notes = load_codesets("ssda903")["placement_type"].notes
    assert "DECISION H5 and P2 (until 2024" in notes
    assert "for 2025" in notes and "only" in notes


def test_placement_types_2025_2026_exact():
    common = {"A3", "A4", "A5", "A6", "K1", "K2", "K3", "P1", "P3", "R1", "R2", "R3", "R5", "S1",
              "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6"}
    assert set(resolve("ssda903", 2025).codes("placement_type")) == common | {"Z1"}
    assert set(resolve("ssda903", 2026).codes("placement_type")) == common | {"Z11", "Z12", "Z13", "Z14"}
    assert set(resolve("ssda903", 2027).codes("placement_type")) == common | {"Z11", "Z12", "Z13", "Z14"}


def test_rec_e43_e44_until_2018():
    assert {"E43", "E44"} <= codes("reason_episode_ceased", 2018)
    assert not {"E45", "E46", "E47", "E48"} & codes("reason_episode_ceased", 2018)
    for year in (2019, *YEARS):
        rec = codes("reason_episode_ceased", year)
        assert {"E45", "E46", "E47", "E48"} <= rec
        assert not {"E43", "E44"} & rec
    assert "E99" not in codes("reason_episode_ceased", 2025)  # liiatools' own, not DfE


def test_custod_since_2019():
    assert "CUSTOD" not in codes("reason_place_change", 2018)
    assert "CUSTOD" in codes("reason_place_change", 2019)
    assert "LIIAF" not in codes("reason_place_change", 2025)


def test_activity_codes_by_year():
    assert {"F3", "P3"} <= codes("activity", 2021)
    assert not {"F4", "P4", "F5", "P5"} & codes("activity", 2021)
    for year in (2022, *YEARS):
        activ = codes("activity", year)
        assert {"F4", "P4", "F5", "P5"} <= activ
        assert not {"F3", "P3"} & activ
    assert codes("activity", 2025) == {"F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "0"}


def test_accommodation_letter_digit_codes():
    accom = codes("accommodation", 2025)
    letter_digit = {c for c in accom if re.fullmatch(r"[A-Z][12]", c)}
    assert letter_digit == {l + d for l in "BCDEGHKRSTUVWXYZ" for d in "12"} - {"S1", "X1"}
    assert accom - letter_digit == {"0"}


def test_category_of_need_is_n1_to_n8_only():
    for year in YEARS:
        spec = resolve("ssda903", year)
        assert spec.tables["Episodes"].field("CIN").codeset == "category_of_need"
        assert set(spec.codes("category_of_need")) == {f"N{i}" for i in range(1, 9)}


def test_upn_unknown_is_un1_to_un5():
    assert codes("upn_unknown", 2025) == {"UN1", "UN2", "UN3", "UN4", "UN5"}
    upn = resolve("ssda903", 2025).tables["Header"].field("UPN")
    assert upn.type == "upn" and upn.required and upn.max_length == 13


def test_sw_reason_codes():
    assert codes("sw_reason", 2025) == {
        "MANAGE", "FCONTA", "LEFTRL", "ORGRST", "TSPROC", "ABSENC", "CHCHAN", "PCCHAN", "SWDIED", "OTHERS",
    }


# --------------------------------------------------------------------------- field details
def test_field_types():
    spec = resolve("ssda903", 2027)
    t = spec.tables
    assert all(tab.field("CHILD").type == "id" for tab in t.values())
    sdq = t["OC2"].field("SDQ_SCORE")
    assert (sdq.type, sdq.min, sdq.max) == ("int", 0, 40)
    assert t["AD1"].field("NB_ADOPTR").type == "int"
    for name in ("CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT",
                 "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"):
        assert t["OC2"].field(name).type == "bool"
    assert t["Header"].field("MOTHER").type == "bool"
    assert t["AD1"].field("FOSTER_CARE").type == "bool"
    assert t["Episodes"].field("HOME_POST").type == "postcode"
    assert t["Episodes"].field("PL_POST").type == "postcode"
    assert t["Episodes"].field("URN").max_length == 8
    assert t["PrevPerm"].field("LA_PERM").max_length == 3
    for tab, name in (("Episodes", "DECOM"), ("Episodes", "DEC"), ("DoLo", "DOLO_START"),
                      ("DoLo", "DOLO_END"), ("SWEpisodes", "SW_DECOM"), ("Missing", "MIS_START")):
        assert t[tab].field(name).type == "date"


@pytest.mark.parametrize(
    "value, ok",
    [
        ("12/05/2020", True),
        ("zz/05/2020", True),
        ("zz/zz/2021", True),
        ("zz/zz/zzzz", True),
        ("ZZ/ZZ/2021", True),
        ("05/zz/2020", True),
        ("2020-05-12", False),
        ("32/05/2020", False),
        ("12/13/2020", False),
        ("z/05/2020", False),
        ("unknown", False),
    ],
)
def test_date_perm_pattern_accepts_zz_parts(value, ok):
    f = resolve("ssda903", 2025).tables["PrevPerm"].field("DATE_PERM")
    assert f.type == "string" and f.pattern
    assert bool(re.fullmatch(f.pattern, value)) is ok


def test_mandatory_items():
    t = resolve("ssda903", 2027).tables
    required = {name: {f.name for f in tab.fields if f.required} for name, tab in t.items()}
    assert required["Header"] == {"CHILD", "SEX", "DOB", "ETHNIC", "UPN"}
    assert required["Episodes"] == {"CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE"}
    assert required["Missing"] == {"CHILD", "DOB", "MISSING", "MIS_START"}
    assert required["DoLo"] == {"CHILD", "DOB", "DOLO_START"}
    assert required["SWEpisodes"] == {"CHILD", "DOB", "SW_ID", "SW_DECOM"}
