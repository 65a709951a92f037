"""The project installs as users install it: a wheel built from the checkout holds every module of the package
(mcalc.ops was left out of a plain `pip install .`, while the editable install the tests use found it)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _can_build_here() -> bool:
    """setuptools that builds wheels by itself (70.1 and later), or with the wheel package."""
    from importlib.util import find_spec

    if find_spec("setuptools") is None:
        return False
    if find_spec("wheel") is not None:
        return True
    import setuptools

    return tuple(int(p) for p in setuptools.__version__.split(".")[:2] if p.isdigit()) >= (70, 1)


def test_the_wheel_holds_every_module(tmp_path):
    local = ["--no-build-isolation"] if _can_build_here() else []        # (else pip fetches the build tools)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", *local,
                        "-q", "-w", str(tmp_path)], capture_output=True, text=True, timeout=300)
    if r.returncode != 0 and "No module named pip" in r.stderr:
        pytest.skip("no pip")
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("mcalc-*.whl")
    held = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "mcalc").rglob("*.py")}
    assert sources <= held, sorted(sources - held)
