"""Cold start of the canonical command against the import floor, measured in one run.

    python bench/startup.py [--runs 30]

Runs `mcalc jac "A@B" --wrt A --shape 2x2` and `python -c "import numpy, typer, rich.console"` alternately, each as
a fresh process, and prints the medians and their ratio (issue 13's target: at most 1.2).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}   # compiled, as an install is
OUTSIDE = tempfile.gettempdir()
CANONICAL = ["jac", "A@B", "--wrt", "A", "--shape", "2x2"]
FLOOR = [sys.executable, "-c", "import numpy, typer, rich.console"]


def command() -> list[str]:
    """How to start mcalc: the environment's own console script, else `python -m mcalc`."""
    script = Path(sys.executable).with_name("mcalc")
    found = str(script) if script.exists() else shutil.which("mcalc")
    return [found] if found else [sys.executable, "-m", "mcalc"]


def timed(cmd: list[str]) -> float:
    """Wall time of one fresh process, run outside the checkout (`python -m mcalc` started in it would import the
    source tree instead of the installed package), with bytecode written and read as an installed package has
    it: with PYTHONDONTWRITEBYTECODE set, an editable install compiles every module at every start."""
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=OUTSIDE, env=ENV)
    return time.perf_counter() - t


def measure(runs: int) -> dict:
    """Medians of `runs` cold starts of the canonical command and of the import floor, interleaved."""
    cmd = command() + CANONICAL
    for c in (cmd, FLOOR):                             # warm the file cache
        timed(c)
    cmd_t, floor_t = [], []
    for _ in range(runs):
        cmd_t.append(timed(cmd))
        floor_t.append(timed(FLOOR))
    c, f = statistics.median(cmd_t), statistics.median(floor_t)
    return {"command": 'mcalc jac "A@B" --wrt A --shape 2x2', "command_time": c, "floor_time": f, "ratio": c / f,
            "runs": runs}


def report(r: dict) -> str:
    return (f"canonical command  median {r['command_time'] * 1e3:7.1f} ms   ({r['command']})\n"
            f"import floor       median {r['floor_time'] * 1e3:7.1f} ms   "
            f"(python -c 'import numpy, typer, rich.console')\n"
            f"ratio              {r['ratio']:.2f}   (target ≤ 1.2)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    print(report(measure(args.runs)))


if __name__ == "__main__":
    main()
