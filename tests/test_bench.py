"""bench/bench.py's worker mode end to end on one small case (mcalc only: no peer needed), and its tables."""

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench.py"


def imported_bench():
    """bench/bench.py as a module (it pins threads through the environment when imported: undone)."""
    sys.path.insert(0, str(BENCH.parent))
    environ = dict(os.environ)
    try:
        import bench
    finally:
        sys.path.pop(0)
        os.environ.clear()
        os.environ.update(environ)
    return bench


def test_worker_runs_one_case_and_the_tables_show_it():
    out = subprocess.run([sys.executable, str(BENCH), "--worker", "mm16", "mcalc", "--repeat", "1"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert (r["case"], r["tool"], r["out"], r["in"]) == ("mm16", "mcalc", 256, 256)
    analytic = r["rows"][0]
    assert analytic["method"] == "mcalc" and analytic["time"] > 0 and analytic["floor"] > 0
    assert r["rows"][1]["error"] < 1e-8                      # the finite differences agree with the analytic J

    bench = imported_bench()
    results = {"date": "2000-01-01", "load": [0.1],
               "cases": {"mm16": {"id": "mm16", "reruns": [], "tools": {"mcalc": r}}},
               "machine": {"cpu": "CPU", "cores": 1, "python": "3", "versions": {}, "commit": "abc", "threads": "1"}}
    md = bench.markdown(results)
    assert "| `A@B` wrt A, n=16 | 256×256 |" in md and "2000-01-01" in md and "Gradients" not in md


def test_the_closed_forms_written_by_hand_agree_with_mcalc():
    """The benchmark's 'numpy by hand' column times each gradient, VJP and JVP written from its closed form (the
    Matrix Cookbook's): each must be the same numbers as mcalc's, or the column times something else."""
    import numpy as np

    bench = imported_bench()
    by_hand = [c for c in bench.CASES if c.by_hand is not None]
    assert {c.kind for c in by_hand} == {"gradient", "vjp", "jvp"}
    for c in by_hand:
        vals, d = bench.inputs(c, 0)
        assert bench.rel_error(c.by_hand(vals, d), np.asarray(bench.mcalc_call(c)(vals, d))) < 1e-12, c.id
