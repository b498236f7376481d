"""Extract benchmark: `python -m benchmarks.extracts [--rows 50000] [--messy]`.

Writes (once, cached under benchmarks/data/extracts/) one XLSX workbook holding an SSDA903
episodes table of ROWS rows (text IDs, Excel date cells, codes), made by repeating a synthetic
return's episodes with fresh child IDs, plus its header table; then, in a fresh subprocess so that
peak memory is the step's alone, measures:
  - read: python-calamine reading every sheet (cells only);
  - load: load_extracts (read, header matching, value recognition, coercion to canonical tables).
Wall time and peak resident memory (ru_maxrss) are printed and written to
benchmarks/results/extracts.json. Compare figures only between runs on the same machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "extracts"
RESULTS = HERE / "results"
YEAR = 2026

STEP = r"""
import json, resource, sys, time
from pathlib import Path
step, path = sys.argv[1], Path(sys.argv[2])
t0 = time.perf_counter()
extra = {}
if step == "read":
    from csc_returns.returns.extracts_read import read_sheets
    sheets = read_sheets(path)
    extra = {"cells": sum(len(r) for s in sheets for r in s.rows)}
else:
    from csc_returns.returns.extracts import load_extracts
    loaded, report = load_extracts([path], "ssda903", 2026)
    extra = {"episodes": len(loaded.tables["Episodes"]), "findings": len(loaded.findings),
             "columns": report.summary()}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": round(time.perf_counter() - t0, 2), "peak_mib": round(peak), **extra}))
"""


def make_workbook(rows: int, messy: bool) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"episodes_{rows}{'_messy' if messy else ''}.xlsx"
    if path.exists():
        return path
    import pandas as pd
    from openpyxl import Workbook

    from csc_returns.returns.spec import resolve
    from csc_returns.sample_data.generate import generate

    gs = generate(children=max(300, rows // 5), year=YEAR, seed=9)
    spec = resolve("ssda903", YEAR)
    ep, hd = gs.ssda903["Episodes"], gs.ssda903["Header"]
    reps = rows // max(len(ep), 1) + 1
    eps, hds = [], []
    for k in range(reps):
        e = ep.copy()
        h = hd.copy()
        e["CHILD"] = e["CHILD"].str.replace("SY", f"{k:02d}", regex=False)
        h["CHILD"] = h["CHILD"].str.replace("SY", f"{k:02d}", regex=False)
        eps.append(e)
        hds.append(h)
    ep = pd.concat(eps, ignore_index=True).head(rows)
    hd = pd.concat(hds, ignore_index=True)
    hd = hd[hd["CHILD"].isin(set(ep["CHILD"]))]
    wb = Workbook(write_only=True)
    for name, df in (("Children", hd), ("Episodes", ep)):
        t = spec.tables["Header" if name == "Children" else "Episodes"]
        ws = wb.create_sheet(name)
        if messy:
            ws.append([f"{name} extract, run {dt.date.today():%d/%m/%Y}"])
            ws.append([])
        ws.append([f.name.title().replace("_", " ") if messy else f.name for f in t.fields])
        cols = []
        for f in t.fields:
            c = df[f.name]
            if f.type == "date":
                cols.append([None if pd.isna(v) else v.to_pydatetime() for v in c])
            elif f.type == "bool":
                cols.append([None if pd.isna(v) else ("Yes" if v else "No") for v in c])
            else:
                cols.append([None if pd.isna(v) else str(v) for v in c])
        for r in zip(*cols):
            ws.append(list(r))
    wb.save(path)
    return path


def measure(step: str, path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", STEP, step, str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50000)
    ap.add_argument("--messy", action="store_true", help="title rows and spelled-out headers and yes/no words")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    path = make_workbook(args.rows, args.messy)
    print(f"workbook {path.name}: {path.stat().st_size / 1e6:.1f} MB (made or found in {time.perf_counter() - t0:.1f}s)", flush=True)
    rows = []
    for step in ("read", "load"):
        r = {"rows": args.rows, "step": step, **measure(step, path)}
        rows.append(r)
        print(json.dumps(r), flush=True)
    RESULTS.mkdir(exist_ok=True)
    meta = {"python": sys.version.split()[0], "machine": platform.machine(), "cpus": __import__("os").cpu_count(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S"), "workbook_mb": round(path.stat().st_size / 1e6, 1)}
    (RESULTS / "extracts.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
