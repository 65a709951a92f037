"""bench/bench.py's worker mode end to end on one small case (mcalc only: no peer needed), and its tables."""

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench.py"


def test_worker_runs_one_case_and_the_tables_show_it():
    out = subprocess.run([sys.executable, str(BENCH), "--worker", "mm16", "mcalc", "--repeat", "1"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert (r["case"], r["tool"], r["out"], r["in"]) == ("mm16", "mcalc", 256, 256)
    analytic = r["rows"][0]
    assert analytic["method"] == "mcalc" and analytic["time"] > 0 and analytic["floor"] > 0
    assert r["rows"][1]["error"] < 1e-8                      # the finite differences agree with the analytic J

    sys.path.insert(0, str(BENCH.parent))
    environ = dict(os.environ)
    try:
        import bench  # it pins threads through the environment: undone
    finally:
        sys.path.pop(0)
        os.environ.clear()
        os.environ.update(environ)
    results = {"date": "2000-01-01", "load": [0.1],
               "cases": {"mm16": {"id": "mm16", "reruns": [], "tools": {"mcalc": r}}},
               "machine": {"cpu": "CPU", "cores": 1, "python": "3", "versions": {}, "commit": "abc", "threads": "1"}}
    md = bench.markdown(results)
    assert "| `A@B` wrt A, n=16 | 256×256 |" in md and "2000-01-01" in md and "Gradients" not in md
