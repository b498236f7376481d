"""The CIN census spec (tables, code sets) and the XML schemas generated from it."""

from __future__ import annotations

import pytest
from lxml import etree

from csc_returns.returns import spec as spec_mod
from csc_returns.returns.spec import load_codesets, load_tables, resolve
from csc_returns.returns.xsd import build_xsd, stale_xsd_files

YEARS = (2025, 2026, 2027)
TABLES = [
    "Header", "Child", "Disabilities", "CINdetails", "Assessments", "AssessmentFactors",
    "CINPlanDates", "Section47", "ChildProtectionPlans", "Reviews",
]


def _table_in(year: int, name: str) -> spec_mod.Table | None:
    """A table as it stood in `year` (2024 resolves too, as the previous year of 2025)."""
    return resolve("cin", year).tables.get(name)


@pytest.mark.parametrize("year", YEARS)
def test_resolves(year: int) -> None:
    s = resolve("cin", year)
    assert list(s.tables)[: len(TABLES)] == TABLES
    assert s.tables["Child"].level == "child" and s.tables["Header"].level == "return"
    assert s.tables["Child"].child_field == "LAchildID"
    assert s.tables["CINdetails"].field("ReferralNFA").type == "bool"
    assert s.tables["Section47"].field("ICPCnotRequired").required
    for t in s.tables.values():
        assert t.occurs in ("0..1", "1..1", "0..n", "1..n"), t.name
        for f in t.fields:
            assert f.xml, f"{t.name}.{f.name} has no xml path"
            assert f.description, f"{t.name}.{f.name} has no description"


def test_sex_from_2025_gender_current_before() -> None:
    for year in YEARS:
        names = resolve("cin", year).tables["Child"].field_names
        assert "Sex" in names and "GenderCurrent" not in names
        assert list(resolve("cin", year).codes("sex")) == ["M", "F", "U"]
        assert resolve("cin", year).codes("gender_current") == {}
    child_2024 = _table_in(2024, "Child")
    assert child_2024 is not None
    assert "GenderCurrent" in child_2024.field_names and "Sex" not in child_2024.field_names
    assert child_2024.field("GenderCurrent").required
    assert set(load_codesets("cin")["gender_current"].resolve(2024)) == {"0", "1", "2", "9"}
    assert load_codesets("cin")["sex"].resolve(2024) == {}


def test_pre_proceedings_only_from_2027() -> None:
    assert "PreProceedingsandFGDM" not in resolve("cin", 2025).tables
    assert "PreProceedingsandFGDM" not in resolve("cin", 2026).tables
    pp = resolve("cin", 2027).tables["PreProceedingsandFGDM"]
    assert pp.parent == "CINdetails" and pp.key == "_pp"
    assert len(pp.fields) == 10
    assert pp.field("PPOutcome").codeset == "pp_outcome"
    assert "A" in resolve("cin", 2027).codes("pp_outcome")  # the value in the DfE-style sample
    assert pp.field("ReviewMeetingsCount").min == 0


def test_every_codeset_referenced_exists_and_is_not_empty_when_used() -> None:
    codesets = load_codesets("cin")
    for t in load_tables("cin").tables:
        for f in t.fields:
            names = f.codeset.values() if isinstance(f.codeset, dict) else [f.codeset]
            for name in filter(None, names):
                assert name in codesets, f"{t.name}.{f.name}: no code set {name}"
            assert (f.type == "code") == bool(f.codeset), f"{t.name}.{f.name}: code type and code set go together"
    for year in YEARS:
        s = resolve("cin", year)
        for t in s.tables.values():
            for f in t.fields:
                if f.codeset:
                    assert s.codes(f.codeset), f"{year} {t.name}.{f.name}: code set {f.codeset} is empty"


def test_code_history() -> None:
    s25, s27 = resolve("cin", 2025), resolve("cin", 2027)
    assert {"5D"} <= set(s25.codes("referral_source")) and len(s25.codes("referral_source")) == 22
    assert "RC9" in s25.codes("reason_for_closure")
    factors = s25.codes("assessment_factors")
    assert {"18A", "19A", "18B", "18C", "19B", "19C", "24A"} <= set(factors) and len(factors) == 44
    assert len(s27.codes("ethnicity")) == 20 and len(s27.codes("disability")) == 13
    # codes that came later are absent in earlier years
    assert set(load_codesets("cin")["referral_source"].resolve(2022)) == set(s25.codes("referral_source")) - {"5D"}
    assert "24A" not in load_codesets("cin")["assessment_factors"].resolve(2021)


def test_elements_place_every_field_and_nested_table() -> None:
    for year in YEARS:
        s = resolve("cin", year)
        for t in s.tables.values():
            placed = set(t.elements)
            assert set(t.field_names) <= placed, t.name
            for child in s.tables.values():
                if child.parent == t.name:
                    assert f"@{child.name}" in placed, f"{t.name} does not place {child.name}"


@pytest.mark.parametrize("year", YEARS)
def test_committed_xsd_matches_spec(year: int) -> None:
    stale = stale_xsd_files(years=(year,))
    assert not stale, f"{stale} is out of date: run python -m csc_returns.returns.xsd"


# --------------------------------------------------------------------------- schema behaviour
VALID_2026 = """<Message>
  <Header>
    <CollectionDetails><Collection>CIN</Collection><Year>2026</Year><ReferenceDate>2026-03-31</ReferenceDate></CollectionDetails>
    <Source><SourceLevel>L</SourceLevel><LEA>201</LEA><SoftwareCode>Case system</SoftwareCode><Release>1.0</Release>
      <SerialNo>001</SerialNo><DateTime>2026-04-20T09:30:00</DateTime></Source>
  </Header>
  <Children>
    <Child>
      <ChildIdentifiers>
        <LAchildID>C0001</LAchildID><UPN>A123456789012</UPN><PersonBirthDate>2015-03-27</PersonBirthDate>
        <Sex>F</Sex>
      </ChildIdentifiers>
      <ChildCharacteristics>
        <Ethnicity>WBRI</Ethnicity>
        <Disabilities><Disability>HAND</Disability><Disability>HEAR</Disability></Disabilities>
      </ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2025-06-10</CINreferralDate><ReferralSource>1A</ReferralSource>
        <PrimaryNeedCode>N1</PrimaryNeedCode>
        <Assessments>
          <AssessmentActualStartDate>2025-06-11</AssessmentActualStartDate>
          <AssessmentAuthorisationDate>2025-07-20</AssessmentAuthorisationDate>
          <FactorsIdentifiedAtAssessment><AssessmentFactors>18A</AssessmentFactors><AssessmentFactors>4B</AssessmentFactors></FactorsIdentifiedAtAssessment>
        </Assessments>
        <Section47>
          <S47ActualStartDate>2025-06-12</S47ActualStartDate><DateOfInitialCPC>2025-06-30</DateOfInitialCPC>
          <ICPCnotRequired>false</ICPCnotRequired>
        </Section47>
        <ReferralNFA>0</ReferralNFA>
        <ChildProtectionPlans>
          <CPPstartDate>2025-06-30</CPPstartDate><InitialCategoryOfAbuse>PHY</InitialCategoryOfAbuse>
          <LatestCategoryOfAbuse>PHY</LatestCategoryOfAbuse><NumberOfPreviousCPP>0</NumberOfPreviousCPP>
          <Reviews><CPPreviewDate>2025-09-30</CPPreviewDate><CPPreviewDate>2026-03-02</CPPreviewDate></Reviews>
        </ChildProtectionPlans>
      </CINdetails>
    </Child>
    <Child>
      <ChildIdentifiers><LAchildID>C0002</LAchildID><UPNunknown>UN7</UPNunknown>
        <ExpectedPersonBirthDate>2026-06-01</ExpectedPersonBirthDate><Sex>U</Sex></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>NOBT</Ethnicity></ChildCharacteristics>
      <CINdetails><CINreferralDate>2026-01-05</CINreferralDate><ReferralSource>5D</ReferralSource>
        <ReferralNFA>1</ReferralNFA></CINdetails>
    </Child>
  </Children>
</Message>"""

PP_BLOCK = """<PreProceedingsandFGDM><PPStartDate>2026-09-09</PPStartDate><FGDMMeetingOffer>1</FGDMMeetingOffer>
  <ReviewMeetingsCount>3</ReviewMeetingsCount><PPOutcome>A</PPOutcome></PreProceedingsandFGDM>"""


def _schema(year: int) -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(build_xsd(resolve("cin", year))))


def _errors(year: int, xml: str) -> list[str]:
    schema = _schema(year)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    ok = schema.validate(etree.fromstring(xml.encode(), parser))
    return [] if ok else [e.message for e in schema.error_log]


def _edit(old: str, new: str, xml: str = VALID_2026) -> str:
    assert old in xml, old
    return xml.replace(old, new, 1)


def test_xsd_accepts_valid_2026_file() -> None:
    assert _errors(2026, VALID_2026) == []
    assert _errors(2025, VALID_2026) == []  # no structural change between 2024-25 and 2025-26


def test_xsd_rejects_elements_out_of_order() -> None:
    # ReferralNFA belongs after Section47, not before Assessments
    swapped = _edit("<ReferralNFA>0</ReferralNFA>", "").replace(
        "<PrimaryNeedCode>N1</PrimaryNeedCode>", "<PrimaryNeedCode>N1</PrimaryNeedCode><ReferralNFA>0</ReferralNFA>", 1
    )
    errors = _errors(2026, swapped)
    assert errors and any("Assessments" in e and "not expected" in e for e in errors)
    sex_first = _edit("<LAchildID>C0001</LAchildID>", "<Sex>F</Sex><LAchildID>C0001</LAchildID>")
    assert _errors(2026, _edit("\n        <Sex>F</Sex>\n", "\n", sex_first))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("<ReferralSource>1A</ReferralSource>", "<ReferralSource>1E</ReferralSource>"),
        ("<Sex>F</Sex>", "<Sex>2</Sex>"),  # a GenderCurrent code in a Sex year
        ("<Disability>HEAR</Disability>", "<Disability>hear</Disability>"),  # codes are case-sensitive
        ("<AssessmentFactors>4B</AssessmentFactors>", "<AssessmentFactors>RB</AssessmentFactors>"),
        ("<ReferralNFA>0</ReferralNFA>", "<ReferralNFA>no</ReferralNFA>"),
        ("<NumberOfPreviousCPP>0</NumberOfPreviousCPP>", "<NumberOfPreviousCPP>-1</NumberOfPreviousCPP>"),
        ("<UPN>A123456789012</UPN>", "<UPN>A12345678901</UPN>"),
        ("<LEA>201</LEA>", "<LEA>21</LEA>"),
        ("<CINreferralDate>2025-06-10</CINreferralDate>", "<CINreferralDate>10/06/2025</CINreferralDate>"),
    ],
)
def test_xsd_rejects_bad_values(old: str, new: str) -> None:
    assert _errors(2026, _edit(old, new))


def test_xsd_mandatory_and_wrappers() -> None:
    assert _errors(2026, _edit("<Ethnicity>WBRI</Ethnicity>", ""))  # 1..1
    no_disabilities = "<Disabilities><Disability>HAND</Disability><Disability>HEAR</Disability></Disabilities>"
    assert _errors(2026, _edit(no_disabilities, "")) == []  # the wrapper is optional
    assert _errors(2026, _edit(no_disabilities, "<Disabilities/>"))  # but never empty


def test_pre_proceedings_only_in_2027_schema() -> None:
    with_pp = _edit("</ChildProtectionPlans>", "</ChildProtectionPlans>" + PP_BLOCK)
    assert _errors(2027, with_pp) == []
    assert _errors(2026, with_pp)
    assert _errors(2027, _edit("<PPOutcome>A</PPOutcome>", "<PPOutcome>Z</PPOutcome>", with_pp))
