"""The command line as a user meets it, through Typer's CliRunner: every format, every class of bad input."""

import io
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from mcalc.cli import app

runner = CliRunner()


def run(*args, **kw):
    return runner.invoke(app, list(args), **kw)


def one_error_line(res, code=2):
    """The error is one line; errors inside the expression add the expression and a caret under the column."""
    assert res.exit_code == code, (res.exit_code, res.stdout, res.stderr)
    assert res.stdout == ""                                        # no partial result
    lines = res.stderr.splitlines()
    assert lines[0].startswith("mcalc: ") and "Traceback" not in res.stderr
    assert len(lines) == 1 or (len(lines) == 3 and lines[2].strip() == "^"), res.stderr
    return lines[0]


def test_canonical_command_pretty():
    res = run("jac", "A@B", "--wrt", "A", "--shape", "2x2")
    assert res.exit_code == 0, res.stderr
    out = res.stdout
    for fragment in ("A@B", "row-major", "numerator", "A = ", "B = ", "A[0,0]", "A[1,1]", "f[0,0]", "f[1,1]", "✓"):
        assert fragment in out
    assert "\x1b[" not in out                                      # no colour when not a terminal
    assert out.count("┼") >= 4                                     # a 2×2 grid of blocks


def test_pretty_block_grid_follows_the_order():
    row = run("jac", "A@B", "--wrt", "A", "--value", "A=1 2; 3 4", "--value", "B=5 6; 7 8").stdout
    col = run("jac", "A@B", "--wrt", "A", "--value", "A=1 2; 3 4", "--value", "B=5 6; 7 8", "--order", "col").stdout
    # row-major: columns A[0,0] A[0,1] | A[1,0] A[1,1]; column-major: A[0,0] A[1,0] | A[0,1] A[1,1]
    assert row.index("A[0,1]") < row.index("A[1,0]")
    assert col.index("A[1,0]") < col.index("A[0,1]")
    assert "column-major" in col


def test_colour_on_a_terminal_and_none_with_no_color(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")                          # as if stdout were a terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" in run("jac", "A@B - B", "--shape", "2x2", "--wrt", "A").stdout
    assert "\x1b[" not in run("jac", "A@B - B", "--shape", "2x2", "--wrt", "A", "--no-color").stdout
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run("jac", "A@B - B", "--shape", "2x2", "--wrt", "A").stdout


def test_json_has_the_documented_keys():
    res = run("jac", "A@B", "--wrt", "A", "--shape", "2x2", "--format", "json")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    for key in ("expression", "wrt", "order", "layout", "output_shape", "input_shapes", "values", "jacobian",
                "finite_difference", "max_abs_error", "max_rel_error", "agree"):
        assert key in doc
    assert doc["wrt"] == ["A"] and doc["order"] == "row" and doc["layout"] == "numerator"
    assert doc["output_shape"] == [2, 2] and doc["input_shapes"] == {"A": [2, 2]}
    B = np.array(doc["values"]["B"])
    np.testing.assert_array_equal(doc["jacobian"], np.kron(np.eye(2), B.T))
    assert doc["agree"] is True and doc["max_abs_error"] < 1e-8


def test_json_scalar_output_is_one_row_and_scalar_input_one_column():
    doc = json.loads(run("jac", "x*y", "--wrt", "x", "--format", "json").stdout)
    assert np.array(doc["jacobian"]).shape == (1, 1)
    doc = json.loads(run("jac", "sum(A)", "--shape", "2x3", "--format", "json").stdout)
    assert np.array(doc["jacobian"]).shape == (1, 6)
    doc = json.loads(run("jac", "[r*cos(t), r*sin(t)]", "--wrt", "r,t", "--format", "json").stdout)
    assert np.array(doc["jacobian"]).shape == (2, 2) and doc["wrt"] == ["r", "t"]


def test_wrt_repeated_or_comma_separated():
    a = json.loads(run("jac", "[r*cos(t), r*sin(t)]", "--wrt", "r", "--wrt", "t", "--format", "json").stdout)
    b = json.loads(run("jac", "[r*cos(t), r*sin(t)]", "--wrt", "r,t", "--format", "json").stdout)
    assert a["jacobian"] == b["jacobian"]


def test_csv_plain_and_npy(tmp_path):
    vals = ["--value", "A=[[1,2],[3,4]]", "--value", "B=[[5,6],[7,8]]", "--wrt", "A"]
    expected = np.kron(np.eye(2), np.array([[5.0, 6], [7, 8]]).T)
    csv = run("jac", "A@B", *vals, "--format", "csv")
    np.testing.assert_array_equal(np.loadtxt(io.StringIO(csv.stdout), delimiter=","), expected)
    plain = run("jac", "A@B", *vals, "--format", "plain")
    np.testing.assert_array_equal(np.loadtxt(io.StringIO(plain.stdout)), expected)
    out = tmp_path / "J.npy"
    res = run("jac", "A@B", *vals, "--format", "npy", "--out", str(out))
    assert res.exit_code == 0 and res.stdout == ""
    np.testing.assert_array_equal(np.load(out), expected)
    res = run("jac", "A@B", *vals, "--format", "npy", "--out", "-")            # binary to a pipe
    assert res.exit_code == 0
    np.testing.assert_array_equal(np.load(io.BytesIO(res.stdout_bytes)), expected)
    res = run("jac", "A@B", *vals, "--format", "csv", "--out", str(tmp_path / "J.csv"))
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "J.csv", delimiter=","), expected)
    res = run("jac", "A@B", *vals, "--out", str(tmp_path / "J.txt"))
    assert "A[0,0]" in (tmp_path / "J.txt").read_text()


def test_plain_keeps_full_precision_unless_asked():
    res = run("jac", "x/3", "--value", "x=1", "--format", "plain")
    assert float(res.stdout) == 1 / 3
    res = run("jac", "x/3", "--value", "x=1", "--format", "plain", "--precision", "3")
    assert res.stdout.strip() == "0.333"


def test_layout_denominator_is_the_transpose():
    num = json.loads(run("jac", "A@x", "--shape", "A=2x3,x=3", "--wrt", "A", "--format", "json").stdout)
    den = json.loads(run("jac", "A@x", "--shape", "A=2x3,x=3", "--wrt", "A", "--format", "json",
                         "--layout", "denominator").stdout)
    np.testing.assert_array_equal(np.array(num["jacobian"]).T, den["jacobian"])
    assert den["layout"] == "denominator"


def test_quiet_prints_nothing_and_exit_codes_tell():
    assert run("jac", "A@B", "--shape", "2x2", "-q").stdout == ""
    assert run("jac", "A@B", "--shape", "2x2", "-q").exit_code == 0
    res = run("jac", "abs(x)", "--value", "x=0", "-q")
    assert res.exit_code == 1 and res.stdout == ""


def test_norm_at_zero_is_a_kink_and_its_square_is_smooth():
    assert run("jac", "norm(x)", "--value", "x=0 0", "-q").exit_code == 1
    res = run("grad", "norm(A@x - y)**2", "--wrt", "x", "--value", "A=1 0; 0 1", "--value", "x=1 2",
              "--value", "y=1 2", "--format", "json")
    assert res.exit_code == 0 and json.loads(res.stdout)["gradient"] == [0, 0]


def test_disagreement_exits_1_and_says_where():
    res = run("jac", "abs(x)", "--value", "x=0")
    assert res.exit_code == 1
    assert "not differentiable" in res.stdout and "x" in res.stdout
    res = run("jac", "relu(x)", "--value", "x=[0, 1]", "--format", "json")
    doc = json.loads(res.stdout)
    assert res.exit_code == 1 and doc["agree"] is False
    assert doc["kinks"][0]["column_label"] == "x[0]"
    res = run("jac", "sin(100000*x)", "--value", "x=3", "--fd", "central")     # central differences fail here
    assert res.exit_code == 1 and "disagree" in res.stdout and "worst at f wrt x: analytic" in " ".join(res.stdout.split())


def test_fd_methods():
    for method in ("central", "forward", "complex", "richardson", "none"):
        res = run("jac", "inv(A)", "--shape", "2x2", "--fd", method, "--format", "json")
        assert res.exit_code == 0, (method, res.stderr)
        assert json.loads(res.stdout)["fd_method"] == (None if method == "none" else method)


def test_help_and_version():
    res = run("jac", "--help")
    assert res.exit_code == 0 and "--wrt" in res.stdout and "Examples" in res.stdout
    res = run("--version")
    assert res.exit_code == 0 and res.stdout.startswith("mcalc ")


BAD = [
    (["jac", "A@@B", "--shape", "2x2"], "syntax error at column 3"),
    (["jac", "expp(A)"], "did you mean 'exp'"),
    (["jac", "A@B", "--wrt", "C"], "not in the expression"),
    (["jac", "A@B", "--shape", "A=2x3,B=2x2"], "not aligned"),
    (["jac", "A@B", "--shape", "2y2"], "malformed shape"),
    (["jac", "A@B", "--value", "A=[[1,2],[3]]"], "ragged"),
    (["jac", "A@B", "--value", "A=@/no/such/file.npy"], "cannot read"),
    (["jac", "A@B", "--value", "A=1 2; 3 4", "--shape", "A=3x3"], "--shape says"),
    (["jac", "A[5]", "--shape", "2x2"], "out of bounds"),
    (["jac", "A^2.5", "--shape", "2x2"], "integer literal"),
    (["jac", "A^-101", "--shape", "2x2"], "larger than 100"),
    (["jac", "A^2", "--shape", "2x3"], "square matrix"),
    (["jac", "log(x)", "--value", "x=-1"], "log needs positive arguments"),
    (["jac", "inv(A)", "--value", "A=1 2; 2 4"], "singular"),
    (["jac", "A@B", "--shape", "4000x4000"], "too large"),
    (["jac", "--", "-" * 3000 + "x"], "nested too deeply"),
    (["jac", "-x*y"], "with a space"),
    (["jac", "-sum(x)", "--wrt", "x", "-s", "3"], "'-sum(x)' was read as options"),
    (["grad", "sum(x*y)", "-s", "3"], "pick one, e.g. --wrt x"),
    (["explain", "sqrt(x)", "--value", "x=0 1"], "not differentiable where x[0] = 0"),
    (["jac", "__import__('os').system('echo hi')"], "syntax error"),
    (["jac", "A.__class__"], "not allowed"),
    (["jac", "lambda: 0"], "lambda"),
    (["jac", "[x for x in y]"], "comprehension"),
    (["jac", "x", "--format", "xml"], "unknown format"),
    (["jac", "x", "--format", "npy"], "needs --out"),
    (["jac", "x", "--order", "diagonal"], "unknown order"),
    (["jac", "x", "--layout", "sideways"], "unknown layout"),
    (["jac", "x", "--fd", "secant"], "unknown finite-difference"),
    (["jac", "abs(x)", "--fd", "complex"], "complex-analytic"),
    (["jac", "x", "--precision", "x"], "usage error"),
    (["jac", "x", "--wrtt", "x"], "no such option: --wrtt (hint: did you mean --wrt?)"),
    (["jac"], "missing argument"),
    (["jac", "x", "--value", "x=nan"], "nan or inf"),
    (["jac", "sqrt(x)", "--value", "x=0"], "not differentiable where x = 0"),
    (["jac", "x**y", "--value", "x=-2", "--value", "y=2"], "not differentiable where x = -2, y = 2"),   # (∂/∂y:
    (["jac", "x**y", "--value", "x=1 -2", "--value", "y=2", "--wrt", "y"], "where x[1] = -2, y = 2"),  # log x)
    (["jac", "x", "--order", "c"], "order 'c' is ambiguous"),
    (["jac", "x*1e-320", "--value", "x=1"], "the constant 1e-320 is below 2.23e-308"),      # (as a subnormal
    (["check", "x*1e-320", "--value", "x=1", "--expect", "1e-320"], "the constant 1e-320"),  # --value is)
    (["jac", "H*x", "--value", "ℌ=2", "--value", "H=3"], "gives H twice ('ℌ' reads as H"),
    (["jac", "A@x", "--shape", "A=2x3"], "x has no shape"),
    (["jac", "x", "--fd", "none", "--tol", "1e-3"], "--fd none skips"),
    (["jac", "x", "--tol", "inf"], "positive number"),
    (["jac", "x", "--vjp", "1", "--tol", "-1"], "positive number"),
    (["jac", "x", "--jvp", "1", "--fd", "none", "--tol", "1e-3"], "--fd none skips"),
    (["check", "x", "--expect", "1", "--tol", "2"], "between 0 and 1"),
    (["check", "x", "--expect", "1", "--tol", "nan"], "between 0 and 1"),
    (["jac", "x", "--value", "x=1", "--value", "x=2"], "twice"),
    (["jac", "x[0:0]", "--shape", "3"], "selects nothing"),
    (["jac", "x*y*z", "--value", "x=1e200", "--value", "y=1e-200", "--value", "z=1e200", "--fd", "none"],
     "the Jacobian overflows"),
    (["jac", "x", "--shape", "x=100000x100000"], "too large"),
    (["jac", "x", "--shape", "x=99999999999999999999x9"], "too large"),
    (["jac", "x", "--shape", "x=²"], "malformed shape"),
    (["jac", "2^X", "--shape", "2x2"], "matrix power"),
    (["jac", "eye(-1)"], "integer literal ≥ 1"),
    (["jac", "x", "--value", "x=[1" + "0" * 330 + "]"], "too large for floating point"),
    (["jac", "x", "--shape", "x=2,x=3"], "twice"),
    (["jac", "x", "--out", "/no/such/dir/file"], "cannot write"),
]


@pytest.mark.parametrize("args,fragment", BAD, ids=[" ".join(a)[:40] for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(args, fragment):
    res = run(*args)
    first = one_error_line(res)
    assert fragment in first, first


def test_syntax_errors_show_a_caret_under_the_column():
    res = run("jac", "A @@ B")
    lines = res.stderr.splitlines()
    assert lines[1].strip() == "A @@ B"
    assert lines[2].index("^") == lines[1].index("@@") + 1


def test_expressions_starting_with_minus_go_after_double_dash_or_a_space():
    res = run("jac", "--wrt", "x", "--format", "plain", "--", "-x*y")
    assert res.exit_code == 0 and float(res.stdout) < 0
    res = run("jac", " -x*y", "--wrt", "x", "--format", "plain")
    assert res.exit_code == 0 and float(res.stdout) < 0


def test_quiet_still_writes_out_files_and_dash_is_stdout(tmp_path):
    res = run("jac", "x*x", "--value", "x=3", "-q", "--format", "JSON", "--out", str(tmp_path / "j.json"))
    assert res.exit_code == 0 and res.stdout == ""
    assert json.loads((tmp_path / "j.json").read_text())["jacobian"] == [[6.0]]
    res = run("jac", "x*x", "--value", "x=3", "--format", "plain", "--out", "-")
    assert float(res.stdout) == 6.0


def test_ops_lists_the_language():
    res = run("ops")
    assert res.exit_code == 0
    for fragment in ("softmax()", "s = softmax(x)", "A @ B", "[x > 0]", "logdet()", "-A⁻¹ dA A⁻¹"):
        assert fragment in res.stdout


def test_default_check_asks_a_second_opinion_where_central_differences_fail():
    """sin(1e5 x): central differences are hopeless, the complex step is exact; the analytic answer is right."""
    res = run("jac", "sin(100000*x)", "--value", "x=3", "--format", "json")
    doc = json.loads(res.stdout)
    assert res.exit_code == 0 and doc["agree"] is True
    assert doc["second_opinion"] == {"method": "complex", "rechecked_columns": 1}
    res = run("jac", "sin(100000*x)", "--value", "x=3", "--fd", "central")
    assert res.exit_code == 1                                 # asked for central differences only: they disagree


def test_large_checks_are_sampled_and_say_so():
    """Many columns: checked along random directions (every column at once), and said so; column by column on
    request, sampled where every column would take too long."""
    res = run("jac", "sum(A@B)", "--wrt", "A", "--shape", "150x150", "--format", "json")
    doc = json.loads(res.stdout)
    assert res.exit_code == 0 and doc["agree"] is True
    assert doc["fd_checked_columns"] == 150 * 150 and doc["fd_random_directions"] == 3
    assert doc["finite_difference"] is None
    res = run("jac", "sum(A@B)", "--wrt", "A", "--shape", "150x150")
    assert "3 random directions" in res.stdout
    res = run("jac", "sum(A@B)", "--wrt", "A", "--shape", "150x150", "--fd-columns", "300", "--format", "json")
    doc = json.loads(res.stdout)
    assert doc["fd_checked_columns"] == 300 and doc["fd_random_directions"] == 0
    assert sum(v is not None for v in doc["finite_difference"][0]) == 300
    res = run("jac", "sum(A@B)", "--wrt", "A", "--shape", "150x150", "--fd-columns", "300")
    assert "sampled" in res.stdout
    res = run("jac", "sum(A@B)", "--wrt", "A", "--shape", "20x20", "--fd-columns", "7", "--format", "json")
    assert json.loads(res.stdout)["fd_checked_columns"] == 7

def test_module_entry_point_runs():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "mcalc", "jac", "x*y", "--wrt", "x", "--format", "plain"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip()


def test_piped_pretty_output_is_not_wrapped_at_80_columns():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    args = [sys.executable, "-m", "mcalc", "check", "A@x", "--wrt", "A", "--shape", "A=2x3,x=3",
            "--expect", "kron(eye(2), col(x))"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 1
    headline = next(line for line in out.stdout.splitlines() if "wrong size" in line)
    assert len(headline) > 80 and headline.rstrip().endswith("(one row per output entry)")


def test_machine_formats_say_why_they_exit_1():
    res = run("jac", "sign(x)", "--value", "x=[0, 1]", "--format", "csv")
    assert res.exit_code == 1 and res.stdout and "jumps by 2" in res.stderr
    res = run("grad", "sum(relu(x))", "--wrt", "x", "--value", "x=[0, 2]", "--format", "plain")
    assert res.exit_code == 1 and "kink" in res.stderr
    res = run("jac", "x**2", "--value", "x=[1, 2]", "--format", "csv")
    assert res.exit_code == 0 and not res.stderr


def test_commands_are_thin():
    """cli.py holds the Typer commands and their options: each command parses, calls the library and renders in a
    couple of dozen lines; failing and writing live in cli_errors.py and emit.py."""
    import ast
    from pathlib import Path

    import mcalc.cli

    tree = ast.parse(Path(mcalc.cli.__file__).read_text())
    commands = [f for f in tree.body if isinstance(f, ast.FunctionDef)
                and any("app.command" in ast.unparse(d) for d in f.decorator_list)]
    assert {f.name for f in commands} == {"jac", "grad", "hess", "check", "explain", "ops"}
    for f in commands:
        assert f.end_lineno - f.lineno + 1 <= 25, f"{f.name} is {f.end_lineno - f.lineno + 1} lines"
    helpers = {f.name for f in tree.body if isinstance(f, ast.FunctionDef)} - {f.name for f in commands}
    assert helpers <= {"_version", "_root", "_format_option", "_examples", "_no_files", "_max_work", "main", "_invoked"}, helpers


def test_click_conventions_and_the_words_mcalc_prints():
    """-h, -V, commands by their long names, --order as the header prints it (row-major), unambiguous prefixes,
    --layout denom, --shape 2,2."""
    from typer.testing import CliRunner

    from mcalc.cli import app

    run = CliRunner().invoke
    assert run(app, ["jac", "-h"]).exit_code == 0 and "--wrt" in run(app, ["jac", "-h"]).output
    assert run(app, ["-V"]).output.startswith("mcalc ")
    for word, kind in (("jacobian", "jac"), ("hessian", "hess"), ("gradient", "grad")):
        r = run(app, [word, "x"])
        assert r.exit_code == 2 and f"did you mean '{kind}'" in r.output
    base = run(app, ["jac", "A@B", "--wrt", "A", "--shape", "3x3", "--order", "col", "-f", "json"]).output
    for order in ("column-major", "F", "co", "col-major"):
        r = run(app, ["jac", "A@B", "--wrt", "A", "--shape", "3,3", "--order", order, "-f", "json"])
        assert r.exit_code == 0 and r.output == base
    r = run(app, ["jac", "A@B", "--wrt", "A", "--shape", "2x2", "--layout", "denom", "-f", "json"])
    assert r.exit_code == 0 and '"layout": "denominator"' in r.output
    assert run(app, ["jac", "A@B", "--wrt", "A", "--shape", "2x2", "--order", "c-o-l"]).exit_code == 2


def test_a_misspelt_variable_is_said():
    """tanh(W@x + bb) with --shape b=3: bb would silently be a scalar chosen by mcalc; a note on stderr pairs them.
    Spare shapes with no likely pairing (a script's shared --shape) say nothing, nor does --ignore-unused."""
    from typer.testing import CliRunner

    from mcalc.cli import app

    args = ["jac", "tanh(W@x + bb)", "--wrt", "x", "--shape", "W=3x4,x=4,b=3", "-q"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0 and "did you mean 'bb'?" in r.stderr
    assert "did you mean" not in CliRunner().invoke(app, args + ["--ignore-unused"]).stderr
    r = CliRunner().invoke(app, ["jac", "W@x", "--shape", "W=3x4,x=4,b=3", "-q"])
    assert r.exit_code == 0 and r.stderr == ""
    r = CliRunner().invoke(app, ["grad", "trace(X)", "--shape", "X=2x2,x=3", "-q"])   # (X has its own shape: the
    assert r.exit_code == 0 and r.stderr == ""                                          # spare x was not for it)


def test_ops_piped_is_one_operation_per_line():
    """mcalc ops | grep softmax (the help's own example): a piped catalogue is one tab-separated line per function,
    never wrapped, so that grep finds the whole rule."""
    from typer.testing import CliRunner

    from mcalc.cli import app

    out = CliRunner().invoke(app, ["ops"]).output
    rows = out.splitlines()
    assert all(len(r.split("\t")) == 3 for r in rows) and len(rows) > 100
    soft = [r for r in rows if r.startswith("softmax")]
    assert soft and "d softmax(x) = s ⊙ dx - s sᵀ dx" in soft[0]


def test_wrong_entries_are_listed_without_colour():
    """Without colour nothing is highlighted: the wrong entries are named, with the expected and given values."""
    from typer.testing import CliRunner

    from mcalc.cli import app

    r = CliRunner().invoke(app, ["check", "sum(X**2)", "--wrt", "X", "--value", "X=[[1, 2], [3, 4]]",
                                 "--expect", "2*X + eye(2)", "--no-color"])
    assert r.exit_code == 1
    assert "∂f/∂X[0,0]: expected 2, got 3" in r.output and "∂f/∂X[1,1]: expected 8, got 9" in r.output
    assert "∂f/∂X[0,1]" not in r.output.split("wrong entries:")[1]


@pytest.mark.parametrize("args,fragment", [
    (["A*B", "--shape", "A=3x2,B=2x4"], "the matrix product (MATLAB's *) is @"),
    (["A x", "--shape", "A=3x3,x=3"], "two terms side by side"),
    (["sin(x) y"], "write A @ x for a matrix product"),
])
def test_hints_for_matlab_and_math_habits(args, fragment):
    from typer.testing import CliRunner

    from mcalc.cli import app

    r = CliRunner().invoke(app, ["jac", *args])
    assert r.exit_code == 2 and fragment in r.output, r.output


def test_matlab_products_and_misspelled_names_get_pointed_hints():
    """x'*A*x broadcasts (numpy's *): a note names @; --shape X=4 for W@x names x in the shape error; --value
    bias=... names b (issue 12's tester found these three silent)."""
    res = run("grad", "x'*A*x", "--shape", "x=3x1,A=3x3")
    assert res.exit_code == 2 and "x'*A is element-wise with broadcasting" in res.stderr and "is @" in res.stderr
    res = run("jac", "A*x", "--shape", "A=3x3,x=3", "-q")
    assert res.exit_code == 0 and "matrix product (MATLAB's *) is @" in res.stderr
    res = run("jac", "A*B", "--shape", "2x2", "-q")                 # same shapes: a Hadamard product, no note
    assert res.exit_code == 0 and "note" not in res.stderr
    res = run("jac", "W@x", "--shape", "W=3x4,X=4")
    assert res.exit_code == 2 and "did you mean 'x'?" in res.stderr
    res = run("jac", "W@x + b", "--shape", "W=3x4,x=4,b=3", "--value", "bias=1")
    assert res.exit_code == 2 and "did you mean 'b'?" in res.stderr
