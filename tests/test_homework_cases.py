"""Homework cases, end to end: what a student types into explain, check and --symbolic.

Expected values come from Matrix Cookbook identities written here with numpy, or from central differences of numpy
versions of the expressions computed here; never from mcalc's own output."""

import json
import re

import numpy as np
import pytest
import sympy
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from helpers import fd_check
from mcalc.check import check_answer, read_answer
from mcalc.closedform_check import verify_closed_form
from mcalc.problem import evaluate_text, prepare
from test_commands import js, run
from test_explain import derive
from test_properties import problems

ORDERS = ["row", "col"]
LAYOUTS = ["numerator", "denominator"]


# ---------------------------------------------------------------------------------------------------------------
# numpy references

def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def softmax(v):
    e = np.exp(v - np.max(v))
    return e / e.sum()


def numeric_jacobian(f, values, wrt, order="row", layout="numerator", h=1e-6):
    """Central differences of the numpy function f(**values): one row per output entry and one column per entry of
    the wrt variables (concatenated), both flattened in `order`; the transpose for the denominator layout."""
    o = "C" if order == "row" else "F"
    base = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    cols = []
    for name in wrt:
        x = base[name]
        for k in range(x.size):
            flat = x.ravel(order=o)
            step = h * max(1.0, abs(flat[k]))
            out = []
            for sign in (1, -1):
                moved = flat.copy()
                moved[k] += sign * step
                y = np.asarray(f(**{**base, name: moved.reshape(x.shape, order=o)}), dtype=float)
                out.append(y.ravel(order=o))
            cols.append((out[0] - out[1]) / (2 * step))
    J = np.stack(cols, axis=1)
    return J if layout == "numerator" else J.T


def value_args(values):
    return [a for n, v in values.items() for a in ("--value", f"{n}={json.dumps(np.asarray(v, float).tolist())}")]


def formula_value(doc, expr, values):
    """The closed form mcalc printed (JSON "formula", mcalc syntax), evaluated at the same values, order and layout."""
    assert doc["formula"] is not None, (expr, doc.get("no_closed_form_for"))
    p = prepare(expr, doc["wrt"], values, order=doc["order"], layout=doc["layout"])
    return evaluate_text(doc["formula"], p)


# ---------------------------------------------------------------------------------------------------------------
# 1. random expressions: the explained closed form goes through check

@settings(max_examples=60)
@given(problems(), st.sampled_from(ORDERS), st.sampled_from(LAYOUTS))
@example(("det((M22 + outer(v2, v2)))", {"M22": np.array([[1.0, 0.3], [-0.2, 0.8]]), "v2": np.array([0.5, -0.4])}),
         "row", "numerator")
def test_random_closed_forms_pass_check(problem, order, layout):
    text, values = problem
    assume(values)
    J, _ = fd_check(text, values=values, order=order, layout=layout, method="complex", tol=1e-9)   # J is right
    p, ex = derive(text, None, None, values, order, layout)
    assert ex.formula is not None, (text, ex.missing)
    mc = ex.mc
    ok = verify_closed_form(p, ex)
    assume(ok is None or ok[0] is not None)            # undefined at this point (det(A)·inv(A)ᵀ at a singular A)
    assert ok, (text, mc, ex.missing)                  # withdrawn: it failed mcalc's own evaluation
    r = check_answer(p, read_answer(ex.mc, p))
    assert r.right, (text, ex.mc, r.diagnosis, r.size_message)
    np.testing.assert_allclose(evaluate_text(ex.mc, p), J, rtol=1e-8, atol=1e-10 * max(1.0, np.abs(J).max()))


# ---------------------------------------------------------------------------------------------------------------
# 2. --symbolic with names that collide once entries are spelled out, or that SymPy reserves

@pytest.mark.parametrize("expr,wrt,shapes,s_col", [
    ("x*X", "x,X", "x=scalar,X=2x2", 0),
    ("x11*X", "x11,X", "x11=scalar,X=2x2", 0),
    ("X11*X", "X11,X", "X11=scalar,X=2x2", 0),
    ("x[10]*X", "x,X", "x=12,X=2x2", 10),               # x[10] is x11 counted from 1, X[0,0] is x11 too
    ("I*A", "I,A", "I=scalar,A=2x2", 0),
    ("E*A", "E,A", "E=scalar,A=2x2", 0),
    ("S*A", "S,A", "S=scalar,A=2x2", 0),
    ("N*A", "N,A", "N=scalar,A=2x2", 0),
    ("beta*A", "beta,A", "beta=scalar,A=2x2", 0),
    ("gamma*A", "gamma,A", "gamma=scalar,A=2x2", 0),
    ("Q*A", "Q,A", "Q=scalar,A=2x2", 0),
])
def test_symbolic_entries_of_a_scalar_times_a_matrix_keep_names_apart(expr, wrt, shapes, s_col):
    """f = s·M: the column of s holds M's four entry symbols, M's columns hold s·I₄ (Cookbook: vec(M) | s I)."""
    doc = js("jac", expr, "--wrt", wrt, "--shape", shapes, "--symbolic", "--seed", "3")
    J = [[sympy.sympify(e) for e in row] for row in doc["jacobian_symbolic"]]
    n_s = len(J[0]) - 4                                          # the scalar variable's columns, then M's four
    m_syms = [J[k][s_col] for k in range(4)]
    s_sym = J[0][n_s]
    assert all(isinstance(v, sympy.Symbol) for v in m_syms + [s_sym]), doc["jacobian_symbolic"]
    assert len(set(m_syms)) == 4 and s_sym not in m_syms, doc["jacobian_symbolic"]
    for k in range(4):
        for c in range(4):
            assert J[k][n_s + c] == (s_sym if k == c else 0), doc["jacobian_symbolic"]
        assert all(J[k][c] == 0 for c in range(n_s) if c != s_col), doc["jacobian_symbolic"]
    # the symbols stand for the right numbers
    names = wrt.split(",")
    s_val = np.ravel(doc["values"][names[0]])[s_col]
    M = np.array(doc["values"][names[1]], dtype=float)
    subs = {s_sym: s_val, **{m_syms[k]: M.ravel()[k] for k in range(4)}}
    numbers = np.array([[float(e.subs(subs)) for e in row] for row in J])
    expected = np.zeros((4, n_s + 4))
    expected[:, s_col] = M.ravel()
    expected[:, n_s:] = s_val * np.eye(4)
    np.testing.assert_allclose(numbers, expected)
    np.testing.assert_allclose(doc["jacobian"], expected)


@pytest.mark.parametrize("expr", ["x11*X", "X*x11"])
def test_a_scalar_keeps_its_name_whatever_the_order_of_appearance(expr):
    """README: "a scalar keeps its name".  With a scalar x11 beside a matrix X, ∂f[0,0]/∂X[0,0] is the scalar x11
    and ∂f[0,0]/∂x11 is the entry X[0,0]: the column labelled x11 must not show "x11" for X[0,0]."""
    doc = js("jac", expr, "--wrt", "X,x11", "--value", "X=[[3, 5], [2, 7]]", "--value", "x11=4", "--symbolic")
    J = doc["jacobian_symbolic"]
    np.testing.assert_allclose(doc["jacobian"], np.hstack([4 * np.eye(4), [[3], [5], [2], [7]]]))
    assert [J[k][k] for k in range(4)] == ["x11"] * 4, J
    assert "x11" not in {J[k][4] for k in range(4)}, J


@pytest.mark.parametrize("a,b", [("I", "E"), ("S", "N"), ("beta", "gamma"), ("Q", "O"), ("x", "X"), ("oo", "zoo"),
                                 ("zeta", "Symbol")])
def test_symbolic_entries_with_sympy_reserved_names(a, b):
    """f = a²b: J = [2ab, a²].  The strings must parse back (plain sympify) to two distinct plain symbols, and
    substituting the values must give the numbers."""
    va, vb = 1.5, -0.75
    res = run("jac", f"{a}**2*{b}", "--wrt", f"{a},{b}", "--value", f"{a}={va}", "--value", f"{b}={vb}", "--symbolic",
              "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    d_a, d_b = (sympy.sympify(s) for s in doc["jacobian_symbolic"][0])
    assert len(d_b.free_symbols) == 1, doc["jacobian_symbolic"]
    (sa,) = d_b.free_symbols
    assert isinstance(sa, sympy.Symbol) and sympy.simplify(d_b - sa ** 2) == 0, doc["jacobian_symbolic"]
    others = d_a.free_symbols - {sa}
    assert len(others) == 1, doc["jacobian_symbolic"]
    (sb,) = others
    assert sympy.simplify(d_a - 2 * sa * sb) == 0, doc["jacobian_symbolic"]
    got = [float(e.subs({sa: va, sb: vb})) for e in (d_a, d_b)]
    np.testing.assert_allclose(got, [2 * va * vb, va ** 2])


# ---------------------------------------------------------------------------------------------------------------
# 3. check with a vector gradient, JSON

QUAD = {"x": np.array([1.0, 2.0, 3.0]), "A": np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 4.0], [5.0, 0.0, 1.0]])}


def _check_json(expr, wrt, values, answer, *extra):
    res = run("check", expr, "--wrt", wrt, *value_args(values), "--expect", answer, *extra, "--format", "json")
    return res.exit_code, json.loads(res.stdout)             # the whole of stdout is one JSON document


def test_check_json_rejects_a_wrong_vector_gradient_with_its_positions():
    x, A = QUAD["x"], QUAD["A"]
    grad = (A + A.T) @ x                                           # Cookbook (81)
    code, doc = _check_json("x@A@x", "x", QUAD, "A@x")
    assert code == 1 and doc["right"] is False
    np.testing.assert_allclose(np.ravel(doc["expected"]), grad)
    np.testing.assert_allclose(np.ravel(doc["given"]), A @ x)
    wrong = {i for i in range(3) if abs((A @ x)[i] - grad[i]) > 1e-8 * np.abs(grad).max()}
    assert {(e["row"], e["column"]) for e in doc["wrong_entries"]} == {(i, 0) for i in wrong}
    assert doc["wrong_count"] == len(wrong)

    code, doc = _check_json("x@A@x", "x", QUAD, "(A + A.T)@x + [0, 1, 0]")    # one entry off
    assert code == 1 and doc["right"] is False and doc["wrong_count"] == 1
    assert [(e["row"], e["column"]) for e in doc["wrong_entries"]] == [(1, 0)]

    code, doc = _check_json("x@A@x", "x", QUAD, "row((A + A.T)@x + [0, 1, 0])")   # as a 1×3 Jacobian
    assert code == 1 and [(e["row"], e["column"]) for e in doc["wrong_entries"]] == [(0, 1)]


@pytest.mark.parametrize("answer", ["(A + A.T)@x", "A@x + A.T@x", "row((A + A.T)@x)", "col((A + A.T)@x)"])
def test_check_json_accepts_the_right_vector_gradient(answer):
    code, doc = _check_json("x@A@x", "x", QUAD, answer)
    assert code == 0 and doc["right"] is True and doc["wrong_count"] == 0 and doc["wrong_entries"] == []
    np.testing.assert_allclose(np.ravel(doc["expected"]), (QUAD["A"] + QUAD["A"].T) @ QUAD["x"])


# ---------------------------------------------------------------------------------------------------------------
# 4. hstack / vstack closed forms against finite differences

STACK_A = np.array([[1.0, 2.0], [3.0, 4.0]])
STACK_B = np.array([[0.0, 1.0], [-2.0, 5.0]])
STACK_A23 = np.array([[1.0, 2.0, 7.0], [3.0, 4.0, 1.0]])
STACK_B32 = np.array([[0.0, 1.0], [-2.0, 5.0], [1.0, 1.0]])
STACK_B22 = np.array([[0.5, 1.0], [-2.0, 3.0]])

STACKS = [
    ("hstack(A, 2*A)", {"A": STACK_A}, lambda A: np.hstack([A, 2 * A])),
    ("vstack(A, A@B)", {"A": STACK_A, "B": STACK_B}, lambda A, B: np.vstack([A, A @ B])),
    ("hstack(A@B, B)", {"A": STACK_A, "B": STACK_B}, lambda A, B: np.hstack([A @ B, B])),
    ("vstack(A.T, A)", {"A": STACK_A}, lambda A: np.vstack([A.T, A])),
    ("hstack(A, A@B)", {"A": STACK_A23, "B": STACK_B32}, lambda A, B: np.hstack([A, A @ B])),
    ("vstack(A, B@A)", {"A": STACK_A23, "B": STACK_B22}, lambda A, B: np.vstack([A, B @ A])),
]


@pytest.mark.parametrize("expr,values,f", STACKS, ids=[s[0] for s in STACKS])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_stack_closed_forms_evaluate_to_the_jacobian(expr, values, f, order, layout):
    doc = js("explain", expr, "--wrt", "A", *value_args(values), "--order", order, "--layout", layout)
    expected = numeric_jacobian(f, values, ["A"], order, layout)
    np.testing.assert_allclose(formula_value(doc, expr, values), expected, rtol=1e-7, atol=1e-8)
    res = run("check", expr, "--wrt", "A", *value_args(values), "--order", order, "--layout", layout,
              "--expect", doc["formula"])
    assert res.exit_code == 0, (doc["formula"], res.stdout, res.stderr)


# ---------------------------------------------------------------------------------------------------------------
# 5. constants in closed forms: exact in mcalc syntax, not rounded in the pretty output

NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?(?:e[-+]?\d+)?)(?:\s*/\s*(\d+(?:\.\d*)?(?:e[-+]?\d+)?))?")


def derivation_numbers(pretty: str):
    """Every number (or a/b fraction) in the lines of explain's pretty output that show derivatives: the
    differential, the steps' differentials and local Jacobians, J and the names under it."""
    lines = pretty.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("differential"))
    end = next(i for i, line in enumerate(lines) if "in mcalc's syntax" in line)
    keep = [line for line in lines[start:end]
            if line.strip() and not re.match(r"\s+\d+\. ", line) and not line.startswith(("steps", "Jacobian ("))]
    keep[0] = keep[0][len("differential"):]
    return [float(a) / (float(b) if b else 1.0) for line in keep for a, b in NUMBER.findall(line)], keep


@pytest.mark.parametrize("expr,c", [
    ("x*1e-9", 1e-9), ("x*pi", np.pi), ("x*2.5e-9", 2.5e-9),
    ("1.0000001*x", 1.0000001), ("x*100000.5", 100000.5), ("x*0.123456789", 0.123456789),
])
def test_constant_factors_are_exact(expr, c):
    values = {"x": np.array([0.1, 0.2, 0.3])}
    doc = js("explain", expr, "--wrt", "x", *value_args(values))
    np.testing.assert_allclose(formula_value(doc, expr, values), c * np.eye(3), rtol=1e-15, atol=0)
    np.testing.assert_allclose(numeric_jacobian(lambda x: x * c, values, ["x"]), c * np.eye(3), rtol=1e-7)
    res = run("explain", expr, "--wrt", "x", *value_args(values))
    numbers, lines = derivation_numbers(res.stdout)
    assert numbers or expr == "x*pi", lines                  # π is written π
    for v in numbers:                      # no rounded stand-in for c (1e-09 is 1e-9; 1/3 as "(1/3)" is exact)
        assert v == pytest.approx(c, rel=1e-12), (v, c, lines)


def test_irrational_exponent_is_not_rounded():
    values = {"x": np.array([0.1, 0.2, 0.3])}
    doc = js("explain", "x**pi", "--wrt", "x", *value_args(values))
    np.testing.assert_allclose(formula_value(doc, "x**pi", values), np.diag(np.pi * values["x"] ** (np.pi - 1)),
                               rtol=1e-14)
    numbers, lines = derivation_numbers(run("explain", "x**pi", "--wrt", "x", *value_args(values)).stdout)
    for v in numbers:                      # π, π - 1 (in full) or the 1 of "π - 1": never 3.14159 or 2.14159
        assert any(v == pytest.approx(t, rel=1e-12) for t in (np.pi, np.pi - 1, 1.0)), (v, lines)


# ---------------------------------------------------------------------------------------------------------------
# 6. a Jacobian that is exactly zero

SOFTMAX_X = {"x": np.array([0.1, -0.7, 2.0])}


@pytest.mark.parametrize("answer,right", [
    ("zeros(3)", True), ("zeros(1, 3)", True), ("0 0 0", True), ("[0, 0, 0]", True), ("0*x", True),
    ("zeros(3, 1)", True),
    ("ones(3)", False), ("softmax(x)", False), ("1e-6*ones(3)", False), ("[0, 0, 1]", False),
])
def test_zero_jacobian_of_sum_of_softmax(answer, right):
    """sum(softmax(x)) = 1, so its Jacobian is 0 (here also by differences)."""
    np.testing.assert_allclose(numeric_jacobian(lambda x: softmax(x).sum(), SOFTMAX_X, ["x"]), 0, atol=1e-9)
    code, doc = _check_json("sum(softmax(x))", "x", SOFTMAX_X, answer)
    assert (code, doc["right"]) == ((0, True) if right else (1, False)), doc
    np.testing.assert_allclose(np.ravel(doc["expected"]), 0, atol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# 7. closed forms with 1×1 intermediates

A12, B21, C11 = np.array([[1.0, 2.0]]), np.array([[0.5], [1.5]]), np.array([[-0.7]])
C13, C31, D12 = np.array([[0.3, -1.0, 2.0]]), np.array([[1.0], [-2.0], [0.5]]), np.array([[2.0, -0.5]])

ONE_BY_ONE = [
    ("(A@B)@C", "B", {"A": A12, "B": B21, "C": C11}, lambda A, B, C: (A @ B) @ C),
    ("(A@B)@C", "A", {"A": A12, "B": B21, "C": C11}, lambda A, B, C: (A @ B) @ C),
    ("(A@B)@C", "C", {"A": A12, "B": B21, "C": C11}, lambda A, B, C: (A @ B) @ C),
    ("(A@B)@C", "B", {"A": A12, "B": B21, "C": C13}, lambda A, B, C: (A @ B) @ C),
    ("A@(B@C)", "B", {"A": A12, "B": B21, "C": C13}, lambda A, B, C: A @ (B @ C)),
    ("C@(A@B)@D", "B", {"A": A12, "B": B21, "C": C31, "D": D12}, lambda A, B, C, D: C @ (A @ B) @ D),
    ("(A@B)@(A@B)", "B", {"A": A12, "B": B21}, lambda A, B: (A @ B) @ (A @ B)),
    ("inv(A@B)", "B", {"A": A12, "B": B21}, lambda A, B: np.linalg.inv(A @ B)),
    ("det(A@B)", "B", {"A": A12, "B": B21}, lambda A, B: np.linalg.det(A @ B)),
    ("logdet(A@B)", "B", {"A": A12, "B": B21}, lambda A, B: np.linalg.slogdet(A @ B)[1]),
    ("(A@B)^3", "B", {"A": A12, "B": B21}, lambda A, B: np.linalg.matrix_power(A @ B, 3)),
    ("trace(A@B)", "B", {"A": A12, "B": B21}, lambda A, B: np.trace(A @ B)),
    ("exp(A@B)@C", "B", {"A": A12, "B": B21, "C": C13}, lambda A, B, C: np.exp(A @ B) @ C),
    ("(A@B)*C", "B", {"A": A12, "B": B21, "C": np.array([[1.0, 2.0], [3.0, -1.0]])}, lambda A, B, C: (A @ B) * C),
]


@pytest.mark.parametrize("expr,wrt,values,f", ONE_BY_ONE, ids=[f"{c[0]}-d{c[1]}" for c in ONE_BY_ONE])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_closed_forms_through_1x1_intermediates(expr, wrt, values, f, order, layout):
    doc = js("explain", expr, "--wrt", wrt, *value_args(values), "--order", order, "--layout", layout)
    expected = numeric_jacobian(f, values, [wrt], order, layout)
    np.testing.assert_allclose(formula_value(doc, expr, values), expected, rtol=1e-7, atol=1e-8)
    res = run("check", expr, "--wrt", wrt, *value_args(values), "--order", order, "--layout", layout,
              "--expect", doc["formula"])
    assert res.exit_code == 0, (doc["formula"], res.stdout, res.stderr)


# ---------------------------------------------------------------------------------------------------------------
# 8. typical homework: explain's closed form and the textbook answer, against Cookbook identities and differences

HW = {
    "X": np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]]),
    "A": np.array([[1.0, 2.0, 0.0], [-1.0, 1.0, 3.0], [2.0, 0.0, 1.0]]),
    "B": np.array([[0.0, 1.0, 2.0], [1.0, -1.0, 0.0], [3.0, 1.0, 1.0]]),
    "W": np.array([[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]]),
    "x": np.array([0.5, -1.0, 2.0]), "a": np.array([1.0, 2.0, -1.0]), "b": np.array([1.0, -2.0, 0.5]),
    "y": np.array([1.0, -1.0, 1.0]),                        # labels ±1 (least squares, logistic)
    "t": np.array([0.0, 1.0, 0.0]),                         # a one-hot target, also 0/1 labels
    "z": np.array([0.3, -1.2, 0.8]), "w": np.array([0.2, -0.1, 0.3]),
    "c": np.array([0.4, 0.1]), "v": np.array([0.3, -0.2]),
}
inv, det, tr = np.linalg.inv, np.linalg.det, np.trace
E0 = np.eye(3)[0]


def _grad(g):
    """A gradient shaped like the variable, as the 1×n row-major Jacobian of a scalar function."""
    return lambda **k: np.ravel(g(**k))[None, :]


# expression, wrt, numpy function, Cookbook Jacobian (row-major, numerator layout), the textbook answer as typed
HOMEWORK = [
    ("trace(A@X@B)", "X", lambda A, X, B: tr(A @ X @ B), _grad(lambda A, X, B: A.T @ B.T), "A.T@B.T"),
    ("log(det(X))", "X", lambda X: np.log(det(X)), _grad(lambda X: inv(X).T), "inv(X).T"),
    ("logdet(X)", "X", lambda X: np.log(abs(det(X))), _grad(lambda X: inv(X).T), "inv(X).T"),
    ("x.T@A@x", "x", lambda x, A: x @ A @ x, _grad(lambda x, A: (A + A.T) @ x), "(A + A.T)@x"),
    ("x'@A@x", "x", lambda x, A: x @ A @ x, _grad(lambda x, A: (A + A.T) @ x), "(A + A.T)@x"),
    ("norm(x)**2", "x", lambda x: x @ x, _grad(lambda x: 2 * x), "2*x"),
    ("sigmoid(W@x)", "x", lambda W, x: sigmoid(W @ x),
     lambda W, x: np.diag(sigmoid(W @ x) * (1 - sigmoid(W @ x))) @ W, "diag(sigmoid(W@x)*(1 - sigmoid(W@x)))@W"),
    ("sigmoid(W@x)", "W", lambda W, x: sigmoid(W @ x),
     lambda W, x: np.kron(np.diag(sigmoid(W @ x) * (1 - sigmoid(W @ x))), x[None, :]),
     "kron(diag(sigmoid(W@x)*(1 - sigmoid(W@x))), row(x))"),
    (" -log(softmax(z))[0]", "z", lambda z: -np.log(softmax(z))[0], _grad(lambda z: softmax(z) - E0),
     "softmax(z) - [1, 0, 0]"),
    (" -log(softmax(z)[0])", "z", lambda z: -np.log(softmax(z)[0]), _grad(lambda z: softmax(z) - E0),
     "softmax(z) - [1, 0, 0]"),
    ("logsumexp(z) - z[0]", "z", lambda z: np.log(np.exp(z).sum()) - z[0], _grad(lambda z: softmax(z) - E0),
     "softmax(z) - [1, 0, 0]"),
    (" -sum(t*log(softmax(z)))", "z", lambda t, z: -(t * np.log(softmax(z))).sum(),
     _grad(lambda t, z: softmax(z) * t.sum() - t), "softmax(z) - t"),
    ("sum((X@w - y)**2)", "w", lambda X, w, y: ((X @ w - y) ** 2).sum(), _grad(lambda X, w, y: 2 * X.T @ (X @ w - y)),
     "2*X.T@(X@w - y)"),
    ("norm(X@w - y)**2 + 0.1*norm(w)**2", "w", lambda X, w, y: (X @ w - y) @ (X @ w - y) + 0.1 * w @ w,
     _grad(lambda X, w, y: 2 * X.T @ (X @ w - y) + 0.2 * w), "2*X.T@(X@w - y) + 0.2*w"),
    ("norm(X@w - y)", "w", lambda X, w, y: np.linalg.norm(X @ w - y),
     _grad(lambda X, w, y: X.T @ (X @ w - y) / np.linalg.norm(X @ w - y)), "X.T@(X@w - y)/norm(X@w - y)"),
    ("trace(X.T@A@X)", "X", lambda X, A: tr(X.T @ A @ X), _grad(lambda X, A: (A + A.T) @ X), "(A + A.T)@X"),
    ("det(X)", "X", lambda X: det(X), _grad(lambda X: det(X) * inv(X).T), "det(X)*inv(X).T"),
    ("inv(X)", "X", lambda X: inv(X), lambda X: -np.kron(inv(X), inv(X).T), "-kron(inv(X), inv(X).T)"),
    ("trace(A@inv(X)@B)", "X", lambda A, X, B: tr(A @ inv(X) @ B), _grad(lambda A, X, B: -(inv(X) @ B @ A @ inv(X)).T),
     "-(inv(X)@B@A@inv(X)).T"),
    ("a@X@b", "X", lambda a, X, b: a @ X @ b, _grad(lambda a, X, b: np.outer(a, b)), "outer(a, b)"),
    ("a@X.T@b", "X", lambda a, X, b: a @ X.T @ b, _grad(lambda a, X, b: np.outer(b, a)), "outer(b, a)"),
    ("x@inv(A)@x", "A", lambda x, A: x @ inv(A) @ x, _grad(lambda x, A: -inv(A).T @ np.outer(x, x) @ inv(A).T),
     "-inv(A).T@outer(x, x)@inv(A).T"),
    ("tanh(W@x + c)", "c", lambda W, x, c: np.tanh(W @ x + c), lambda W, x, c: np.diag(1 - np.tanh(W @ x + c) ** 2),
     "diag(1 - tanh(W@x + c)**2)"),
    ("v@tanh(W@x + c)", "W", lambda v, W, x, c: v @ np.tanh(W @ x + c),
     _grad(lambda v, W, x, c: np.outer(v * (1 - np.tanh(W @ x + c) ** 2), x)), "outer(v*(1 - tanh(W@x + c)**2), x)"),
    ("sum(log(sigmoid(y*(X@w))))", "w", lambda y, X, w: np.log(sigmoid(y * (X @ w))).sum(),
     _grad(lambda y, X, w: X.T @ (y * (1 - sigmoid(y * (X @ w))))), "X.T@(y*(1 - sigmoid(y*(X@w))))"),
    (" -sum(t*log(sigmoid(X@w)) + (1 - t)*log(1 - sigmoid(X@w)))", "w",
     lambda t, X, w: -(t * np.log(sigmoid(X @ w)) + (1 - t) * np.log(1 - sigmoid(X @ w))).sum(),
     _grad(lambda t, X, w: X.T @ (sigmoid(X @ w) - t)), "X.T@(sigmoid(X@w) - t)"),
    ("log(1 + exp(w@x))", "w", lambda w, x: np.log1p(np.exp(w @ x)), _grad(lambda w, x: sigmoid(w @ x) * x),
     "sigmoid(w@x)*x"),
    ("x/norm(x)", "x", lambda x: x / np.linalg.norm(x),
     lambda x: (np.eye(3) - np.outer(x, x) / (x @ x)) / np.linalg.norm(x), "(eye(3) - outer(x, x)/(x@x))/norm(x)"),
    ("exp(z)/sum(exp(z))", "z", lambda z: np.exp(z) / np.exp(z).sum(),
     lambda z: np.diag(softmax(z)) - np.outer(softmax(z), softmax(z)),
     "diag(softmax(z)) - outer(softmax(z), softmax(z))"),
    ("outer(x, x)", "x", lambda x: np.outer(x, x),
     lambda x: np.kron(np.eye(3), x[:, None]) + np.kron(x[:, None], np.eye(3)),
     "kron(eye(3), col(x)) + kron(col(x), eye(3))"),
    ("trace(X^2)", "X", lambda X: tr(X @ X), _grad(lambda X: 2 * X.T), "2*X.T"),
    ("trace(X^3)", "X", lambda X: tr(X @ X @ X), _grad(lambda X: 3 * (X @ X).T), "3*(X^2).T"),
    ("logdet(X.T@X)", "X", lambda X: np.log(det(X.T @ X)), _grad(lambda X: 2 * X @ inv(X.T @ X)), "2*X@inv(X.T@X)"),
    ("det(A@X@B)", "X", lambda A, X, B: det(A @ X @ B),
     _grad(lambda A, X, B: det(A @ X @ B) * A.T @ inv(A @ X @ B).T @ B.T), "det(A@X@B)*A.T@inv(A@X@B).T@B.T"),
    ("x@X@X@x", "X", lambda x, X: x @ X @ X @ x, _grad(lambda x, X: np.outer(x, X @ x) + np.outer(X.T @ x, x)),
     "outer(x, X@x) + outer(X.T@x, x)"),
    ("A@X@B", "X", lambda A, X, B: A @ X @ B, lambda A, X, B: np.kron(A, B.T), "kron(A, B.T)"),
    ("trace(outer(x, x))", "x", lambda x: tr(np.outer(x, x)), _grad(lambda x: 2 * x), "2*x"),
    ("trace(A@outer(x, x))", "x", lambda A, x: tr(A @ np.outer(x, x)), _grad(lambda A, x: (A + A.T) @ x),
     "(A + A.T)@x"),
    ("det(X + outer(x, x))", "x", lambda X, x: det(X + np.outer(x, x)),
     _grad(lambda X, x: det(X + np.outer(x, x)) * (inv(X + np.outer(x, x)) + inv(X + np.outer(x, x)).T) @ x),
     "det(X + outer(x, x))*(inv(X + outer(x, x)) + inv(X + outer(x, x)).T)@x"),
]


def _hw_values(expr):
    words = set(re.findall(r"[A-Za-z_]\w*", expr))
    return {n: v for n, v in HW.items() if n in words}


@pytest.mark.parametrize("expr,wrt,f,reference,answer", HOMEWORK, ids=[h[0].strip() + "-d" + h[1] for h in HOMEWORK])
def test_homework(expr, wrt, f, reference, answer):
    values = _hw_values(expr)
    ref = reference(**values)
    # the Cookbook identity as written here is right (differences of the numpy function)
    np.testing.assert_allclose(numeric_jacobian(f, values, [wrt]), ref, rtol=1e-6, atol=1e-8)
    # explain gives a closed form, and it evaluates to the Jacobian
    doc = js("explain", expr, "--wrt", wrt, *value_args(values))
    assert doc["formula"] is not None, doc["no_closed_form_for"]
    np.testing.assert_allclose(formula_value(doc, expr, values), ref, rtol=1e-9, atol=1e-12)
    # check accepts the textbook answer and explain's own closed form
    for given_answer in (answer, doc["formula"]):
        res = run("check", expr, "--wrt", wrt, *value_args(values), "--expect", given_answer)
        assert res.exit_code == 0, (given_answer, res.stdout, res.stderr)


def test_explain_plain_round_trips_through_check_or_refuses():
    """README: `mcalc check EXPR --wrt X --expect "$(mcalc explain EXPR --wrt X -f plain)"` passes wherever the
    closed form is defined.  ‖x‖² is smooth at 0: its gradient simplifies to 2x, defined there.  det(A)·A⁻ᵀ is
    not defined at a singular A although the Jacobian (the adjugate) is: -f plain then refuses (exit 2, one line)
    instead of printing what check cannot evaluate."""
    for point in ("x=[0, 0, 0]", "x=[1, -2, 3]"):
        args = ["norm(x)**2", "--wrt", "x", "--value", point]
        res = run("explain", *args, "--format", "plain")
        assert res.exit_code == 0 and res.stdout.strip() == "2 * x", (res.stdout, res.stderr)   # the gradient
        for answer in (res.stdout.strip(), "2*x"):                       # explain's form, the textbook's 2x
            res = run("check", *args, "--expect", answer)
            assert res.exit_code == 0, (answer, res.stdout, res.stderr)
    res = run("explain", "det(A)", "--wrt", "A", "--value", "A=[[1, 2], [2, 4]]", "--format", "plain")
    assert res.exit_code == 2 and res.stdout == "" and "cannot be evaluated" in res.stderr
    res = run("check", "det(A)", "--wrt", "A", "--value", "A=[[1, 2], [2, 4]]", "--expect", "[[4, -2], [-2, 1]]")
    assert res.exit_code == 0, res.stdout                               # the adjugate's transpose: right


@pytest.mark.parametrize("expr,wrt", [("log(1 + exp(w@x))", "w"), (" -log(softmax(z)[0])", "z"), ("x**(1/3)", "x")])
def test_pretty_closed_form_does_not_juxtapose_after_a_division(expr, wrt):
    """"1 / y exp(w x) xᵀ" reads as 1/(y exp(w x) xᵀ): a quotient followed by a product needs parentheses, as in
    "(1 / y) ((X w - b) X)ᵀ"."""
    values = _hw_values(expr) if expr != "x**(1/3)" else {"x": np.array([0.1, 0.2, 0.3])}
    doc = js("explain", expr, "--wrt", wrt, *value_args(values))
    assert not re.search(r"/ [^\s()⊙⊘]+ [^\s⊙⊘+\-)]", doc["formula_pretty"]), doc["formula_pretty"]
