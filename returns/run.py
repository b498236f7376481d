"""A validation run: load -> coerce -> Pandera structure -> rule engine -> GX data-quality suites -> RunResult."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from csc_returns.returns import __version__
from csc_returns.returns.errors import UsageError
from csc_returns.returns.load import Loaded, load
from csc_returns.returns.postcodes import national
from csc_returns.returns.reference import Reference, with_derived
from csc_returns.returns.result import RunResult, make_findings
from csc_returns.returns.spec import SpecError, resolve
from csc_returns.validators.engine import Context, run_rules
from csc_returns.validators.schemas import validate_structure

# load findings first: they hide rule findings downstream, so the report shows them first
_ORDER = {"LOAD": 0, "SCHEMA": 1}


def load_previous(paths: list[Path], return_: str, year: int) -> Loaded:
    try:
        resolve(return_, year - 1)
    except SpecError:
        raise UsageError(f"last year's return ({year - 1}) cannot be read: its specification is not bundled.") from None
    return load(paths, return_=return_, year=year - 1, validate_year=False)


def validate(inputs: list[Path], previous: list[Path] | None = None, year: int | None = None,
             return_: str | None = None, gx: bool = True, gx_docs: Path | None = None,
             reference: Reference | None = None) -> tuple[RunResult, Loaded]:
    """`gx`: run the Great Expectations data-quality suites (DQ-* warnings); `gx_docs`: also
    build GX Data Docs (with the catalogue-rule expectations) in that folder; `reference`: the
    LA, postcode directory and Ofsted lookup (default: the national postcode directory only)."""
    t0 = time.perf_counter()
    loaded = load(inputs, return_=return_, year=year)
    return validate_tables(loaded, previous, gx=gx, gx_docs=gx_docs, t0=t0, reference=reference), loaded


# --- extracts (issue 5): the run from canonical tables, shared by DfE files and case-system extracts
def validate_tables(loaded: Loaded, previous: list[Path] | None = None, gx: bool = True,
                    gx_docs: Path | None = None, t0: float | None = None,
                    reference: Reference | None = None) -> RunResult:
    """Validate canonical tables however they were loaded (a DfE return file, CSV/XLSX extracts,
    SSD tables): Pandera structure, the rule engine, the GX suites; one RunResult."""
    t0 = time.perf_counter() if t0 is None else t0
    # --- end extracts
    prev = load_previous(previous, loaded.return_, loaded.year) if previous else None
    structural = validate_structure(loaded.spec, loaded.tables, skip=loaded.absent)
    if reference is None:  # the 903's placement fields always have the national directory
        reference = Reference(postcodes=national())
    if loaded.return_ != "ssda903":  # postcodes and Ofsted URNs are 903 matters
        reference = replace(reference, postcodes=None, ofsted=None)
    ctx = Context(spec=loaded.spec, tables=with_derived(loaded.return_, loaded.tables, reference),
                  previous=with_derived(loaded.return_, prev.tables if prev else None, reference),
                  previous_spec=prev.spec if prev else None, absent=loaded.absent,
                  previous_absent=set(prev.absent) if prev else set(),
                  load_findings=loaded.findings, reference=reference)
    engine = run_rules(ctx)
    pre = make_findings(loaded.findings + structural)
    findings = pd.concat([pre, engine.findings], ignore_index=True) if len(engine.findings) else pre
    outcomes = dict(engine.outcomes)
    # --- GX data-quality suites (issue 7): DQ-* warnings and outcomes; GX is imported only here
    if gx:
        from csc_returns.validators.suites.gx_run import run_quality

        quality = run_quality(loaded.spec, loaded.tables, previous=prev.tables if prev else None,
                              absent=loaded.absent, docs_dir=gx_docs)
        if len(quality.findings):
            findings = pd.concat([findings, quality.findings], ignore_index=True)
        outcomes.update(quality.outcomes)
    # --- end GX
    findings = sort_findings(findings)
    child_table = "Child" if loaded.return_ == "cin" else "Header"
    result = RunResult(
        return_=loaded.return_,
        year=loaded.year,
        spec=loaded.spec,
        inputs=loaded.inputs,
        findings=findings,
        outcomes=outcomes,
        table_rows={k: len(v) for k, v in loaded.tables.items() if k not in loaded.absent},
        children=int(loaded.tables[child_table].shape[0]) if child_table in loaded.tables else 0,
        la=loaded.la or (reference.la.number if reference.la else None),
        previous_inputs=prev.inputs if prev else [],
        tool_version=__version__,
        reference=reference.describe(),
    )
    result.seconds = time.perf_counter() - t0
    result.previous_loaded = prev  # not a field (never serialised): last year's tables, for the report's planning section
    return result  # extracts (issue 5): validate() returns (result, loaded)


def sort_findings(findings: pd.DataFrame) -> pd.DataFrame:
    if findings.empty:
        return findings
    prefix = findings["code"].str.split("-").str[0]
    order = prefix.map(_ORDER).fillna(2)
    sev = findings["severity"].map({"error": 0, "query": 1, "warning": 2}).fillna(3)
    return (findings.assign(_o=order, _s=sev)
            .sort_values(["_o", "_s", "code", "table", "row"], kind="stable", na_position="first")
            .drop(columns=["_o", "_s"]).reset_index(drop=True))
