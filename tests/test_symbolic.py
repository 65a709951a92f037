"""Symbolic entries: names as the seeds write them, values equal to the numeric Jacobian at random points, limits set
by their estimated cost (and by readability where a table is shown)."""

import json
from fractions import Fraction

import numpy as np
import pytest
import sympy

from mcalc import symbolic as S
from mcalc.errors import TooLargeError
from mcalc.problem import prepare
from mcalc.tree import topo_order
from mcalc.symbolic import estimate, substitutions, symbol_names, symbolic_gradient, symbolic_jacobian
from helpers import js, run


def test_symbol_names():
    assert symbol_names("X", (2, 2), set()).tolist() == [["x11", "x12"], ["x21", "x22"]]
    assert symbol_names("x", (3,), set()).tolist() == ["x1", "x2", "x3"]
    assert symbol_names("r", (), set()) == "r"
    assert symbol_names("A", (10, 2), set())[9, 1] == "a_10_2"


@pytest.mark.parametrize("expr,wrt,shapes", [
    ("A@B", "A", "2x2"), ("X^2", "X", "2x2"), ("inv(A)", "A", "2x2"), ("det(A)", "A", "3x3"),
    ("softmax(x)", "x", "x=3"), ("tanh(W@x + b)", "W", "W=2x2,x=2,b=2"), ("norm(x)", "x", "x=3"),
    ("[r*cos(t), r*sin(t)]", "r,t", None), ("logdet(A)", "A", "2x2"), ("sum(A, axis=0) * pi", "A", "2x3"),
    ("kron(A, B)", "B", "2x2"), ("diag(x) @ y", "x", "x=2,y=2"),
])
@pytest.mark.parametrize("order", ["row", "col"])
@pytest.mark.parametrize("seed", [1, 2])
def test_symbolic_entries_equal_the_numbers(expr, wrt, shapes, order, seed):
    p = prepare(expr, wrt, shapes=shapes, order=order, seed=seed)
    J, syms = symbolic_jacobian(p)
    numbers = np.array(J.subs(substitutions(p, syms)).evalf(), dtype=float)
    np.testing.assert_allclose(numbers, p.analytic(), rtol=1e-10, atol=1e-12)


def test_seed_examples_read_as_written():
    p = prepare("2*sum(A)", "A", shapes="2x3")
    g, _ = symbolic_gradient(p)
    assert g.tolist() == [[2, 2, 2], [2, 2, 2]]
    J, _ = symbolic_jacobian(prepare("trace(A)", "A", shapes="2x2"))
    assert [str(e) for e in J] == ["1", "0", "0", "1"]
    J, _ = symbolic_jacobian(prepare("[r*cos(t), r*sin(t)]", "r,t"))
    assert sympy.simplify(J.det()) == sympy.Symbol("r", real=True)
    J, _ = symbolic_jacobian(prepare("A@B", "A", shapes="2x2"))
    assert str(J[0, 0]) == "b11" and str(J[0, 1]) == "b21" and J[0, 2] == 0      # I ⊗ Bᵀ, entry by entry
    g, _ = symbolic_gradient(prepare("trace(X@X)", "X", shapes="2x2"))
    assert [str(e) for e in g.ravel()] == ["2*x11", "2*x21", "2*x12", "2*x22"]    # 2 Xᵀ


def test_strings_parse_back():
    J, _ = symbolic_jacobian(prepare("softmax(x)", "x", shapes="x=3"))
    for e in J:
        back = sympy.sympify(str(e), locals={s.name: s for s in e.free_symbols})
        assert sympy.simplify(back - e) == 0


def test_large_symbolic_jacobians_are_refused_where_they_are_read():
    """A table of 1296 symbolic entries is not readable in pretty, LaTeX or Markdown output: refused there (the
    old fixed limit of 400 entries, now the readability limit alone).  JSON takes them all: what limits it is the
    time they take to build, not their number."""
    with pytest.raises(TooLargeError, match="readable"):
        symbolic_jacobian(prepare("A@B", "A", shapes="6x6"))
    J, _ = symbolic_jacobian(prepare("A@B", "A", shapes="6x6"), readable=False)
    assert J.shape == (36, 36) and str(J[0, 0]) == "b11" and J[0, 6] == 0


def _closed_form_check(expr, closed_form, n=8, seed=3):
    """mcalc's symbolic Jacobian of expr (X n×n, row-major) against closed_form(X, Id, X2, i, j, k, l), the entry
    ∂f[i,j]/∂X[k,l] written directly (X2 = X·X): as SymPy's expanded polynomials, entry by entry, for the rows of
    f[0,:] and f[5,:] (all their 1024 entries); as numbers, every entry at random values; and at the problem's
    values, equal to mcalc's numeric Jacobian."""
    p = prepare(expr, "X", shapes=f"{n}x{n}", seed=seed)
    J, syms = symbolic_jacobian(p, readable=False)
    X = sympy.Matrix(syms["X"].tolist())
    X2 = (X * X).applyfunc(sympy.expand)
    Id = sympy.eye(n)
    for i in (0, 5):
        for j in range(n):
            for k in range(n):
                for l in range(n):
                    want = closed_form(X, Id, X2, i, j, k, l)     # (SymPy's sums of expanded terms)
                    assert J[i * n + j, k * n + l] == want, (i, j, k, l, J[i * n + j, k * n + l], want)
    f = sympy.lambdify(list(syms["X"].ravel()), J, "numpy")
    V = np.random.default_rng(seed).normal(size=(n, n))
    V2, I = V @ V, np.eye(n)
    want = np.array([[closed_form(V, I, V2, i, j, k, l) for k in range(n) for l in range(n)]
                     for i in range(n) for j in range(n)], dtype=float)
    np.testing.assert_allclose(np.array(f(*V.ravel()), dtype=float), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.array(f(*p.values["X"].ravel()), dtype=float), p.analytic(), rtol=1e-12,
                               atol=1e-9)
    return p


def test_x_squared_at_8x8_is_the_textbook_derivative():
    """d(X²)[i,j]/dX[k,l] = δᵢₖ X[l,j] + X[i,k] δⱼₗ, for all 4096 entries (the issue: refused beyond 3×3 before)."""
    _closed_form_check("X^2", lambda X, Id, X2, i, j, k, l: Id[i, k] * X[l, j] + X[i, k] * Id[j, l])
    _closed_form_check("X@X", lambda X, Id, X2, i, j, k, l: Id[i, k] * X[l, j] + X[i, k] * Id[j, l])


def test_x_cubed_at_8x8_is_the_textbook_derivative():
    """d(X³) = dX X² + X dX X + X² dX: d(X³)[i,j]/dX[k,l] = δᵢₖ X²[l,j] + X[i,k] X[l,j] + X²[i,k] δⱼₗ."""
    p = _closed_form_check("X^3", lambda X, Id, X2, i, j, k, l:
                           Id[i, k] * X2[l, j] + X[i, k] * X[l, j] + X2[i, k] * Id[j, l])
    assert estimate(p).seconds < 1          # (the estimate, not a clock: the whole of it fits in a second)


def test_a_high_power_is_skipped_by_its_estimate_without_building():
    """A^20 of a 3×3 A has entries of ~23 000 terms and a Jacobian of 1.4 million: the estimate refuses it before
    any symbol is multiplied (symbolic_values is never called), not the 5 s timer."""
    p = prepare("A^20", "A", shapes="3x3")
    assert estimate(p).seconds > S.SYMBOLIC_SECONDS
    calls = []
    original = S.symbolic_values
    try:
        S.symbolic_values = lambda *a, **k: calls.append(1) or original(*a, **k)
        with pytest.raises(TooLargeError, match="would take"):
            S.within_time(symbolic_jacobian, p, readable=False, seconds=60)
    finally:
        S.symbolic_values = original
    assert calls == []


def test_each_product_is_counted_before_it_is_computed(monkeypatch):
    """Where the estimate lets something through (here: told it costs nothing), each matrix product of a power is
    counted from its operands' real terms before it runs: A^40 stops at the first product that would not fit,
    after a few small ones (counted here: the term pairs multiplied stay far below the refused product's)."""
    from mcalc.polynomial import Poly

    monkeypatch.setattr(S, "estimate", lambda problem, second=False: S.Estimate(0.0, 0.0))
    pairs = []
    mul = Poly.__mul__

    def counted(a, b):
        pairs.append(len(a) * len(b) if isinstance(b, Poly) else len(a))
        return mul(a, b)
    monkeypatch.setattr(Poly, "__mul__", counted)
    monkeypatch.setattr(Poly, "__rmul__", counted)
    with pytest.raises(TooLargeError, match="matrix power X\\^"):
        S.within_time(symbolic_jacobian, prepare("A^40", "A", shapes="3x3"), readable=False, seconds=60)
    assert sum(pairs) < 2_000_000


def test_json_takes_what_pretty_output_cannot_show():
    """X^2 at 8×8 from the command line: JSON has every entry (δ in the right places), pretty output a note and
    the numbers, both exit 0; A^20 3×3 a note that the estimate refused it."""
    doc = js("jac", "X^2", "--wrt", "X", "--shape", "8x8", "--symbolic")
    S_ = doc["jacobian_symbolic"]
    assert len(S_) == 64 and len(S_[0]) == 64 and S_[0][0] == "2*x11" and S_[0][1] == "x21" and S_[0][9] == "0"
    res = run("jac", "X^2", "--wrt", "X", "--shape", "8x8", "--symbolic")
    assert res.exit_code == 0 and "readable" in res.stderr and "-f json" in res.stderr and "f[0,0]" in res.stdout
    res = run("jac", "A^20", "--wrt", "A", "--shape", "3x3", "--symbolic", "-f", "json")
    assert res.exit_code == 0 and "symbolic entries skipped" in res.stderr and "would take" in res.stderr
    assert "jacobian_symbolic" not in json.loads(res.stdout)


def test_symbolic_determinant_of_a_polynomial_jacobian():
    """--det of X²'s Jacobian at 2×2 is the expanded polynomial, equal to the number; at 4×4 (16×16 symbolic
    entries) its estimate refuses it with a note, and the number is still there."""
    doc = js("jac", "X^2", "--wrt", "X", "--shape", "2x2", "--symbolic", "--det")
    X = np.asarray(doc["values"]["X"])
    d = sympy.sympify(doc["determinant_symbolic"])
    subs = {sympy.Symbol(f"x{i + 1}{j + 1}"): X[i, j] for i in range(2) for j in range(2)}
    assert float(d.subs(subs)) == pytest.approx(doc["determinant"], rel=1e-12)
    assert float(d.subs(subs)) == pytest.approx(np.linalg.det(np.kron(X, np.eye(2)) + np.kron(np.eye(2), X.T)))
    res = run("jac", "X^2", "--wrt", "X", "--shape", "4x4", "--symbolic", "--det", "-f", "json")
    assert res.exit_code == 0 and "symbolic determinant skipped" in res.stderr
    doc = json.loads(res.stdout)
    assert "determinant_symbolic" not in doc and "determinant" in doc and len(doc["jacobian_symbolic"]) == 16


@pytest.mark.parametrize("expr,wrt,shapes", [
    ("logdet(A)", "A", "4x4"), ("det(A)", "A", "5x5"), ("trace(X^4)", "X", "4x4"), ("x@A@x", "x", "x=6,A=6x6"),
    ("sum(A*A, axis=0) / 3", "A", "3x2"), ("(A + 2*B).T @ A", "A", "A=3x2,B=3x2"), ("X^0 + X^1", "X", "2x2"),
])
def test_polynomial_paths_equal_the_numbers(expr, wrt, shapes):
    p = prepare(expr, wrt, shapes=shapes, seed=2)
    J, syms = symbolic_jacobian(p, readable=False)
    numbers = np.array(J.subs(substitutions(p, syms)).evalf(), dtype=float)
    np.testing.assert_allclose(numbers, p.analytic(), rtol=1e-10, atol=1e-10)


def test_polynomials_print_and_build_as_sympy_does():
    """The texts written without SymPy's printer are str() of SymPy's expressions, and the expressions built
    without Add/Mul's flatten are SymPy's own (same args, same hash), for random polynomials over names whose
    sorted order is not their numeric one (a_10_2 before a_2_1)."""
    import random

    from mcalc.polynomial import Poly

    names = sorted(["a11", "a12", "a_10_2", "a_2_1", "b", "x1", "x2", "y"])
    symbols = S._Symbols({}, {}, names, [sympy.Symbol(n, real=True) for n in names], {})
    rng = random.Random(1)
    for _ in range(1500):
        terms = {}
        for _ in range(rng.randint(0, 6)):
            m = tuple(sorted(rng.randrange(len(names)) for _ in range(rng.randint(0, 5))))
            terms[m] = rng.choice([1, -1, 2, -3, Fraction(1, 2), Fraction(-3, 2), Fraction(5, 3)])
        p = Poly(terms)
        want = sympy.Add(*[sympy.Rational(c.numerator, c.denominator) * sympy.Mul(*[symbols.sympy_of[i] for i in m])
                           for m, c in terms.items()])
        got = S.expression(p, symbols)
        assert got == want and got.args == want.args and hash(got) == hash(want), (got, want)
        assert p.text(names) == str(want)


def test_names_sympy_would_misread_are_found_without_asking_it_each_time():
    for n in ["x11", "E", "I", "S", "N", "Q", "O", "beta", "gamma", "lambda", "atan2", "log10", "E1", "I_2",
              "x_10_11", "sum", "max", "abs", "pi", "oo", "zoo", "nan", "if", "print", "exp2", "Li", "re", "C",
              "beta1", "a1", "ln", "sqrt", "y_1_2"]:
        try:
            misread = not isinstance(sympy.sympify(n), sympy.Symbol)
        except Exception:  # noqa: BLE001
            misread = True
        assert S._reserved(n) == misread, n


# --- the registry's rules on polynomial entries -------------------------------------------------------------------

def _polynomial_cases():
    from mcalc.ops import OPS

    cases = [OPS[name].example for name, op in sorted(OPS.items()) if op.example is not None and S._rule(op)]
    return cases + [("x ** 3 / 2 - x", "x=3"), ("X^0 + X^3", "X=2x2"), ("logdet(A @ A)", "A=2x2"),
                    ("slogdet(A)[0] * det(A)", "A=3x3"), ("einsum('ij,jk,kl->il', A, B, A)", "A=2x2,B=2x2"),
                    ("kron(x, A) @ y", "x=2,A=2x2,y=4"), ("trace(cumsum(A @ A, axis=0))", "A=3x3")]


@pytest.mark.parametrize("expr,spec", _polynomial_cases())
def test_every_rule_on_polynomials_gives_sympys_entries(expr, spec):
    """Each node an operation's registry rule builds from polynomial entries (Op.poly) equals what SymPy's
    counterpart (or its forward function on SymPy's expressions) builds from the same entries, expanded; and its
    estimate is a polynomial wherever the rule gave one."""
    p = prepare(expr, None, shapes=spec, seed=3)
    vals, symbols = S.symbolic_values(p)
    sizes, _ = S.node_sizes(p)
    for node in topo_order(p.root):
        if node.op is None or not node.args or not all(S._is_poly(vals[id(a)]) for a in node.args):
            continue
        args = [S._expressions(vals[id(a)], symbols) for a in node.args]
        f = node.op.sympy
        want = np.asarray(f(sympy, node, *args) if f is not None else node.op.fwd(node, *args), dtype=object)
        got = vals[id(node)]
        assert got.shape == want.shape, node.op.name
        for g, w in zip(got.flat, want.flat):
            assert sympy.expand(S.expression(g, symbols) - sympy.sympify(w)) == 0, (node.op.name, g, w)
        if S._is_poly(got) and S._rule(node.op) is not None and S._rule(node.op).value is not None:
            assert sizes[id(node)].poly, node.op.name


def test_the_symbolic_engine_names_no_operation():
    """What an operation does to symbolic entries, and what that costs, is its registry entry's (Op.poly, spread,
    growth): symbolic.py names no operation (only the flatten orders, 'row' and 'col', which are ops' names too)."""
    import ast
    from pathlib import Path

    from mcalc.ops import FUNCTIONS, OPS

    tree = ast.parse(Path(S.__file__).read_text())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert strings & (set(OPS) | set(FUNCTIONS)) <= {"row", "col"}
