"""mcalc check --set: a problem set checked at once.  The example homework's verdicts, a generated set of 200 problems
(right answers and each usual slip, as formulas and as numbers computed here with numpy from the closed forms),
bad set files (exit 2, one line), hostile problems (a refused row each, never a traceback).

python tests/test_problemset.py OUT.json writes the generated set, to time it by hand:
    time mcalc check --set OUT.json
"""

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mcalc import problemset
from mcalc.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "problems.toml"


def run(*args, **kw):
    return runner.invoke(app, list(args), **kw)


def checked(path, *extra):
    res = run("check", "--set", str(path), "-f", "json", *extra)
    assert res.exit_code in (0, 1), (res.exit_code, res.stderr)
    assert "Traceback" not in res.stderr and res.stderr == ""
    return res.exit_code, json.loads(res.stdout)


def one_error_line(res):
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcalc: ") and "Traceback" not in res.stderr, res.stderr
    return lines[0]


# --- the example homework ------------------------------------------------------------------------------------

# Each answer judged by hand from the closed forms: d vec(AB)/d vec(A) = I ⊗ Bᵀ row-major, Bᵀ ⊗ I column-major;
# wrt B: A ⊗ I row-major (I ⊗ A is column-major); ∇ tr(AB) = Bᵀ; ∇ xᵀAx = (A + Aᵀ) x (= 2Ax for a symmetric A),
# its Hessian A + Aᵀ; softmax: diag(s) - s sᵀ; tanh(Wx + b) wrt x: diag(1 - y²) W, wrt W: diag(1 - y²) ⊗ xᵀ;
# ∇ ‖Xw - y‖² = 2 Xᵀ(Xw - y); ∇ logdet X = X⁻ᵀ.
EXAMPLE_VERDICTS = {
    1: ("right", None),
    2: ("right", None),
    3: ("wrong", "column-major order"),
    4: ("wrong", "transpose of the gradient"),
    5: ("right", None),
    6: ("wrong", "times 1/2"),
    7: ("right", None),
    8: ("right", None),
    9: ("wrong", "transpose of the Jacobian"),
    10: ("right", None),
    11: ("wrong", "times -1"),
    12: ("right", None),
    13: ("refused", "syntax error at column 6 of the answer"),
}


def test_the_example_homework():
    code, doc = checked(EXAMPLE)
    assert code == 1
    got = {p["index"]: p for p in doc["problems"]}
    assert set(got) == set(EXAMPLE_VERDICTS)
    for k, (verdict, fragment) in EXAMPLE_VERDICTS.items():
        p = got[k]
        assert p["verdict"] == verdict, (k, p["message"])
        assert p["code"] == {"right": 0, "wrong": 1, "refused": 2}[verdict]
        if fragment:
            assert fragment in p["message"], (k, p["message"])
    assert doc["summary"] == {"problems": 13, "right": 7, "wrong": 5, "refused": 1, "all_right": False}
    assert doc["title"].startswith("Homework 3")
    wrong = got[6]["wrong_entries"]                 # (each named, with the expected and the given value)
    assert wrong and all(e["given"] == pytest.approx(e["expected"] / 2) for e in wrong)
    assert wrong[0]["label"].startswith("∂f/∂x[")
    assert 'order = "col"' in got[3]["message"]     # (said in the set's words, not as --order col)


def test_the_example_pretty_one_row_per_problem():
    res = run("check", "--set", str(EXAMPLE))
    assert res.exit_code == 1 and res.stderr == ""
    out = res.stdout
    assert "\x1b[" not in out
    assert "Homework 3" in out and out.rstrip().endswith("7 of 13 right, 5 wrong, 1 refused")
    assert out.count("✓ right") == 7 and out.count("✗ wrong") == 5 and out.count("refused") == 2   # (+ summary)
    assert "softmax" in out and "times 1/2" in out


def test_the_readme_set_is_right(tmp_path):
    import re

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    path = tmp_path / "readme.toml"
    path.write_text(re.search(r"```toml\n(.*?)```", readme, re.S).group(1))
    code, doc = checked(path)
    assert code == 0 and doc["problems"][0]["order"] == "col"


def test_quiet_says_nothing_and_out_writes_a_file(tmp_path):
    res = run("check", "--set", str(EXAMPLE), "--quiet")
    assert res.exit_code == 1 and res.stdout == ""
    out = tmp_path / "verdicts.json"
    res = run("check", "--set", str(EXAMPLE), "-f", "json", "--out", str(out))
    assert res.exit_code == 1 and res.stdout == ""
    assert json.loads(out.read_text())["summary"]["refused"] == 1


def test_all_right_exits_0(tmp_path):
    s = tmp_path / "ok.json"
    s.write_text(json.dumps([{"expr": "A@B", "wrt": "A", "shape": "2x2", "expect": "kron(eye(2), B.T)"},
                             {"expr": "x*x", "wrt": "x", "value": {"x": 3}, "expect": 6}]))
    code, doc = checked(s)
    assert code == 0 and doc["summary"]["all_right"] and doc["summary"]["right"] == 2
    res = run("check", "--set", str(s))
    assert res.exit_code == 0 and "all 2 right" in res.stdout


def test_ascii_and_no_colour(monkeypatch):
    from rich.console import Console

    class AsciiFile(io.StringIO):
        encoding = "ascii"

    s = problemset.check_set(str(EXAMPLE))
    buf = AsciiFile()
    Console(file=buf, width=100, no_color=True, highlight=False).print(problemset.view(s))
    text = buf.getvalue()
    text.encode("ascii")                             # (✓ as ok, ᵀ as ^T: every row still aligned)
    assert "ok right" in text and "X wrong" in text and "x^TAx" in text
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run("check", "--set", str(EXAMPLE)).stdout


# --- a generated set of 200 problems ---------------------------------------------------------------------------

SLIP_WORDS = {"order": "-major order", "layout": "transpose of the Jacobian",
              "transposed": "transpose of the gradient", "sign": "times -1", "factor2": "times 2", "half": "times 1/2"}


def _mat(a):
    return np.asarray(a, dtype=float).tolist()


def _text(M) -> str:
    """A matrix as '1 2; 3 4' (round-trip digits)."""
    M = np.atleast_2d(np.asarray(M, dtype=float))
    return "; ".join(" ".join(repr(float(v)) for v in row) for row in M)


def generated_set(n: int = 200, seed: int = 0):
    """n problems from nine templates, each answer right or one slip (another order, the other layout, a
    transposed gradient, a sign, a factor: 2, or 1/2 where a factor 2 is missing), written as a formula, as
    numbers, or as a JSON list; returns the set and, per problem, the slip (None: right)."""
    rng = np.random.default_rng(seed)
    problems, slips = [], []

    def ints(*shape):
        return rng.integers(-4, 5, size=shape).astype(float) + (rng.random(shape) < 0.5) * 0.5

    def matmul_wrt(which):
        m, k, p = (int(d) for d in rng.integers(2, 4, size=3))
        A, B = ints(m, k), ints(k, p)
        if which == "A":                           # row: I_m ⊗ Bᵀ, col: Bᵀ ⊗ I_m
            forms = {"row": (np.kron(np.eye(m), B.T), f"kron(eye({m}), B.T)"),
                     "col": (np.kron(B.T, np.eye(m)), f"kron(B.T, eye({m}))")}
        else:                                      # row: A ⊗ I_p, col: I_p ⊗ A
            forms = {"row": (np.kron(A, np.eye(p)), f"kron(A, eye({p}))"),
                     "col": (np.kron(np.eye(p), A), f"kron(eye({p}), A)")}
        return dict(expr="A@B", wrt=which, value={"A": _mat(A), "B": _text(B)}), forms, "jacobian"

    def trace_grad():
        m, k = (int(d) for d in rng.integers(2, 4, size=2))
        A, B = ints(m, k), ints(k, m)
        return dict(expr="trace(A@B)", wrt="A", value={"A": _mat(A), "B": _mat(B)}), (B.T, "B.T"), "gradient"

    def quadratic_grad():
        n_ = int(rng.integers(2, 5))
        S = ints(n_, n_)
        A, x = S + S.T, ints(n_)
        return dict(expr="x@A@x", wrt="x", value={"A": _text(A), "x": _mat(x)}), (2 * A @ x, "2*A@x"), "vector"

    def quadratic_hessian():
        n_ = int(rng.integers(2, 5))
        A, x = ints(n_, n_), ints(n_)
        return dict(expr="x@A@x", wrt="x", value={"A": _mat(A), "x": _mat(x)}, hessian=True), \
            (A + A.T, "A + A.T"), "symmetric"

    def tanh_wrt_x():
        m, k = (int(d) for d in rng.integers(2, 4, size=2))
        W, x, b = ints(m, k) / 4, ints(k) / 4, ints(m) / 4
        d = 1 - np.tanh(W @ x + b) ** 2
        return dict(expr="tanh(W@x + b)", wrt="x", value={"W": _mat(W), "x": _mat(x), "b": _mat(b)}), \
            (np.diag(d) @ W, "diag(1 - tanh(W@x + b)**2) @ W"), "jacobian1"

    def softmax_jac():
        k = int(rng.integers(3, 6))
        z = ints(k) / 2
        s = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        return dict(expr="softmax(z)", wrt="z", value={"z": _mat(z)}), \
            (np.diag(s) - np.outer(s, s), "diag(softmax(z)) - outer(softmax(z), softmax(z))"), "symmetric"

    def logdet_grad():
        k = int(rng.integers(2, 4))
        X = 4 * np.eye(k) + ints(k, k) / 4
        while abs(X[0, 1] - X[1, 0]) < 0.1:        # (not symmetric: its transpose is another matrix)
            X = 4 * np.eye(k) + ints(k, k) / 4
        return dict(expr="logdet(X)", wrt="X", value={"X": _mat(X)}), (np.linalg.inv(X).T, "inv(X).T"), "gradient"

    def matvec():
        m, k = 3, 2
        A, x = ints(m, k), ints(k)
        return dict(expr="A@x", wrt="x", value={"A": _mat(A), "x": _mat(x)}), (A, "A"), "jacobian1"

    templates = [lambda: matmul_wrt("A"), lambda: matmul_wrt("B"), trace_grad, quadratic_grad, quadratic_hessian,
                 tanh_wrt_x, softmax_jac, logdet_grad, matvec]
    # which slips each kind of answer can show: an order needs a matrix on both sides, a layout a Jacobian that is
    # not symmetric, a transposed gradient a matrix variable
    kinds = {"jacobian": [None, "order", "layout", "sign", "factor2"], "gradient": [None, "transposed", "sign", "half"],
             "vector": [None, "sign", "half", "factor2"], "symmetric": [None, "sign", "factor2"],
             "jacobian1": [None, "layout", "sign", "half"]}
    for i in range(n):
        spec, forms, kind = templates[i % len(templates)]()
        slip = kinds[kind][(i // len(templates)) % len(kinds[kind])]
        if kind == "jacobian":
            order, layout = rng.choice(["row", "col", "F", "column-major"]), rng.choice(["numerator", "denom"])
            o = "col" if order in ("col", "F", "column-major") else "row"
            other = "row" if o == "col" else "col"
            spec.update(order=str(order), layout=str(layout))
            (J, f), (Jo, fo) = forms[o], forms[other]
            den = layout != "numerator"
            J, f = (J.T, f"({f}).T") if den else (J, f)
            Jo, fo = (Jo.T, f"({fo}).T") if den else (Jo, fo)
            answers = {None: (J, f), "order": (Jo, fo), "layout": (J.T, f"({f}).T" if not den else f[1:-3]),
                       "sign": (-J, f"-({f})"), "factor2": (2 * J, f"2*({f})")}
        else:
            J, f = forms
            answers = {None: (J, f), "layout": (J.T, f"({f}).T"), "transposed": (J.T, f"({f}).T"),
                       "sign": (-J, f"-({f})"), "half": (J / 2, f"({f})/2"), "factor2": (2 * J, f"2*({f})")}
        M, formula = answers[slip]
        style = i % 3                               # a formula, numbers as text, a JSON list
        spec["expect"] = formula if style == 0 else _text(M) if style == 1 and np.ndim(M) == 2 else _mat(M)
        spec["name"] = f"p{i} {spec['expr']} {slip or 'right'}"
        problems.append(spec)
        slips.append(slip)
    return {"title": f"{n} generated problems", "problems": problems}, slips


def test_a_generated_set_of_200(tmp_path):
    doc, slips = generated_set(200)
    path = tmp_path / "generated.json"
    path.write_text(json.dumps(doc))
    code, out = checked(path)
    assert code == 1
    rows = out["problems"]
    assert len(rows) == 200 and {s for s in slips} == set(SLIP_WORDS) | {None}
    for row, slip in zip(rows, slips):
        assert row["verdict"] == ("right" if slip is None else "wrong"), (row["name"], row["message"])
        if slip is not None:
            assert SLIP_WORDS[slip] in row["message"], (row["name"], row["message"])
    right = slips.count(None)
    assert out["summary"] == {"problems": 200, "right": right, "wrong": 200 - right, "refused": 0,
                              "all_right": False}


def test_a_set_from_standard_input():
    doc, slips = generated_set(12, seed=3)
    res = run("check", "--set", "-", "-f", "json", input=json.dumps(doc))
    assert res.exit_code == 1, res.stderr
    assert [p["verdict"] == "right" for p in json.loads(res.stdout)["problems"]] == [s is None for s in slips]


@pytest.mark.parametrize("text,code,fragment", [
    ('[defaults]\nwrt = "x"\n[[problem]]\nexpr = "x@x"\nshape = "x=2"\nexpect = "2*x"\n', 0, "1 of 1 right"),
    ('[[problem]]\nexpr = "x@x"\nwrt = "x"\nshape = "x=2"\nexpect = "2*x"\n', 0, "1 of 1 right"),
    ('[{"expr": "x@x", "wrt": "x", "shape": "x=2", "expect": "2*x"}]', 0, "1 of 1 right"),
    ("null", 2, "holds a null, not a table of problems"), ("42", 2, "holds a number"),
])
def test_a_set_on_standard_input_is_read_by_its_content(text, code, fragment):
    """TOML that starts with a table header ([defaults]) was read as JSON, since it starts with '['; valid JSON that
    is no set (null) was called invalid TOML."""
    res = run("check", "--set", "-", input=text)
    assert res.exit_code == code and fragment in res.stdout + res.stderr, res.stdout + res.stderr


# --- defaults, spellings, the grader's case ----------------------------------------------------------------------

def test_defaults_are_shared_and_replaced(tmp_path):
    s = tmp_path / "class.toml"
    s.write_text('[defaults]\nexpr = "A@B"\nwrt = "A"\nshape = "2x2"\norder = "F"\n\n'
                 '[[problem]]\nname = "alice"\nexpect = "kron(B.T, eye(2))"\n\n'
                 '[[problem]]\nname = "bob"\nexpect = "kron(eye(2), B.T)"\n\n'
                 '[[problem]]\nname = "carol"\norder = "row-major"\nanswer = "kron(eye(2), B.T)"\n')
    _, doc = checked(s)
    assert [p["verdict"] for p in doc["problems"]] == ["right", "wrong", "right"]
    assert doc["problems"][1]["message"].startswith("your answer is the Jacobian in row-major order")
    assert doc["problems"][2]["order"] == "row"


def test_shapes_as_tables_lists_and_text(tmp_path):
    s = tmp_path / "shapes.json"
    s.write_text(json.dumps({"problems": [
        {"expr": "A@x", "wrt": ["x"], "shape": {"A": [2, 3], "x": 3}, "expect": "A"},
        {"expr": "A@x", "wrt": "x", "shape": ["A=2x3", "x=3"], "expect": "A"},
        {"expr": "A@x", "wrt": "x", "shapes": "A=(2,3),x=3", "values": ["A=1 2 3; 4 5 6"], "expect": "1 2 3; 4 5 6"},
        {"expr": "x@x", "wrt": "x", "shape": "x=2", "expect": [[2], [4]], "value": {"x": [1, 2]}},
    ]}))
    code, doc = checked(s)
    assert code == 0, doc
    assert doc["problems"][3]["message"] == "right (as a column)"


# --- a bad set is refused as a whole: exit 2, one line ---------------------------------------------------------

@pytest.mark.parametrize("name,content,fragment", [
    ("a.toml", "not toml [[[", "not valid TOML"),
    ("a.json", '{"problems": [', "not valid JSON"),
    ("a.json", '[{"expr": "x", "expr": "y", "expect": "1"}]', "the key 'expr' is given twice"),
    ("a.json", '{"problems": [{"expr": "x"}], "problems": []}', "the key 'problems' is given twice"),
    ("set", '[{"expr": "x", "expect": "1", "expect": "2"}]', "the key 'expect' is given twice"),
    ("a.json", '{"problems": []}', "has no problems"),
    ("a.toml", 'title = "nothing"\n', "has no problems"),
    ("a.json", '"just text"', "not a table of problems"),
    ("a.json", '{"problems": [{"expr": "x", "expect": NaN}]}', "NaN"),
    ("a.toml", '[[problem]]\nexpr = "x"\nexpct = "1"\n',
     "problem 1 has an unknown key 'expct' (did you mean 'expect'?)"),
    ("a.toml", '[[problem]]\nname = "bo"\nexpr = "x"\nhesian = true\n',
     "problem 1 ('bo') has an unknown key 'hesian' (did you mean 'hessian'?)"),
    ("a.toml", 'titel = "x"\n[[problem]]\nexpr = "x"\n', "did you mean 'title'?"),
    ("a.toml", '[[problem]]\nexpect = "1"\n', "problem 1 has no expr"),
    ("a.toml", '[defaults]\nexpect = "1"\n[[problem]]\nexpr = "x"\n', "[defaults] cannot hold expect"),
    ("a.toml", '[[problem]]\nexpr = "x"\norder = "rwo"\n', "unknown order 'rwo'"),
    ("a.toml", '[[problem]]\nexpr = "x"\ntol = 2\n', "tol must be a relative tolerance"),
    ("a.toml", '[[problem]]\nexpr = "x"\nhessian = "yes"\n', "hessian must be true or false"),
    ("a.toml", '[[problem]]\nexpr = 3\n', "expr must be text"),
    ("a.json", '[1, 2]', "problem 1 is a number"),
    ("a.json", '{"problem": [], "problems": []}', "both"),
])
def test_a_bad_set_file_is_one_line_exit_2(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_text(content)
    line = one_error_line(run("check", "--set", str(path)))
    assert fragment in line, line


def test_unreadable_sets(tmp_path, monkeypatch):
    assert "No such file" in one_error_line(run("check", "--set", str(tmp_path / "none.toml")))
    assert "not a regular file" in one_error_line(run("check", "--set", str(tmp_path)))
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    assert "not UTF-8" in one_error_line(run("check", "--set", str(tmp_path / "bin.toml")))
    big = tmp_path / "big.json"
    big.write_text(json.dumps([{"expr": "x", "expect": "1"}] * 5))
    monkeypatch.setattr(problemset, "MAX_PROBLEMS", 4)
    assert "more than the 4" in one_error_line(run("check", "--set", str(big)))
    monkeypatch.setattr(problemset, "MAX_SET_BYTES", 10)
    assert "larger than" in one_error_line(run("check", "--set", str(big)))


def test_toml_without_tomllib_says_to_use_json(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tomllib", None)          # (as on Python 3.10 without tomli)
    monkeypatch.setitem(sys.modules, "tomli", None)
    line = one_error_line(run("check", "--set", str(EXAMPLE)))
    assert "needs Python 3.11" in line and "JSON" in line
    s = tmp_path / "ok.json"
    s.write_text('[{"expr": "x*x", "wrt": "x", "value": {"x": 2}, "expect": "2*x"}]')
    assert run("check", "--set", str(s)).exit_code == 0


def test_set_and_the_single_problem_options_exclude_each_other():
    assert "cannot go with it" in one_error_line(run("check", "A@B", "--set", str(EXAMPLE)))
    assert "cannot go with it" in one_error_line(run("check", "--set", str(EXAMPLE), "-e", "1"))
    assert "--wrt, --order cannot go with --set" in one_error_line(
        run("check", "--set", str(EXAMPLE), "--wrt", "A", "--order", "col"))
    assert "missing argument 'expr'" in one_error_line(run("check")).lower()          # (as before --set)
    assert "missing option '--expect'" in one_error_line(run("check", "A@B", "--shape", "2x2")).lower()
    assert run("check", "A@B", "--wrt", "A", "--shape", "2x2", "--expect", "kron(eye(2), B.T)").exit_code == 0


# --- hostile problems: a refused row each, never a traceback ---------------------------------------------------

def test_hostile_problems_are_refused_rows(tmp_path):
    hostile = [
        {"name": "huge", "expr": "A@B", "wrt": "A", "shape": "A=100000x100000,B=100000x2", "expect": "1"},
        {"name": "passwd", "expr": "A@B", "wrt": "A", "shape": "2x2", "expect": "@/etc/passwd"},
        {"name": "zero", "expr": "A@B", "wrt": "A", "shape": "2x2", "value": {"B": "@/dev/zero"}, "expect": "1"},
        {"name": "work", "expr": "A@B", "wrt": "A", "shape": "2x2",
         "expect": "sum(ones(9000, 9000) @ ones(9000, 9000))"},
        {"name": "work in a value", "expr": "x", "wrt": "x",
         "value": {"x": "sum(ones(9000, 9000) @ ones(9000, 9000))"}, "expect": "1"},
        {"name": "\x1b[31mred\x07", "expr": "A@@B", "expect": "x\x1b"},
        {"name": "no answer", "expr": "x", "wrt": "x"},
        {"name": "empty answer", "expr": "x", "wrt": "x", "expect": "  "},
        {"name": "ragged", "expr": "2*x", "wrt": "x", "shape": "x=2", "expect": [[2, 0], [0]]},
        {"name": "deep", "expr": "x", "wrt": "x", "expect": "(" * 300 + "x" + ")" * 300},
        {"name": "not a Hessian", "expr": "2*x", "wrt": "x", "shape": "x=2", "hessian": True, "expect": "0"},
        {"name": "fine", "expr": "2*x", "wrt": "x", "expect": "2"},
    ]
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"problems": hostile}))
    code, doc = checked(path)
    assert code == 1
    rows = {p["name"]: p for p in doc["problems"]}
    assert rows["fine"]["verdict"] == "right"
    for name, row in rows.items():
        if name != "fine":
            assert row["verdict"] == "refused" and row["code"] == 2, (name, row["message"])
            assert "\n" not in row["message"] and "\x1b" not in row["message"]
    assert "never reads files" in rows["passwd"]["message"] and "never reads files" in rows["zero"]["message"]
    assert "floating-point operations" in rows["work"]["message"]
    assert "floating-point operations" in rows["work in a value"]["message"]
    assert "too large" in rows["huge"]["message"]
    assert rows["no answer"]["message"].startswith("no answer")
    res = run("check", "--set", str(path))                          # the pretty table: control characters as ?
    assert res.exit_code == 1 and "\x1b" not in res.stdout and "?[31mred?" in res.stdout


def test_files_are_refused_even_where_files_are_allowed(tmp_path, monkeypatch):
    from mcalc import values

    answer = tmp_path / "answer.txt"
    answer.write_text("2\n")
    path = tmp_path / "set.json"
    path.write_text(json.dumps([{"expr": "2*x", "wrt": "x", "expect": f"@{answer}"}]))
    monkeypatch.delenv("MCALC_NO_FILES", raising=False)
    _, doc = checked(path)
    assert doc["problems"][0]["verdict"] == "refused"
    assert values.NO_FILES_OPTION is False                          # (restored after the set)


def test_a_bug_in_one_problem_is_its_row(tmp_path, monkeypatch):
    import mcalc.check

    def broken(*a, **k):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(mcalc.check, "check_text", broken)
    path = tmp_path / "set.json"
    path.write_text(json.dumps([{"expr": "2*x", "wrt": "x", "expect": "2"}]))
    _, doc = checked(path)
    row = doc["problems"][0]
    assert row["verdict"] == "refused" and row["code"] == 3 and "internal error" in row["message"]


if __name__ == "__main__":
    doc, _ = generated_set(int(sys.argv[2]) if len(sys.argv) > 2 else 200)
    Path(sys.argv[1]).write_text(json.dumps(doc, indent=1))


def test_a_malformed_answer_refuses_its_row_only(tmp_path, monkeypatch):
    """An answer is the student's text: a table or null as expect refuses that problem's row, and the others are
    checked (it refused the whole set, exit 2); a set that runs past MCALC_SET_SECONDS refuses the rest."""
    import json as _json

    from mcalc import problemset

    f = tmp_path / "s.json"
    f.write_text(_json.dumps({"problems": [
        {"expr": "A@B", "wrt": "A", "shape": "2x2", "expect": "kron(eye(2), B.T)"},
        {"expr": "A@B", "wrt": "A", "shape": "2x2", "expect": {"a": 1}},
        {"expr": "A@B", "wrt": "A", "shape": "2x2", "expect": None},
        {"expr": "trace(A@B)", "wrt": "A", "shape": "2x2", "expect": "B.T"}]}))
    s = problemset.check_set(str(f))
    assert [r.verdict for r in s.rows] == ["right", "refused", "refused", "right"]
    assert "not a table" in s.rows[1].message and "not a null" in s.rows[2].message
    clock = iter([0.0] + [1e9] * 10)
    monkeypatch.setattr(problemset.time, "monotonic", lambda: next(clock))
    s = problemset.check_set(str(f))
    assert all(r.verdict == "refused" and "MCALC_SET_SECONDS" in r.message for r in s.rows)
