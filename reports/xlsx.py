"""findings.xlsx: the error list for case workers, one sheet per severity.

Rows come from `machine.error_list` (the same rows as findings.csv). Every cell is a string cell:
openpyxl types a plain `str` as a string cell except one starting with "=" (a formula) or equal to
an error code such as "#N/A"; those, and only those, are written as cells with `data_type = "s"` set
after assignment (child IDs and values come from untrusted files). Writing every cell that way
doubles the time for a large list, for the same file. Header frozen,
autofilter on, column widths set. Written in openpyxl's write-only mode (rows streamed, so 100k
findings stay cheap) to a temporary file that replaces the target atomically.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from csc_returns.reports.machine import error_list
from csc_returns.returns.result import RunResult

# (header, error_list column, width cap)
COLUMNS: list[tuple[str, str, int]] = [
    ("Child", "child", 24),
    ("Rule", "code", 22),
    ("Message", "message", 70),
    ("Table", "table", 22),
    ("Row", "row", 8),
    ("Field", "field", 30),
    ("Value found", "value", 50),
    ("Where in the file", "source", 36),
    ("Detail", "detail", 50),
]
SHEETS = [("error", "Errors"), ("query", "Queries"), ("warning", "Warnings")]
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # XML 1.0 cannot hold these; openpyxl refuses them
MAX_CELL = 32767  # Excel's limit on characters in a cell


def _text(v: Any) -> str:
    if v is None or (not isinstance(v, (list, dict)) and pd.isna(v)):
        return ""
    s = _ILLEGAL.sub("\ufffd", str(v))
    return s[:MAX_CELL]


def _risky(value: str) -> bool:
    """Would openpyxl store this string as something other than text (a formula or an error)?"""
    return (len(value) > 1 and value[0] == "=") or value in ERROR_CODES


def _row(ws: Any, texts: list[str]) -> list[Any]:
    """Plain strings are string cells already; the ones openpyxl would turn into a formula or an
    error value become explicit string cells. Empty values are empty cells."""
    return [_cell(ws, v) if v and _risky(v) else (v or None) for v in texts]


def _cell(ws: Any, value: str, font: Font | None = None, fill: PatternFill | None = None) -> WriteOnlyCell:
    c = WriteOnlyCell(ws, value=value or None)  # an empty value is an empty cell
    if value:
        c.data_type = "s"  # never a formula, never a number: the text as found
    if font is not None:
        c.font = font
    if fill is not None:
        c.fill = fill
    return c


def write_xlsx(result: RunResult, path: Path | str) -> Path:
    """Write findings.xlsx atomically: sheets Errors, Queries, Warnings (each with its header)."""
    path = Path(path)
    rows = error_list(result)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE3EA")
    for severity, title in SHEETS:
        part = rows[rows["severity"] == severity]
        ws = wb.create_sheet(title)
        texts = [[_text(r[col]) for _, col, _ in COLUMNS] for r in part.to_dict("records")]
        for j, (head, _, cap) in enumerate(COLUMNS):
            longest = max([len(head)] + [len(t[j]) for t in texts[:5000]])
            ws.column_dimensions[get_column_letter(j + 1)].width = min(cap, max(8, longest + 2))
        ws.freeze_panes = "A2"
        last = get_column_letter(len(COLUMNS))
        ws.auto_filter.ref = f"A1:{last}{max(1, len(texts) + 1)}"
        ws.append([_cell(ws, h, bold, head_fill) for h, _, _ in COLUMNS])
        for t in texts:
            ws.append(_row(ws, t))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
