"""Case-system extracts made from canonical tables: clean, messy, and Standard Safeguarding Dataset.

    from csc_returns.sample_data.generate import generate
    from csc_returns.sample_data import messy
    gs = generate(children=300, year=2026, seed=1)
    spec = resolve("cin", 2026)
    messy.write_clean("cin", gs.cin, spec, "out/clean")           # one CSV per DfE table, DfE names
    messy.write_messy("cin", gs.cin, spec, "out/messy", seed=1)    # XLSX + CSV, messy in every way
    messy.write_ssd(gs.cin, gs.ssda903, 2026, "out/ssd")           # SSD tables (ssd_person.csv, ...)

Each variant holds exactly the data of the canonical tables, so building a return from any of them
must give the same return (tests/test_extracts*.py). The messy variant does everything a case-system
export does to a spreadsheet: any sheet names, title rows above the header, a merged group row,
a header cell merged with the one above it, trailing empty rows and columns, header names in other
cases and spacings and as synonyms, codes as labels ("Female", "White - British", "f"), yes/no
words, dates as dd/mm/yyyy, yyyy-mm-dd, dd-Mon-yyyy, Excel serials and Excel date cells, numbers
as Excel numbers, several values in one cell, a parent's items repeated on its children's rows,
record IDs instead of key dates, Windows-1252 CSV. python -m csc_returns.sample_data.messy --help.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
from pathlib import Path
from typing import Any

import pandas as pd

from csc_returns.returns.spec import Spec, resolve
from csc_returns.returns.writers import table_to_csv_frame

NATURAL_KEYS = {
    "Child": "LAchildID", "CINdetails": "CINreferralDate", "Assessments": "AssessmentActualStartDate",
    "CINPlanDates": "CINPlanStartDate", "Section47": "S47ActualStartDate",
    "ChildProtectionPlans": "CPPstartDate", "PreProceedingsandFGDM": "PPStartDate",
}
ID_HEADERS = {"CINdetails": "Referral ID", "Assessments": "Assessment ID", "ChildProtectionPlans": "CP Plan ID",
              "Section47": "S47 ID", "CINPlanDates": "CIN Plan ID", "PreProceedingsandFGDM": "PLO ID"}


# ============================================================================ clean extracts
def _text(spec: Spec, name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A canonical table as DfE text (the return's date format, 1/0), keys and child id kept."""
    t = spec.tables[name]
    df = df.sort_values("_row", kind="stable").reset_index(drop=True) if "_row" in df else df
    out = table_to_csv_frame(df, t, spec.date_format)
    for c in df.columns:
        if c.startswith("_") and c not in ("_row", "_source"):
            out[c] = df[c].to_numpy()
    if t.child_field not in out and t.child_field in df:
        out[t.child_field] = df[t.child_field].astype("string").to_numpy()
    return out


def _chain(spec: Spec, name: str) -> list[str]:
    chain, cur = [], spec.tables[name].parent
    while cur:
        chain.insert(0, cur)
        cur = spec.tables[cur].parent
    return chain


def extract_tables(return_: str, tables: dict[str, pd.DataFrame], spec: Spec, ids: bool = False) -> dict[str, pd.DataFrame]:
    """Flat text tables, one per DfE table, DfE names. CIN tables carry LAchildID and their
    ancestors' key items (CINreferralDate, ...), or record IDs when `ids`."""
    if return_ == "ssda903":
        return {n: _text(spec, n, tables[n])[spec.tables[n].field_names] for n in spec.tables if n in tables}
    text = {n: _text(spec, n, tables[n]) for n in spec.tables if n in tables}
    out: dict[str, pd.DataFrame] = {}
    for name, df in text.items():
        if name == "Header":
            continue
        t = spec.tables[name]
        cols: dict[str, Any] = {}
        if name != "Child":
            cols["LAchildID"] = df["LAchildID"]
        for anc in _chain(spec, name):
            if anc == "Child":
                continue
            pk = spec.tables[anc].key
            if ids:
                cols[ID_HEADERS[anc]] = df[pk].map(lambda v, a=anc: f"{a[:3].upper()}{v}")
            else:
                nk = NATURAL_KEYS[anc]
                look = text[anc].set_index(pk)[nk]
                cols[nk] = df[pk].map(look)
        if ids and t.key and name in ID_HEADERS:
            cols[ID_HEADERS[name]] = df[t.key].map(lambda v, a=name: f"{a[:3].upper()}{v}")
        for f in t.field_names:
            cols[f] = df[f]
        out[name] = pd.DataFrame(cols).astype("string")
    return out


def write_clean(return_: str, tables: dict[str, pd.DataFrame], spec: Spec, folder: str | Path,
                fmt: str = "csv") -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    flat = extract_tables(return_, tables, spec)
    if fmt == "xlsx":
        path = folder / f"{return_}_extract.xlsx"
        _write_xlsx_plain(path, {n: df for n, df in flat.items()})
        return [path]
    paths = []
    for name, df in flat.items():
        p = folder / f"{name.lower()}.csv"
        df.to_csv(p, index=False, lineterminator="\n")
        paths.append(p)
    return paths


def _write_xlsx_plain(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """Fast, plain XLSX (text cells) with openpyxl's write-only mode."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for name, df in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        ws.append(list(df.columns))
        for row in df.itertuples(index=False, name=None):
            ws.append([None if (v is None or v is pd.NA or (isinstance(v, float) and v != v)) else v for v in row])
    wb.save(path)


# ============================================================================ messy extracts
class _Mess:
    """Seeded choices of how to spell a header, a code, a date."""

    def __init__(self, spec: Spec, seed: int) -> None:
        from csc_returns.returns.extracts_match import synonyms

        self.spec = spec
        self.rng = random.Random(seed)
        self.syn = synonyms()

    def header(self, table: str, field: str) -> str:
        pool = [field, _spaced(field), _spaced(field).lower(), _spaced(field).upper().replace(" ", "_")]
        for key, names in (self.syn.get("headers", {}).get(self.spec.return_, {}) or {}).items():
            t, f = key.split(".", 1)
            if f == field and t in (table, "*"):
                pool += [n for n in names if not n.startswith(("pers_", "cine_", "cina_", "cinf_", "cinp_", "s47e_", "icpc_",
                                                              "cppl_", "cppr_", "clae_", "clap_", "clar_", "clea_", "lapp_",
                                                              "miss_", "perm_", "prep_", "prof_", "invo_", "immi_", "csdq_",
                                                              "clai_", "clas_", "moth_", "lega_", "disa_"))]
        return self.rng.choice(pool)

    def code(self, value: str, codes: dict[str, str]) -> str:
        label = codes.get(value)
        pool = [value, value.lower()]
        if label:
            pool += [label, label.upper(), f"{value} - {label}", label.replace(" ", " - ", 1)]
        return self.rng.choice(pool)

    def boolean(self, value: str, excel: bool) -> Any:
        yes = value == "1"
        pool: list[Any] = ["Yes" if yes else "No", "Y" if yes else "N", "TRUE" if yes else "FALSE", value]
        if excel:
            pool.append(yes)
        return self.rng.choice(pool)

    def date(self, text: str, fmt: str, excel: bool) -> Any:
        d = dt.datetime.strptime(text, fmt).date()
        pool: list[Any] = [d.strftime("%d/%m/%Y"), d.isoformat(), d.strftime("%d-%b-%Y"),
                           d.isoformat() + " 00:00:00", str((d - dt.date(1899, 12, 30)).days)]
        if excel:
            pool += [dt.datetime(d.year, d.month, d.day), dt.datetime(d.year, d.month, d.day),
                     (d - dt.date(1899, 12, 30)).days]
        return self.rng.choice(pool)

    def cell(self, table: str, field: str, value: Any, excel: bool) -> Any:
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return None
        f = self.spec.tables[table].field(field)
        v = str(value)
        if f.type == "date":
            return self.date(v, self.spec.date_format, excel)
        if f.type == "bool":
            return self.boolean(v, excel)
        if f.type == "int":
            return float(v) if excel and self.rng.random() < 0.7 else v
        if f.type == "code" and f.codeset:
            out = self.code(v, self.spec.codes(f.codeset))
            if excel and re.fullmatch(r"\d+", out) and self.rng.random() < 0.5:
                return int(out)  # a numeric code typed into Excel is a number
            return out
        if f.type == "string" and excel and re.fullmatch(r"[1-9]\d{0,5}", v) and self.rng.random() < 0.5:
            return int(v)  # e.g. LA_PERM 201 as a number
        return v


def _spaced(name: str) -> str:
    s = re.sub(r"(?<=[a-z])(?=[A-Z])|_", " ", name)
    return re.sub(r"\s+", " ", s).strip()


def messy_sheets(return_: str, tables: dict[str, pd.DataFrame], spec: Spec, seed: int = 0
                 ) -> list[tuple[str, list[str], list[list[Any]], dict[str, Any]]]:
    """The messy variant as sheets: (sheet name, header row, data rows of cell values, options)."""
    mess = _Mess(spec, seed)
    ids = return_ == "cin"
    flat = extract_tables(return_, tables, spec, ids=ids)
    out = []
    if return_ == "cin":
        # children and their referrals on one sheet, disabilities as one cell
        child = flat["Child"]
        dis = flat.get("Disabilities")
        dis_map = dis.groupby("LAchildID", sort=False)["Disability"].agg(lambda s: ", ".join(s.dropna())) if dis is not None and len(dis) else pd.Series(dtype="string")
        child = child.assign(Disability=child["LAchildID"].map(dis_map))
        ep = flat["CINdetails"]
        both = child.merge(ep, on="LAchildID", how="left", sort=False)
        plan = [("Child", c) for c in spec.tables["Child"].field_names] + [("Disabilities", "Disability"), ("CINdetails", "Referral ID")] + \
               [("CINdetails", c) for c in spec.tables["CINdetails"].field_names]
        out.append(_sheet(mess, "Kids & referrals", both, plan, seed))
        for name in ("Assessments", "CINPlanDates", "Section47", "ChildProtectionPlans", "PreProceedingsandFGDM"):
            if name not in flat:
                continue
            df = flat[name]
            plan = [("Child", "LAchildID"), ("CINdetails", "Referral ID")]
            if name in ID_HEADERS:
                plan.append((name, ID_HEADERS[name]))
            plan += [(name, c) for c in spec.tables[name].field_names]
            if name == "Assessments" and "AssessmentFactors" in flat:
                fac = flat["AssessmentFactors"]
                m = fac.groupby("Assessment ID", sort=False)["AssessmentFactors"].agg(lambda s: json.dumps(list(s.dropna())) if mess.rng.random() < 0.3 else "; ".join(s.dropna()))
                df = df.assign(AssessmentFactors=df["Assessment ID"].map(m))
                plan.append(("AssessmentFactors", "AssessmentFactors"))
            if name == "ChildProtectionPlans" and "Reviews" in flat:
                rv = flat["Reviews"]
                m = rv.groupby("CP Plan ID", sort=False)["CPPreviewDate"].agg(lambda s: list(s.dropna()))
                df = df.assign(CPPreviewDate=df["CP Plan ID"].map(m))
                plan.append(("Reviews", "CPPreviewDate"))
            out.append(_sheet(mess, {"Assessments": "Assessments export", "CINPlanDates": "CIN plans",
                                     "Section47": "S47", "ChildProtectionPlans": "cp_plans",
                                     "PreProceedingsandFGDM": "PLO"}[name], df, plan, seed + len(out)))
    else:
        names = {"Header": "Children", "Episodes": "CLA episodes", "Reviews": "LAC reviews", "UASC": "Sheet4",
                 "OC2": "Outcomes 12m", "OC3": "Care leavers", "AD1": "Adoptions", "PlacedAdoption": "Placed for adoption",
                 "PrevPerm": "Previous permanence", "Missing": "Missing episodes", "SWEpisodes": "Social workers",
                 "DoLo": "DoLO"}
        for i, (name, df) in enumerate(flat.items()):
            plan = [(name, c) for c in spec.tables[name].field_names]
            out.append(_sheet(mess, names.get(name, name), df, plan, seed + i))
    return out


def _sheet(mess: _Mess, title: str, df: pd.DataFrame, plan: list[tuple[str, str]], seed: int
           ) -> tuple[str, list[str], list[list[Any]], dict[str, Any]]:
    header = []
    for table, col in plan:
        if col in ID_HEADERS.values():
            header.append(mess.rng.choice([col, col.lower(), col.upper().replace(" ", "_")]))
        elif col == "Referral ID" or col.endswith(" ID"):
            header.append(col)
        else:
            header.append(mess.header(table, col))
    cols = [df[c].tolist() if c in df else [None] * len(df) for _, c in plan]
    return title, header, [list(r) for r in zip(*cols)], {"plan": plan, "seed": seed}


def _render(mess: _Mess, plan: list[tuple[str, str]], rows: list[list[Any]], excel: bool) -> list[list[Any]]:
    out = []
    for r in rows:
        cells = []
        for (table, col), v in zip(plan, r):
            if col.endswith(" ID") or (col == "LAchildID") or (col == "CHILD"):
                cells.append(None if v is None or v is pd.NA else str(v))
            elif isinstance(v, list):
                cells.append("; ".join(str(mess.cell(table, col, x, False)) for x in v) if v else None)
            elif table in ("Disabilities", "AssessmentFactors") and isinstance(v, str) and (", " in v or "; " in v or v.startswith("[")):
                cells.append(v)
            else:
                cells.append(mess.cell(table, col, v, excel))
        out.append(cells)
    return out


def write_messy(return_: str, tables: dict[str, pd.DataFrame], spec: Spec, folder: str | Path, seed: int = 0) -> list[Path]:
    """One XLSX workbook (most tables) and one Windows-1252 CSV, messy in every way listed above."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mess = _Mess(spec, seed)
    sheets = messy_sheets(return_, tables, spec, seed)
    csv_sheet = sheets[-1] if len(sheets) > 1 else None
    wb = Workbook()
    wb.remove(wb.active)
    for title, header, rows, opts in sheets:
        if csv_sheet is not None and title == csv_sheet[0]:
            continue
        ws = wb.create_sheet(title=title[:31])
        ws.append([f"{return_.upper()} extract - {title}"])
        ws.append(["Run by: data team", None, f"Printed {dt.date(2026, 5, 1):%d/%m/%Y}"])
        ws.append([])
        # a group row with merged cells, and one header cell merged with the group cell above it
        n = len(header)
        group = ["Identifiers"] + [None] * (n - 1)
        if n > 3:
            group[2] = "Details"
        ws.append(group)
        g = ws.max_row
        if n > 3:
            ws.merge_cells(start_row=g, start_column=1, end_row=g, end_column=2)
            ws.merge_cells(start_row=g, start_column=3, end_row=g, end_column=n - 1)
        hdr = list(header) + [None, None]  # trailing empty columns
        ws.append(hdr)
        h = ws.max_row
        for c in range(1, n + 1):
            ws.cell(row=h, column=c).font = Font(bold=True)
        # the last column's name sits in the group row, merged down over the header cell
        ws.cell(row=g, column=n, value=header[-1])
        ws.cell(row=h, column=n, value=None)
        ws.merge_cells(start_row=g, start_column=n, end_row=h, end_column=n)
        for r in _render(mess, opts["plan"], rows, excel=True):
            ws.append(r)
        for _ in range(3):  # trailing empty rows, one with a formatted but empty cell
            ws.append([None] * n)
        ws.cell(row=ws.max_row, column=2).number_format = "dd/mm/yyyy"
        ws.cell(row=ws.max_row, column=2, value="  ")
    path = folder / f"{return_}_export.xlsx"
    wb.save(path)
    paths = [path]
    if csv_sheet is not None:
        title, header, rows, opts = csv_sheet
        lines = [f"{title} report,,", "", ",".join(_csv_quote(h) for h in header) + ",,"]
        for r in _render(mess, opts["plan"], rows, excel=False):
            lines.append(",".join(_csv_quote("" if v is None else str(v)) for v in r) + ",,")
        lines += [",,,", ""]
        p = folder / f"{re.sub(r'[^A-Za-z0-9]+', '_', title).strip('_').lower()}.csv"
        p.write_bytes("\r\n".join(lines).encode("cp1252", errors="replace"))
        paths.append(p)
    return paths


def _csv_quote(v: str) -> str:
    return '"' + v.replace('"', '""') + '"' if any(ch in v for ch in ',"\n\r') else v


def main(argv: list[str] | None = None) -> int:
    from csc_returns.sample_data.generate import generate

    ap = argparse.ArgumentParser(description="Write clean, messy and SSD extracts of a synthetic return.")
    ap.add_argument("--children", type=int, default=300)
    ap.add_argument("--year", type=int, default=2026)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    gs = generate(children=args.children, year=args.year, seed=args.seed)
    for ret, tables in (("cin", gs.cin), ("ssda903", gs.ssda903)):
        spec = resolve(ret, args.year)
        write_clean(ret, tables, spec, args.out / ret / "clean")
        write_messy(ret, tables, spec, args.out / ret / "messy", seed=args.seed)
    write_ssd(gs.cin, gs.ssda903, args.year, args.out / "ssd")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# ============================================================================ SSD tables
def ssd_tables(cin: dict[str, pd.DataFrame], s903: dict[str, pd.DataFrame], year: int) -> dict[str, pd.DataFrame]:
    """Standard Safeguarding Dataset tables holding exactly the data of a CIN census and an SSDA903
    return of one year (specs/ssd/mapping.yaml read backwards), plus the history the SSD would hold
    that the returns leave out: earlier CP plans (so NumberOfPreviousCPP can be counted) on CIN
    episodes closed before the year. Dates as SQL Server prints them (yyyy-mm-dd hh:mm:ss)."""
    cs = pd.Timestamp(year - 1, 4, 1)

    def d(v: Any) -> Any:
        return None if v is None or v is pd.NA or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d 00:00:00")

    def yn(v: Any) -> Any:
        return None if v is None or v is pd.NA or pd.isna(v) else ("Y" if bool(v) else "N")

    def s(v: Any) -> Any:
        return None if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) else str(v)

    ch = cin["Child"].sort_values("_row")
    hd = s903["Header"].sort_values("_row")
    people: dict[str, dict[str, Any]] = {}
    for r in ch.to_dict("records"):
        people[r["LAchildID"]] = {"pers_person_id": r["LAchildID"], "pers_legacy_id": "L" + r["LAchildID"],
                                  "pers_sex": s(r.get("Sex")), "pers_gender": s(r.get("GenderCurrent")),
                                  "pers_ethnicity": s(r["Ethnicity"]), "pers_dob": d(r["PersonBirthDate"]),
                                  "pers_upn": s(r["UPN"]), "pers_upn_unknown": s(r["UPNunknown"]),
                                  "pers_expected_dob": d(r["ExpectedPersonBirthDate"]), "pers_death_date": d(r["PersonDeathDate"]),
                                  "pers_is_mother": None}
    for r in hd.to_dict("records"):
        p = people.setdefault(r["CHILD"], {"pers_person_id": r["CHILD"], "pers_legacy_id": "L" + r["CHILD"]})
        upn = s(r["UPN"])
        p.setdefault("pers_sex", s(r["SEX"]))
        p.setdefault("pers_ethnicity", s(r["ETHNIC"]))
        p.setdefault("pers_dob", d(r["DOB"]))
        if upn and upn.upper().startswith("UN") and len(upn) <= 4:
            if not p.get("pers_upn"):
                p["pers_upn_unknown"] = upn
        elif upn:
            p["pers_upn"] = upn
        p["pers_is_mother"] = yn(r["MOTHER"])
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "ssd_person", "ssd_linked_identifiers", "ssd_disability", "ssd_cin_episodes", "ssd_cin_assessments",
        "ssd_assessment_factors", "ssd_cin_plans", "ssd_s47_enquiry", "ssd_initial_cp_conference", "ssd_cp_plans",
        "ssd_cp_reviews", "ssd_mother", "ssd_cla_episodes", "ssd_cla_placement", "ssd_legal_status", "ssd_address",
        "ssd_cla_reviews", "ssd_immigration_status", "ssd_sdq_scores", "ssd_cla_convictions", "ssd_cla_health",
        "ssd_cla_immunisations", "ssd_cla_substance_misuse", "ssd_care_leavers", "ssd_permanence",
        "ssd_cla_previous_permanence", "ssd_missing", "ssd_professionals", "ssd_involvements")}
    out["ssd_person"] = list(people.values())
    for r in ch.to_dict("records"):
        if s(r.get("FormerUPN")):
            out["ssd_linked_identifiers"].append({"link_table_id": f"LI{r['_child']}", "link_person_id": r["LAchildID"],
                                                  "link_identifier_type": "Former Unique Pupil Number",
                                                  "link_identifier_value": r["FormerUPN"], "link_valid_from_date": None})
    for r in cin["Disabilities"].sort_values("_row").to_dict("records"):
        out["ssd_disability"].append({"disa_table_id": f"D{r['_row']}", "disa_person_id": r["LAchildID"],
                                      "disa_disability_code": r["Disability"]})
    for r in cin["CINdetails"].sort_values("_row").to_dict("records"):
        rid = f"R{r['_episode']}"
        out["ssd_cin_episodes"].append({
            "cine_referral_id": rid, "cine_person_id": r["LAchildID"], "cine_referral_date": d(r["CINreferralDate"]),
            "cine_cin_primary_need_code": s(r["PrimaryNeedCode"]), "cine_referral_source_code": s(r["ReferralSource"]),
            "cine_referral_nfa": yn(r["ReferralNFA"]), "cine_close_reason": s(r["ReasonForClosure"]),
            "cine_close_date": d(r["CINclosureDate"])})
        if pd.notna(r["DateOfInitialCPC"]):
            out["ssd_initial_cp_conference"].append({"icpc_icpc_id": f"IR{r['_episode']}", "icpc_referral_id": rid,
                                                     "icpc_s47_enquiry_id": None, "icpc_person_id": r["LAchildID"],
                                                     "icpc_icpc_date": d(r["DateOfInitialCPC"])})
    for r in cin["Assessments"].sort_values("_row").to_dict("records"):
        out["ssd_cin_assessments"].append({"cina_assessment_id": f"A{r['_assessment']}", "cina_person_id": r["LAchildID"],
                                           "cina_referral_id": f"R{r['_episode']}",
                                           "cina_assessment_start_date": d(r["AssessmentActualStartDate"]),
                                           "cina_assessment_auth_date": d(r["AssessmentAuthorisationDate"])})
    fac = cin["AssessmentFactors"].sort_values("_row")
    for a, g in fac.groupby("_assessment", sort=False):
        out["ssd_assessment_factors"].append({"cinf_table_id": f"F{a}", "cinf_assessment_id": f"A{a}",
                                              "cinf_assessment_factors_json": json.dumps(list(g["AssessmentFactors"].dropna()))})
    for r in cin["CINPlanDates"].sort_values("_row").to_dict("records"):
        out["ssd_cin_plans"].append({"cinp_cin_plan_id": f"P{r['_plan']}", "cinp_referral_id": f"R{r['_episode']}",
                                     "cinp_person_id": r["LAchildID"], "cinp_cin_plan_start_date": d(r["CINPlanStartDate"]),
                                     "cinp_cin_plan_end_date": d(r["CINPlanEndDate"])})
    for r in cin["Section47"].sort_values("_row").to_dict("records"):
        sid = f"S{r['_s47']}"
        flag = None if pd.isna(r["ICPCnotRequired"]) else ("N" if r["ICPCnotRequired"] else "Y")
        out["ssd_s47_enquiry"].append({"s47e_s47_enquiry_id": sid, "s47e_referral_id": f"R{r['_episode']}",
                                       "s47e_person_id": r["LAchildID"], "s47e_s47_start_date": d(r["S47ActualStartDate"]),
                                       "s47e_s47_outcome_json": None if flag is None else json.dumps({"CP_CONFERENCE_FLAG": flag})})
        if pd.notna(r["InitialCPCtarget"]) or pd.notna(r["DateOfInitialCPC"]):
            out["ssd_initial_cp_conference"].append({"icpc_icpc_id": f"I{r['_s47']}", "icpc_s47_enquiry_id": sid,
                                                     "icpc_referral_id": f"R{r['_episode']}", "icpc_person_id": r["LAchildID"],
                                                     "icpc_icpc_target_date": d(r["InitialCPCtarget"]),
                                                     "icpc_icpc_date": d(r["DateOfInitialCPC"])})
    cpp = cin["ChildProtectionPlans"].sort_values("_row")
    local = False
    history: list[dict[str, Any]] = []
    for child, g in cpp.sort_values(["LAchildID", "CPPstartDate"], kind="stable").groupby("LAchildID", sort=False):
        n = g["NumberOfPreviousCPP"].astype(int).tolist()
        h = n[0]
        if any(v != h + i for i, v in enumerate(n)) or h < 0:
            local = True
            continue
        base = min(cs, g["CPPstartDate"].min())
        for j in range(h):
            ref = base - pd.Timedelta(days=800 * (j + 1))
            hid = f"H{child}-{j}"
            history.append({"ref": {"cine_referral_id": hid, "cine_person_id": child, "cine_referral_date": d(ref),
                                    "cine_referral_source_code": "6", "cine_cin_primary_need_code": "N1",
                                    "cine_referral_nfa": "N", "cine_close_reason": "RC7",
                                    "cine_close_date": d(ref + pd.Timedelta(days=300))},
                            "plan": {"cppl_cp_plan_id": "CP" + hid, "cppl_referral_id": hid, "cppl_person_id": child,
                                     "cppl_cp_plan_start_date": d(ref + pd.Timedelta(days=10)),
                                     "cppl_cp_plan_end_date": d(ref + pd.Timedelta(days=200)),
                                     "cppl_cp_plan_initial_category": "Neglect", "cppl_cp_plan_latest_category": "Neglect"}})
    for r in cpp.to_dict("records"):
        row = {"cppl_cp_plan_id": f"CP{r['_cpp']}", "cppl_referral_id": f"R{r['_episode']}", "cppl_person_id": r["LAchildID"],
               "cppl_cp_plan_start_date": d(r["CPPstartDate"]), "cppl_cp_plan_end_date": d(r["CPPendDate"]),
               "cppl_cp_plan_initial_category": s(r["InitialCategoryOfAbuse"]),
               "cppl_cp_plan_latest_category": s(r["LatestCategoryOfAbuse"])}
        if local:
            row["cppl_number_of_previous_cpp"] = s(r["NumberOfPreviousCPP"])
        out["ssd_cp_plans"].append(row)
    if not local:
        out["ssd_cin_episodes"] += [x["ref"] for x in history]
        out["ssd_cp_plans"] += [x["plan"] for x in history]
    for r in cin["Reviews"].sort_values("_row").to_dict("records"):
        out["ssd_cp_reviews"].append({"cppr_cp_review_id": f"CR{r['_row']}", "cppr_cp_plan_id": f"CP{r['_cpp']}",
                                      "cppr_person_id": r["LAchildID"], "cppr_cp_review_date": d(r["CPPreviewDate"])})
    # ---------------------------------------------------------------- SSDA903
    for r in hd.to_dict("records"):
        if pd.notna(r["MC_DOB"]):
            out["ssd_mother"].append({"moth_table_id": f"M{r['_row']}", "moth_person_id": r["CHILD"],
                                      "moth_childs_person_id": f"MC{r['_row']}", "moth_childs_dob": d(r["MC_DOB"])})
    ep = s903["Episodes"].sort_values("_row").reset_index(drop=True)
    place = None
    cla_n = 0
    ls_open: dict[str, dict[str, Any]] = {}
    for i, r in enumerate(ep.to_dict("records")):
        if r["RNE"] == "S" or i == 0 or ep.loc[i - 1, "CHILD"] != r["CHILD"]:
            cla_n += 1
        same_place = (place is not None and place["clap_person_id"] == r["CHILD"] and r["RNE"] == "L"
                      and place["_key"] == (r["PLACE"], r["PLACE_PROVIDER"], r["PL_POST"], r["URN"]) and place["_open"])
        if not same_place:
            place = {"clap_cla_placement_id": f"PL{i + 1}", "clap_cla_id": f"CLA{cla_n}", "clap_person_id": r["CHILD"],
                     "clap_cla_placement_start_date": d(r["DECOM"]), "clap_cla_placement_type": s(r["PLACE"]),
                     "clap_cla_placement_urn": s(r["URN"]), "clap_cla_placement_provider": s(r["PLACE_PROVIDER"]),
                     "clap_cla_placement_postcode": s(r["PL_POST"]),
                     "_key": (r["PLACE"], r["PLACE_PROVIDER"], r["PL_POST"], r["URN"]), "_open": True}
            out["ssd_cla_placement"].append(place)
        place["clap_cla_placement_end_date"] = d(r["DEC"])
        place["clap_cla_placement_change_reason"] = s(r["REASON_PLACE_CHANGE"])
        place["_open"] = pd.notna(r["DEC"]) and not pd.notna(r["REASON_PLACE_CHANGE"])
        out["ssd_cla_episodes"].append({
            "clae_cla_episode_id": f"E{i + 1}", "clae_person_id": r["CHILD"], "clae_cla_placement_id": place["clap_cla_placement_id"],
            "clae_cla_episode_start_date": d(r["DECOM"]), "clae_cla_episode_start_reason": s(r["RNE"]),
            "clae_cla_primary_need_code": s(r["CIN"]), "clae_cla_episode_ceased_date": d(r["DEC"]),
            "clae_cla_episode_ceased_reason": s(r["REC"]), "clae_cla_id": f"CLA{cla_n}"})
        lo = ls_open.get(r["CHILD"])
        if lo is not None and lo["lega_legal_status"] == r["LS"] and lo["lega_legal_status_end_date"] == d(r["DECOM"]):
            lo["lega_legal_status_end_date"] = d(r["DEC"])
        else:
            lo = {"lega_legal_status_id": f"LS{i + 1}", "lega_person_id": r["CHILD"], "lega_legal_status": s(r["LS"]),
                  "lega_legal_status_start_date": d(r["DECOM"]), "lega_legal_status_end_date": d(r["DEC"])}
            out["ssd_legal_status"].append(lo)
            ls_open[r["CHILD"]] = lo
        if pd.notna(r["HOME_POST"]):
            out["ssd_address"].append({"addr_table_id": f"AD{i + 1}", "addr_person_id": r["CHILD"], "addr_address_type": "Home",
                                       "addr_address_start_date": d(r["DECOM"]), "addr_address_end_date": d(r["DEC"]),
                                       "addr_address_postcode": s(r["HOME_POST"])})
    for p in out["ssd_cla_placement"]:
        p.pop("_key", None)
        p.pop("_open", None)
    first_cla = {e["clae_person_id"]: e["clae_cla_id"] for e in reversed(out["ssd_cla_episodes"])}
    for r in s903["Reviews"].sort_values("_row").to_dict("records"):
        out["ssd_cla_reviews"].append({"clar_cla_review_id": f"RV{r['_row']}", "clar_cla_id": first_cla.get(r["CHILD"]),
                                       "clar_cla_review_date": d(r["REVIEW"]), "clar_cla_review_cancelled": "N",
                                       "clar_cla_review_participation": s(r["REVIEW_CODE"])})
    for r in s903["UASC"].sort_values("_row").to_dict("records"):
        out["ssd_immigration_status"].append({"immi_immigration_status_id": f"UA{r['_row']}", "immi_person_id": r["CHILD"],
                                              "immi_immigration_status": "UASC", "immi_immigration_status_start_date": d(r["DOB"]),
                                              "immi_immigration_status_end_date": d(r["DUC"])})
    mid = cs + pd.Timedelta(days=100)
    for r in s903["OC2"].sort_values("_row").to_dict("records"):
        c = r["CHILD"]
        if pd.notna(r["SDQ_SCORE"]) or pd.notna(r["SDQ_REASON"]):
            out["ssd_sdq_scores"].append({"csdq_table_id": f"SDQ{r['_row']}", "csdq_person_id": c, "csdq_sdq_completed_date": d(mid),
                                          "csdq_sdq_score": s(r["SDQ_SCORE"]), "csdq_sdq_reason": s(r["SDQ_REASON"])})
        if r["CONVICTED"] is True:
            out["ssd_cla_convictions"].append({"clac_cla_conviction_id": f"CV{r['_row']}", "clac_person_id": c, "clac_cla_conviction_date": d(mid)})
        for item, kind in (("HEALTH_ASSESSMENT", "Health Assessment"), ("TEETH_CHECK", "Dental Check"), ("HEALTH_CHECK", "Health Surveillance Check")):
            if r[item] is True:
                out["ssd_cla_health"].append({"clah_health_check_id": f"H{item[:2]}{r['_row']}", "clah_person_id": c,
                                              "clah_health_check_type": kind, "clah_health_check_date": d(mid),
                                              "clah_health_check_status": "Completed"})
        out["ssd_cla_immunisations"].append({"clai_person_id": c, "clai_immunisations_status": yn(r["IMMUNISATIONS"]),
                                             "clai_immunisations_status_date": d(mid)})
        if r["SUBSTANCE_MISUSE"] is True:
            out["ssd_cla_substance_misuse"].append({"clas_substance_misuse_id": f"SM{r['_row']}", "clas_person_id": c,
                                                    "clas_substance_misuse_date": d(mid), "clas_substance_misused": "Cannabis",
                                                    "clas_intervention_received": yn(r["INTERVENTION_RECEIVED"]),
                                                    "clas_intervention_offered": yn(r["INTERVENTION_OFFERED"])})
    for r in s903["OC3"].sort_values("_row").to_dict("records"):
        acc = s(r["ACCOM"])
        out["ssd_care_leavers"].append({"clea_table_id": f"CL{r['_row']}", "clea_person_id": r["CHILD"],
                                        "clea_care_leaver_in_touch": s(r["IN_TOUCH"]), "clea_care_leaver_latest_contact": d(mid),
                                        "clea_care_leaver_accommodation": acc if not acc or acc == "0" else acc[0],
                                        "clea_care_leaver_accom_suitable": None if not acc or acc == "0" else acc[1:],
                                        "clea_care_leaver_activity": s(r["ACTIV"])})
    ad1 = {r["CHILD"]: r for r in s903["AD1"].to_dict("records")}
    adopted_on = {}
    for r in ep.to_dict("records"):
        if r["REC"] in ("E11", "E12") and pd.notna(r["DEC"]):
            adopted_on[r["CHILD"]] = r["DEC"]
    used = set()
    for r in s903["PlacedAdoption"].sort_values("_row").to_dict("records"):
        row = {"perm_table_id": f"PA{r['_row']}", "perm_person_id": r["CHILD"], "perm_adm_decision_date": d(r["DATE_PLACED"]),
               "perm_decision_reversed_date": d(r["DATE_PLACED_CEASED"]), "perm_decision_reversed_reason": s(r["REASON_PLACED_CEASED"])}
        a = ad1.get(r["CHILD"])
        if a is not None and r["CHILD"] not in used and a["DATE_INT"] == r["DATE_PLACED"]:
            used.add(r["CHILD"])
            row.update(_ad1_fields(a, d, yn, s, adopted_on.get(r["CHILD"], pd.Timestamp(year, 3, 31))))
        out["ssd_permanence"].append(row)
    for c, a in ad1.items():
        if c not in used:
            out["ssd_permanence"].append({"perm_table_id": f"AD{a['_row']}", "perm_person_id": c,
                                          **_ad1_fields(a, d, yn, s, adopted_on.get(c, pd.Timestamp(year, 3, 31)))})
    for r in s903["PrevPerm"].sort_values("_row").to_dict("records"):
        out["ssd_cla_previous_permanence"].append({"lapp_table_id": f"PP{r['_row']}", "lapp_person_id": r["CHILD"],
                                                   "lapp_previous_permanence_option": s(r["PREV_PERM"]),
                                                   "lapp_previous_permanence_la": s(r["LA_PERM"]),
                                                   "lapp_previous_permanence_order_date": s(r["DATE_PERM"])})
    for r in s903["Missing"].sort_values("_row").to_dict("records"):
        out["ssd_missing"].append({"miss_table_id": f"MS{r['_row']}", "miss_person_id": r["CHILD"],
                                   "miss_missing_episode_start_date": d(r["MIS_START"]),
                                   "miss_missing_episode_type": {"M": "Missing", "A": "Away"}.get(s(r["MISSING"]), s(r["MISSING"])),
                                   "miss_missing_episode_end_date": d(r["MIS_END"])})
    if "SWEpisodes" in s903:
        profs: dict[str, str] = {}
        for r in s903["SWEpisodes"].sort_values("_row").to_dict("records"):
            pid = profs.setdefault(r["SW_ID"], f"PR{len(profs) + 1}")
            out["ssd_involvements"].append({"invo_involvements_id": f"IV{r['_row']}", "invo_professional_id": pid,
                                            "invo_professional_role_id": "Social Worker", "invo_person_id": r["CHILD"],
                                            "invo_involvement_start_date": d(r["SW_DECOM"]), "invo_involvement_end_date": d(r["SW_DEC"]),
                                            "invo_worker_change_reason": s(r["SW_REASON"])})
        out["ssd_professionals"] = [{"prof_professional_id": v, "prof_staff_id": f"ST{v}", "prof_social_worker_registration_no": k}
                                    for k, v in profs.items()]
    from csc_returns.returns.extracts_ssd import ssd_spec

    frames = {}
    for name, rows in out.items():
        fields = [f["name"] if isinstance(f, dict) else f for f in ssd_spec()["tables"]["tables"][name]["fields"]]
        extra = [k for r in rows for k in r if k not in fields]
        cols = fields + [k for k in dict.fromkeys(extra)]
        frames[name] = pd.DataFrame(rows, columns=cols).dropna(axis=1, how="all") if rows else pd.DataFrame(columns=fields)
        frames[name] = frames[name][[c for c in cols if c in frames[name]]]
    return frames


def _ad1_fields(a: dict[str, Any], d: Any, yn: Any, s: Any, order_date: Any) -> dict[str, Any]:
    return {"perm_adm_decision_date": d(a["DATE_INT"]), "perm_matched_date": d(a["DATE_MATCH"]),
            "perm_adopted_by_carer_flag": yn(a["FOSTER_CARE"]), "perm_number_of_adopters": s(a["NB_ADOPTR"]),
            "perm_adopter_sex": s(a["SEX_ADOPTR"]), "perm_adopter_legal_status": s(a["LS_ADOPTR"]),
            "perm_permanence_order_type": "Adoption Order", "perm_permanence_order_date": d(order_date)}


def write_ssd(cin: dict[str, pd.DataFrame], s903: dict[str, pd.DataFrame], year: int, folder: str | Path) -> list[Path]:
    """One CSV per SSD table (ssd_person.csv, ...), as an SSD extract would be exported."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in ssd_tables(cin, s903, year).items():
        if df.empty and not len(df.columns):
            continue
        p = folder / f"{name}.csv"
        df.to_csv(p, index=False, lineterminator="\n")
        paths.append(p)
    return paths
