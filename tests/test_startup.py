"""Start-up hygiene: the canonical command must not import what it does not need (sympy, scipy, pydantic, the
test tools).  Wall time is measured by bench/startup.py, not here."""

import json
import subprocess
import sys

SNIPPET = """
import sys, json
from mcalc.cli import app
try:
    app(["jac", "A@B", "--wrt", "A", "--shape", "2x2", "--format", "{fmt}"])
except SystemExit:
    pass
print(json.dumps(sorted(m.split(".")[0] if m.split(".")[0] != "numpy" else ".".join(m.split(".")[:2])
                        for m in sys.modules)), file=sys.stderr)
"""


def imported(fmt, shape="2x2"):
    out = subprocess.run([sys.executable, "-c", SNIPPET.replace("{fmt}", fmt).replace("2x2", shape)],
                         capture_output=True, text=True, timeout=60)
    return set(json.loads(out.stderr.strip().splitlines()[-1]))


def test_canonical_command_imports_nothing_heavy():
    mods = imported("pretty")
    for heavy in ("sympy", "scipy", "pydantic", "hypothesis", "pytest", "matplotlib", "pandas"):
        assert heavy not in mods, heavy


def test_the_check_imports_no_masked_arrays():
    """numpy.unique's first call imports numpy.ma (10 ms of a start): the check's sets of columns are made
    without it (finite.distinct), by columns (2×2) or along directions (8×8: 64 columns)."""
    assert "numpy.ma" not in imported("pretty") and "numpy.ma" not in imported("pretty", "8x8")


def test_machine_formats_do_not_import_rich():
    mods = imported("json")
    assert "rich" not in mods and "sympy" not in mods and "scipy" not in mods


def test_the_invoked_command_alone_is_built():
    """main() hands Typer the one command the first argument names (building all six from their signatures cost
    ~10 ms a start); the whole app for anything else, so help, did-you-mean and completion see every command."""
    from mcalc.cli import _invoked, app

    one = _invoked(["mcalc", "jac", "A@B"])
    assert [c.callback.__name__ for c in one.registered_commands] == ["jac"]
    assert len(app.registered_commands) >= 6
    for argv in (["mcalc"], ["mcalc", "-h"], ["mcalc", "jacobain"]):
        assert _invoked(argv) is app
