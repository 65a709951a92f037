"""Cold start of the canonical command against the import floor, measured in one run.

    python bench/startup.py [--runs 30]

Runs `mcalc jac "A@B" --wrt A --shape 2x2` and `python -c "import numpy, typer, rich.console"` alternately, each as
a fresh process, and prints the medians and their ratio (target: at most 1.3).
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


def timed(cmd: list[str]) -> float:
    """Wall time of one fresh process, run outside the checkout (`python -m mcalc` started in it would import the
    source tree instead of the installed package), with bytecode written and read as an installed package has
    it: with PYTHONDONTWRITEBYTECODE set, an editable install compiles every module at every start."""
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=tempfile.gettempdir(),
                   env=ENV)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    script = Path(sys.executable).with_name("mcalc")          # the environment's own console script
    mcalc = str(script) if script.exists() else shutil.which("mcalc")
    command = [mcalc] if mcalc else [sys.executable, "-m", "mcalc"]
    command += ["jac", "A@B", "--wrt", "A", "--shape", "2x2"]
    floor = [sys.executable, "-c", "import numpy, typer, rich.console"]
    for cmd in (command, floor):                       # warm the file cache
        timed(cmd)
    cmd_t, floor_t = [], []
    for _ in range(args.runs):
        cmd_t.append(timed(command))
        floor_t.append(timed(floor))
    c, f = statistics.median(cmd_t), statistics.median(floor_t)
    print(f"canonical command  median {c * 1e3:7.1f} ms   ({' '.join(command[:1])} ...)")
    print(f"import floor       median {f * 1e3:7.1f} ms   (python -c 'import numpy, typer, rich.console')")
    print(f"ratio              {c / f:.2f}   (target ≤ 1.3)")


if __name__ == "__main__":
    main()
