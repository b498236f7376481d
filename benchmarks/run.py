"""Speed and memory benchmark: `make bench` or `python -m benchmarks.run [--sizes 1000,10000,100000]`.

For each size it generates (once, cached under benchmarks/data/) a synthetic CIN census and
SSDA903 return with last year's, then measures in a fresh subprocess per step, so that peak memory
is that step's alone:
  - load: reading and coercing the files to canonical tables;
  - validate: the whole `validate` run (load, Pandera, every rule, GX suites, with --previous);
  - validate-nogx: the same without the Great Expectations suites (`--no-gx`), so the difference
    is what GX adds, its import included;
  - report: writing report.html, findings.json/csv for that run.
Wall time and peak resident memory (ru_maxrss) are printed as a table and written to
benchmarks/results/latest.json. Compare figures only between runs on the same machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
YEAR = 2026

STEP = r"""
import json, resource, sys, time
from pathlib import Path
step, ret, folder, out = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
t0 = time.perf_counter()
import pandas  # noqa: F401  (import cost is part of what a user waits for)
if ret == "cin":
    inputs, previous = sorted((folder / "cin").glob("*.xml")), sorted((folder / "cin_previous").glob("*.xml"))
else:
    inputs, previous = [folder / "ssda903"], [folder / "ssda903_previous"]
extra = {}
if step == "load":
    from csc_returns.returns.load import load
    l = load(inputs)
    extra = {"rows": sum(len(t) for t in l.tables.values()), "load_findings": len(l.findings)}
else:
    from csc_returns.returns.reference import reference_for
    from csc_returns.returns.run import validate
    # the generated set's LA (the generator's default, 999), made-up postcodes and Ofsted list, as `make demo`
    reference = reference_for("999", folder / "reference" / "postcodes.csv", [folder / "reference" / "ofsted.csv"])
    result, loaded = validate(inputs, previous=previous, gx=(step != "validate-nogx"), reference=reference)
    extra = {"findings": int(len(result.findings)),
             "errored": result.errored_rules(),
             "rules": len(result.outcomes),
             "skipped": sum(o.status == "skipped" for o in result.outcomes.values())}
    if step == "report":
        t1 = time.perf_counter()
        from csc_returns.reports.machine import write_csv, write_json
        from csc_returns.reports.html import write_report
        out.mkdir(parents=True, exist_ok=True)
        write_json(result, out / "findings.json"); write_csv(result, out / "findings.csv")
        write_report(result, out / "report.html")
        extra["report_seconds"] = round(time.perf_counter() - t1, 2)
        extra["report_mb"] = round((out / "report.html").stat().st_size / 1e6, 2)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux -> MiB
print(json.dumps({"seconds": round(time.perf_counter() - t0, 2), "peak_mib": round(peak), **extra}))
"""


def ensure_data(n: int) -> Path:
    folder = DATA / f"children_{n}"
    if (not (folder / "ssda903").exists() or not list((folder / "cin").glob("*.xml"))
            or not (folder / "reference" / "ofsted.csv").exists()):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "csc_returns.sample_data.generate", "--children", str(n),
                        "--year", str(YEAR), "--seed", "7", "--out", str(folder)], check=True)
        print(f"generated {n} children in {time.perf_counter() - t0:.1f}s", flush=True)
    return folder


def measure(step: str, ret: str, folder: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", STEP, step, ret, str(folder), str(folder / f"out_{ret}")],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000", help="numbers of CIN children, comma-separated")
    ap.add_argument("--returns", default="cin,ssda903")
    ap.add_argument("--steps", default="load,validate,validate-nogx,report")
    args = ap.parse_args(argv)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        folder = ensure_data(n)
        for ret in args.returns.split(","):
            for step in args.steps.split(","):
                r = {"children": n, "return": ret, "step": step, **measure(step, ret, folder)}
                rows.append(r)
                print(json.dumps(r), flush=True)
    RESULTS.mkdir(exist_ok=True)
    meta = {"python": sys.version.split()[0], "machine": platform.machine(), "cpus": __import__("os").cpu_count(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    (RESULTS / "latest.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"\n{'children':>9} {'return':8} {'step':9} {'seconds':>8} {'peak MiB':>9}  notes")
    for r in rows:
        notes = {k: v for k, v in r.items() if k not in ("children", "return", "step", "seconds", "peak_mib")}
        print(f"{r['children']:>9} {r['return']:8} {r['step']:9} {r.get('seconds', '-'):>8} {r.get('peak_mib', '-'):>9}  {notes}")
    return 1 if any("error" in r or r.get("errored") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
