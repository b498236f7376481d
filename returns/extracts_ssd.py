"""Standard Safeguarding Dataset (SSD) tables -> flat DfE tables, for both returns.

The SSD (data-to-insight/ssd-data-model) is the common shape of LA case-system extracts: one table
per object (ssd_person, ssd_cin_episodes, ssd_cla_episodes, ...). Which SSD item gives which DfE
item is data (specs/ssd/mapping.yaml, with code translations in specs/ssd/codes.yaml); this module
does what a field-to-field map cannot: the year's scope (which people and records are in the
return), joins by ID (placements, legal status, ICPCs, social workers), and the few derived items
(DfE item -> step named in mapping.yaml `derived`). Every SSD value is then read by the same value
readers as any extract, so unreadable values are findings that cite the SSD table and column.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache
from typing import Any

import pandas as pd
import yaml

from csc_returns.returns.extracts_match import ValueReader, norm, parse_date
from csc_returns.returns.extracts_read import Sheet, cell_text, column_letter, is_blank
from csc_returns.returns.spec import Spec, specs_root


@lru_cache(maxsize=None)
def ssd_spec() -> dict[str, Any]:
    root = specs_root() / "ssd"
    out = {}
    for name in ("tables", "mapping", "codes"):
        with (root / f"{name}.yaml").open(encoding="utf-8") as fh:
            out[name] = yaml.safe_load(fh)
    return out


@lru_cache(maxsize=None)
def _field_index() -> dict[str, tuple[str, str]]:
    """normalised SSD field name (and alias) -> (table, canonical field name)"""
    idx: dict[str, tuple[str, str]] = {}
    for t, d in ssd_spec()["tables"]["tables"].items():
        for f in d["fields"]:
            name = f["name"] if isinstance(f, dict) else f
            idx[norm(name)] = (t, name)
        for alias, canon in (d.get("aliases") or {}).items():
            idx[norm(alias)] = (t, canon)
    return idx


def _header_row(rows: list[list[Any]]) -> tuple[int | None, str | None]:
    idx = _field_index()
    best: tuple[int | None, str | None, int] = (None, None, 0)
    for i, row in enumerate(rows[:30]):
        counts: dict[str, int] = {}
        for v in row:
            if isinstance(v, str) and norm(v) in idx:
                t = idx[norm(v)][0]
                counts[t] = counts.get(t, 0) + 1
        if counts:
            t, n = max(counts.items(), key=lambda kv: kv[1])
            total = len(ssd_spec()["tables"]["tables"][t]["fields"])
            if n >= 2 and (n >= total / 2 or n >= 3) and n > best[2]:
                best = (i, t, n)
    return best[0], best[1]


def split_sheets(sheets: list[Sheet]) -> tuple[list[tuple[Sheet, int, str]], list[Sheet]]:
    """(SSD sheets with their header row and SSD table, other sheets)."""
    ssd, other = [], []
    for s in sheets:
        h, t = _header_row(s.rows)
        if h is None:
            other.append(s)
        else:
            ssd.append((s, h, t))
    return ssd, other


# ============================================================================ reading
class _Ctx:
    def __init__(self, spec: Spec, profile: Any, report: Any) -> None:
        self.spec = spec
        self.profile = profile
        self.report = report
        self.findings: list[dict[str, Any]] = []
        self.t: dict[str, pd.DataFrame] = {}
        codes = ssd_spec()["codes"]
        self.trans: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (codes.get("translations") or {}).items()}
        for k, v in ((profile.translations if profile else {}) or {}).items():
            self.trans.setdefault(k, {}).update(v)
        self.cats = {k: (v if isinstance(v, dict) else {norm(x): True for x in v}) for k, v in (codes.get("categories") or {}).items()}
        self.cats = {k: ({norm(a): b for a, b in v.items()} if isinstance(v, dict) else v) for k, v in self.cats.items()}
        self.where: dict[str, str] = {}  # "table.field" -> sheet label, for findings
        self.cs, self.ce = pd.Timestamp(spec.period_start), pd.Timestamp(spec.period_end)

    def col(self, table: str, field: str) -> pd.Series:
        df = self.t.get(table)
        if df is None:
            return pd.Series(dtype=object)
        return df[field] if field in df else pd.Series([None] * len(df), index=df.index, dtype=object)

    def has(self, table: str) -> bool:
        return table in self.t and len(self.t[table]) > 0

    def is_cat(self, cat: str, value: Any) -> bool:
        return not is_blank(value) and norm(cell_text(value)) in self.cats.get(cat, {})


def _ids(s: pd.Series) -> pd.Series:
    return s.map(lambda v: None if is_blank(v) else cell_text(v).strip()).astype(object)


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.map(lambda v: parse_date(v) if not is_blank(v) else None), errors="coerce")


def _load(ctx: _Ctx, sheets: list[tuple[Sheet, int, str]]) -> None:
    idx = _field_index()
    parts: dict[str, list[pd.DataFrame]] = {}
    for sheet, h, table in sheets:
        header = [cell_text(v).strip() for v in sheet.rows[h]]
        body = [i for i in range(h + 1, len(sheet.rows)) if any(not is_blank(v) for v in sheet.rows[i])]
        data: dict[str, list[Any]] = {"_source": [sheet.source(i + 1) for i in body]}
        for j, name in enumerate(header):
            hit = idx.get(norm(name))
            if not name:
                continue
            if hit is None or hit[0] != table:
                ctx.report.matches.append(_match(sheet.label, j, name, "", "unmatched"))
                continue
            data[hit[1]] = [sheet.rows[i][j] if j < len(sheet.rows[i]) else None for i in body]
            ctx.where[f"{table}.{hit[1]}"] = f"{sheet.label} column {column_letter(j)}"
            ctx.report.matches.append(_match(sheet.label, j, name, f"{table}.{hit[1]}", "ssd"))
        parts.setdefault(table, []).append(pd.DataFrame(data))
        ctx.report.sheets.append((sheet.label, [table]))
    for t, dfs in parts.items():
        ctx.t[t] = pd.concat(dfs, ignore_index=True)


def _match(sheet: str, j: int, header: str, target: str, how: str) -> Any:
    from csc_returns.returns.extracts import Match

    return Match(sheet, column_letter(j), header, target, how)


def _read(ctx: _Ctx, table: str, fname: str, cells: pd.Series, sources: pd.Series, child: pd.Series,
          ssd_field: str) -> pd.Series:
    """SSD cells -> normalised DfE text for one item, with findings for what cannot be read."""
    f = ctx.spec.tables[table].field(fname)
    extra = {str(k): v for k, v in (ctx.trans.get(ssd_field) or {}).items()}
    rd = ValueReader(ctx.spec, table, f, ctx.profile, extra=extra)
    vals = [extra.get(cell_text(v).strip(), v) if not is_blank(v) else v for v in cells.tolist()]
    got = rd.read(vals)
    if got.bad:
        code = {"date": "LOAD-DATE", "int": "LOAD-INT", "bool": "LOAD-BOOL"}.get(f.type, "SCHEMA-CODESET")
        where = ctx.where.get(ssd_field if "." in ssd_field else "", ssd_field)
        counter = ctx.report.unrecognised.setdefault(f"{table}.{fname}", __import__("collections").Counter())
        src, ch = sources.tolist(), child.tolist()
        for i in got.bad:
            raw = cell_text(vals[i])
            counter[raw] += 1
            ctx.findings.append({"code": code, "severity": "error", "table": table, "child": ch[i], "fields": fname,
                                 "source": src[i], "value": f"{fname}={raw}",
                                 "detail": f"SSD {where}: expected {rd.expected}" + ("; kept as given" if got.kept else "; left blank")})
    return pd.Series(got.values, index=cells.index, dtype=object)


def _frame(ctx: _Ctx, table: str, base: pd.DataFrame, child: pd.Series, items: dict[str, tuple[pd.Series, str]],
           extra_cols: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """A flat DfE table: `_source`, `@child`, link columns, and each item read from its SSD cells."""
    out = pd.DataFrame({"_source": base["_source"].astype(str), "@child": child}, index=base.index)
    for k, v in (extra_cols or {}).items():
        out[k] = v
    for fname, (cells, ssd_field) in items.items():
        if fname not in ctx.spec.tables[table].field_names:
            continue
        out[fname] = _read(ctx, table, fname, cells, out["_source"], child, ssd_field)
    return out


# ============================================================================ entry point
def to_flats(sheets: list[tuple[Sheet, int, str]], spec: Spec, profile: Any, report: Any
             ) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]]]:
    ctx = _Ctx(spec, profile, report)
    _load(ctx, sheets)
    if not ctx.has("ssd_person"):
        ctx.findings.append({"code": "LOAD-TABLE-MISSING", "severity": "error", "table": "ssd_person",
                             "detail": "SSD tables were given but not ssd_person: the children's items cannot be read"})
    flats = _cin(ctx) if spec.return_ == "cin" else _903(ctx)
    return flats, ctx.findings


def _person_id(ctx: _Ctx) -> str:
    return (ctx.profile.ssd.child_id if ctx.profile else None) or ssd_spec()["mapping"]["cin"]["Child"]["person"]


def _people(ctx: _Ctx) -> pd.DataFrame:
    p = ctx.t.get("ssd_person", pd.DataFrame(columns=["_source", "pers_person_id"])).copy()
    p["_pid"] = _ids(p["pers_person_id"]) if "pers_person_id" in p else None
    pid_field = _person_id(ctx)
    p["_child"] = _ids(p[pid_field]) if pid_field in p else p["_pid"]
    return p.drop_duplicates("_pid", keep="first")


def _to_child(ctx: _Ctx, people: pd.DataFrame, pid: pd.Series) -> pd.Series:
    m = dict(zip(people["_pid"], people["_child"]))
    return _ids(pid).map(m)


# ============================================================================ CIN
def _cin(ctx: _Ctx) -> dict[str, pd.DataFrame]:
    M = ssd_spec()["mapping"]["cin"]
    people = _people(ctx)
    flats: dict[str, pd.DataFrame] = {}
    ep = ctx.t.get("ssd_cin_episodes")
    if ep is None:
        ctx.findings.append({"code": "LOAD-TABLE-MISSING", "severity": "error", "table": "CINdetails",
                             "detail": "no ssd_cin_episodes table: the CIN census has no episodes"})
        ep = pd.DataFrame(columns=["_source"])
    ep = ep.copy()
    ep["_pid"] = _ids(ctx.col("ssd_cin_episodes", "cine_person_id")) if len(ep) else []
    ref, close = _dates(ctx.col("ssd_cin_episodes", "cine_referral_date")), _dates(ctx.col("ssd_cin_episodes", "cine_close_date"))
    ep = ep[(ref <= ctx.ce) & (close.isna() | (close >= ctx.cs))] if len(ep) else ep
    ep = ep.assign(_ref=ref.reindex(ep.index))
    keep = set(ep["_pid"])
    people = people[people["_pid"].isin(keep)].sort_values("_child", kind="stable")
    child = people["_child"]
    items = {f: (people[s] if s in people else pd.Series([None] * len(people), index=people.index), s)
             for f, s in M["Child"]["fields"].items()}
    flats["Child"] = _frame(ctx, "Child", people, child, items)
    flats["Child"]["LAchildID"] = child
    if ctx.has("ssd_linked_identifiers"):
        li = ctx.t["ssd_linked_identifiers"].copy()
        li = li[[ctx.is_cat("former_upn", v) for v in li.get("link_identifier_type", pd.Series([None] * len(li)))]]
        li = li.assign(_pid=_ids(li["link_person_id"]), _from=_dates(li.get("link_valid_from_date", pd.Series([None] * len(li), index=li.index))))
        li = li.sort_values("_from", kind="stable").drop_duplicates("_pid", keep="last")
        fupn = people["_pid"].map(dict(zip(li["_pid"], li["link_identifier_value"])))
        flats["Child"]["FormerUPN"] = _read(ctx, "Child", "FormerUPN", fupn, flats["Child"]["_source"], child, "ssd_linked_identifiers.link_identifier_value")
    if ctx.has("ssd_disability"):
        d = ctx.t["ssd_disability"]
        d = d[_ids(d["disa_person_id"]).isin(keep)]
        dc = _to_child(ctx, people, d["disa_person_id"])
        order = dc.map({c: i for i, c in enumerate(child)})
        d, dc = d.loc[order.sort_values(kind="stable").index], dc.loc[order.sort_values(kind="stable").index]
        flats["Disabilities"] = _frame(ctx, "Disabilities", d, dc, {"Disability": (d["disa_disability_code"], "disa_disability_code")})
    # episodes
    ec = _to_child(ctx, people, ep["_pid"]) if len(ep) else pd.Series(dtype=object)
    ep = ep.assign(_c=ec).sort_values(["_c", "_ref"], kind="stable")
    rid = _ids(ep["cine_referral_id"]) if "cine_referral_id" in ep else pd.Series([None] * len(ep), index=ep.index)
    items = {f: (ep[s] if s in ep else pd.Series([None] * len(ep), index=ep.index), s) for f, s in M["CINdetails"]["fields"].items()}
    flats["CINdetails"] = _frame(ctx, "CINdetails", ep, ep["_c"], items, {"@CINdetails": rid})
    icpc = ctx.t.get("ssd_initial_cp_conference")
    if icpc is not None and len(icpc):
        icpc = icpc.assign(_s47=_ids(ctx.col("ssd_initial_cp_conference", "icpc_s47_enquiry_id")),
                           _ref=_ids(ctx.col("ssd_initial_cp_conference", "icpc_referral_id")),
                           _date=_dates(ctx.col("ssd_initial_cp_conference", "icpc_icpc_date")))
        noref = icpc[icpc["_s47"].isna() & icpc["_ref"].notna()].sort_values("_date", kind="stable").drop_duplicates("_ref")
        cells = rid.map(dict(zip(noref["_ref"], noref["icpc_icpc_date"])))
        flats["CINdetails"]["DateOfInitialCPC"] = _read(ctx, "CINdetails", "DateOfInitialCPC", cells, flats["CINdetails"]["_source"], ep["_c"], "ssd_initial_cp_conference.icpc_icpc_date")
    live_refs = set(rid.dropna())

    def child_of(table: str, parent_col: str, id_col: str | None, mapping: str, sort_col: str | None,
                 parent_key: str = "@CINdetails", parents: set | None = None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        df = ctx.t.get(table)
        if df is None or not len(df):
            return None
        par = _ids(df[parent_col]) if parent_col in df else pd.Series([None] * len(df), index=df.index)
        df = df[par.isin(parents if parents is not None else live_refs)]
        par = par.loc[df.index]
        if sort_col and sort_col in df:
            df = df.assign(_k=_dates(df[sort_col])).sort_values("_k", kind="stable")
            par = par.loc[df.index]
        extra = {parent_key: par}
        if id_col:
            extra["@" + mapping] = _ids(df[id_col]) if id_col in df else None
        return df, pd.DataFrame(extra, index=df.index)

    epi_child = dict(zip(rid, ep["_c"]))
    # assessments, plans, S47, CP plans
    for name, table, sort_col in (("Assessments", "ssd_cin_assessments", "cina_assessment_start_date"),
                                  ("CINPlanDates", "ssd_cin_plans", "cinp_cin_plan_start_date"),
                                  ("Section47", "ssd_s47_enquiry", "s47e_s47_start_date"),
                                  ("ChildProtectionPlans", "ssd_cp_plans", "cppl_cp_plan_start_date")):
        m = M[name]
        got = child_of(table, m["parent"], m.get("id"), name, sort_col)
        if got is None:
            continue
        df, links = got
        c = links["@CINdetails"].map(epi_child)
        items = {f: (df[s] if s in df else pd.Series([None] * len(df), index=df.index), s) for f, s in m["fields"].items()}
        flat = _frame(ctx, name, df, c, items, {k: links[k] for k in links})
        if name == "Section47":
            flat = _s47(ctx, df, flat, c)
        if name == "ChildProtectionPlans":
            flat = _previous_cpp(ctx, df, flat, c)
        flats[name] = flat
    if "Assessments" in flats and ctx.has("ssd_assessment_factors"):
        fa = ctx.t["ssd_assessment_factors"]
        aid = _ids(fa["cinf_assessment_id"])
        live = set(flats["Assessments"]["@Assessments"].dropna())
        fa = fa[aid.isin(live)]
        a_child = dict(zip(flats["Assessments"]["@Assessments"], flats["Assessments"]["@child"]))
        a_ref = dict(zip(flats["Assessments"]["@Assessments"], flats["Assessments"]["@CINdetails"]))
        rows = []
        for r in fa.to_dict("records"):
            a = cell_text(r["cinf_assessment_id"]).strip()
            for item in _factors(r.get("cinf_assessment_factors_json")):
                rows.append({"_source": r["_source"], "@child": a_child.get(a), "@Assessments": a, "@CINdetails": a_ref.get(a), "v": item})
        fdf = pd.DataFrame(rows, columns=["_source", "@child", "@Assessments", "@CINdetails", "v"])
        order = fdf["@Assessments"].map({a: i for i, a in enumerate(flats["Assessments"]["@Assessments"])})
        fdf = fdf.loc[order.sort_values(kind="stable").index].reset_index(drop=True)
        flats["AssessmentFactors"] = _frame(ctx, "AssessmentFactors", fdf, fdf["@child"],
                                            {"AssessmentFactors": (fdf["v"], "cinf_assessment_factors_json")},
                                            {"@Assessments": fdf["@Assessments"], "@CINdetails": fdf["@CINdetails"]})
    if "ChildProtectionPlans" in flats and ctx.has("ssd_cp_reviews"):
        cp = flats["ChildProtectionPlans"]
        got = child_of("ssd_cp_reviews", "cppr_cp_plan_id", None, "Reviews", "cppr_cp_review_date",
                       parent_key="@ChildProtectionPlans", parents=set(cp["@ChildProtectionPlans"].dropna()))
        if got is not None:
            df, links = got
            df = df[df["cppr_cp_review_date"].map(lambda v: not is_blank(v))] if "cppr_cp_review_date" in df else df
            links = links.loc[df.index]
            pc, pr = dict(zip(cp["@ChildProtectionPlans"], cp["@child"])), dict(zip(cp["@ChildProtectionPlans"], cp["@CINdetails"]))
            order = links["@ChildProtectionPlans"].map({a: i for i, a in enumerate(cp["@ChildProtectionPlans"])})
            idx = order.sort_values(kind="stable").index
            df, links = df.loc[idx], links.loc[idx]
            flats["Reviews"] = _frame(ctx, "Reviews", df, links["@ChildProtectionPlans"].map(pc),
                                      {"CPPreviewDate": (df["cppr_cp_review_date"], "cppr_cp_review_date")},
                                      {"@ChildProtectionPlans": links["@ChildProtectionPlans"],
                                       "@CINdetails": links["@ChildProtectionPlans"].map(pr)})
    # nested tables in the order of their parents
    for name in ("Assessments", "CINPlanDates", "Section47", "ChildProtectionPlans"):
        if name in flats:
            f = flats[name]
            order = f["@CINdetails"].map({r: i for i, r in enumerate(rid)})
            flats[name] = f.loc[order.sort_values(kind="stable").index].reset_index(drop=True)
    return flats


def _factors(value: Any) -> list[str]:
    if is_blank(value):
        return []
    text = cell_text(value).strip()
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        return [p.strip() for p in re.split(r"[,;|]", text.strip("[]")) if p.strip().strip('"')]
    if isinstance(data, list):
        return [str(x) for x in data if str(x).strip()]
    if isinstance(data, dict):
        return [str(k) for k, v in data.items() if str(v).strip().lower() in ("yes", "y", "1", "true")]
    return [str(data)]


def _s47(ctx: _Ctx, df: pd.DataFrame, flat: pd.DataFrame, child: pd.Series) -> pd.DataFrame:
    sid = flat["@Section47"]
    icpc = ctx.t.get("ssd_initial_cp_conference")
    target = pd.Series([None] * len(flat), index=flat.index, dtype=object)
    date = target.copy()
    if icpc is not None and len(icpc):
        ic = icpc.assign(_s47=_ids(ctx.col("ssd_initial_cp_conference", "icpc_s47_enquiry_id")))
        ic = ic[ic["_s47"].notna()].drop_duplicates("_s47")
        target = sid.map(dict(zip(ic["_s47"], ctx.col("ssd_initial_cp_conference", "icpc_icpc_target_date").loc[ic.index])))
        date = sid.map(dict(zip(ic["_s47"], ctx.col("ssd_initial_cp_conference", "icpc_icpc_date").loc[ic.index])))
    flat["InitialCPCtarget"] = _read(ctx, "Section47", "InitialCPCtarget", target, flat["_source"], child, "ssd_initial_cp_conference.icpc_icpc_target_date")
    flat["DateOfInitialCPC"] = _read(ctx, "Section47", "DateOfInitialCPC", date, flat["_source"], child, "ssd_initial_cp_conference.icpc_icpc_date")
    outcome = df["s47e_s47_outcome_json"] if "s47e_s47_outcome_json" in df else pd.Series([None] * len(df), index=df.index)

    def not_required(js: Any, held: Any) -> Any:
        flag = None
        if not is_blank(js):
            m = re.search(r'"?(?:OUTCOME_)?CP_CONFERENCE_FLAG"?\s*:\s*"?([A-Za-z01]+)', cell_text(js))
            flag = m[1].upper() if m else None
        if flag in ("Y", "T", "1", "TRUE"):
            return "0"
        if flag in ("N", "F", "0", "FALSE"):
            return "1"
        return "0" if held is not None else None

    vals = [not_required(j, h) for j, h in zip(outcome.tolist(), flat["DateOfInitialCPC"].tolist())]
    flat["ICPCnotRequired"] = _read(ctx, "Section47", "ICPCnotRequired", pd.Series(vals, index=flat.index), flat["_source"], child, "s47e_s47_outcome_json")
    return flat


def _previous_cpp(ctx: _Ctx, df: pd.DataFrame, flat: pd.DataFrame, child: pd.Series) -> pd.DataFrame:
    if "cppl_number_of_previous_cpp" in df and df["cppl_number_of_previous_cpp"].map(lambda v: not is_blank(v)).any():
        cells = df["cppl_number_of_previous_cpp"]
    else:
        allp = ctx.t["ssd_cp_plans"]
        pid = _ids(allp["cppl_person_id"])
        start = _dates(allp["cppl_cp_plan_start_date"])
        by: dict[Any, list] = {}
        for p, s in zip(pid, start):
            if p is not None and not pd.isna(s):
                by.setdefault(p, []).append(s)
        me_p = _ids(df["cppl_person_id"])
        me_s = _dates(df["cppl_cp_plan_start_date"])
        cells = pd.Series([None if pd.isna(s) else str(sum(1 for x in by.get(p, []) if x < s)) for p, s in zip(me_p, me_s)],
                          index=df.index, dtype=object)
    flat["NumberOfPreviousCPP"] = _read(ctx, "ChildProtectionPlans", "NumberOfPreviousCPP", cells, flat["_source"], child, "cppl_cp_plan_start_date")
    return flat


# ============================================================================ SSDA903
def _903(ctx: _Ctx) -> dict[str, pd.DataFrame]:
    spec, M = ctx.spec, ssd_spec()["mapping"]["ssda903"]
    people = _people(ctx)
    pchild = dict(zip(people["_pid"], people["_child"]))
    flats: dict[str, pd.DataFrame] = {}
    none = lambda df: pd.Series([None] * len(df), index=df.index, dtype=object)  # noqa: E731
    # ---- episodes
    e = ctx.t.get("ssd_cla_episodes", pd.DataFrame(columns=["_source"])).copy()
    if not len(e):
        ctx.findings.append({"code": "LOAD-TABLE-MISSING", "severity": "error", "table": "Episodes",
                             "detail": "no ssd_cla_episodes table: the SSDA903 return has no episodes"})
    e["_pid"] = _ids(ctx.col("ssd_cla_episodes", "clae_person_id"))
    e["_s"] = _dates(ctx.col("ssd_cla_episodes", "clae_cla_episode_start_date"))
    e["_e"] = _dates(ctx.col("ssd_cla_episodes", "clae_cla_episode_ceased_date"))
    e = e[(e["_s"] <= ctx.ce) & (e["_e"].isna() | (e["_e"] >= ctx.cs))]
    e["_c"] = e["_pid"].map(pchild)
    e = e.sort_values(["_c", "_s"], kind="stable")
    after = e["_e"] > ctx.ce
    pl = ctx.t.get("ssd_cla_placement")
    plk = _ids(e["clae_cla_placement_id"]) if "clae_cla_placement_id" in e else none(e)
    def pcol(f: str) -> pd.Series:
        if pl is None or f not in pl:
            return none(e)
        return plk.map(dict(zip(_ids(pl["clap_cla_placement_id"]), pl[f])))
    pl_end = _dates(pcol("clap_cla_placement_end_date"))
    rpc = pcol("clap_cla_placement_change_reason").where(pl_end.notna() & (pl_end == e["_e"]), None)
    ls = _legal_status(ctx, e)
    home = _home_post(ctx, e)
    items = {
        "DECOM": (e.get("clae_cla_episode_start_date", none(e)), "clae_cla_episode_start_date"),
        "RNE": (e.get("clae_cla_episode_start_reason", none(e)), "clae_cla_episode_start_reason"),
        "LS": (ls, "ssd_legal_status.lega_legal_status"),
        "CIN": (e.get("clae_cla_primary_need_code", none(e)), "clae_cla_primary_need_code"),
        "PLACE": (pcol("clap_cla_placement_type"), "clap_cla_placement_type"),
        "PLACE_PROVIDER": (pcol("clap_cla_placement_provider"), "clap_cla_placement_provider"),
        "DEC": (e.get("clae_cla_episode_ceased_date", none(e)).where(~after, None), "clae_cla_episode_ceased_date"),
        "REC": (e.get("clae_cla_episode_ceased_reason", none(e)).where(~after, None), "clae_cla_episode_ceased_reason"),
        "REASON_PLACE_CHANGE": (rpc.where(~after, None), "clap_cla_placement_change_reason"),
        "HOME_POST": (home, "ssd_address.addr_address_postcode"),
        "PL_POST": (pcol("clap_cla_placement_postcode"), "clap_cla_placement_postcode"),
        "URN": (pcol("clap_cla_placement_urn"), "clap_cla_placement_urn"),
    }
    epf = _frame(ctx, "Episodes", e, e["_c"], items)
    epf["CHILD"] = e["_c"]
    flats["Episodes"] = epf
    with_eps = set(e["_pid"])
    # ---- care leavers (OC3) and the header cohort
    cl = ctx.t.get("ssd_care_leavers")
    oc3_pids: set = set()
    if cl is not None and len(cl):
        cl = cl.assign(_pid=_ids(cl["clea_person_id"]), _d=_dates(ctx.col("ssd_care_leavers", "clea_care_leaver_latest_contact")))
        cl = cl[(cl["_d"] >= ctx.cs) & (cl["_d"] <= ctx.ce)].sort_values("_d", kind="stable").drop_duplicates("_pid", keep="last")
        cl = cl.assign(_c=cl["_pid"].map(pchild)).sort_values("_c", kind="stable")
        oc3_pids = set(cl["_pid"])
        suit = ctx.cats.get("suitable", {})
        def accom(a: Any, s: Any) -> Any:
            if is_blank(a):
                return None
            a = cell_text(a).strip()
            if a == "0" or len(a) != 1:
                return a
            d = suit.get(norm(cell_text(s))) if not is_blank(s) else None
            return a + d if d else a
        acc = pd.Series([accom(a, s) for a, s in zip(ctx.col("ssd_care_leavers", "clea_care_leaver_accommodation").loc[cl.index],
                                                     ctx.col("ssd_care_leavers", "clea_care_leaver_accom_suitable").loc[cl.index])], index=cl.index, dtype=object)
        dob = cl["_pid"].map(dict(zip(people["_pid"], people.get("pers_dob", none(people)))))
        oc3 = _frame(ctx, "OC3", cl, cl["_c"], {"DOB": (dob, "pers_dob"),
                                                "IN_TOUCH": (cl.get("clea_care_leaver_in_touch", none(cl)), "clea_care_leaver_in_touch"),
                                                "ACTIV": (cl.get("clea_care_leaver_activity", none(cl)), "clea_care_leaver_activity"),
                                                "ACCOM": (acc, "clea_care_leaver_accommodation")})
        oc3["CHILD"] = cl["_c"]
        flats["OC3"] = oc3
    hp = people[people["_pid"].isin(with_eps | oc3_pids)].sort_values("_child", kind="stable")
    upn = hp.get("pers_upn", none(hp)).where(hp.get("pers_upn", none(hp)).map(lambda v: not is_blank(v)), hp.get("pers_upn_unknown", none(hp)))
    mc = none(hp)
    if ctx.has("ssd_mother"):
        mo = ctx.t["ssd_mother"].assign(_pid=lambda d: _ids(d["moth_person_id"]), _d=lambda d: _dates(d["moth_childs_dob"]))
        mo = mo.sort_values("_d", kind="stable").drop_duplicates("_pid", keep="first")
        mc = hp["_pid"].map(dict(zip(mo["_pid"], mo["moth_childs_dob"])))
    hdr = _frame(ctx, "Header", hp, hp["_child"], {
        "SEX": (hp.get("pers_sex", none(hp)), "pers_sex"), "DOB": (hp.get("pers_dob", none(hp)), "pers_dob"),
        "ETHNIC": (hp.get("pers_ethnicity", none(hp)), "pers_ethnicity"), "UPN": (upn, "pers_upn"),
        "MOTHER": (hp.get("pers_is_mother", none(hp)), "pers_is_mother"), "MC_DOB": (mc, "ssd_mother.moth_childs_dob")})
    hdr["CHILD"] = hp["_child"]
    flats["Header"] = hdr
    person = hp.set_index("_pid")

    def attach(df: pd.DataFrame, pid: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
        c = pid.map(pchild)
        dob = pid.map(person.get("pers_dob", pd.Series(dtype=object)).to_dict())
        sex = pid.map(person.get("pers_sex", pd.Series(dtype=object)).to_dict())
        return c, dob, sex

    def simple(name: str, table: str, pid_col: str, keep: pd.Series | None, sort: str | None, items: dict[str, tuple[pd.Series, str]]) -> None:
        df = ctx.t.get(table)
        if df is None:
            return
        pid = _ids(df[pid_col]) if pid_col in df else none(df)
        mask = pid.isin(with_eps) & (keep if keep is not None else True)
        df = df[mask]
        pid = pid.loc[df.index]
        c, dob, sex = attach(df, pid)
        k = _dates(df[sort]) if sort and sort in df else None
        order = pd.DataFrame({"c": c, "k": k if k is not None else 0}).sort_values(["c", "k"], kind="stable").index
        df, c, dob, sex = df.loc[order], c.loc[order], dob.loc[order], sex.loc[order]
        its = {"DOB": (dob, "pers_dob"), "SEX": (sex, "pers_sex")}
        for f, (cells, src) in items.items():
            its[f] = (cells.loc[order] if isinstance(cells, pd.Series) else df[cells] if cells in df else none(df), src)
        out = _frame(ctx, name, df, c, its)
        out["CHILD"] = c
        flats[name] = out

    # ---- reviews (via the CLA period), missing, previous permanence, UASC, adoption
    rv = ctx.t.get("ssd_cla_reviews")
    if rv is not None and len(rv):
        cla_person = dict(zip(_ids(ctx.col("ssd_cla_episodes", "clae_cla_id")), _ids(ctx.col("ssd_cla_episodes", "clae_person_id"))))
        pid = _ids(rv["clar_person_id"]) if "clar_person_id" in rv else _ids(rv.get("clar_cla_id", none(rv))).map(cla_person)
        rdate = _dates(rv.get("clar_cla_review_date", none(rv)))
        cancelled = rv.get("clar_cla_review_cancelled", none(rv)).map(lambda v: ctx.is_cat("cancelled", v))
        ok = (rdate >= ctx.cs) & (rdate <= ctx.ce) & ~cancelled
        ctx.t["ssd_cla_reviews"] = rv.assign(_p=pid)
        simple("Reviews", "ssd_cla_reviews", "_p", ok, "clar_cla_review_date",
               {"REVIEW": ("clar_cla_review_date", "clar_cla_review_date"),
                "REVIEW_CODE": ("clar_cla_review_participation", "clar_cla_review_participation")})
    if ctx.has("ssd_missing"):
        ms = ctx.t["ssd_missing"]
        st, en = _dates(ms.get("miss_missing_episode_start_date", none(ms))), _dates(ms.get("miss_missing_episode_end_date", none(ms)))
        simple("Missing", "ssd_missing", "miss_person_id", (st >= ctx.cs) & (st <= ctx.ce), "miss_missing_episode_start_date",
               {"MISSING": ("miss_missing_episode_type", "miss_missing_episode_type"),
                "MIS_START": ("miss_missing_episode_start_date", "miss_missing_episode_start_date"),
                "MIS_END": (ms.get("miss_missing_episode_end_date", none(ms)).where(~(en > ctx.ce), None), "miss_missing_episode_end_date")})
    if ctx.has("ssd_cla_previous_permanence"):
        simple("PrevPerm", "ssd_cla_previous_permanence", "lapp_person_id", None, None,
               {"PREV_PERM": ("lapp_previous_permanence_option", "lapp_previous_permanence_option"),
                "LA_PERM": ("lapp_previous_permanence_la", "lapp_previous_permanence_la"),
                "DATE_PERM": ("lapp_previous_permanence_order_date", "lapp_previous_permanence_order_date")})
    if ctx.has("ssd_immigration_status"):
        im = ctx.t["ssd_immigration_status"]
        en = _dates(im.get("immi_immigration_status_end_date", none(im)))
        ua = im.get("immi_immigration_status", none(im)).map(lambda v: ctx.is_cat("uasc", v)) & (en.isna() | (en >= ctx.cs))
        simple("UASC", "ssd_immigration_status", "immi_person_id", ua, None,
               {"DUC": ("immi_immigration_status_end_date", "immi_immigration_status_end_date")})
    if ctx.has("ssd_permanence"):
        pm = ctx.t["ssd_permanence"]
        od = _dates(pm.get("perm_permanence_order_date", none(pm)))
        adopt = pm.get("perm_permanence_order_type", none(pm)).map(lambda v: ctx.is_cat("adoption_order", v)) & (od >= ctx.cs) & (od <= ctx.ce)
        simple("AD1", "ssd_permanence", "perm_person_id", adopt, None,
               {f: (s, s) for f, s in M["AD1"]["fields"].items()})
        dec, rev = _dates(pm.get("perm_adm_decision_date", none(pm))), _dates(pm.get("perm_decision_reversed_date", none(pm)))
        ok = (dec <= ctx.ce) & (rev.isna() | (rev >= ctx.cs))
        simple("PlacedAdoption", "ssd_permanence", "perm_person_id", ok, "perm_adm_decision_date",
               {"DATE_PLACED": ("perm_adm_decision_date", "perm_adm_decision_date"),
                "DATE_PLACED_CEASED": (pm.get("perm_decision_reversed_date", none(pm)).where(~(rev > ctx.ce), None), "perm_decision_reversed_date"),
                "REASON_PLACED_CEASED": (pm.get("perm_decision_reversed_reason", none(pm)).where(~(rev > ctx.ce), None), "perm_decision_reversed_reason")})
    _oc2(ctx, flats, e, people, pchild)
    if "SWEpisodes" in spec.tables and ctx.has("ssd_involvements"):
        _sw(ctx, flats, e, person, pchild)
    for name in list(flats):
        if name in spec.tables:
            flats[name] = flats[name].reset_index(drop=True)
    return flats


def _legal_status(ctx: _Ctx, e: pd.DataFrame) -> pd.Series:
    ls = ctx.t.get("ssd_legal_status")
    out = pd.Series([None] * len(e), index=e.index, dtype=object)
    if ls is None or not len(ls):
        return out
    l2 = pd.DataFrame({"_pid": _ids(ls["lega_person_id"]), "_s": _dates(ls.get("lega_legal_status_start_date")),
                       "_e": _dates(ls.get("lega_legal_status_end_date", pd.Series([None] * len(ls), index=ls.index))),
                       "v": ls.get("lega_legal_status")}).dropna(subset=["_pid", "_s"]).sort_values("_s", kind="stable")
    by: dict[Any, list] = {}
    for r in l2.itertuples(index=False):
        by.setdefault(r._0, []).append((r._1, r._2, r.v))
    vals = []
    for p, s in zip(e["_pid"], e["_s"]):
        got = None
        for st, en, v in by.get(p, []):
            if st <= s and (pd.isna(en) or en > s or en == st == s):
                got = v
        vals.append(got)
    return pd.Series(vals, index=e.index, dtype=object)


def _home_post(ctx: _Ctx, e: pd.DataFrame) -> pd.Series:
    ad = ctx.t.get("ssd_address")
    out = pd.Series([None] * len(e), index=e.index, dtype=object)
    if ad is None or not len(ad):
        return out
    a = pd.DataFrame({"p": _ids(ad["addr_person_id"]), "s": _dates(ad.get("addr_address_start_date")),
                      "e": _dates(ad.get("addr_address_end_date", pd.Series([None] * len(ad), index=ad.index))),
                      "v": ad.get("addr_address_postcode")}).dropna(subset=["p", "s"]).sort_values("s", kind="stable")
    by: dict[Any, list] = {}
    for r in a.itertuples(index=False):
        by.setdefault(r.p, []).append((r.s, r.e, r.v))
    vals = []
    for p, s in zip(e["_pid"], e["_s"]):
        got = None
        for st, en, v in by.get(p, []):
            if st <= s and (pd.isna(en) or en > s):
                got = v
        vals.append(got)
    return pd.Series(vals, index=e.index, dtype=object)


def _oc2(ctx: _Ctx, flats: dict[str, pd.DataFrame], e: pd.DataFrame, people: pd.DataFrame, pchild: dict) -> None:
    """Children looked after continuously for 12 months at 31 March, and their outcome items."""
    if "Episodes" not in flats or not len(e):
        return
    ep = flats["Episodes"]
    cs, ce = ctx.cs, ctx.ce
    decom = pd.to_datetime(ep["DECOM"], format=ctx.spec.date_format, errors="coerce")
    dec = pd.to_datetime(ep["DEC"], format=ctx.spec.date_format, errors="coerce")
    brk = ((ep["RNE"] == "S") & (decom > cs) & (decom <= ce)) | (ep["REC"].fillna("X1").ne("X1") & dec.notna() & (dec >= cs) & (dec < ce)) \
        | ep["LS"].isin(["V3", "V4"])
    bad = set(ep["@child"][brk.fillna(False).astype(bool)])
    oc = [c for c in dict.fromkeys(ep["@child"]) if c not in bad]
    if not oc:
        flats["OC2"] = pd.DataFrame(columns=["_source", "@child", "CHILD"])
        return
    cid = {v: k for k, v in pchild.items()}
    p = people.set_index("_child")
    pids = [cid.get(c) for c in oc]
    dob = [parse_date(p["pers_dob"].get(c)) if "pers_dob" in p else None for c in oc]

    def age_at(d: Any, years: int) -> bool:
        return d is not None and dt.date(d.year + years, d.month, min(d.day, 28) if d.month == 2 and d.day == 29 else d.day) <= ce.date()

    def in_year(table: str, pid_col: str, date_col: str, where: Any = None) -> dict[Any, list[dict[str, Any]]]:
        df = ctx.t.get(table)
        out: dict[Any, list[dict[str, Any]]] = {}
        if df is None:
            return out
        d = _dates(df.get(date_col, pd.Series([None] * len(df), index=df.index)))
        for r, dd, pp in zip(df.to_dict("records"), d, _ids(df[pid_col]) if pid_col in df else [None] * len(df)):
            if pd.isna(dd) or dd < cs or dd > ce or (where is not None and not where(r)):
                continue
            out.setdefault(pp, []).append({**r, "_d": dd})
        return out

    sdq = in_year("ssd_sdq_scores", "csdq_person_id", "csdq_sdq_completed_date")
    conv = in_year("ssd_cla_convictions", "clac_person_id", "clac_cla_conviction_date")
    done = lambda r: is_blank(r.get("clah_health_check_status")) or ctx.is_cat("completed", r.get("clah_health_check_status"))  # noqa: E731
    ha = in_year("ssd_cla_health", "clah_person_id", "clah_health_check_date", lambda r: ctx.is_cat("health_assessment", r.get("clah_health_check_type")) and done(r))
    dental = in_year("ssd_cla_health", "clah_person_id", "clah_health_check_date", lambda r: ctx.is_cat("dental_check", r.get("clah_health_check_type")) and done(r))
    surv = in_year("ssd_cla_health", "clah_person_id", "clah_health_check_date", lambda r: ctx.is_cat("health_surveillance", r.get("clah_health_check_type")) and done(r))
    misuse = in_year("ssd_cla_substance_misuse", "clas_person_id", "clas_substance_misuse_date")
    imm: dict[Any, Any] = {}
    if ctx.has("ssd_cla_immunisations"):
        im = ctx.t["ssd_cla_immunisations"]
        d = _dates(im.get("clai_immunisations_status_date", pd.Series([None] * len(im), index=im.index)))
        im = im.assign(_d=d, _p=_ids(im["clai_person_id"])).sort_values("_d", kind="stable", na_position="first")
        imm = dict(zip(im["_p"], im["clai_immunisations_status"]))
    rows = []
    for c, pid, b in zip(oc, pids, dob):
        latest = max(sdq.get(pid, []), key=lambda r: r["_d"], default={})
        mis = misuse.get(pid, [])
        mrec = max(mis, key=lambda r: r["_d"], default={})
        rows.append({
            "_source": f"ssd_person:{pid}", "@child": c, "CHILD": c, "DOB": p["pers_dob"].get(c) if "pers_dob" in p else None,
            "SDQ_SCORE": latest.get("csdq_sdq_score"), "SDQ_REASON": latest.get("csdq_sdq_reason"),
            "CONVICTED": ("1" if conv.get(pid) else "0") if age_at(b, 10) else None,
            "HEALTH_CHECK": ("1" if surv.get(pid) else "0") if b is not None and not age_at(b, 5) else None,
            "IMMUNISATIONS": imm.get(pid, "0"),
            "TEETH_CHECK": "1" if dental.get(pid) else "0",
            "HEALTH_ASSESSMENT": "1" if ha.get(pid) else "0",
            "SUBSTANCE_MISUSE": "1" if mis else "0",
            "INTERVENTION_RECEIVED": mrec.get("clas_intervention_received") if mis else None,
            "INTERVENTION_OFFERED": mrec.get("clas_intervention_offered") if mis else None,
        })
    df = pd.DataFrame(rows)
    items = {f: (df[f], s) for f, s in (("DOB", "pers_dob"), ("SDQ_SCORE", "csdq_sdq_score"), ("SDQ_REASON", "csdq_sdq_reason"),
                                        ("CONVICTED", "ssd_cla_convictions"), ("HEALTH_CHECK", "ssd_cla_health"),
                                        ("IMMUNISATIONS", "clai_immunisations_status"), ("TEETH_CHECK", "ssd_cla_health"),
                                        ("HEALTH_ASSESSMENT", "ssd_cla_health"), ("SUBSTANCE_MISUSE", "ssd_cla_substance_misuse"),
                                        ("INTERVENTION_RECEIVED", "clas_intervention_received"),
                                        ("INTERVENTION_OFFERED", "clas_intervention_offered"))}
    out = _frame(ctx, "OC2", df, df["@child"], items)
    out["CHILD"] = df["CHILD"]
    flats["OC2"] = out


def _sw(ctx: _Ctx, flats: dict[str, pd.DataFrame], e: pd.DataFrame, person: pd.DataFrame, pchild: dict) -> None:
    ep = flats["Episodes"]
    open_end = ep["DEC"].isna() & ~ep["LS"].isin(["V3", "V4"])
    lac = set(ep["@child"][open_end])
    inv = ctx.t["ssd_involvements"]
    pid = _ids(inv.get("invo_person_id", pd.Series([None] * len(inv), index=inv.index)))
    c = pid.map(pchild)
    st, en = _dates(inv.get("invo_involvement_start_date")), _dates(inv.get("invo_involvement_end_date", pd.Series([None] * len(inv), index=inv.index)))
    sw_from = pd.Timestamp(ctx.spec.year - 2, 4, 1)
    role = inv.get("invo_professional_role_id")
    is_sw = role.map(lambda v: ctx.is_cat("social_worker", v)) if role is not None else True
    ok = c.isin(lac) & (st <= ctx.ce) & (en.isna() | (en >= sw_from)) & is_sw
    inv, c, st, en = inv[ok], c[ok], st[ok], en[ok]
    order = pd.DataFrame({"c": c, "s": st}).sort_values(["c", "s"], kind="stable").index
    inv, c, en = inv.loc[order], c.loc[order], en.loc[order]
    prof = ctx.t.get("ssd_professionals")
    swid = pd.Series([None] * len(inv), index=inv.index, dtype=object)
    if prof is not None:
        swid = _ids(inv["invo_professional_id"]).map(dict(zip(_ids(prof["prof_professional_id"]), prof.get("prof_social_worker_registration_no"))))
    pidx = {v: k for k, v in pchild.items()}
    dob = c.map(lambda x: person["pers_dob"].get(pidx.get(x)) if "pers_dob" in person else None)
    out = _frame(ctx, "SWEpisodes", inv, c, {
        "DOB": (dob, "pers_dob"), "SW_ID": (swid, "prof_social_worker_registration_no"),
        "SW_DECOM": (inv["invo_involvement_start_date"], "invo_involvement_start_date"),
        "SW_DEC": (inv.get("invo_involvement_end_date", pd.Series([None] * len(inv), index=inv.index)).where(~(en > ctx.ce), None), "invo_involvement_end_date"),
        "SW_REASON": (inv.get("invo_worker_change_reason", pd.Series([None] * len(inv), index=inv.index)), "invo_worker_change_reason")})
    out["CHILD"] = c
    flats["SWEpisodes"] = out
