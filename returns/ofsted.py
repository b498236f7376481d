"""The Ofsted URN lookup: Ofsted's provider lists, read into one table the 903 URN rules use
(219, 221, 224, 227, 228, 229, 241).

LAs download Ofsted's "Children's homes" and "Social care providers" lists, or take the combined
list DfE COLLECT supplies, as XLSX (or save them as CSV). `read_ofsted` reads any number of them,
recognising each sheet and column by its name (specs/common/ofsted.yaml), never by position, and
keeps one row per list entry: a URN listed twice (a provider with premises in several LAs, a
provider in both lists) keeps both rows, and the rules pass an episode that matches any of them.

Bad input is a LoadError that names the file, the sheet and the missing column or the bad cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from csc_returns.returns.authorities import ons_to_number, population_file
from csc_returns.returns.errors import LoadError
from csc_returns.returns.extracts_read import Sheet, cell_text, read_sheets
from csc_returns.returns.postcodes import Directory, area_to_la, normalise
from csc_returns.returns.spec import specs_root

COLUMNS = ["urn", "place_codes", "provider_codes", "reg_end", "postcode", "la_name", "la", "source"]
TEXT_FIELDS = ("urn", "la_name", "place_codes", "provider_codes", "postcode")
FIELD_NAMES = {  # how an error message names a lookup field
    "urn": "URN", "la_name": "local authority", "place_codes": "placement code",
    "provider_codes": "placement provider code", "reg_end": "deregistration / closed date",
    "postcode": "setting postcode",
}
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 (its 1900 leap-year bug included)
MAX_BAD_CELLS = 5  # bad cells named in one error message


@lru_cache(maxsize=None)
def layout() -> dict[str, Any]:
    """specs/common/ofsted.yaml: the sheet and header names of the Ofsted lists."""
    with (specs_root() / "common" / "ofsted.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def header_key(text: Any) -> str:
    """A header cell as the layout names it: lower case, "&" as "and", spaces collapsed."""
    s = cell_text(text).replace("&", " and ").replace("_", " ").lower()
    return " ".join(s.split())


@lru_cache(maxsize=None)
def _header_fields() -> dict[str, str]:
    """Normalised header name -> lookup field."""
    return {header_key(h): f for f, names in layout()["columns"].items() for h in names}


# ------------------------------------------------------------------------------------ the lookup
@dataclass
class OfstedLookup:
    """One row per list entry (columns COLUMNS): urn (upper case), place_codes and provider_codes
    (tuples of codes; empty when the list gives none), reg_end (closure or deregistration date, NaT
    when open), postcode (normalised), la_name (as the list gives it), la (DfE LA number from the
    name, NA when it cannot be mapped), source (file:sheet:row)."""

    entries: pd.DataFrame
    files: int = 0
    description: str = field(default="")

    def __post_init__(self) -> None:
        if not self.description:
            n = self.files
            self.description = (f"Ofsted URN lookup: {n} file{'s' if n != 1 else ''}, "
                                f"{self.providers:,} provider{'s' if self.providers != 1 else ''}")

    @property
    def providers(self) -> int:
        return int(self.entries["urn"].nunique())

    def codes(self, column: str) -> pd.DataFrame:
        """(urn, code) with one row per code of each entry; an entry that lists no code gives
        one row with code NA (the list says nothing, so it cannot contradict an episode)."""
        out = self.entries[["urn", column]].explode(column).rename(columns={column: "code"})
        return out.astype({"code": "string"}).reset_index(drop=True)

    def provider_las(self, directory: Directory | None, urns: pd.Series | None = None) -> pd.DataFrame:
        """(urn, la) per entry of the given URNs: the LA named in the list, or where that name
        cannot be mapped, the LA of the setting postcode in the postcode directory (NA when
        neither gives one). Only the URNs asked for are looked up (a national list's postcodes
        would read the whole directory)."""
        e = self.entries
        if urns is not None:
            e = e.loc[e["urn"].isin(pd.Series(urns).dropna().unique()).to_numpy(dtype=bool)]
        la = e["la"].astype("string").copy()
        todo = (la.isna() & e["postcode"].notna()).to_numpy(dtype=bool)
        if directory is not None and todo.any():
            got = directory.lookup(e.loc[todo, "postcode"].astype("string"))
            la.loc[todo] = area_to_la(got["area"]).where(got["found"]).to_numpy()
        return pd.DataFrame({"urn": e["urn"].to_numpy(), "la": la.to_numpy()}).astype("string")

    @classmethod
    def from_records(cls, records: list[dict[str, Any]], description: str = "") -> OfstedLookup:
        """A lookup from entries written out (rule test cases): urn, place_codes, provider_codes
        (lists or "K1/K2" text), reg_end (dd/mm/yyyy), postcode, la (DfE number or ONS code) and/or
        la_name (as an Ofsted list names the LA)."""
        allowed = {"urn", "place_codes", "provider_codes", "reg_end", "postcode", "la", "la_name"}
        raw: dict[str, list[Any]] = {f: [] for f in (*TEXT_FIELDS, "reg_end", "la")}
        for i, r in enumerate(records, start=1):
            unknown = set(r) - allowed
            if unknown:
                raise ValueError(f"Ofsted entry {i}: unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})")
            for f in raw:
                v = r.get(f)
                raw[f].append("/".join(map(str, v)) if isinstance(v, (list, tuple)) else cell_text(v))
        frame = pd.DataFrame(raw, dtype=object)
        sources = [f"case:ofsted:{i}" for i in range(1, len(records) + 1)]
        entries = _entries(frame, sources, la_cells=frame["la"].where(frame["la"] != "", frame["la_name"]))
        return cls(entries, 0, description or f"case Ofsted list ({len(entries)} entries)")


def empty_entries() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "reg_end" else ("object" if c.endswith("codes") else "string"))
                         for c in COLUMNS})


# ------------------------------------------------------------------------------------ values
def split_codes(values: pd.Series) -> pd.Series:
    """Cells of codes ("K1/K2", "PR1, PR2") -> tuples of upper-case codes."""
    sep = layout()["code_separators"]
    text = values.astype("string").fillna("").str.upper().str.strip()
    parts = text.str.split(sep, regex=True)
    return parts.map(lambda p: tuple(c for c in p if c)).astype(object)


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Cells -> dates (NaT for blank) and a mask of cells that are not dates. Accepted: Excel date
    cells, dd/mm/yyyy (one-digit day or month too), yyyy-mm-dd, either with a time after a space,
    and an Excel day number from a cell not formatted as a date."""
    is_date = values.map(lambda v: isinstance(v, (dt.date, dt.datetime))).astype(bool)
    is_number = values.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool)).astype(bool)
    text = values.map(cell_text).astype("string").str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    day = text.str.split(" ", n=1).str[0]
    iso = (is_date | day.str.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}")).fillna(False).astype(bool)
    dmy = day.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}").fillna(False).astype(bool)
    serial = is_number & text.str.fullmatch(r"\d{1,6}(\.\d+)?").fillna(False).astype(bool)
    out[iso] = pd.to_datetime(day[iso], format="%Y-%m-%d", errors="coerce")
    out[dmy] = pd.to_datetime(day[dmy], format="%d/%m/%Y", errors="coerce")
    if serial.any():
        out[serial] = EXCEL_EPOCH + pd.to_timedelta(pd.to_numeric(text[serial]).astype(float).round(), unit="D")
    bad = out.isna() & text.fillna("").ne("")
    return out, bad


def _la_key(names: pd.Series) -> pd.Series:
    """LA names normalised for matching (specs/common/ofsted.yaml `la_names`)."""
    spec = layout()["la_names"]
    s = (names.astype("string").str.lower().str.replace("&", " and ", regex=False)
         .str.replace(r"[^a-z0-9]+", " ", regex=True).str.replace(r"\bsaint\b", "st", regex=True).str.strip())
    prefixes = "|".join(sorted(spec["drop_prefixes"], key=len, reverse=True))
    suffixes = "|".join(sorted(spec["drop_suffixes"], key=len, reverse=True))
    for _ in range(2):  # "Bristol City Council, City of" and the like
        s = s.str.replace(rf"^(?:{prefixes})\s+(?=\S)", "", regex=True).str.replace(rf"(?<=\S)\s+(?:{suffixes})$", "", regex=True)
    return s.str.strip()


@lru_cache(maxsize=None)
def la_names() -> dict[str, str]:
    """Normalised LA name -> DfE LA number: the 153 LAs of population.yaml and the aliases."""
    las = population_file()["local_authorities"]
    by_name = {str(v["name"]): str(k) for k, v in las.items()}
    names = pd.Series(list(by_name), dtype="string")
    out = dict(zip(_la_key(names), by_name.values()))
    aliases = layout()["la_names"]["aliases"]
    alias_keys = _la_key(pd.Series(list(aliases), dtype="string"))
    out.update({k: by_name[str(v)] for k, v in zip(alias_keys, aliases.values())})
    return out


def la_numbers(cells: pd.Series) -> pd.Series:
    """An LA cell -> DfE LA number: a three-digit number as given, an ONS code through the ONS
    lookup, a name by normalised name; NA when none applies."""
    text = cells.astype("string").str.strip().str.upper()
    number = text.where(text.str.fullmatch(r"\d{3}").fillna(False).astype(bool))
    ons = text.map(ons_to_number()).astype("string")
    named = _la_key(cells).map(la_names()).astype("string")
    return number.fillna(ons).fillna(named).astype("string")


def _entries(raw: pd.DataFrame, sources: list[str], la_cells: pd.Series | None = None,
             where: str = "", date_header: str = FIELD_NAMES["reg_end"]) -> pd.DataFrame:
    """Raw cells (columns TEXT_FIELDS + reg_end, object) -> lookup entries; rows with no URN are
    dropped (a list's footer). A cell that is not a date raises a LoadError naming `where`, the
    column's header and each bad cell's file:sheet:row."""
    urn = raw["urn"].map(cell_text).astype("string").str.strip().str.upper()
    keep = urn.fillna("").ne("").to_numpy(dtype=bool)
    raw, urn = raw.loc[keep], urn.loc[keep]
    src = pd.Series(sources, dtype="string").loc[keep]
    reg_end, bad = parse_dates(raw["reg_end"])
    if bad.any():
        cells = [f"{s}: {cell_text(v)!r}" for s, v in zip(src[bad.to_numpy()], raw.loc[bad.to_numpy(), "reg_end"])]
        more = f" (and {len(cells) - MAX_BAD_CELLS} more)" if len(cells) > MAX_BAD_CELLS else ""
        raise LoadError(f"{where}column {date_header!r}: not a date (dd/mm/yyyy, yyyy-mm-dd or an "
                        f"Excel date) at " + "; ".join(cells[:MAX_BAD_CELLS]) + more)
    text = {f: raw[f].map(cell_text).astype("string").str.strip() for f in ("la_name", "postcode")}
    la_name = text["la_name"].mask(text["la_name"] == "")
    la_src = la_name if la_cells is None else la_cells.loc[keep].map(cell_text).astype("string").str.strip()
    out = pd.DataFrame({
        "urn": urn.to_numpy(),
        "place_codes": split_codes(raw["place_codes"].map(cell_text)).to_numpy(),
        "provider_codes": split_codes(raw["provider_codes"].map(cell_text)).to_numpy(),
        "reg_end": reg_end.dt.normalize().to_numpy(),
        "postcode": normalise(text["postcode"]).to_numpy(),
        "la_name": la_name.to_numpy(),
        "la": la_numbers(la_src.mask(la_src == "")).to_numpy(),
        "source": src.to_numpy(),
    })
    return out.astype({"urn": "string", "postcode": "string", "la_name": "string", "la": "string", "source": "string"})


# ------------------------------------------------------------------------------------ reading
@dataclass
class _Part:
    """One recognised sheet: its role, the column of each lookup field, its data rows."""

    sheet: Sheet
    role: str  # providers | supported | address
    columns: dict[str, int]
    header_row: int  # 0-based

    @property
    def where(self) -> str:
        return f"{self.sheet.path} [{self.sheet.name}]: " if self.sheet.name else f"{self.sheet.path}: "

    def source(self, i: int) -> str:
        """file:sheet:row (1-based row of the sheet or file) of the i-th data row."""
        line = self.header_row + 2 + i
        return f"{self.sheet.path.name}:{self.sheet.name}:{line}" if self.sheet.name else f"{self.sheet.path.name}:{line}"

    def cells(self, fld: str) -> list[Any]:
        col = self.columns.get(fld)
        rows = self.sheet.rows[self.header_row + 1:]
        return [(r[col] if col is not None and col < len(r) else None) for r in rows]


def _find_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    """The header row (first of the first rows with a URN column) and the field of each column."""
    known = _header_fields()
    for i, row in enumerate(sheet.rows[: int(layout()["header_search_rows"])]):
        keys = [header_key(c) for c in row]
        if any(known.get(k) == "urn" for k in keys):
            columns: dict[str, int] = {}
            for j, k in enumerate(keys):
                if k in known and known[k] not in columns:
                    columns[known[k]] = j
            return i, columns
    return None


def _classify(sheet: Sheet) -> _Part | None:
    found = _find_header(sheet)
    if found is None:
        return None
    row, columns = found
    spec = layout()
    name = header_key(sheet.name or "")
    headers = {header_key(c) for c in sheet.rows[row]}
    sa = spec["supported_accommodation"]
    if name in {header_key(n) for n in spec["address_sheets"]}:
        return _Part(sheet, "address", columns, row)
    if any(header_key(n) in name for n in sa["sheet_names"]) or headers & {header_key(h) for h in sa["headers"]}:
        return _Part(sheet, "supported", columns, row)
    if "place_codes" in columns or "provider_codes" in columns:
        return _Part(sheet, "providers", columns, row)
    return None  # a URN column but no codes: contents, inspection outcomes... not a providers sheet


def _missing(part: _Part, has_address: bool) -> list[str]:
    spec = layout()
    need = list(spec["required"])
    if part.role == "address":
        need = ["urn", "postcode"]
    if part.role == "supported":
        need = [f for f in need if f not in spec["supported_accommodation"]["defaults"] and f != "provider_codes"]
    if has_address and part.role != "address":
        need = [f for f in need if f != "postcode"]
    return [f for f in need if f not in part.columns]


def _missing_error(part: _Part, missing: list[str]) -> LoadError:
    names = layout()["columns"]
    wanted = "; ".join(f"{FIELD_NAMES[f]} (headers recognised: {', '.join(repr(n) for n in names[f])})" for f in missing)
    return LoadError(f"{part.where}no column for {wanted}; the header row is row {part.header_row + 1}.")


def _part_frame(part: _Part) -> pd.DataFrame:
    """The sheet's entries; the supported accommodation sheet's defaults fill absent columns."""
    defaults = layout()["supported_accommodation"]["defaults"] if part.role == "supported" else {}
    cells = {f: part.cells(f) for f in (*TEXT_FIELDS, "reg_end")}
    raw = pd.DataFrame(cells, dtype=object)
    for f, value in defaults.items():
        if f not in part.columns:
            raw[f] = "/".join(value) if isinstance(value, list) else str(value)
    header = cell_text(part.sheet.rows[part.header_row][part.columns["reg_end"]]) if "reg_end" in part.columns else ""
    return _entries(raw, [part.source(i) for i in range(len(raw))], where=part.where,
                    date_header=header or FIELD_NAMES["reg_end"])


def _read_file(path: Path) -> pd.DataFrame:
    sheets = read_sheets(path)
    parts = [p for p in (_classify(s) for s in sheets) if p is not None]
    listing = [p for p in parts if p.role != "address"]
    if not listing:
        names = ", ".join(repr(s.name) for s in sheets if s.name)
        raise LoadError(f"{path}: no sheet of Ofsted providers (a header row with URN and placement code "
                        f"columns){' in the sheets ' + names if names else ''}: is this an Ofsted children's "
                        "homes or social care providers list?")
    address = [p for p in parts if p.role == "address"]
    for p in parts:
        missing = _missing(p, bool(address))
        if missing:
            raise _missing_error(p, missing)
    frames = []
    for p in listing:
        df = _part_frame(p)
        if "postcode" not in p.columns and address:  # the children's homes list split over two sheets
            pcs = pd.concat([_part_frame_address(a) for a in address]).drop_duplicates("urn")
            df = df.drop(columns="postcode").merge(pcs, on="urn", how="left")[COLUMNS]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _part_frame_address(part: _Part) -> pd.DataFrame:
    urn = pd.Series([cell_text(v) for v in part.cells("urn")], dtype="string").str.strip().str.upper()
    pc = normalise(pd.Series([cell_text(v) for v in part.cells("postcode")], dtype="string").str.strip())
    return pd.DataFrame({"urn": urn, "postcode": pc}).loc[urn.fillna("").ne("").to_numpy()]


def read_ofsted(paths: list[Path]) -> OfstedLookup:
    """Read Ofsted's provider lists (XLSX or CSV, one or several files) into one lookup."""
    frames = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise LoadError(f"{p}: no such file (--ofsted takes Ofsted's provider lists, XLSX or CSV).")
        frames.append(_read_file(p))
    entries = pd.concat(frames, ignore_index=True) if frames else empty_entries()
    return OfstedLookup(entries, files=len(frames))
