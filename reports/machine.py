"""Machine outputs: findings.json (a stable, documented contract), findings.csv, JUnit XML."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

from csc_returns.returns.result import RunResult
from csc_returns.validators.catalogue import describe, messages

SCHEMA_VERSION = 1
CSV_COLUMNS = ["code", "severity", "message", "child", "table", "row", "field", "value", "source", "detail"]


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write(path: Path, data: bytes) -> Path:
    """Write to a temporary file beside `path`, then move it into place (never half a file).

    The final file gets the usual permissions (0666 less the umask), like any other file the user
    writes: mkstemp's private 0600 would stop colleagues opening a report from a file share.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _none(v: Any) -> Any:
    return None if v is None or (not isinstance(v, (list, dict)) and pd.isna(v)) else v


def findings_records(result: RunResult) -> list[dict[str, Any]]:
    f = result.findings
    msg = messages(result.spec, f["code"].dropna().unique().tolist())
    out = []
    for r in f.itertuples(index=False):
        out.append({
            "code": r.code,
            "severity": r.severity,
            "table": _none(r.table),
            "row": None if pd.isna(r.row) else int(r.row),
            "child": _none(r.child),
            "fields": [x for x in (r.fields or "").split("|") if x] if not pd.isna(r.fields) else [],
            "source": _none(r.source),
            "message": msg.get(r.code, ""),
            "value": _none(r.value) or None,
            "detail": _none(r.detail) or None,
        })
    return out


def to_json(result: RunResult) -> dict[str, Any]:
    counts = result.counts()
    status: dict[str, int] = {}
    for o in result.outcomes.values():
        status[o.status] = status.get(o.status, 0) + 1
    return {
        "tool": "csc-returns",
        "version": result.tool_version,
        "schema_version": SCHEMA_VERSION,
        "return": result.return_,
        "year": result.year,
        "period": {"start": result.spec.period_start.isoformat(), "end": result.spec.period_end.isoformat()},
        "la": result.la,
        "inputs": [{"path": i.path, "sha256": i.sha256, "table": i.table, "rows": i.rows} for i in result.inputs],
        "reference": result.reference,
        "previous_inputs": [{"path": i.path, "sha256": i.sha256, "table": i.table, "rows": i.rows}
                            for i in result.previous_inputs],
        "started": result.started.isoformat(timespec="seconds"),
        "seconds": round(result.seconds, 3),
        "forced": result.forced,
        "findings": findings_records(result),
        "outcomes": {c: o.status for c, o in sorted(result.outcomes.items())},
        "outcome_reasons": {c: o.reason for c, o in sorted(result.outcomes.items()) if o.reason},
        "summary": {
            "children": result.children,
            "tables": result.table_rows,
            "findings": int(len(result.findings)),
            "errors": counts["error"],
            "queries": counts["query"],
            "warnings": counts["warning"],
            "rules": status,
            "children_with_errors": int(result.findings.loc[result.findings["severity"] == "error", "child"].dropna().nunique()),
            "exit_code": result.exit_code(),
        },
    }


def write_json(result: RunResult, path: Path) -> Path:
    return atomic_write(path, json.dumps(to_json(result), indent=1, ensure_ascii=False).encode("utf-8"))


def protect_cell(value: Any) -> Any:
    """Spreadsheet formula injection: a cell starting with = + - @ or a tab/CR is prefixed with '."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def error_list(result: RunResult) -> pd.DataFrame:
    """One row per finding, for people: the columns of findings.csv and findings.xlsx."""
    recs = findings_records(result)
    rows = [{
        "code": r["code"], "severity": r["severity"], "message": r["message"], "child": r["child"],
        "table": r["table"], "row": r["row"], "field": ", ".join(r["fields"]), "value": r["value"],
        "source": r["source"], "detail": r["detail"],
    } for r in recs]
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def write_csv(result: RunResult, path: Path) -> Path:
    df = error_list(result)
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            df[c] = df[c].map(protect_cell)
    data = df.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")  # BOM: Excel reads UTF-8
    return atomic_write(path, data)


def to_junit(result: RunResult) -> bytes:
    """One test case per rule; failures list the records (CI systems render this natively)."""
    f = result.findings
    suite = etree.Element("testsuite", name=f"csc-returns {result.return_} {result.year}")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    by_code = {c: g for c, g in f.groupby("code")} if len(f) else {}
    codes = sorted(set(result.outcomes) | set(by_code))
    for code in codes:
        e = describe(result.spec, code)
        case = etree.SubElement(suite, "testcase", classname=f"{result.return_}.{e.severity}", name=f"{code} {e.message}")
        counts["tests"] += 1
        o = result.outcomes.get(code)
        if o is not None and o.status == "skipped":
            etree.SubElement(case, "skipped", message=o.reason or "")
            counts["skipped"] += 1
        elif o is not None and o.status == "errored":
            err = etree.SubElement(case, "error", message="the rule could not run")
            err.text = o.reason
            counts["errors"] += 1
        elif code in by_code:
            g = by_code[code]
            sev = g["severity"].iloc[0]
            if sev == "error":
                fail = etree.SubElement(case, "failure", message=f"{len(g)} record(s)", type=sev)
                counts["failures"] += 1
            else:
                fail = etree.SubElement(case, "system-out")
            fail.text = "\n".join(
                f"{r.source or ''} child={r.child or ''} {r.value or ''}".strip() for r in g.head(200).itertuples()
            ) + ("\n..." if len(g) > 200 else "")
    for k, v in counts.items():
        suite.set(k, str(v))
    suite.set("time", f"{result.seconds:.3f}")
    return etree.tostring(suite, xml_declaration=True, encoding="utf-8", pretty_print=True)
