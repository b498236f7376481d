"""What a run produces: one tidy findings table, an outcome per rule, and where it all came from.

Findings columns (one row per finding; the message is joined at render time from the catalogue):
  code      rule code (DfE code such as "8500", or our own such as "LOAD-DATE", "SCHEMA-CODESET")
  severity  error | query | warning
  table     canonical table name, or None for return-level findings
  row       1-based row number within that table (CIN: document order), or None
  child     LAchildID / CHILD of the record, or None
  fields    the fields involved, "|"-separated (stable, CSV-friendly)
  source    where in the input: "file.csv:12" or "file.xml:345"
  value     the values found in those fields, "FIELD=value; ..." (may be empty)
  detail    specifics beyond the catalogue message (e.g. the expected date format), may be empty
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from csc_returns.returns.spec import Spec

FINDING_COLUMNS = ["code", "severity", "table", "row", "child", "fields", "source", "value", "detail"]
OutcomeStatus = Literal["passed", "failed", "skipped", "errored"]


def empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else "string") for c in FINDING_COLUMNS})


def make_findings(rows: list[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Normalise finding rows (dicts or a frame) to the findings table's columns and dtypes."""
    df = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    if df.empty:
        return empty_findings()
    for c in FINDING_COLUMNS:
        if c not in df.columns:
            df[c] = None
    df = df[FINDING_COLUMNS]
    out = pd.DataFrame(
        {c: (df[c].astype("Int64") if c == "row" else df[c].astype("string")) for c in FINDING_COLUMNS}
    )
    return out.reset_index(drop=True)


@dataclass
class Outcome:
    status: OutcomeStatus
    reason: str | None = None  # skipped: why; errored: the traceback
    count: int = 0  # findings raised


@dataclass
class InputFile:
    path: str
    sha256: str
    table: str | None = None  # which canonical table it was recognised as (903), None for CIN XML
    rows: int = 0


@dataclass
class RunResult:
    return_: str
    year: int
    spec: Spec
    inputs: list[InputFile]
    findings: pd.DataFrame
    outcomes: dict[str, Outcome]
    table_rows: dict[str, int] = field(default_factory=dict)
    children: int = 0
    la: str | None = None  # LA number, from the CIN header or the user
    previous_inputs: list[InputFile] = field(default_factory=list)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    seconds: float = 0.0
    forced: bool = False  # return files were written despite error findings
    tool_version: str = ""
    reference: dict[str, Any] = field(default_factory=dict)  # reference data used (Reference.describe)

    def counts(self) -> dict[str, int]:
        vc = self.findings["severity"].value_counts()
        return {s: int(vc.get(s, 0)) for s in ("error", "query", "warning")}

    def errored_rules(self) -> list[str]:
        return [c for c, o in self.outcomes.items() if o.status == "errored"]

    def exit_code(self, fail_on: str = "error") -> int:
        """0 clean, 1 findings at or above `fail_on`, 2 the toolkit could not do its job."""
        if self.errored_rules():
            return 2
        failing = {"error": {"error"}, "query": {"error", "query"}, "warning": {"error", "query", "warning"}}[fail_on]
        return 1 if self.findings["severity"].isin(list(failing)).any() else 0
