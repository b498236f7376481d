"""Recognising extract headers and values: DfE names, synonyms, SSD names, the LA's profile.

Headers. A header is normalised (Unicode NFKC, case-folded, letters and digits only: "LA Child ID",
"la_child_id" and "LAchildID" are all "lachildid") and looked up, exactly, in one index built for
the return and year from: the DfE item names and item numbers (tables.yaml) -> `exact`; the
built-in synonyms (specs/common/synonyms.yaml, seeded from Annex A and the SSD) -> `synonym`; the
profile's `headers` -> `profile` (which wins). No substring or similarity matching, ever: a header
that is not in the index is reported, never guessed.

Values. Every column gets a reader for its DfE item. Codes: the code itself in any case, its label
from the year's code set (specs/*/codesets; "White - British" = "White British" after
normalisation), "CODE - label" forms, and synonyms (built-in, profile). Labels are compared
whole, so "Female" can never match "Male". Booleans: the spec's 1/0 and yes/no words. Dates:
dd/mm/yyyy, yyyy-mm-dd (with or without a time), dd-Mon-yyyy, dd.mm.yyyy, Excel serial numbers
and Excel date cells, plus the profile's formats (tried first); never mm/dd. A value that cannot
be read is reported with what was expected; for a code it is kept as given (so the DfE code-set
rules report it too), for a date, number or yes/no it is left blank.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

import yaml

from csc_returns.returns.extracts_read import cell_text, is_blank
from csc_returns.returns.spec import Field_, Spec, specs_root

# CIN: the item that identifies a record among its siblings, used to link flat tables without IDs
NATURAL_KEYS = {
    "Child": "LAchildID",
    "CINdetails": "CINreferralDate",
    "Assessments": "AssessmentActualStartDate",
    "CINPlanDates": "CINPlanStartDate",
    "Section47": "S47ActualStartDate",
    "ChildProtectionPlans": "CPPstartDate",
    "PreProceedingsandFGDM": "PPStartDate",
}
MONTHS = {m.lower(): i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
MONTHS.update({m.lower(): i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)})
MONTHS["sept"] = 9
EXCEL_EPOCH = dt.date(1899, 12, 30)


def norm(text: Any) -> str:
    """Header/label normal form: NFKC, case-folded, letters and digits only."""
    s = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(ch for ch in s if ch.isalnum())


@lru_cache(maxsize=None)
def synonyms() -> dict[str, Any]:
    path = specs_root() / "common" / "synonyms.yaml"
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# ------------------------------------------------------------------------------------ headers
@dataclass(frozen=True)
class Target:
    """What a column holds: a DfE item (table, field), or a CIN record ID (link = that table)."""

    table: str
    field: str | None = None
    link: str | None = None

    @property
    def name(self) -> str:
        return f"{self.table}.{self.field}" if self.field else f"{self.table} ID"


@dataclass
class Vocabulary:
    """All the header names one return and year recognises, with how each was learnt."""

    spec: Spec
    index: dict[str, list[tuple[Target, str]]] = field(default_factory=dict)
    ignore: set[str] = field(default_factory=set)

    def add(self, header: str, target: Target, how: str) -> None:
        key = norm(header)
        if not key:
            return
        entries = self.index.setdefault(key, [])
        if any(t == target for t, _ in entries):
            return
        entries.append((target, how))

    def lookup(self, header: str) -> list[tuple[Target, str]]:
        """Candidates for a header; profile entries hide all others for the same header."""
        found = self.index.get(norm(header), [])
        prof = [c for c in found if c[1] == "profile"]
        return prof or found

    def distinctive(self) -> dict[str, set[str]]:
        """Per table, the fields whose names no other table of the return has."""
        counts: dict[str, int] = {}
        for t in self.spec.tables.values():
            for f in t.fields:
                counts[f.name] = counts.get(f.name, 0) + 1
        out: dict[str, set[str]] = {}
        for t in self.spec.tables.values():
            out[t.name] = {f.name for f in t.fields if counts[f.name] == 1}
        return out


def resolve_field_name(spec: Spec, name: str) -> list[Target]:
    """"Table.Field", "*.Field" or a bare "Field" -> the active targets it names."""
    if "." in name:
        tname, fname = name.split(".", 1)
        tables = list(spec.tables) if tname == "*" else [tname]
    else:
        tables, fname = list(spec.tables), name
    return [Target(t, fname) for t in tables if t in spec.tables and fname in spec.tables[t].field_names]


def build_vocabulary(spec: Spec, profile: Any = None) -> Vocabulary:
    voc = Vocabulary(spec)
    for t in spec.tables.values():
        for f in t.fields:
            voc.add(f.name, Target(t.name, f.name), "exact")
            if f.item:
                voc.add(f.item, Target(t.name, f.name), "synonym")
    syn = synonyms()
    for key, names in (syn.get("headers", {}).get(spec.return_, {}) or {}).items():
        for target in resolve_field_name(spec, key):
            for n in names:
                voc.add(n, target, "synonym")
    if spec.return_ == "cin":
        for table, names in (syn.get("links") or {}).items():
            if table in spec.tables:
                for n in names:
                    voc.add(n, Target(table, None, link=table), "synonym")
    # the same header for two items of one table is ambiguous: drop both (profiles may restore one)
    for key, entries in list(voc.index.items()):
        by_table: dict[str, list[tuple[Target, str]]] = {}
        for e in entries:
            by_table.setdefault(e[0].table, []).append(e)
        keep = []
        for tab, es in by_table.items():
            exact = [e for e in es if e[1] == "exact"]
            if len(es) == 1 or len(exact) == 1:
                keep.extend(exact or es)
        voc.index[key] = keep
    if profile is not None:
        for header, target in (profile.headers or {}).items():
            if target is None or str(target).lower() in ("ignore", "-"):
                voc.ignore.add(norm(header))
                continue
            found = resolve_field_name(spec, str(target))
            if not found and spec.return_ == "cin" and str(target).endswith(" ID"):
                tab = str(target)[:-3]
                if tab in spec.tables:
                    found = [Target(tab, None, link=tab)]
            voc.index[norm(header)] = [(t, "profile") for t in found] + [
                e for e in voc.index.get(norm(header), []) if e[1] == "profile"]
        for header in profile.ignore_columns or []:
            voc.ignore.add(norm(header))
    return voc


# ------------------------------------------------------------------------------------ values
@dataclass
class Reading:
    """The result of reading one column: normalised text (None = blank) and the unreadable cells."""

    values: list[str | None]
    bad: list[int]  # positions of cells that could not be read
    kept: bool  # True when unreadable values were kept as given (codes), False when blanked


def parse_date(value: Any, formats: Iterable[str] = ()) -> dt.date | None:
    """One cell as a date, or None. Excel date cells, Excel serials, and the supported text forms."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _serial(float(value))
    text = str(value).strip()
    if not text:
        return None
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?", text)
    if m:
        return _ymd(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{4})/(\d{1,2})/(\d{1,2})(?: \d{1,2}:\d{2}(?::\d{2})?)?", text)
    if m:
        return _ymd(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?", text)
    if m:
        return _ymd(int(m[3]), int(m[2]), int(m[1]))
    m = re.fullmatch(r"(\d{1,2})[ \-/]([A-Za-z]{3,9})[ \-/,]+(\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?", text)
    if m and m[2].lower() in MONTHS:
        return _ymd(int(m[3]), MONTHS[m[2].lower()], int(m[1]))
    m = re.fullmatch(r"(\d{5})(?:\.0+)?", text)
    if m:
        return _serial(float(m[1]))
    return None


def _ymd(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _serial(x: float) -> dt.date | None:
    """Excel serial day number (1900 date system) -> date, for plausible dates only (1927-2119)."""
    if not x.is_integer() or not 10000 <= x <= 80000:
        return None
    return EXCEL_EPOCH + dt.timedelta(days=int(x))


class ValueReader:
    """Reads the cells of one column as one DfE item, vectorised over the column's distinct values."""

    def __init__(self, spec: Spec, table: str, f: Field_, profile: Any = None, extra: dict[str, str] | None = None) -> None:
        self.spec = spec
        self.table = table
        self.field = f
        self.formats = list(getattr(profile, "date_formats", None) or [])
        self.text_date = f"{spec.return_}.{table}.{f.name}" in set(synonyms().get("text_dates") or [])
        self.codes: dict[str, str] = {}
        self.lookup: dict[str, str | None] = {}
        if f.type == "code" and f.codeset:
            self.codes = dict(spec.codes(f.codeset))
            self._build_code_lookup(profile, extra or {})
        elif f.type == "bool":
            self._build_bool_lookup(profile, extra or {})
        elif extra:
            self.lookup = {norm(k): v for k, v in extra.items()}

    # ---- lookups
    def _build_code_lookup(self, profile: Any, extra: dict[str, str]) -> None:
        f = self.field
        levels: list[dict[str, str]] = []
        levels.append({norm(c): c for c in self.codes})
        lab: dict[str, str | None] = {}
        for c, label in self.codes.items():
            k = norm(label)
            lab[k] = c if lab.get(k, c) == c else None  # a label shared by two codes is ambiguous
        for k, v in (synonyms().get("values", {}).get(f.codeset) or {}).items():
            if v in self.codes:
                lab.setdefault(norm(k), str(v))
        levels.append({k: v for k, v in lab.items() if v is not None})
        prof = {}
        for key in (f.codeset, f.name, f"{self.table}.{f.name}"):
            for k, v in ((getattr(profile, "values", None) or {}).get(key) or {}).items():
                prof[norm(k)] = None if v is None else str(v)
        for k, v in extra.items():
            prof.setdefault(norm(k), None if v is None else str(v))
        self.lookup = {}
        for level in reversed(levels):
            self.lookup.update(level)
        self.lookup.update(prof)  # the profile wins

    def _build_bool_lookup(self, profile: Any, extra: dict[str, str]) -> None:
        out: dict[str, str | None] = {}
        for target, words in (synonyms().get("booleans") or {}).items():
            for w in words:
                out[norm(w)] = str(target)
        for key in ("bool", self.field.name, f"{self.table}.{self.field.name}"):
            for k, v in ((getattr(profile, "values", None) or {}).get(key) or {}).items():
                out[norm(k)] = None if v is None else _bool_text(v)
        for k, v in extra.items():
            out[norm(k)] = None if v is None else _bool_text(v)
        self.lookup = out

    # ---- reading
    @property
    def expected(self) -> str:
        f = self.field
        if f.type == "date":
            extra = "".join(f", {x}" for x in self.formats)
            return "a date: dd/mm/yyyy, yyyy-mm-dd, dd-Mon-yyyy, an Excel date" + extra
        if f.type == "int":
            return "a whole number"
        if f.type == "bool":
            return "yes/no: 1/0, Yes/No, Y/N or True/False"
        if f.type == "code" and self.codes:
            shown = ", ".join(list(self.codes)[:15]) + (", ..." if len(self.codes) > 15 else "")
            return f"a code of code set {f.codeset} ({shown}) or its label"
        return "text"

    def one(self, value: Any) -> tuple[str | None, bool]:
        """(normalised text or None, readable?)"""
        if is_blank(value):
            return None, True
        t = self.field.type
        if t == "date":
            d = parse_date(value, self.formats)
            return (d.strftime(self.spec.date_format), True) if d else (None, False)
        if t == "int":
            if isinstance(value, bool):
                return None, False
            text = cell_text(value).strip()
            m = re.fullmatch(r"[+-]?\d+(?:\.0*)?", text)
            return (str(int(float(text))), True) if m else (None, False)
        if t == "bool":
            if isinstance(value, bool):
                return ("1" if value else "0"), True
            key = norm(cell_text(value))
            got = self.lookup.get(key)
            return (got, True) if got is not None else (None, False)
        if t == "code":
            return self._code(cell_text(value).strip())
        text = cell_text(value).strip()
        if self.lookup:
            hit = self.lookup.get(norm(text))
            if hit is not None:
                return hit, True
        if self.text_date and not re.search(r"[zZ]", text):
            d = parse_date(value, self.formats)
            if d:
                return d.strftime("%d/%m/%Y"), True
        return text, True

    def _code(self, text: str) -> tuple[str | None, bool]:
        if text in self.codes:
            return text, True
        got = self.lookup.get(norm(text))
        if got is not None:
            return got, True
        # "CODE - label", "CODE: label", "label (CODE)"
        m = re.fullmatch(r"(\S{1,8})\s*[-\u2013\u2014:]\s+.+", text) or re.fullmatch(r".+\((\S{1,8})\)", text)
        if m and norm(m[1]) in {norm(c) for c in self.codes}:
            return self.lookup[norm(m[1])], True
        if re.fullmatch(r"0+\d+(?:\.0+)?", text) or re.fullmatch(r"\d+\.0+", text):
            n = str(int(float(text)))
            if n in self.codes:
                return n, True
        return text, False

    def recognises(self, text: str) -> bool:
        """Whether one piece of text is a readable, non-blank value of this item."""
        got, ok = self.one(text)
        return ok and got is not None

    def read(self, cells: list[Any]) -> Reading:
        cache: dict[Any, tuple[str | None, bool]] = {}
        values: list[str | None] = []
        bad: list[int] = []
        for i, v in enumerate(cells):
            key = (type(v).__name__, v) if not isinstance(v, str) else v
            try:
                got = cache[key]
            except KeyError:
                got = cache[key] = self.one(v)
            except TypeError:  # unhashable
                got = self.one(v)
            values.append(got[0])
            if not got[1]:
                bad.append(i)
        return Reading(values, bad, kept=self.field.type == "code")


def _bool_text(v: Any) -> str | None:
    if isinstance(v, bool):
        return "1" if v else "0"
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "y"):
        return "1"
    if s in ("0", "false", "no", "n"):
        return "0"
    return None


def split_multi(value: Any, recognises: Any = None) -> list[Any]:
    """Several values in one cell: "AUT, LD", "2B; 4B", '["1A","2B"]' -> items (a date cell stays whole).

    With `recognises` (text -> bool), pieces are re-joined where the joined text is one known value,
    so a label with a comma in it ("Personal care (eating, washing)") stays whole."""
    if is_blank(value):
        return []
    if not isinstance(value, str):
        return [value]
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    elif text.startswith("{") and text.endswith("}"):  # SSD option 2: {"1A": "Yes", "2B": "No"}
        items = re.findall(r'"([^"]+)"\s*:\s*"?([^",}]*)"?', text)
        return [k for k, v in items if _bool_text(v) != "0" and v.strip().lower() not in ("", "null")]
    if recognises is not None and recognises(text):
        return [text]
    seps = [re.escape(s) for s in (synonyms().get("multi_value_separators") or [","]) if s]
    tokens = re.split("(" + "|".join(seps) + ")", text)
    parts, glue = tokens[0::2], tokens[1::2]
    out: list[str] = []
    i = 0
    while i < len(parts):
        take = i
        if recognises is not None:
            for j in range(len(parts) - 1, i, -1):
                joined = parts[i] + "".join(glue[k] + parts[k + 1] for k in range(i, j))
                if recognises(_clean(joined)):
                    take = j
                    break
        piece = parts[i] + "".join(glue[k] + parts[k + 1] for k in range(i, take))
        if _clean(piece):
            out.append(_clean(piece))
        i = take + 1
    return out


def _clean(s: str) -> str:
    return s.strip().strip('"').strip("'").strip()
