"""check: right answers accepted in both orders and layouts; each usual slip rejected with its diagnosis."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from mcalc.check import check_answer, read_answer
from mcalc.cli import app
from mcalc.problem import prepare

VALUES = {"A": [[1.0, 2.0], [3.0, 4.0]], "B": [[5.0, -6.0], [7.0, 8.5]], "X": [[1.0, 2.0], [0.5, -1.0]]}


def judge(expr, wrt, answer, order="row", layout="numerator", values=None, tol=None):
    names = [n for n in VALUES if n in expr]
    p = prepare(expr, wrt, values or {n: VALUES[n] for n in names}, order=order, layout=layout)
    return check_answer(p, read_answer(answer, p), tol)


@pytest.mark.parametrize("expr,wrt,answer,order,layout", [
    ("A@B", "A", "kron(eye(2), B.T)", "row", "numerator"),
    ("A@B", "A", "kron(B.T, eye(2))", "col", "numerator"),
    ("A@B", "A", "kron(eye(2), B)", "row", "denominator"),
    ("A@B", "B", "kron(A, eye(2))", "row", "numerator"),
    ("A@B", "B", "kron(eye(2), A)", "col", "numerator"),
    ("X^2", "X", "kron(eye(2), X) + kron(X.T, eye(2))", "col", "numerator"),
    ("inv(X)", "X", "-kron(inv(X), inv(X).T)", "row", "numerator"),
    ("trace(A@B)", "A", "B.T", "row", "numerator"),            # a gradient, shaped like A
    ("trace(A@B)", "A", "row(vec(B.T))", "row", "numerator"),  # the same as a 1×4 Jacobian
    ("logdet(X)", "X", "inv(X).T", "row", "numerator"),
    ("sum(A*A)", "A", "2*A", "col", "numerator"),
])
def test_right_answers_are_accepted(expr, wrt, answer, order, layout):
    r = judge(expr, wrt, answer, order, layout)
    assert r.right, (r.diagnosis, r.size_message)


@pytest.mark.parametrize("answer,fragment", [
    ("kron(B.T, eye(2))", "column-major"),                     # the other order
    ("kron(eye(2), B)", "transpose"),                          # the other layout
    ("-kron(eye(2), B.T)", "sign"),
    ("2*kron(eye(2), B.T)", "right one times 2"),
    ("0.5*kron(eye(2), B.T)", "right one times 1/2"),
    ("kron(eye(2), B.T) + kron(eye(2)[0:1].T @ eye(2)[0:1], ones(2, 2))", "right except 1 block (of the 2"),
    ("-kron(eye(2), B)", "transpose of the Jacobian: the denominator layout (--layout denominator would accept it), "
                         "and then times -1"),
    ("2*kron(B.T, eye(2))", "column-major order"),
])
def test_each_slip_gets_its_diagnosis(answer, fragment):
    r = judge("A@B", "A", answer)
    assert not r.right
    assert any(fragment in d for d in r.diagnosis), r.diagnosis


def test_transposed_gradient_and_transposed_blocks():
    r = judge("trace(A@B)", "A", "B")
    assert not r.right and r.kind == "gradient" and "transpose of the gradient" in r.diagnosis[0]
    p = prepare("trace(A@B)", "A", shapes="A=2x3,B=3x2")                 # not square: B has the shape of Aᵀ
    r = check_answer(p, read_answer("B", p))
    assert not r.right and r.kind == "gradient" and "transpose of the gradient" in r.diagnosis[0]
    assert "(3, 2)" in r.size_message and "(2, 3)" in r.size_message    # the headline names both shapes
    p = prepare("x@x", "x", shapes="x=3")
    assert check_answer(p, read_answer("col(2*x)", p)).right           # the gradient as a column
    r = judge("A@B@X", "B", "kron(A, X)")          # right: A ⊗ Xᵀ; given A ⊗ X: every block transposed
    assert not r.right
    assert any("is the transpose of the right block" in d for d in r.diagnosis), r.diagnosis


def test_wrong_size_says_which_size_was_expected():
    r = judge("A@B", "A", "B.T")
    assert not r.right and "(4, 4)" in r.size_message and "(2, 2)" in r.size_message
    assert any("flatten" in d for d in r.diagnosis)


def test_literal_and_file_answers(tmp_path):
    expected = np.kron(np.eye(2), np.array(VALUES["B"]).T)
    np.save(tmp_path / "J.npy", expected)
    assert judge("A@B", "A", f"@{tmp_path / 'J.npy'}").right
    assert judge("A@B", "A", "; ".join(" ".join(str(v) for v in row) for row in expected)).right
    assert judge("A@B", "A", json.dumps(expected.tolist())).right


def test_tolerance_is_relative_and_adjustable():
    assert not judge("A@B", "A", "kron(eye(2), B.T) * 1.000001").right
    assert judge("A@B", "A", "kron(eye(2), B.T) * 1.000001", tol=1e-5).right


runner = CliRunner()


def test_cli_exit_codes_and_json():
    args = ["check", "A@B", "--wrt", "A", "--value", "A=1 2; 3 4", "--value", "B=5 6; 7 8"]
    assert runner.invoke(app, args + ["--expect", "kron(eye(2), B.T)"]).exit_code == 0
    res = runner.invoke(app, args + ["--expect", "kron(B.T, eye(2))", "--format", "json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["right"] is False and doc["wrong_count"] == 10 and "column-major" in doc["diagnosis"][0]
    res = runner.invoke(app, args + ["--expect", "kron(B.T, eye(2))"])
    assert "expected (Jacobian)" in res.stdout and "your answer" in res.stdout
    res = runner.invoke(app, args + ["--expect", "C"])
    assert res.exit_code == 2 and "not a variable" in res.stderr
    res = runner.invoke(app, args + ["--expect", "kron(eye(2), B.T)", "--format", "csv"])
    assert res.exit_code == 2


def test_explain_formula_always_passes_check_from_the_command_line():
    for order in ("row", "col"):
        base = ["--wrt", "X", "--shape", "3x3", "--order", order]
        formula = runner.invoke(app, ["explain", "inv(X) @ X^2", *base, "--format", "plain"]).stdout.strip()
        res = runner.invoke(app, ["check", "inv(X) @ X^2", *base, "--expect", formula])
        assert res.exit_code == 0, (formula, res.stdout)


def test_formula_right_at_one_point_only_is_wrong():
    """x[0] for x[1] passes where the two happen to be equal; a formula is also judged at other values."""
    from mcalc.check import check_text
    p = prepare("x[0]*x[1]", "x", {"x": [2.0, 2.0]})
    assert check_answer(p, read_answer("[x[0], x[1]]", p)).right          # at this point alone it agrees
    r = check_text(p, "[x[0], x[1]]")
    assert not r.right and r.elsewhere and "not in general" in r.diagnosis[0]
    assert check_text(p, "[x[1], x[0]]").right
    # a constant the user gave stays: with a symmetric A the gradient of xᵀAx is 2Ax
    p = prepare("x@A@x", "x", {"A": [[2.0, 1.0], [1.0, 3.0]]}, shapes="x=2")
    assert check_text(p, "2*A@x").right
    assert not check_text(p, "2*A@x", ).elsewhere
    # numbers are judged at the problem's values only (they are not a formula to move)
    p = prepare("x[0]*x[1]", "x", {"x": [2.0, 2.0]})
    assert check_text(p, "[[2, 2]]").right


def test_factor_that_varies_with_the_point_is_not_called_constant():
    from mcalc.check import check_text
    p = prepare("exp(2*sum(x))", "x", shapes="x=3")
    r = check_text(p, "exp(sum(x))*ones(3)")         # 2 exp(2 Σx) is right: the ratio depends on x
    assert not r.right and "depends on the variables" in r.diagnosis[0]
    r = check_text(p, "4*exp(2*sum(x))*ones(3)")     # a true constant factor keeps its diagnosis
    assert not r.right and "times 2" in r.diagnosis[0]


def test_one_number_is_not_called_a_factor_of_another():
    """For a 1-entry answer any number is a multiple of the right one: a factor is named only when it is the same
    at every point (x² for x³ is 1/3 of it everywhere)."""
    from mcalc.check import check_text
    p = prepare("x**3", "x")
    assert "times 1/3" in check_text(p, "x**2").diagnosis[0]
    r = check_text(p, "x**4")
    assert not r.right and "not by a constant factor" in r.diagnosis[0]
    r = check_text(prepare("x**3", "x", {"x": 1.0}), "3*x")         # right at x = 1 only
    assert not r.right and r.elsewhere and "you gave (x = 1)" in r.diagnosis[0]
    assert not any("times" in d for d in r.diagnosis)


def test_kinked_functions_are_checked_on_both_sides_of_the_kink():
    """Default values put relu's and abs's arguments on both sides of 0, so a derivative right on one side only
    (ones for sign(x), the identity for [x > 0]) is caught."""
    from mcalc.check import check_text
    for seed in range(4):
        assert not check_text(prepare("sum(abs(x))", "x", shapes="x=3", seed=seed), "ones(3)").right
        assert not check_text(prepare("relu(x)", "x", shapes="x=3", seed=seed), "eye(3)").right
        p = prepare("sum(relu(W@x+b))", "x", shapes="W=3x4,x=4,b=3", seed=seed)
        assert not check_text(p, "W.T@ones(3)").right and check_text(p, "W.T@step(W@x+b)").right
        assert check_text(prepare("sum(abs(x))", "x", shapes="x=3", seed=seed), "sign(x)").right


def test_an_all_zero_answer_is_called_so():
    """Not 'the right one times 0' (issue 12's tester)."""
    from mcalc.check import check_text
    from mcalc.problem import prepare

    r = check_text(prepare("A@B", "A", None, "2x2"), "zeros(4, 4)")
    assert not r.right and r.diagnosis[0] == "your answer is all zeros, and the right one is not"


@pytest.mark.parametrize("expect,line", [
    ("", "usage error: the answer is empty"),
    ("kron(eye(2),", "syntax error at column 5 of the answer: '(' was never closed"),
    ("B*1e400", "domain error at column 1 of the answer: B*1e400 is not finite here"),
    ("kron(eye(2), C)", "usage error: the answer uses C"),
])
def test_an_error_in_the_answer_says_it_is_in_the_answer(expect, line):
    """--expect's own errors are the answer's (an empty one read 'empty expression (hint: try something like
    "A@B")'; one that overflows told the user to choose other values with --value, which are the expression's)."""
    res = CliRunner().invoke(app, ["check", "A@B", "--wrt", "A", "--shape", "2x2", "--expect", expect])
    first = res.stderr.splitlines()[0]
    assert res.exit_code == 2 and first.startswith(f"mcalc: {line}") and "--value" not in first, res.stderr


def test_an_error_of_the_expression_is_not_the_answers():
    """log(x) at x = -1 with the answer log(x): the same text, but the expression is what fails first."""
    res = CliRunner().invoke(app, ["check", "log(x)", "--expect", "log(x)", "--value", "x=-1"])
    assert res.exit_code == 2 and "log needs positive arguments" in res.stderr and "answer" not in res.stderr, \
        res.stderr


def test_small_derivatives_of_large_values_are_judged_strictly():
    """∂(1e15 x + y)/∂y = 1 lies below the rounding of f's value, and ∇ sum(log x) at 1e8 is 1e-8, its Hessian 1e-16:
    exact, however large the values; 0 is wrong for each (a rounding allowance scaled by the values accepted it)."""
    cases = [("1e15*x + y", ["--wrt", "x,y", "--shape", "1", "--expect", "[[1e15, 0]]"]),
             ("sum(log(x))", ["--wrt", "x", "--value", "x=1e8 2e8", "--expect", "zeros(2)"]),
             ("sum(log(x))", ["--wrt", "x", "--value", "x=1e8 2e8", "--hessian", "--expect", "zeros(2, 2)"])]
    for expr, args in cases:
        res = CliRunner().invoke(app, ["check", expr, *args])
        assert res.exit_code == 1 and "wrong entries" in res.stdout, (expr, res.stdout + res.stderr)


def test_an_answer_of_the_wrong_size_reports_no_error_figures():
    """Found by a tester: a wrong-size answer's JSON said max_abs_error 0, max_rel_error 0 and wrong_count 0 (which
    a grader scoring on them reads as right); no entries were compared, and they are null."""
    res = CliRunner().invoke(app, ["check", "A@B", "--wrt", "A", "--shape", "2x2", "--expect", "1 2 3", "-f", "json"])
    doc = json.loads(res.stdout)
    assert res.exit_code == 1 and doc["right"] is False
    assert doc["max_abs_error"] is None and doc["max_rel_error"] is None and doc["wrong_count"] is None
    r = check_answer(prepare("A@B", "A", None, "2x2"), np.ones((4, 3)))
    assert not r.right and r.size_message and r.wrong_count is None


def test_a_matrix_written_on_lines_is_read_by_rows():
    """Found by a tester: mcalc's own -f plain output pasted into --expect (rows on lines, as a file has them) was
    read as one flat vector and judged the wrong size; --value "A=1 2<newline>3 4" was a vector of 4."""
    plain = CliRunner().invoke(app, ["jac", "A@B", "--wrt", "A", "--shape", "2x2", "-f", "plain"]).stdout
    assert plain.count("\n") >= 4
    res = CliRunner().invoke(app, ["check", "A@B", "--wrt", "A", "--shape", "2x2", "--expect", plain])
    assert res.exit_code == 0 and "right" in res.stdout, res.stdout
    res = CliRunner().invoke(app, ["jac", "x@A@x", "--wrt", "x", "--value", "A=1 2\n3 4\n", "--value", "x=1 1",
                                   "-f", "json"])
    doc = json.loads(res.stdout)
    assert doc["shapes"]["A"] == [2, 2] and doc["jacobian"] == [[7.0, 13.0]]     # xᵀ(A + Aᵀ), A + Aᵀ = [[2, 5], [5, 8]]
    res = CliRunner().invoke(app, ["jac", "x@x", "--value", "x=1\n2\n3\n", "--shape", "x=3", "-f", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["shapes"]["x"] == [3]    # (one number a line: a vector)


def test_a_gradient_given_as_a_hessian_is_told_so():
    """Found by a tester: a gradient given to check --hessian got the Jacobian's advice (rows per output entry,
    flatten both); it is told that it is shaped like the gradient and that the Hessian is n×n."""
    res = CliRunner().invoke(app, ["check", "x@x", "--wrt", "x", "--shape", "x=3", "--hessian", "--expect", "2*x"])
    assert res.exit_code == 1
    assert "shaped like x, as the gradient is" in res.stdout and "is 3×3" in res.stdout, res.stdout
    assert "flatten both" not in res.stdout


def test_the_hessian_of_a_scalar_variable_is_called_a_hessian():
    """Found by a review: check --hessian of s**3 at a scalar s said 'right: it is the gradient'."""
    res = CliRunner().invoke(app, ["check", "s**3", "--shape", "s=scalar", "--hessian", "--expect", "6",
                                   "--value", "s=1"])
    assert res.exit_code == 0 and "it is the Hessian" in res.stdout, res.stdout


@pytest.mark.parametrize("depth", [2, 8])
def test_an_answer_larger_than_the_jacobian_is_wrong_without_being_computed(depth, monkeypatch):
    """kron(...kron(X, X)..., X) of a 3×3 X has 3^(depth+1) rows: for A@X (a 9×9 J) it is the wrong size whatever
    its values, said at once (at depth 8, 3.9·10⁸ entries, it took a minute and 9 GB to be found so), with nothing
    evaluated."""
    import mcalc
    import mcalc.check as check

    answer = "X"
    for _ in range(depth):
        answer = f"kron({answer}, X)"
    calls = []
    real = check.evaluate_text
    monkeypatch.setattr(check, "evaluate_text", lambda *a, **k: calls.append(a) or real(*a, **k))
    v = mcalc.check("A@X", answer, "X", shapes="3x3")
    n = 3 ** (depth + 1)
    assert not v.right and f"your answer is ({n}, {n}), the Jacobian is (9, 9)" in v.size_message and not calls


def test_what_check_says_reads_right():
    """Numbers that differ are written so that they read differently (4 and 4.0000001, not 4 and 4), never as -0;
    a value in a sentence is on one line (a set's row shows no matrix); the JSON names each wrong entry as the
    set's JSON does; and an answer forgiven by the rounding floor does not print a relative error of 0.99 beside
    a tolerance of 1e-8 as right."""
    runner = CliRunner()
    base = ["check", "A@B", "--wrt", "A", "--value", "A=1 2; 3 4", "--value", "B=3 2; 5 4", "--no-color"]
    res = runner.invoke(app, base + ["--expect", "[[3,5,0,0],[2,4,0,0],[0,0,3,5],[0,0,2,4.0000001]]"])
    assert res.exit_code == 1 and "expected 4, got 4.0000001" in res.output
    res = runner.invoke(app, base + ["--expect", "kron(B.T, eye(2))", "-f", "json"])
    doc = json.loads(res.output)
    assert doc["wrong_entries"][0].keys() == {"row", "column", "label", "expected", "given"}
    first = doc["wrong_entries"][0]
    assert first["label"].startswith("f[") and first["given"] != first["expected"]
    res = runner.invoke(app, ["check", "logdet(X)", "--wrt", "X", "--value", "X=4 1 0; 1 3 1; 0 1 2", "--expect",
                              "inv(X)", "--no-color"])
    assert res.exit_code == 1
    said = " ".join(res.output.split())
    assert "right at the values you gave (X = [[4, 1, 0], [1, 3, 1], [0, 1, 2]]), but not in general: at other " \
           "values, which mcalc chose (X = [[" in said
    res = runner.invoke(app, ["check", "[x[0], 5e-13*x[1]]", "--wrt", "x", "--shape", "x=2", "--expect",
                              "[[1,0],[0,-5e-13]]", "--no-color"])
    assert res.exit_code == 0 and "max rel error 0.99" not in res.output and "within the rounding" in res.output


def test_told_apart():
    from mcalc.render import told_apart

    assert told_apart(4.0, 4.0000001) == ("4", "4.0000001")
    assert told_apart(-0.0, 1.0) == ("0", "1")
    assert told_apart(1 / 3, 0.3333334) == ("0.3333333", "0.3333334")
