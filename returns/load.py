"""Detect the return and year of some input files, read them and coerce them to canonical tables."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from csc_returns.returns.coerce import coerce_table, empty_table
from csc_returns.returns.errors import LoadError, UsageError
from csc_returns.returns.load_903 import expand_inputs, read_903, recognise, read_csv
from csc_returns.returns.load_903_xml import ROOT as SSDA903_ROOT
from csc_returns.returns.load_903_xml import episode_starts, read_903_xml
from csc_returns.returns.load_cin import read_cin, reference_date
from csc_returns.returns.result import InputFile
from csc_returns.returns.spec import SUPPORTED_YEARS, Spec, SpecError, resolve
from csc_returns.returns.xml_stream import root_name


@dataclass
class Loaded:
    return_: str
    year: int
    spec: Spec
    tables: dict[str, pd.DataFrame]
    findings: list[dict[str, Any]]
    inputs: list[InputFile]
    absent: set[str] = field(default_factory=set)  # tables not supplied at all
    notices: list[str] = field(default_factory=list)  # things the user should know, not findings
    la: str | None = None


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def collection_year_of(date: dt.date) -> int:
    """The collection (end) year whose 1 April - 31 March period contains `date`."""
    return date.year + 1 if date.month >= 4 else date.year


def _xmls(paths: list[Path]) -> list[Path]:
    return [p for p in paths if p.is_file() and p.suffix.lower() == ".xml"]


def xml_return(path: Path) -> str:
    """The return an XML file holds, by its root element: <EXPSSDA903> is SSDA903, anything else
    goes to the CIN loader (which says so when it is no <Message> either)."""
    return "ssda903" if root_name(path) == SSDA903_ROOT else "cin"


def detect_return(paths: list[Path]) -> str:
    for p in paths:
        if not p.exists():
            raise LoadError(f"{p}: no such file or folder.")
    kinds = {xml_return(p) for p in _xmls(paths)}
    if len(kinds) > 1:
        raise UsageError("the XML files hold different returns (CIN census and SSDA903); validate one return at a time.")
    if kinds:
        return kinds.pop()
    csvs, _ = expand_inputs(paths)
    if csvs:
        return "ssda903"
    raise LoadError(
        "no input recognised: give a CIN census .xml file, or SSDA903 .csv files or a folder of them "
        f"(got {', '.join(str(p) for p in paths)})."
    )


def _spec(return_: str, year: int) -> Spec:
    try:
        return resolve(return_, year)
    except SpecError as exc:
        raise UsageError(str(exc)) from None


def detect_year(return_: str, paths: list[Path]) -> int:
    if return_ == "cin":
        xml = next(p for p in paths if p.suffix.lower() == ".xml")
        ref = reference_date(xml)
        try:
            d = dt.date.fromisoformat(ref or "")
        except ValueError:
            raise UsageError(
                f"{xml}: cannot tell the collection year (Header/CollectionDetails/ReferenceDate is "
                f"{ref!r}); give it with --year."
            ) from None
        return collection_year_of(d)
    probe = resolve("ssda903", max(SUPPORTED_YEARS))
    xmls = _xmls(paths)
    if xmls:  # the XML form has no collection year element either: the latest DECOM, as for CSV
        year = _latest_year(pd.Series(episode_starts(xmls[0], probe), dtype="string"), probe.date_format)
        if year is None:
            raise UsageError(f"{xmls[0]}: cannot tell the SSDA903 collection year (no readable EPISODE/DECOM "
                             "dates, and the XML form has no collection year); give it with --year.")
        return year
    csvs, _ = expand_inputs(paths)
    for p in csvs:
        try:
            f = read_csv(p)
        except LoadError:
            continue
        table, _ = recognise(f.header, probe)
        if table is not None and table.name == "Episodes" and "DECOM" in f.frame:
            year = _latest_year(f.frame["DECOM"], probe.date_format)
            if year is not None:
                return year
    raise UsageError("cannot tell the SSDA903 collection year (no readable episodes.csv DECOM dates); give it with --year.")


def _latest_year(decom: pd.Series, date_format: str) -> int | None:
    """The collection year of the latest readable episode start date, if any."""
    dates = pd.to_datetime(decom.str.strip(), format=date_format, errors="coerce").dropna()
    return collection_year_of(dates.max().date()) if len(dates) else None


def _load_903_xml(paths: list[Path], spec: Spec) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]],
                                                         list[InputFile], set[str]]:
    """One SSDA903 XML file: its raw tables; tables it has no form for are absent, as for CSV."""
    xmls = _xmls(paths)
    if len(xmls) != 1 or len(paths) != 1:
        raise UsageError("give one SSDA903 XML file on its own, or SSDA903 CSV files "
                         f"(got {', '.join(str(p) for p in paths)}).")
    raw, findings = read_903_xml(xmls[0], spec)
    absent = set(spec.tables) - set(raw)
    findings += [{"code": "LOAD-TABLE-MISSING", "severity": "warning", "table": name,
                  "detail": f"the SSDA903 XML form has no {name} table; rules on {name} are skipped"}
                 for name in spec.tables if name in absent]
    return raw, findings, [InputFile(str(xmls[0]), sha256(xmls[0]), None, len(raw["Header"]))], absent


def load(paths: list[Path], return_: str | None = None, year: int | None = None,
         validate_year: bool = True) -> Loaded:
    """Read inputs into canonical tables; unreadable values become load findings."""
    paths = [Path(p) for p in paths]
    return_ = return_ or detect_return(paths)
    year = year or detect_year(return_, paths)
    if validate_year and year not in SUPPORTED_YEARS:
        raise UsageError(
            f"collection year {year} is not supported; supported: "
            + ", ".join(f"{y} ({y - 1}-{str(y)[2:]})" for y in SUPPORTED_YEARS)
        )
    spec = _spec(return_, year)
    notices: list[str] = []
    absent: set[str] = set()
    if return_ == "cin":
        xmls = [p for p in paths if p.suffix.lower() == ".xml"]
        if len(xmls) != 1:
            raise UsageError(f"give exactly one CIN census XML file (got {len(xmls)}).")
        raw, findings = read_cin(xmls[0], spec)
        inputs = [InputFile(str(xmls[0]), sha256(xmls[0]), None, 0)]
    elif _xmls(paths):
        raw, findings, inputs, absent = _load_903_xml(paths, spec)
    else:
        csvs, skipped = expand_inputs(paths)
        if skipped:
            notices.append("not CSV, not read: " + ", ".join(p.name for p in skipped))
        raw, findings, files, _ = read_903(csvs, spec)
        if not raw:
            raise LoadError(
                "none of the files is an SSDA903 table (recognised by the column headers): "
                + ", ".join(str(p) for p in csvs)
            )
        inputs = [InputFile(str(p), sha256(p), t, len(raw[t])) for t, p in files.items()]
        for name, t in spec.tables.items():
            if name not in raw:
                absent.add(name)
                findings.append({"code": "LOAD-TABLE-MISSING", "severity": "error" if name in ("Header", "Episodes") else "warning",
                                 "table": name, "detail": f"no {t.file or name} among the inputs; rules on {name} are skipped"})
    tables: dict[str, pd.DataFrame] = {}
    for name, t in spec.tables.items():
        if name in raw:
            tables[name], cf = coerce_table(raw[name], t, spec)
            findings.extend(cf)
        else:
            tables[name] = empty_table(t)
            tables[name][t.child_field] = pd.Series(dtype="string")
    la = None
    if return_ == "cin" and len(tables.get("Header", [])):
        lea = tables["Header"]["LEA"].iloc[0] if "LEA" in tables["Header"] else None
        la = None if pd.isna(lea) else str(lea)
    if return_ == "cin":
        inputs[0].rows = len(tables["Child"])
    return Loaded(return_, year, spec, tables, findings, inputs, absent, notices, la)
