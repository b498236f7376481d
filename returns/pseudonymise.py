"""Pseudonymised child-level extract: keyed HMAC tokens, key files, and the identifier scan.

* Child IDs become HMAC-SHA256 tokens under the LA's own secret key: the same ID gives the same
  token in every year and both returns (linkage), a different key gives unrelated tokens, and
  without the key a token cannot be reversed by trying every ID (a plain or salted hash can: a
  7-digit ID space falls in seconds). The ID is trimmed and upper-cased first, so "ab12" in the CIN
  census and "AB12" in the 903 link.
* Dates of birth (and of death, and expected birth) become the first of their month; postcodes
  become their sector ("AB1 2CD" -> "AB1 2"; anything not a valid postcode becomes blank); UPNs
  and every free-text field (type `string` in tables.yaml: URNs, social worker IDs, software names)
  are removed. Only typed codes, dates, numbers and flags remain.
* The key never appears in outputs, messages or logs: errors name the key *file*, never its
  content, and every output file is scanned for the key before it is released.

`scan_outputs` is the last gate of `csc-returns aggregate`: it reads back every file written and
refuses (DisclosureError) if any child ID, UPN, full postcode, date of birth or the key is found.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from csc_returns.returns.disclosure import DisclosureError
from csc_returns.returns.errors import UsageError

KEY_PREFIX = "csc-returns-key-v1:"
KEY_BYTES = 32
TOKEN_CHARS = 32  # 128 bits of the HMAC, hex
_DOMAIN = b"csc-returns/child-id/v1\x00"
TOKEN_COLUMN = "child_token"
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9])[A-Z]{2}$")

KEY_HELP = (
    "The pseudonymised extract needs the local authority's secret key. Create one once with\n"
    "    csc-returns keygen PATH/TO/csc-returns.key\n"
    "keep it outside the output folder on a secure drive, back it up, and give the same file with --key-file every "
    "year: the same key gives the same tokens, which is what links children across years and returns. Anyone who has "
    "the key and a child's ID can find that child's token, so treat the key like a password."
)


# --------------------------------------------------------------------------- keys
def keygen(path: Path) -> Path:
    """Write a new random key to `path` (readable by its owner only). Refuses to overwrite."""
    path = Path(path)
    if path.exists():
        raise UsageError(f"{path} already exists; a key is never overwritten (tokens made with it would no longer "
                         "link). Choose another file name, or delete the old key deliberately first.")
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = secrets.token_bytes(KEY_BYTES)
    text = ("# csc-returns pseudonymisation key (HMAC-SHA256). Secret: do not share, do not put in the output folder.\n"
            "# Back it up and use the same key every year so tokens link across years and returns.\n"
            f"{KEY_PREFIX}{base64.urlsafe_b64encode(raw).decode('ascii')}\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)
    return path


def load_key(path: Path | None) -> bytes:
    """The key bytes from a key file; any problem is refused with how to make a key (never its content)."""
    if path is None:
        raise UsageError("no key given (--key-file). " + KEY_HELP)
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"key file {path} not found. " + KEY_HELP)
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        raise UsageError(f"key file {path} cannot be read as a csc-returns key. " + KEY_HELP) from None
    body = [ln.strip() for ln in lines if ln.strip().startswith(KEY_PREFIX)]
    if len(body) != 1:
        raise UsageError(f"key file {path} is not a csc-returns key file. " + KEY_HELP)
    try:
        raw = base64.urlsafe_b64decode(body[0][len(KEY_PREFIX):].encode("ascii"))
    except ValueError:
        raise UsageError(f"key file {path} is damaged (the key is not valid base64). " + KEY_HELP) from None
    if len(raw) < KEY_BYTES:
        raise UsageError(f"key file {path} holds too short a key (under {KEY_BYTES} bytes). " + KEY_HELP)
    return raw


def key_id(key: bytes) -> str:
    """A short fingerprint that tells two keys apart without revealing either."""
    return hmac.new(key, b"csc-returns/key-id/v1", hashlib.sha256).hexdigest()[:12]


def key_forms(key: bytes) -> list[str]:
    """Every text form in which the key could leak (for the output scan)."""
    forms = {key.hex(), key.hex().upper(), base64.b64encode(key).decode(), base64.urlsafe_b64encode(key).decode()}
    forms |= {f.rstrip("=") for f in forms}
    return sorted(forms)


# --------------------------------------------------------------------------- transforms
def normalise_id(ids: pd.Series) -> pd.Series:
    s = ids.astype("string").str.strip().str.upper()
    return s.mask(s == "")


def tokens(ids: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 tokens of child IDs (blank IDs stay blank); computed once per distinct ID."""
    norm = normalise_id(ids)
    uniq = norm.dropna().unique()
    table = {u: hmac.new(key, _DOMAIN + str(u).encode("utf-8"), hashlib.sha256).hexdigest()[:TOKEN_CHARS] for u in uniq}
    return norm.map(table).astype("string")


def month_start(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    return (d - pd.to_timedelta(d.dt.day - 1, unit="D")).astype("datetime64[ns]")


def postcode_sector(postcodes: pd.Series) -> pd.Series:
    """'AB1 2CD' -> 'AB1 2'; anything that is not a full UK postcode becomes blank (never passed through)."""
    s = postcodes.astype("string").str.upper().str.replace(r"\s+", "", regex=True)
    parts = s.str.extract(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])[A-Z]{2}$")
    return (parts[0] + " " + parts[1]).astype("string")


def normalise_postcode(postcodes: pd.Series) -> pd.Series:
    return postcodes.astype("string").str.upper().str.replace(r"\s+", "", regex=True)


# --------------------------------------------------------------------------- extract
def pseudonymise_tables(tables: dict[str, pd.DataFrame], spec_tables: dict[str, Any], key: bytes,
                        month_dates: list[str], skip_tables: list[str]) -> dict[str, pd.DataFrame]:
    """Child-level tables with IDs tokenised, birth dates to month, postcodes to sector, the rest dropped."""
    out: dict[str, pd.DataFrame] = {}
    rekey: dict[str, dict[Any, int]] = {}
    # surrogate keys (CIN `_episode`, `_cpp`, ...) are renumbered in token order, so document order is lost
    for name, t in spec_tables.items():
        k = getattr(t, "key", None)
        if k and k != "_child" and name in tables and k in tables[name]:
            df = tables[name]
            order = pd.DataFrame({"tok": tokens(df[t.child_field], key), "k": df[k]}).sort_values(["tok", "k"], na_position="last")
            rekey[k] = {v: i + 1 for i, v in enumerate(order["k"].dropna().unique())}
    for name, df in tables.items():
        t = spec_tables.get(name)
        if t is None or name in skip_tables or getattr(t, "level", "row") == "return":
            continue
        cols: dict[str, pd.Series] = {TOKEN_COLUMN: tokens(df[t.child_field], key)}
        for k, mapping in rekey.items():
            if k in df:
                cols[k] = df[k].map(mapping).astype("Int64")
        for f in t.fields:
            if f.name not in df or f.name == t.child_field or f.type in ("id", "upn", "string"):
                continue
            if f.type == "postcode":
                cols[f"{f.name}_SECTOR"] = postcode_sector(df[f.name])
            elif f.type == "date" and f.name in month_dates:
                cols[f.name] = month_start(df[f.name])
            else:
                cols[f.name] = df[f.name]
        frame = pd.DataFrame(cols)
        frame = frame.sort_values(list(frame.columns), na_position="last", kind="stable").reset_index(drop=True)
        out[name] = frame
    return out


def check_extract(frames: dict[str, pd.DataFrame], spec_tables: dict[str, Any], month_dates: list[str]) -> None:
    """Structural proof the extract holds no identifier: raises DisclosureError otherwise."""
    tok = re.compile(rf"^[0-9a-f]{{{TOKEN_CHARS}}}$")
    for name, f in frames.items():
        t = spec_tables[name]
        types = {x.name: x.type for x in t.fields}
        for c in f.columns:
            if c == TOKEN_COLUMN:
                if not f[c].dropna().astype(str).str.match(tok).all():
                    raise DisclosureError(f"extract {name}: a child token is malformed")
            elif c.endswith("_SECTOR"):
                ok = f[c].dropna().astype(str).str.match(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]$")
                if not ok.all():
                    raise DisclosureError(f"extract {name}.{c}: a value is not a postcode sector")
            elif c.startswith("_"):
                continue
            elif types.get(c) in (None, "id", "upn", "string", "postcode"):
                raise DisclosureError(f"extract {name}: column {c} may not be in a pseudonymised extract")
            if c in month_dates:
                d = pd.to_datetime(f[c]).dropna()
                if (d.dt.day != 1).any():
                    raise DisclosureError(f"extract {name}.{c}: a date of birth is not reduced to its month")


def _to_csv(frame: pd.DataFrame) -> bytes:
    from csc_returns.reports.machine import protect_cell

    f = frame.copy()
    for c in f.columns:
        if pd.api.types.is_datetime64_any_dtype(f[c]):
            f[c] = f[c].dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_string_dtype(f[c]):
            f[c] = f[c].map(protect_cell)
    return f.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def write_extract(folder: Path, loaded: dict[str, Any], previous: dict[str, Any], key: bytes) -> tuple[list[str], dict[str, Any]]:
    """Write extract/<return>/<table>.csv for each return given; returns (files, report section)."""
    from csc_returns.reports.machine import atomic_write
    from csc_returns.returns.aggregates import load_aggregates

    files: list[str] = []
    rows: dict[str, int] = {}
    for r, ld in loaded.items():
        spec = load_aggregates(r).extract
        frames = pseudonymise_tables({n: t for n, t in ld.tables.items() if n not in ld.absent}, ld.spec.tables, key,
                                     spec.month_dates, spec.skip_tables)
        check_extract(frames, ld.spec.tables, spec.month_dates)
        for name, f in frames.items():
            rel = f"extract/{r}/{name}.csv"
            atomic_write(folder / rel, _to_csv(f))
            files.append(rel)
            rows[rel] = int(len(f))
    report = {
        "what": "PSEUDONYMISED child-level tables: not anonymous, handle as personal data under the LA's data-sharing rules",
        "key_id": key_id(key),
        "token": f"{TOKEN_COLUMN} = first {TOKEN_CHARS} hex characters of HMAC-SHA256(LA key, trimmed upper-case child ID)",
        "dates_of_birth": "reduced to the first day of the month",
        "postcodes": "reduced to the postcode sector (outward code and first digit of the inward code)",
        "removed": "child IDs, UPNs and former UPNs, every free-text field (tables.yaml type string), file positions",
        "files": rows,
    }
    return files, report


# --------------------------------------------------------------------------- identifier scan
@dataclass
class Identifiers:
    ids: set[str] = field(default_factory=set)
    upns: set[str] = field(default_factory=set)
    postcodes: set[str] = field(default_factory=set)  # normalised, no spaces
    dobs: set[str] = field(default_factory=set)  # text forms of dates of birth

    def __bool__(self) -> bool:
        return bool(self.ids or self.upns or self.postcodes or self.dobs)


def identifiers_of(tables: dict[str, pd.DataFrame], spec_tables: dict[str, Any], birth_dates: list[str],
                   into: Identifiers | None = None) -> Identifiers:
    found = into or Identifiers()
    for name, df in tables.items():
        t = spec_tables.get(name)
        if t is None:
            continue
        for f in t.fields:
            if f.name not in df:
                continue
            col = df[f.name]
            if f.type == "id":
                found.ids |= set(col.astype("string").str.strip().dropna()) - {""}
            elif f.type == "upn":
                v = col.astype("string").str.strip().str.upper().dropna()
                found.upns |= {u for u in v if len(u) >= 13}
            elif f.type == "postcode":
                v = normalise_postcode(col).dropna()
                found.postcodes |= {p for p in v if POSTCODE.match(p)}
            elif f.type == "date" and f.name in birth_dates:
                d = pd.to_datetime(col).dropna()
                found.dobs |= set(d.dt.strftime("%Y-%m-%d")) | set(d.dt.strftime("%d/%m/%Y"))
    return found


def collect_identifiers(loaded: dict[str, Any], previous: dict[str, Any]) -> Identifiers:
    from csc_returns.returns.aggregates import load_aggregates

    ids = Identifiers()
    for group in (loaded, previous):
        for r, ld in group.items():
            births = [d for d in load_aggregates(r).extract.month_dates if "Death" not in d and "Expected" not in d]
            identifiers_of(ld.tables, ld.spec.tables, births, ids)
    return ids


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in (_strings(k) + _strings(v))]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_WORD = re.compile(r"[A-Za-z0-9]+")


def scan_text(name: str, text: str, ids: Identifiers, key: bytes | None, dobs: bool = True) -> None:
    """Refuse (DisclosureError, naming the kind of identifier, never its value) if the text holds one."""
    if name.endswith(".csv"):
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    elif name.endswith(".json"):
        cells = _strings(json.loads(text))
    else:
        cells = text.split()
    for c in cells:
        c = c.strip().lstrip("'")
        if not c or _NUMBER.match(c):
            continue
        if c in ids.ids:
            raise DisclosureError(f"{name}: contains a child ID from the input; nothing was written")
        for w in _WORD.findall(c):
            if w in ids.ids and (len(w) >= 7 or not w.isdigit()) and w != c:
                raise DisclosureError(f"{name}: contains a child ID from the input; nothing was written")
    for u in ids.upns:
        if u in text:
            raise DisclosureError(f"{name}: contains a UPN from the input; nothing was written")
    for p in ids.postcodes:
        if p in text or f"{p[:-3]} {p[-3:]}" in text:
            raise DisclosureError(f"{name}: contains a full postcode from the input; nothing was written")
    if dobs:
        for d in ids.dobs:
            if d in text:
                raise DisclosureError(f"{name}: contains a date of birth from the input; nothing was written")
    if key is not None:
        for k in key_forms(key):
            if k in text:
                raise DisclosureError(f"{name}: contains the pseudonymisation key; nothing was written")


def scan_outputs(folder: Path, ids: Identifiers, key: bytes | None) -> None:
    """Read back every file under `folder` and scan it (dates of birth: outside the extract only, where
    the birth-date columns are checked structurally and other dates may coincide with a birthday)."""
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(folder))
        text = p.read_bytes().decode("utf-8-sig")
        scan_text(rel, text, ids, key, dobs=not rel.startswith("extract"))
