"""Postcode-directory benchmark: `python -m benchmarks.postcodes [--episodes 90000]`.

The generated returns use made-up postcodes that a local file resolves, so `benchmarks.run` never
reads the national directory. This measures that cost on its own: the 903 placement fields
(PL_LA, PL_LOCATION, PL_DISTANCE) derived for EPISODES episodes whose home and placement postcodes
are real ones drawn from the bundled ONS Postcode Directory, in two shapes, each in a fresh process
(times include the imports; peak is ru_maxrss):
  - local: postcodes from three postcode areas' letters (an LA whose placements are mostly nearby);
  - national: postcodes from every letter (the worst case: every directory file is read).
The postcodes exist only in memory during the run. Results: benchmarks/results/postcodes.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

STEP = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import numpy as np, pandas as pd
from csc_returns.returns.postcodes import _read_letter, derive_placements, national
letters, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
pool = np.concatenate([rng.choice(np.asarray(_read_letter(l).index), size=n) for l in letters])
episodes = pd.DataFrame({"HOME_POST": pd.array(rng.choice(pool, size=n), dtype="string"),
                         "PL_POST": pd.array(rng.choice(pool, size=n), dtype="string")})
t1 = time.perf_counter()
out = derive_placements(episodes, national(), "330")
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds_total": round(t2 - t0, 2), "seconds_derive": round(t2 - t1, 2), "peak_mib": round(peak),
                  "found": float(out["PL_LA"].notna().mean())}))
"""

SHAPES = {"local": "BLW", "national": "ABCDEFGHIJKLMNOPRSTUWYZ"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.postcodes")
    ap.add_argument("--episodes", type=int, default=90_000)
    args = ap.parse_args(argv)
    rows = []
    for shape, letters in SHAPES.items():
        proc = subprocess.run([sys.executable, "-c", STEP, letters, str(args.episodes)], capture_output=True, text=True)
        result = (json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0
                  else {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"})
        row = {"shape": shape, "letters": len(letters), "episodes": args.episodes, **result}
        print(json.dumps(row), flush=True)
        rows.append(row)
    RESULTS.mkdir(exist_ok=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(),
            "when": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")}
    (RESULTS / "postcodes.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
