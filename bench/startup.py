"""Cold start of the canonical command against the import floor, measured in one run.

    python bench/startup.py [--runs 30] [--editable]

Runs `mcalc jac "A@B" --wrt A --shape 2x2` and `python -c "import numpy, typer, rich.console"` alternately, each as
a fresh process, and prints the medians and their ratio (issue 13's target: at most 1.2, for a compiled install).
Both run in a fresh virtual environment holding this checkout as the README's quick start installs it (`pip install
.`: built, not editable) and seeing this environment's packages, not its start-up hooks: an editable install's
import finder adds about 15 ms to every start of every Python of its environment.  --editable times the
environment's own `mcalc` and Python instead (also the fallback when the build fails).
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
ROOT = Path(__file__).resolve().parent.parent
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


def installed(where: str) -> tuple[list[str], list[str]] | None:
    """This checkout built and installed as `pip install .` installs it, in a fresh virtual environment that sees
    this one's packages (numpy, typer, rich) through a .pth line, but not its .pth hooks (an editable install's
    import finder costs about 15 ms at every start of every Python of the environment, the floor's included).
    (The command, the floor) to run there; None where it cannot be built."""
    env, target = Path(where) / "env", Path(where) / "mcalc"
    made = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], capture_output=True, check=False)
    built = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                            "--target", str(target), str(ROOT)], capture_output=True, check=False)
    python = env / "bin" / "python"
    if made.returncode or built.returncode or not python.exists():
        return None
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=False).stdout.strip()
    paths = [str(target)] + [p for p in sys.path if p.endswith("site-packages")]
    Path(purelib).mkdir(parents=True, exist_ok=True)
    (Path(purelib) / "mcalc_bench.pth").write_text("\n".join(paths) + "\n")
    return [str(python), str(target / "bin" / "mcalc")], [str(python)] + FLOOR[1:]


def measure(runs: int, editable: bool = False) -> dict:
    """Medians of `runs` cold starts of the canonical command and of the import floor, interleaved."""
    with tempfile.TemporaryDirectory() as where:
        clean = None if editable else installed(where)
        cmd, floor = clean if clean else (command(), FLOOR)
        cmd = cmd + CANONICAL
        for c in (cmd, floor):                             # warm the file cache
            timed(c)
        cmd_t, floor_t = [], []
        for _ in range(runs):
            cmd_t.append(timed(cmd))
            floor_t.append(timed(floor))
    c, f = statistics.median(cmd_t), statistics.median(floor_t)
    return {"command": 'mcalc jac "A@B" --wrt A --shape 2x2', "install": "compiled" if clean else "environment's",
            "command_time": c, "floor_time": f, "ratio": c / f, "runs": runs}


def report(r: dict) -> str:
    return (f"canonical command  median {r['command_time'] * 1e3:7.1f} ms   ({r['command']}, "
            f"{r.get('install', 'environment')} install)\n"
            f"import floor       median {r['floor_time'] * 1e3:7.1f} ms   "
            f"(python -c 'import numpy, typer, rich.console')\n"
            f"ratio              {r['ratio']:.2f}   (target ≤ 1.2)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--editable", action="store_true", help="time the environment's own mcalc")
    args = ap.parse_args()
    print(report(measure(args.runs, args.editable)))


if __name__ == "__main__":
    main()
