"""Pseudonymised extract: keys, tokens, degrading, the identifier scan, and that nothing leaks."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csc_returns.returns import pseudonymise as ps
from csc_returns.returns.aggregates import canonical_frame, compute, empty_tables, run_aggregate, tables_for_year
from csc_returns.returns.disclosure import DisclosureError, get_profile, protect
from csc_returns.returns.errors import UsageError

FIX = Path(__file__).parent / "fixtures"
INPUTS = [FIX / "cin" / "small_2026.xml", FIX / "ssda903" / "2026"]


@pytest.fixture
def key_file(tmp_path):
    return ps.keygen(tmp_path / "keys" / "la.key")


# --------------------------------------------------------------------------- keys
def test_keygen_writes_a_private_key_and_never_overwrites(key_file):
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert len(ps.load_key(key_file)) == 32
    with pytest.raises(UsageError, match="never overwritten"):
        ps.keygen(key_file)


def test_bad_or_missing_keys_are_refused_with_keygen_help_and_without_their_content(tmp_path):
    with pytest.raises(UsageError, match="csc-returns keygen"):
        ps.load_key(tmp_path / "none.key")
    bad = tmp_path / "bad.key"
    bad.write_text("csc-returns-key-v1:SECRETSTUFF!!\n")
    with pytest.raises(UsageError) as exc:
        ps.load_key(bad)
    assert "SECRETSTUFF" not in str(exc.value) and "keygen" in str(exc.value)
    short = tmp_path / "short.key"
    short.write_text("csc-returns-key-v1:" + base64.urlsafe_b64encode(b"x" * 8).decode() + "\n")
    with pytest.raises(UsageError, match="too short"):
        ps.load_key(short)


def test_tokens_are_keyed_stable_and_normalised():
    k1, k2 = b"1" * 32, b"2" * 32
    ids = pd.Series(["AB12", " ab12 ", "XY9", None], dtype="string")
    t1 = ps.tokens(ids, k1)
    assert t1[0] == t1[1] and t1[0] != t1[2] and pd.isna(t1[3])
    assert t1[0] == ps.tokens(pd.Series(["AB12"]), k1)[0]  # stable across calls (years, returns)
    assert ps.tokens(ids, k2)[0] != t1[0]  # another key, another token
    assert len(t1[0]) == 32 and set(t1[0]) <= set("0123456789abcdef")
    assert ps.key_id(k1) != ps.key_id(k2) and k1.hex() not in ps.key_id(k1)


def test_dates_of_birth_to_month_and_postcodes_to_sector():
    d = pd.Series(pd.to_datetime(["2015-06-17", "2020-01-01", None]))
    assert ps.month_start(d).dt.strftime("%Y-%m-%d").tolist()[:2] == ["2015-06-01", "2020-01-01"]
    pc = pd.Series(["AB1 2CD", "ab12cd", "SW1A 1AA", "M1 1AE", "not a postcode", None], dtype="string")
    assert ps.postcode_sector(pc).tolist()[:4] == ["AB1 2", "AB1 2", "SW1A 1", "M1 1"]
    assert ps.postcode_sector(pc)[4:].isna().all()


# --------------------------------------------------------------------------- the run with an extract
def test_extract_is_written_linked_and_free_of_identifiers(tmp_path, key_file):
    out = tmp_path / "agg"
    res = run_aggregate(INPUTS, None, out, "dfe", key_file)
    assert res.extract_files and (out / "extract" / "cin" / "Child.csv").exists()
    child = pd.read_csv(out / "extract" / "cin" / "Child.csv", dtype=str)
    header = pd.read_csv(out / "extract" / "ssda903" / "Header.csv", dtype=str)
    assert "LAchildID" not in child and "UPN" not in child and "UPN" not in header and "URN" not in pd.read_csv(
        out / "extract" / "ssda903" / "Episodes.csv", dtype=str)
    assert child["PersonBirthDate"].dropna().str.endswith("-01").all()
    assert header["DOB"].str.endswith("-01").all()
    eps = pd.read_csv(out / "extract" / "ssda903" / "Episodes.csv", dtype=str)
    assert set(eps["PL_POST_SECTOR"].dropna()) <= {"ZZ2 2", "ZZ4 4", "ZZ5 5", "ZZ6 6", "ZZ7 7", "ZZ8 8", "ZZ9 9"} or \
        eps["PL_POST_SECTOR"].dropna().str.match(r"^[A-Z]{1,2}\d[A-Z\d]? \d$").all()
    key = ps.load_key(key_file)
    everything = "".join(p.read_text(encoding="utf-8-sig") for p in out.rglob("*") if p.is_file())
    for form in ps.key_forms(key):
        assert form not in everything
    for secret in ("SYN001", "S101", "A999000000017", "ZZ1 1AA", "2009-07-15", "15/07/2009"):  # S102 born 15/07/2009
        assert secret not in everything
    assert res.report["extract"]["key_id"] == ps.key_id(key)
    # the same key gives the same token next year: linkage
    expected = ps.tokens(pd.Series(["SYN001"]), key)[0]
    assert expected in set(child["child_token"])


def test_extract_without_a_key_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(UsageError, match="keygen"):
        run_aggregate(INPUTS, None, tmp_path / "out", "dfe", None, extract=True)
    with pytest.raises(UsageError, match="keygen"):
        run_aggregate(INPUTS, None, tmp_path / "out", "dfe", tmp_path / "missing.key")
    assert not (tmp_path / "out").exists()


def test_scan_refuses_each_kind_of_identifier():
    ids = ps.Identifiers(ids={"SYN001"}, upns={"A999000000017"}, postcodes={"ZZ11AA"}, dobs={"2012-02-01"})
    key = b"k" * 32
    for text in ("a,SYN001\n", "x A999000000017 y", "ZZ1 1AA", "born 2012-02-01", key.hex()):
        with pytest.raises(DisclosureError):
            ps.scan_text("f.txt", text, ids, key)
    ps.scan_text("f.csv", "category,count\nZZ1 1,3\n", ids, key)  # a sector is fine


# --------------------------------------------------------------------------- properties
ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
child_ids = st.text(alphabet=ALNUM, min_size=6, max_size=10).filter(lambda s: any(c.isalpha() for c in s))
upns = st.builds(lambda a, n: a + f"{n:012d}", st.sampled_from("ABCDEFGHJKLMNPQRTUVWXYZ"), st.integers(0, 10**12 - 1))
postcodes = st.builds(lambda a, d, s, tail: f"{a}{d} {s}{tail}", st.sampled_from(["AB", "M", "SW", "LS", "B"]),
                      st.integers(1, 99), st.integers(0, 9), st.sampled_from(["AA", "BD", "XZ", "QP"]))
dobs = st.dates(min_value=pd.Timestamp("2004-01-01").date(), max_value=pd.Timestamp("2026-03-01").date())


@st.composite
def children_903(draw):
    n = draw(st.integers(1, 12))
    ids = draw(st.lists(child_ids, min_size=n, max_size=n, unique=True))
    header, episodes = [], []
    for cid in ids:
        dob = draw(dobs)
        header.append(dict(CHILD=cid, SEX=draw(st.sampled_from("MFU")), DOB=dob.isoformat(), ETHNIC="WBRI",
                           UPN=draw(upns)))
        start = draw(st.dates(min_value=dob, max_value=pd.Timestamp("2026-03-31").date()))
        episodes.append(dict(CHILD=cid, DECOM=start.isoformat(), RNE="S", LS="C2", CIN="N1",
                             PLACE=draw(st.sampled_from(["U1", "U4", "K2", "P1"])), PL_POST=draw(postcodes),
                             HOME_POST=draw(postcodes), URN="SC123456"))
    return header, episodes


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(children_903())
def test_property_outputs_hold_no_identifier(data):
    header, episodes = data
    year = 2026
    t = empty_tables("ssda903", year)
    t["Header"] = canonical_frame("ssda903", year, "Header", header)
    t["Episodes"] = canonical_frame("ssda903", year, "Episodes", episodes)
    spec_tables = tables_for_year("ssda903", year)
    found = ps.identifiers_of(t, spec_tables, ["DOB", "MC_DOB"])
    key = b"s" * 32
    # the pseudonymised extract: structurally safe and no ID, UPN, full postcode or key in its text
    frames = ps.pseudonymise_tables({"Header": t["Header"], "Episodes": t["Episodes"]}, spec_tables, key,
                                    ["DOB", "MC_DOB"], [])
    ps.check_extract(frames, spec_tables, ["DOB", "MC_DOB"])
    for name, f in frames.items():
        text = ps._to_csv(f).decode("utf-8-sig")
        ps.scan_text(f"extract/{name}.csv", text, found, key, dobs=False)
        for h in header:  # and no full date of birth in the birth-date column (unless it is the 1st anyway)
            if not h["DOB"].endswith("-01"):
                assert h["DOB"] not in set(f.get("DOB", pd.Series(dtype=str)).astype(str))
        for e in episodes:
            assert e["CHILD"] not in text and e["PL_POST"] not in text and e["PL_POST"].replace(" ", "") not in text
    # the aggregates: no identifier at all, dates of birth included
    tables = compute("ssda903", year, t)
    published = protect([x.table for x in tables], get_profile("dfe"))
    for x in tables:
        text = published[x.table.id].to_csv(index=False)
        ps.scan_text(x.file, text, found, key, dobs=True)
        for h in header:
            assert h["CHILD"] not in text and h["UPN"] not in text and h["DOB"] not in text
