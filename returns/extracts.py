"""Build a DfE return from case-system extracts: CSV/XLSX files, or Standard Safeguarding Dataset tables.

    loaded, report = load_extracts(paths, "cin", 2026, profile)      # -> the same Loaded as load()

Steps (each sheet of each file, read-only):
  1. find the header row: the row among the first 30 with the most recognised names (title rows
     above it are skipped; a header cell left blank by a vertical merge takes the name above it);
  2. match each header (extracts_match: exact DfE name, item number, synonym, SSD name, profile);
  3. decide which table(s) the sheet holds: the profile's `sheets`, else every table one of whose
     own (distinctive) items is a column; a CIN parent whose only column is its key item
     (CINreferralDate on an assessments sheet) links rows, it does not make records;
  4. read every cell as its DfE item (extracts_match.ValueReader); unreadable cells are findings;
  5. value tables (Disabilities, AssessmentFactors, CP Reviews) may be several values in one cell;
     parent records repeated on every row of a denormalised sheet collapse to one;
  6. CIN: nest the flat tables (extracts_nest); SSD tables are mapped first (extracts_ssd);
  7. coerce to canonical tables exactly as the DfE loaders do (coerce.coerce_table).
The result then runs through the same validation as a DfE file (run.validate_tables).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from csc_returns.returns import __version__
from csc_returns.returns.coerce import coerce_table, empty_table
from csc_returns.returns.errors import LoadError, UsageError
from csc_returns.returns.extracts_match import (
    NATURAL_KEYS, Target, ValueReader, Vocabulary, build_vocabulary, norm, split_multi,
)
from csc_returns.returns.extracts_nest import ancestors, dedupe_parent, nest_cin
from csc_returns.returns.extracts_profile import Profile
from csc_returns.returns.extracts_read import Sheet, cell_text, column_letter, expand, is_blank, read_sheets
from csc_returns.returns.load import Loaded, sha256
from csc_returns.returns.result import InputFile
from csc_returns.returns.spec import SUPPORTED_YEARS, Spec, SpecError, resolve

HEADER_SEARCH_ROWS = 30


@dataclass
class Match:
    """How one column of one sheet was read."""

    sheet: str
    column: str  # spreadsheet letter
    header: str
    target: str  # "Child.Sex", "CINdetails ID", "" when unmatched
    how: str  # exact | synonym | profile | ssd | derived | ignored | unmatched | unused


@dataclass
class ExtractReport:
    matches: list[Match] = field(default_factory=list)
    sheets: list[tuple[str, list[str]]] = field(default_factory=list)  # sheet label -> tables
    unrecognised: dict[str, Counter] = field(default_factory=dict)  # "Table.Field" -> values not read
    ssd: bool = False

    def summary(self) -> dict[str, int]:
        return dict(Counter(m.how for m in self.matches))


# =============================================================================== entry points
def is_extract_input(paths: list[Path], return_: str | None = None, profile: Any = None) -> bool:
    """Whether `build` should treat these inputs as case-system extracts rather than a DfE return."""
    paths = [Path(p) for p in paths]
    if any(p.is_file() and p.suffix.lower() == ".xml" for p in paths):
        return False
    if profile is not None or return_ == "cin":
        return True
    try:
        files, _ = expand(paths)
    except LoadError:
        return False
    if any(f.suffix.lower() not in (".csv",) for f in files):
        return True
    # CSVs: a DfE SSDA903 return only when every file's header is exactly a DfE table's
    from csc_returns.returns.load_903 import read_csv as read_903_csv

    probe = resolve("ssda903", max(SUPPORTED_YEARS))
    names = {t.name: set(t.field_names) for t in probe.tables.values()}
    for f in files:
        try:
            header = {h.strip().upper() for h in read_903_csv(f).header if h.strip()}
        except Exception:
            return True
        if not any(header and header <= fields and len(header) >= max(2, len(fields) // 2) for fields in names.values()):
            return True
    return return_ is not None


def load_extracts(paths: list[Path], return_: str | None, year: int | None,
                  profile: Profile | None = None, la: str | None = None) -> tuple[Loaded, ExtractReport]:
    """Read extracts into canonical tables (findings for everything not recognised)."""
    paths = [Path(p) for p in paths]
    return_ = return_ or (profile.return_ if profile else None)
    year = year or (profile.year if profile else None)
    if return_ not in ("cin", "ssda903"):
        raise UsageError("building a return from extracts needs --return cin or --return ssda903 "
                         "(or `return:` in the profile).")
    if year is None:
        raise UsageError("building a return from extracts needs the collection year: --year 2026 for 2025-26.")
    if year not in SUPPORTED_YEARS:
        raise UsageError(f"collection year {year} is not supported; supported: "
                         + ", ".join(f"{y} ({y - 1}-{str(y)[2:]})" for y in SUPPORTED_YEARS))
    try:
        spec = resolve(return_, year)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    files, skipped = expand(paths)
    if not files:
        raise LoadError("no extract files among the inputs (CSV or XLSX): " + ", ".join(str(p) for p in paths))
    inputs = [InputFile(str(f), sha256(f), None, 0) for f in files]
    report = ExtractReport()
    findings: list[dict[str, Any]] = []
    notices: list[str] = []
    if skipped:
        notices.append("not CSV or XLSX, not read: " + ", ".join(p.name for p in skipped))
    voc = build_vocabulary(spec, profile)
    sheets: list[Sheet] = []
    for f in files:
        sheets.extend(read_sheets(f))

    from csc_returns.returns import extracts_ssd

    ssd_sheets, flat_sheets = extracts_ssd.split_sheets(sheets)
    flats: dict[str, list[pd.DataFrame]] = {}
    header_rows: list[dict[str, Any]] = []
    rows_by_file: Counter = Counter()
    for sheet in flat_sheets:
        res = _process_sheet(sheet, spec, voc, profile, report)
        findings.extend(res.findings)
        for t, df in res.tables.items():
            if t == "Header" and spec.return_ == "cin":
                header_rows.extend(df.to_dict("records"))
                continue
            flats.setdefault(t, []).append(df)
            rows_by_file[str(sheet.path)] += len(df)
        report.sheets.append((sheet.label, sorted(res.tables)))
    if ssd_sheets:
        report.ssd = True
        ssd_flats, ssd_findings = extracts_ssd.to_flats(ssd_sheets, spec, profile, report)
        findings.extend(ssd_findings)
        for t, df in ssd_flats.items():
            flats.setdefault(t, []).append(df)
    merged = {t: pd.concat(dfs, ignore_index=True) if len(dfs) > 1 else dfs[0].reset_index(drop=True)
              for t, dfs in flats.items() if dfs}
    for inp in inputs:
        inp.rows = rows_by_file.get(inp.path, 0)

    absent: set[str] = set()
    if spec.return_ == "cin":
        raw, nf = nest_cin(spec, merged)
        findings.extend(nf)
        raw["Header"] = _cin_header(spec, header_rows, profile, la)
        for name in spec.tables:
            if name not in merged and name not in ("Header", "PreProceedingsandFGDM") and not (name == "Child" and len(raw["Child"])):
                findings.append({"code": "LOAD-TABLE-MISSING", "severity": "warning", "table": name,
                                 "detail": f"no sheet or file was recognised as {name}; the return has no {name} records"})
    else:
        raw = {}
        for name, t in spec.tables.items():
            df = merged.get(name)
            if df is None:
                absent.add(name)
                findings.append({"code": "LOAD-TABLE-MISSING", "severity": "error" if name in ("Header", "Episodes") else "warning",
                                 "table": name, "detail": f"no sheet or file was recognised as {name}; rules on {name} are skipped"})
                continue
            cols = ["_source"] + t.field_names
            out = pd.DataFrame({c: (df[c] if c in df else pd.Series(pd.NA, index=df.index)) for c in cols})
            raw[name] = out.astype("string")
    _apply_constants(spec, raw, profile, findings)

    tables: dict[str, pd.DataFrame] = {}
    keys = [t.key for t in spec.tables.values() if t.key]
    for name, t in spec.tables.items():
        if name in raw:
            tables[name], cf = coerce_table(raw[name], t, spec)
            findings.extend(cf)
        else:
            df = empty_table(t)
            df[t.child_field] = pd.Series(dtype="string")
            if spec.return_ == "cin":
                for k in keys:
                    df[k] = pd.Series(dtype="Int64")
            tables[name] = df
    _fill_rows(tables, findings)
    if spec.return_ == "ssda903":
        for inp in inputs:
            used = sorted({t for lbl, ts in report.sheets if lbl.split("[")[0] == Path(inp.path).name for t in ts})
            inp.table = ", ".join(used) or None
    la_out = la or (str(profile.constants["LEA"]) if profile and profile.constants.get("LEA") else None)
    if spec.return_ == "cin" and len(tables["Header"]) and pd.notna(tables["Header"]["LEA"].iloc[0]):
        la_out = str(tables["Header"]["LEA"].iloc[0])
    loaded = Loaded(spec.return_, year, spec, tables, findings, inputs, absent, notices, la_out)
    return loaded, report


# =============================================================================== one sheet
@dataclass
class _SheetResult:
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)


def find_header(rows: list[list[Any]], voc: Vocabulary, minimum: int = 2) -> int | None:
    best, score = None, 0
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        s = sum(1 for v in row if isinstance(v, str) and v.strip() and (voc.lookup(v) or norm(v) in voc.ignore))
        if s > score:
            best, score = i, s
    return best if score >= minimum else None


def _process_sheet(sheet: Sheet, spec: Spec, voc: Vocabulary, profile: Profile | None, report: ExtractReport) -> _SheetResult:
    res = _SheetResult()
    forced = profile.sheet_tables(sheet.path.name, sheet.name) if profile else None
    if forced:
        unknown = [t for t in forced if t not in spec.tables]
        if unknown:
            raise UsageError(f"profile: sheet {sheet.label} is given table(s) {', '.join(unknown)}, which the "
                             f"{spec.return_} {spec.year} return does not have ({', '.join(spec.tables)}).")
    rows = sheet.rows
    if not any(any(not is_blank(v) for v in r) for r in rows):
        return res
    h = find_header(rows, voc, 1 if forced else 2)
    if h is None:
        res.findings.append({"code": "LOAD-FILE", "severity": "warning", "source": sheet.source(1),
                             "detail": f"{sheet.label}: no header row with recognised column names among the first "
                                       f"{HEADER_SEARCH_ROWS} rows; the sheet was not used"})
        return res
    header = [cell_text(v).strip() for v in rows[h]]
    body_idx = [i for i in range(h + 1, len(rows)) if any(not is_blank(v) for v in rows[i])]
    width = max([len(header)] + [len(rows[i]) for i in body_idx]) if body_idx else len(header)
    header += [""] * (width - len(header))
    above = [cell_text(v).strip() for v in rows[h - 1]] if h > 0 else []
    columns: list[list[Any]] = [[rows[i][j] if j < len(rows[i]) else None for i in body_idx] for j in range(width)]
    lines = [i + 1 for i in body_idx]
    sources = [sheet.source(n) for n in lines]
    cands: list[list[tuple[Target, str]]] = []
    for j in range(width):
        name = header[j]
        if not name and j < len(above) and above[j] and voc.lookup(above[j]):
            header[j] = name = above[j]  # a header cell merged with the one above it
        cands.append([] if not name or norm(name) in voc.ignore else voc.lookup(name))

    # which tables does the sheet hold?
    dist = voc.distinctive()
    hits: Counter = Counter()
    for cs in cands:
        for t, _ in cs:
            if t.field and t.field in dist.get(t.table, ()):
                hits[t.table] += 1
    if forced:
        tables = list(forced)
    elif hits:
        tables = list(hits)
    else:
        cover: Counter = Counter(t.table for cs in cands for t, _ in cs if t.field)
        best = cover.most_common(2)
        tables = [best[0][0]] if best and (len(best) == 1 or best[0][1] > best[1][1]) else []
    if spec.return_ == "cin" and "Header" in tables and len(tables) > 1:
        pass  # an LA column beside the child's items: the header takes it, the rest as usual
    record = _record_tables(spec, tables, cands, forced)
    if not record:
        res.findings.append({"code": "LOAD-FILE", "severity": "warning", "source": sheet.source(h + 1),
                             "detail": f"{sheet.label}: the columns match no {spec.return_} table for {spec.year}; "
                                       "the sheet was not used"})
        for j in range(width):
            if header[j]:
                report.matches.append(Match(sheet.label, column_letter(j), header[j], "", "unmatched"))
        return res
    row_table = _row_table(spec, record)

    # assign columns
    used: dict[int, list[str]] = {}
    assign: dict[str, dict[str, int]] = {t: {} for t in record}
    child_col: int | None = None
    for j, cs in enumerate(cands):
        for t, how in cs:
            if t.link is None and ((spec.return_ == "cin" and t.table == "Child" and t.field == "LAchildID")
                                   or (spec.return_ == "ssda903" and t.field == "CHILD")):
                if child_col is None:
                    child_col = j
    for T in record:
        chain = ancestors(spec, T) if spec.return_ == "cin" else []
        for j, cs in enumerate(cands):
            for t, how in cs:
                key = None
                if t.link is not None:
                    if t.link == T or t.link in chain:
                        key = "@" + t.link
                elif t.table == T and t.field:
                    if spec.return_ == "cin" and t.field in ("DateOfInitialCPC",):
                        deeper = [o for o in record if o != T and t.field in spec.tables[o].field_names
                                  and len(ancestors(spec, o)) > len(chain)]
                        if deeper:
                            continue
                    key = t.field
                elif spec.return_ == "cin" and t.table in chain and t.table != "Child" and NATURAL_KEYS.get(t.table) == t.field:
                    key = "^" + t.table
                if key is None:
                    continue
                if key in assign[T]:
                    if assign[T][key] != j:
                        res.findings.append({"code": "LOAD-DUPLICATE-HEADER", "severity": "error", "table": T,
                                             "fields": key.lstrip("@^"), "source": sheet.source(h + 1),
                                             "detail": f"{sheet.label}: columns {column_letter(assign[T][key])} and "
                                                       f"{column_letter(j)} both give {T}.{key.lstrip('@^')}; "
                                                       f"column {column_letter(j)} was not read"})
                    continue
                assign[T][key] = j
                used.setdefault(j, []).append((f"{T}.{key}" if key[0] not in "@^" else
                                               (f"{key[1:]} ID" if key[0] == "@" else f"{key[1:]} key {NATURAL_KEYS.get(key[1:])}"), how))

    # the match report, and columns nobody reads
    for j in range(width):
        name = header[j]
        has_data = any(not is_blank(v) for v in columns[j])
        if not name:
            if has_data:
                res.findings.append({"code": "LOAD-COLUMN-EXTRA", "severity": "warning", "source": sheet.source(h + 1),
                                     "detail": f"{sheet.label}: column {column_letter(j)} has values but no header; not read"})
                report.matches.append(Match(sheet.label, column_letter(j), "", "", "unmatched"))
            continue
        if norm(name) in voc.ignore:
            report.matches.append(Match(sheet.label, column_letter(j), name, "", "ignored"))
            continue
        if j in used:
            targets = sorted({u[0] for u in used[j]})
            how = min((u[1] for u in used[j]), key=["profile", "exact", "synonym"].index)
            if j == child_col and spec.return_ == "cin" and not any("Child." in x for x in targets):
                targets.insert(0, "Child.LAchildID")
            report.matches.append(Match(sheet.label, column_letter(j), name, ", ".join(targets), how))
        elif j == child_col:
            report.matches.append(Match(sheet.label, column_letter(j), name, "Child.LAchildID (link)",
                                        cands[j][0][1] if cands[j] else "exact"))
        elif cands[j]:
            report.matches.append(Match(sheet.label, column_letter(j), name,
                                        ", ".join(sorted({t.name for t, _ in cands[j]})), "unused"))
            res.findings.append({"code": "LOAD-COLUMN-EXTRA", "severity": "warning", "source": sheet.source(h + 1),
                                 "fields": name, "detail": f"{sheet.label}: column {column_letter(j)} '{name}' names "
                                 f"{', '.join(sorted({t.name for t, _ in cands[j]}))}, which is not a table of this sheet "
                                 f"({', '.join(record)}); not read"})
        else:
            report.matches.append(Match(sheet.label, column_letter(j), name, "", "unmatched"))
            if has_data:
                res.findings.append({"code": "LOAD-COLUMN-EXTRA", "severity": "warning", "source": sheet.source(h + 1),
                                     "fields": name, "detail": f"{sheet.label}: column {column_letter(j)} '{name}' was not "
                                     "recognised (not a DfE item name, synonym or profile header); not read"})

    # read the cells
    child_ids = [None if is_blank(v) else cell_text(v).strip() for v in columns[child_col]] if child_col is not None else [None] * len(lines)
    readers: dict[tuple[str, str], ValueReader] = {}
    for T in record:
        t = spec.tables[T]
        value_field = next((f.name for f in t.fields if f.xml == "."), None) if spec.return_ == "cin" else None
        data: dict[str, list[Any]] = {"_source": list(sources), "@child": list(child_ids)}
        for key, j in assign[T].items():
            if key[0] == "@":
                data[key] = [None if is_blank(v) else cell_text(v).strip() for v in columns[j]]
                continue
            tab, fname = (key[1:], NATURAL_KEYS[key[1:]]) if key[0] == "^" else (T, key)
            f = spec.tables[tab].field(fname)
            rd = readers.get((tab, fname))
            if rd is None:
                rd = readers[(tab, fname)] = ValueReader(spec, tab, f, profile)
            if fname == value_field and key[0] != "^":
                continue  # read below, several values per cell
            got = rd.read(columns[j])
            data[key] = got.values
            if key[0] != "^":
                _value_findings(res, report, sheet, T, fname, header[j], j, columns[j], got, rd, sources, child_ids)
        df = pd.DataFrame(data)
        if value_field and value_field in assign[T]:
            j = assign[T][value_field]
            rd = readers.setdefault((T, value_field), ValueReader(spec, T, t.field(value_field), profile))
            known = rd.recognises
            items = [split_multi(v, known) for v in columns[j]]
            reps = [len(x) for x in items]
            flat_vals = [x for xs in items for x in xs]
            got = rd.read(flat_vals)
            pos = [i for i, n in enumerate(reps) for _ in range(n)]
            df = df.iloc[pos].reset_index(drop=True)
            df[value_field] = got.values
            _value_findings(res, report, sheet, T, value_field, header[j], j, flat_vals, got, rd,
                            [sources[i] for i in pos], [child_ids[i] for i in pos])
        if spec.return_ == "ssda903" and "CHILD" in df:
            df["@child"] = df["CHILD"]
        if spec.return_ == "cin" and T == "Child":
            df["LAchildID"] = df["@child"]
        if T != row_table and len(record) > 1:
            identity = ["@child"] + [c for c in df.columns if c[:1] in "@^" and c != "@child"]
            own_fields = [c for c in df.columns if c[:1] not in "@^_" and c not in ("LAchildID", "CHILD")]
            if spec.return_ == "cin" and T in NATURAL_KEYS and T != "Child":
                identity.append(NATURAL_KEYS[T])
            if value_field:
                identity.append(value_field)  # each value is its own record
            df, dup = dedupe_parent(df, T, identity, own_fields)
            res.findings.extend(dup)
        elif len(record) > 1:
            fields_present = [c for c in df.columns if c[:1] not in "@^_" and c not in ("LAchildID", "CHILD")]
            if fields_present:
                df = df[df[fields_present].notna().any(axis=1)]
        res.tables[T] = df.reset_index(drop=True)
    return res


def _record_tables(spec: Spec, tables: list[str], cands: list[list[tuple[Target, str]]], forced: list[str] | None) -> list[str]:
    """Tables of a sheet that make records (a CIN ancestor given only by its key item links rows)."""
    if forced:
        return list(forced)
    if spec.return_ != "cin":
        return tables
    present: dict[str, set[str]] = {}
    for cs in cands:
        for t, _ in cs:
            if t.field and t.table in tables:
                present.setdefault(t.table, set()).add(t.field)
    depth = {t: len(ancestors(spec, t)) if t != "Header" else -1 for t in tables}
    if not depth:
        return []
    deepest = max(depth.values())
    out = []
    for t in tables:
        own = present.get(t, set()) - {NATURAL_KEYS.get(t)}
        for u in tables:  # an item a deeper table of the sheet also has belongs to that table
            if depth[u] > depth[t]:
                own -= set(spec.tables[u].field_names)
        if t == "Child":
            own -= {"LAchildID"}
        if depth[t] == deepest or own:
            out.append(t)
    return out


def _row_table(spec: Spec, record: list[str]) -> str:
    """The table a sheet has one row per record of (the others repeat on its rows)."""
    if spec.return_ == "cin":
        nonvalue = [t for t in record if t != "Header" and not any(f.xml == "." for f in spec.tables[t].fields)]
        pool = nonvalue or record
        return max(pool, key=lambda t: (len(ancestors(spec, t)) if t != "Header" else -1, -record.index(t)))
    rows = [t for t in record if spec.tables[t].level == "row"]
    return rows[0] if rows else record[0]


def _value_findings(res: _SheetResult, report: ExtractReport, sheet: Sheet, table: str, fname: str, header: str,
                    j: int, cells: list[Any], got: Any, rd: ValueReader, sources: list[str], child: list[Any]) -> None:
    if not got.bad:
        return
    code = {"date": "LOAD-DATE", "int": "LOAD-INT", "bool": "LOAD-BOOL"}.get(rd.field.type, "SCHEMA-CODESET")
    counter = report.unrecognised.setdefault(f"{table}.{fname}", Counter())
    for i in got.bad:
        raw = cell_text(cells[i])
        counter[raw] += 1
        res.findings.append({
            "code": code, "severity": "error", "table": table, "child": child[i], "fields": fname,
            "source": sources[i], "value": f"{fname}={raw}",
            "detail": f"column {column_letter(j)} '{header}': expected {rd.expected}"
                      + ("; kept as given" if got.kept else "; left blank"),
        })


# =============================================================================== constants
def _cin_header(spec: Spec, rows: list[dict[str, Any]], profile: Profile | None, la: str | None) -> pd.DataFrame:
    t = spec.tables["Header"]
    now = dt.datetime.now().replace(microsecond=0).isoformat()
    rec: dict[str, Any] = {
        "Collection": "CIN", "Year": str(spec.year), "ReferenceDate": spec.period_end.strftime(spec.date_format),
        "SourceLevel": "L", "LEA": None, "SoftwareCode": "csc-returns", "Release": __version__, "SerialNo": "001",
        "DateTime": now, "_source": "(built from extracts)",
    }
    for r in rows[:1]:
        for k, v in r.items():
            if k in t.field_names and v is not None and not (isinstance(v, float) and v != v):
                rec[k] = v
    if la:
        rec["LEA"] = str(la)
    for k, v in (profile.constants if profile else {}).items():
        name = k.split(".", 1)[1] if k.startswith("Header.") else k
        if name in t.field_names and v is not None:
            rec[name] = str(v)
    cols = ["_source"] + t.field_names
    return pd.DataFrame([{c: rec.get(c) for c in cols}], columns=cols).astype("string")


def _apply_constants(spec: Spec, raw: dict[str, pd.DataFrame], profile: Profile | None, findings: list[dict[str, Any]]) -> None:
    """Profile constants: items the extract lacks, the same on every record (blank cells only)."""
    if not profile:
        return
    for key, value in profile.constants.items():
        if value is None or (spec.return_ == "ssda903" and key in ("LEA", "Header.LEA")):
            continue  # an SSDA903 return has no LA item; the LA number only labels the report
        if "." in key:
            tname, fname = key.split(".", 1)
            targets = [tname] if tname in spec.tables else []
        else:
            tname, fname = None, key
            targets = [t for t in spec.tables if fname in spec.tables[t].field_names]
        targets = [t for t in targets if t in raw and fname in spec.tables[t].field_names and not (spec.return_ == "cin" and t == "Header")]
        if not targets and not (fname in spec.tables.get("Header", spec.tables[next(iter(spec.tables))]).field_names):
            raise UsageError(f"profile constants: {key} is not an item of the {spec.return_} {spec.year} return.")
        f = None
        for t in targets:
            f = spec.tables[t].field(fname)
            rd = ValueReader(spec, t, f, profile)
            text, ok = rd.one(value)
            if not ok:
                raise UsageError(f"profile constants: {key}: {value!r} is not {rd.expected}.")
            df = raw[t]
            col = df[fname] if fname in df else pd.Series(pd.NA, index=df.index, dtype="string")
            raw[t][fname] = col.fillna(text).astype("string")


def _fill_rows(tables: dict[str, pd.DataFrame], findings: list[dict[str, Any]]) -> None:
    """Give value findings the canonical row number of the record their cell became."""
    maps: dict[str, dict[str, int]] = {}
    for f in findings:
        if f.get("row") is not None or not f.get("table") or not f.get("source"):
            continue
        t = f["table"]
        if t not in maps:
            df = tables.get(t)
            maps[t] = {} if df is None or df.empty else dict(
                zip(df["_source"].astype(str)[::-1], df["_row"].astype(int)[::-1]))
        f["row"] = maps[t].get(f["source"])
