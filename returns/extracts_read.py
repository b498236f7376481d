"""Case-system extracts (CSV, XLSX) -> grids of cells, one per sheet, read-only.

An extract is whatever an LA's case system or data warehouse produced: any sheet names, title rows
above the header, header cells left blank by merging, trailing empty rows and columns. This module
only reads: it keeps every cell as the case system gave it (text stays text, so an ID "0012" is
never "12.0"; Excel date cells stay dates; Excel numbers stay numbers) and never writes to the input.
XLSX is read with python-calamine (fast; openpyxl is for writing only, see DESIGN.md section 8).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csc_returns.returns.errors import LoadError
from csc_returns.returns.load_903 import decode

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")


@dataclass
class Sheet:
    """One grid of cells: a CSV file, or one worksheet of a workbook."""

    path: Path
    name: str | None  # worksheet name; None for CSV
    rows: list[list[Any]]  # cell values: str for text, float/int/bool for numbers, date/datetime for dates
    excel: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How findings name the sheet: file.csv, or file.xlsx[Sheet name]."""
        return self.path.name if self.name is None else f"{self.path.name}[{self.name}]"

    def source(self, line: int) -> str:
        """file.csv:12 or file.xlsx[Sheet]:12 (line = 1-based row in the file or sheet)."""
        return f"{self.label}:{line}"


def column_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (as a spreadsheet names columns)."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def is_extract_file(path: Path) -> bool:
    return path.suffix.lower() in EXCEL_SUFFIXES + CSV_SUFFIXES


def expand(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Folders become the extract files in them (sorted); returns (files, skipped)."""
    files: list[Path] = []
    skipped: list[Path] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise LoadError(f"{p}: no such file or folder.")
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if child.is_file() and is_extract_file(child) and not child.name.startswith(("~$", ".")):
                    files.append(child)
                elif child.is_file():
                    skipped.append(child)
        elif is_extract_file(p):
            files.append(p)
        else:
            skipped.append(p)
    return files, skipped


def read_sheets(path: Path) -> list[Sheet]:
    """Every sheet of one extract file (a CSV file is one sheet)."""
    path = Path(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _read_workbook(path)
    return [_read_csv(path)]


def _read_csv(path: Path) -> Sheet:
    text = decode(path)  # UTF-8 (with or without BOM), else Windows-1252
    sample = text[:65536]
    delimiter = ","
    if path.suffix.lower() == ".tsv" or (sample.count("\t") > sample.count(",") and "\t" in sample):
        delimiter = "\t"
    elif sample.count(";") > sample.count(",") * 2:
        delimiter = ";"
    rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    return Sheet(path, None, rows, excel=False)


def _read_workbook(path: Path) -> list[Sheet]:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise LoadError(f"{path}: reading spreadsheets needs python-calamine ({exc}).") from None
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for corrupt or protected files
        raise LoadError(f"{path}: the workbook could not be read ({type(exc).__name__}: {exc}).") from None
    sheets: list[Sheet] = []
    try:
        for name in wb.sheet_names:
            try:
                ws = wb.get_sheet_by_name(name)
                data = ws.to_python(skip_empty_area=False)
                merged = list(getattr(ws, "merged_cell_ranges", None) or [])
            except Exception as exc:
                raise LoadError(f"{path} [{name}]: the sheet could not be read ({type(exc).__name__}: {exc}).") from None
            rows = [list(r) for r in data]
            sheet = Sheet(path, name, rows, excel=True)
            if merged:
                sheet.notes.append(f"{len(merged)} merged cell range(s); merged cells other than the first are blank")
            sheets.append(sheet)
    finally:
        try:
            wb.close()
        except Exception:
            pass
    return sheets


def cell_text(value: Any) -> str:
    """A cell as plain text, the way it would read in the case system (never "12.0" for 12)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, float) and value != value)
