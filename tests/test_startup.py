"""Start-up hygiene: the canonical command must not import what it does not need (sympy, scipy, pydantic, the
test tools).  Wall time is measured by bench/startup.py, not here."""

import json
import subprocess
import sys

SNIPPET = """
import sys
from mcalc.cli import app
try:
    app(["jac", "A@B", "--wrt", "A", "--shape", "2x2", "--format", "{fmt}"])
except SystemExit:
    pass
names = sorted(".".join(m.split(".")[:{"numpy": 2, "mcalc": 3}.get(m.split(".")[0], 1)]) for m in sys.modules)
import json
print(json.dumps(names), file=sys.stderr)
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


def test_the_canonical_command_loads_only_the_families_it_uses():
    """The registry's families are imported as their entries are looked up (tree.Table, ops/index.py): A@B's
    Jacobian needs products, and what its rules build (kron, eye, transpose), not element-wise functions, reductions
    or decompositions; nor json and fractions, which only some outputs and the algebra of closed forms use."""
    mods = imported("pretty")
    assert {"mcalc.ops.products", "mcalc.ops.structural", "mcalc.ops.constants"} <= mods
    for unused in ("elementwise", "reductions", "decompositions", "piecewise", "einsum"):
        assert f"mcalc.ops.{unused}" not in mods, unused
    assert "json" not in mods and "fractions" not in mods


def test_machine_formats_import_json():
    assert "json" in imported("json")


def test_the_family_index_is_current():
    """ops/index.py says which family fills each key of the tables; `python -m mcalc.ops` regenerates it from the
    families (an operation added without it would be found only after a full load)."""
    out = subprocess.run([sys.executable, "-m", "mcalc.ops", "--check"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


STALE = """
import sys
from mcalc.ops import index
from mcalc.ops.__main__ import main
{change}
sys.exit(main(["--check"]))
"""


def test_the_index_check_fails_on_a_missing_entry_and_on_a_changed_order():
    """The index's order is the order of every listing (mcalc ops, the README's table), so it is checked too."""
    for change in ("index.OPS.pop('softmax')", "index.OPS['softmax'] = index.OPS.pop('softmax')"):
        out = subprocess.run([sys.executable, "-c", STALE.replace("{change}", change)], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 1 and "out of date" in out.stderr, (change, out.stderr)


LAZY = """
import sys
from mcalc.ops import FUNCTIONS, METHODS, OPS
loaded = lambda: sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("mcalc.ops.") and m[10:] not in
                        ("core", "index", "maps", "__main__"))
print("tanh" in FUNCTIONS, "tnah" in FUNCTIONS, "sum" in METHODS, loaded())
print(FUNCTIONS["tanh"].op, FUNCTIONS.get("tnah"), OPS.get("logdet").name, loaded())
try:
    OPS["nosuch"]
except KeyError:
    print("KeyError")
print(len(OPS) > 150, "decompositions" in loaded(), sorted(OPS) == sorted(OPS.keys()))
"""


def test_tables_load_families_on_lookup_and_everything_when_listed():
    out = subprocess.run([sys.executable, "-c", LAZY], capture_output=True, text=True, timeout=60)
    first, second, missing, listed = out.stdout.splitlines()
    assert first == "True False True []", first                    # (membership reads the index: nothing loaded)
    assert second.startswith("tanh None logdet [") and "elementwise" in second and "linalg" in second
    assert "decompositions" not in second and "reductions" not in second
    assert missing == "KeyError" and listed == "True True True"
