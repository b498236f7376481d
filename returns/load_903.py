"""SSDA903 CSV files -> raw tables. Tables are recognised by their headers, whatever the file names.

CSV quirks handled: UTF-8 with or without BOM, Windows-1252, white space around headers and
values, blank trailing rows, rows with too many or too few values (reported, never dropped).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from csc_returns.returns.errors import LoadError
from csc_returns.returns.spec import Spec, Table

MIN_SIMILARITY = 0.5  # share of header names in common with a table before we call it that table


@dataclass
class CsvFile:
    path: Path
    header: list[str]
    frame: pd.DataFrame  # all strings, `_source` added, blank rows dropped
    findings: list[dict[str, Any]]


def decode(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise LoadError(f"{path}: the file is empty.")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # cannot fail; every byte maps


def _norm(name: str) -> str:
    return name.strip().upper()


def read_csv(path: Path) -> CsvFile:
    text = decode(path)
    findings: list[dict[str, Any]] = []
    try:
        df = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False, engine="c"
        )
        header = [str(c) for c in df.columns]
        lines = pd.RangeIndex(2, 2 + len(df))
    except pd.errors.EmptyDataError:
        raise LoadError(f"{path}: the file has no header row.") from None
    except pd.errors.ParserError:
        df, header, lines, findings = _read_ragged(path, text)
    # pandas renames duplicate headers "A.1"; report and keep the first
    raw_header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])))
    seen: set[str] = set()
    for i, name in enumerate(raw_header):
        key = _norm(name)
        if key in seen:
            findings.append({"code": "LOAD-DUPLICATE-HEADER", "severity": "error", "fields": name.strip(),
                             "source": f"{path.name}:1", "detail": f"column {i + 1}"})
        seen.add(key)
    df.columns = [_norm(c) for c in raw_header[: len(df.columns)]] + [
        f"_EXTRA{i}" for i in range(len(df.columns) - len(raw_header))
    ]
    df = df.loc[:, ~pd.Index(df.columns).duplicated()]
    df.index = lines
    blank = (df.apply(lambda c: c.astype("string").str.strip() == "")).all(axis=1) if len(df) else pd.Series(dtype=bool)
    df = df[~blank]
    df.insert(0, "_source", [f"{path.name}:{n}" for n in df.index])
    return CsvFile(path, [h.strip() for h in raw_header], df.reset_index(drop=True), findings)


def _read_ragged(path: Path, text: str) -> tuple[pd.DataFrame, list[str], pd.Index, list[dict[str, Any]]]:
    """Slow path for rows whose length differs from the header: read by position, report each."""
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    width = len(header)
    body, lines, findings = [], [], []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != width and any(v.strip() for v in row):
            findings.append({"code": "LOAD-ROW-LENGTH", "severity": "error", "source": f"{path.name}:{n}",
                             "value": ",".join(row)[:120], "detail": f"{len(row)} values, header has {width}"})
        body.append((row + [""] * width)[:width])
        lines.append(n)
    return pd.DataFrame(body, columns=header, dtype=str), header, pd.Index(lines), findings


def recognise(header: list[str], spec: Spec) -> tuple[Table | None, float]:
    """The table whose columns best match this header (Jaccard similarity of the name sets)."""
    cols = {_norm(h) for h in header if h.strip()}
    best: tuple[Table | None, float] = (None, 0.0)
    for t in spec.tables.values():
        names = set(t.field_names)
        score = len(cols & names) / len(cols | names) if cols | names else 0.0
        if score > best[1]:
            best = (t, score)
    return best if best[1] >= MIN_SIMILARITY else (None, best[1])


def read_903(paths: list[Path], spec: Spec) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]], dict[str, Path], list[Path]]:
    """Read and recognise every CSV. Returns raw tables, load findings, table -> file, ignored files."""
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    findings: list[dict[str, Any]] = []
    ignored: list[Path] = []
    for path in paths:
        f = read_csv(path)
        table, _ = recognise(f.header, spec)
        if table is None:
            ignored.append(path)
            findings.append({"code": "LOAD-FILE", "severity": "warning", "source": f"{path.name}:1",
                             "value": ",".join(f.header)[:200],
                             "detail": "the header matches no SSDA903 table for this year; the file was not used"})
            continue
        if table.name in files:
            raise LoadError(
                f"{path}: looks like the {table.name} table, but {files[table.name]} does too. "
                "Give one file per table."
            )
        files[table.name] = path
        for item in f.findings:
            item.setdefault("table", table.name)
        findings.extend(f.findings)
        present = set(f.frame.columns)
        for name in table.field_names:
            if name not in present:
                findings.append({"code": "LOAD-COLUMN-MISSING", "severity": "error", "table": table.name,
                                 "fields": name, "source": f"{path.name}:1",
                                 "detail": f"{path.name} has no {name} column"})
        for col in f.header:
            if _norm(col) and _norm(col) not in table.field_names:
                findings.append({"code": "LOAD-COLUMN-EXTRA", "severity": "warning", "table": table.name,
                                 "fields": col.strip(), "source": f"{path.name}:1",
                                 "detail": f"column '{col.strip()}' is not in the DfE {table.name} table"})
        keep = ["_source"] + [c for c in table.field_names if c in present]
        tables[table.name] = f.frame[keep]
    return tables, findings, files, ignored


def expand_inputs(inputs: list[Path]) -> tuple[list[Path], list[Path]]:
    """Folders become their CSV files; returns (csv files, other files skipped)."""
    csvs: list[Path] = []
    skipped: list[Path] = []
    for p in inputs:
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if child.is_file() and child.suffix.lower() == ".csv":
                    csvs.append(child)
                elif child.is_file():
                    skipped.append(child)
        else:
            csvs.append(p)
    return csvs, skipped
