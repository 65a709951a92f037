"""Hessians: against the Matrix Cookbook's closed forms, against second differences of the expression written in
plain numpy (which never sees mcalc's rules), over random shapes and compositions; H v; what is refused."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mcalc
from helpers import svd_signed
from mcalc.problem import prepare
from mcalc.second import gradient_tree, hessian_problem
from mcalc.printing import Unicode

RNG = np.random.default_rng(5)


def second_differences(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """∂²f/∂xᵢ∂xⱼ by central second differences of f alone (x flattened row-major)."""
    x = np.asarray(x, dtype=float)
    n = x.size
    H = np.zeros((n, n))
    E = np.eye(n).reshape((n,) + x.shape) * h
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (f(x + E[i] + E[j]) - f(x + E[i] - E[j]) - f(x - E[i] + E[j])
                                 + f(x - E[i] - E[j])) / (4 * h * h)
    return H


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_cookbook_closed_forms():
    """Matrix Cookbook (81): ∂²(xᵀAx)/∂x² = A + Aᵀ; least squares: 2AᵀA; logistic regression: Xᵀ diag(s ⊙ (1-s)) X;
    ∂² log det X: -(X⁻¹)ⱼₖ (X⁻¹)ₗᵢ for entries (i, j), (k, l) (from d X⁻ᵀ = -X⁻ᵀ dXᵀ X⁻ᵀ); the norm:
    (I - u uᵀ)/‖x‖ with u = x/‖x‖."""
    A, x, b = RNG.normal(size=(4, 4)), RNG.normal(size=4), RNG.normal(size=4)
    np.testing.assert_allclose(mcalc.hessian("x@A@x", "x", {"x": x, "A": A}), A + A.T, atol=1e-12)
    np.testing.assert_allclose(mcalc.hessian("sum((A@x - b)**2)", "x", {"x": x, "A": A, "b": b}), 2 * A.T @ A,
                               atol=1e-12)
    X, w, y = RNG.normal(size=(7, 3)), RNG.normal(size=3), (RNG.random(7) > 0.5).astype(float)
    s = _sigmoid(X @ w)
    np.testing.assert_allclose(mcalc.hessian("sum(log(1 + exp(X@w)) - y*(X@w))", "w", {"X": X, "w": w, "y": y}),
                               X.T @ np.diag(s * (1 - s)) @ X, atol=1e-12)
    M = RNG.normal(size=(3, 3)) + 3 * np.eye(3)
    Mi = np.linalg.inv(M)
    np.testing.assert_allclose(mcalc.hessian("logdet(X)", "X", {"X": M}),
                               -np.einsum("jk,li->ijkl", Mi, Mi).reshape(9, 9), atol=1e-12)
    u = x / np.linalg.norm(x)
    np.testing.assert_allclose(mcalc.hessian("norm(x)", "x", {"x": x}),
                               (np.eye(4) - np.outer(u, u)) / np.linalg.norm(x), atol=1e-12)


def test_column_major_is_the_same_hessian_reordered():
    M = RNG.normal(size=(2, 3))
    H = mcalc.hessian("sum(tanh(X)**3) + sum(X@X.T)", "X", {"X": M})
    Hc = mcalc.hessian("sum(tanh(X)**3) + sum(X@X.T)", "X", {"X": M}, order="col")
    perm = np.arange(6).reshape(2, 3).ravel(order="F")          # column-major position k holds row-major perm[k]
    np.testing.assert_allclose(Hc, H[np.ix_(perm, perm)], atol=1e-13)


CASES = [
    ("sum(tanh(W@x + b))", {"W": (3, 4), "x": (4,), "b": (3,)}, "W",
     lambda v: np.sum(np.tanh(v["W"] @ v["x"] + v["b"]))),
    ("trace(X^4)", {"X": (3, 3)}, "X", lambda v: np.trace(np.linalg.matrix_power(v["X"], 4))),
    ("det(inv(X))", {"X": (3, 3)}, "X", lambda v: np.linalg.det(np.linalg.inv(v["X"]))),
    ("sum(softmax(W@x) * y)", {"W": (3, 2), "x": (2,), "y": (3,)}, "W",
     lambda v: np.sum(np.exp(v["W"] @ v["x"]) / np.sum(np.exp(v["W"] @ v["x"])) * v["y"])),
    ("logsumexp(A@x)", {"A": (4, 3), "x": (3,)}, "x", lambda v: np.log(np.sum(np.exp(v["A"] @ v["x"])))),
    ("norm(A@x - b)**2 / 2", {"A": (4, 3), "x": (3,), "b": (4,)}, "x",
     lambda v: np.sum((v["A"] @ v["x"] - v["b"]) ** 2) / 2),
    ("trace(inv(X) @ A)", {"X": (3, 3), "A": (3, 3)}, "X", lambda v: np.trace(np.linalg.inv(v["X"]) @ v["A"])),
    ("b @ solve(X, b)", {"X": (3, 3), "b": (3,)}, "X", lambda v: v["b"] @ np.linalg.solve(v["X"], v["b"])),
    ("sum(sigmoid(X) * log(X*X + 1))", {"X": (2, 2)}, "X",
     lambda v: np.sum(_sigmoid(v["X"]) * np.log(v["X"] ** 2 + 1))),
    ("det(X)", {"X": (3, 3)}, "X", lambda v: np.linalg.det(v["X"])),
    ("sum(cumsum(x) ** 2) + prod(x)", {"x": (4,)}, "x", lambda v: np.sum(np.cumsum(v["x"]) ** 2) + np.prod(v["x"])),
    ("mean(exp(A) @ A.T)", {"A": (2, 3)}, "A", lambda v: np.mean(np.exp(v["A"]) @ v["A"].T)),
    ("x @ x * sum(sqrt(x * x + 1))", {"x": (3,)}, "x", lambda v: v["x"] @ v["x"] * np.sum(np.sqrt(v["x"] ** 2 + 1))),
    # operations whose Jacobian had no closed form: through kron's permuted vec(A) ⊗ I, and adjoints
    ("sum(kron(A, X)**2)", {"A": (2, 3), "X": (3, 2)}, "X", lambda v: np.sum(np.kron(v["A"], v["X"]) ** 2)),
    ("sum(kron(X, X) * B)", {"X": (2, 2), "B": (4, 4)}, "X", lambda v: np.sum(np.kron(v["X"], v["X"]) * v["B"])),
    ("sum(sort(x)**3 * w)", {"x": (5,), "w": (5,)}, "x", lambda v: np.sum(np.sort(v["x"]) ** 3 * v["w"])),
    ("sum(sort(X, axis=0)**2 * A)", {"X": (3, 2), "A": (3, 2)}, "X",
     lambda v: np.sum(np.sort(v["X"], axis=0) ** 2 * v["A"])),
    ("trace(expm(X) @ A)", {"X": (3, 3), "A": (3, 3)}, "X", lambda v: np.trace(_expm(v["X"]) @ v["A"])),
    ("sum(svdvals(X)**3)", {"X": (4, 3)}, "X", lambda v: np.sum(np.linalg.svd(v["X"], compute_uv=False) ** 3)),
    ("norm(X, 2)", {"X": (3, 4)}, "X", lambda v: np.linalg.norm(v["X"], 2)),
    ("norm(X, 'nuc')", {"X": (3, 3)}, "X", lambda v: np.linalg.norm(v["X"], "nuc")),
    ("sum(svd(X, full_matrices=False)[0] * A)", {"X": (4, 2), "A": (4, 2)}, "X",
     lambda v: np.sum(svd_signed(v["X"])[0] * v["A"])),
    ("sum(svd(X)[2] * A)", {"X": (3, 3), "A": (3, 3)}, "X", lambda v: np.sum(svd_signed(v["X"])[2] * v["A"])),
    # an off-diagonal eye is not the identity (it once was, to the rules)
    ("trace(X @ X, offset=1) + sum(eye(3, k=1) @ X**3)", {"X": (3, 3)}, "X",
     lambda v: np.trace(v["X"] @ v["X"], offset=1) + np.sum(np.eye(3, k=1) @ v["X"] ** 3)),
    ("sum((X.T @ eye(3, k=-1))**3) * trace(X.T, offset=1)", {"X": (3, 3)}, "X",
     lambda v: np.sum((v["X"].T @ np.eye(3, k=-1)) ** 3) * np.trace(v["X"].T, offset=1)),
    ("norm(X, 2) * norm(X, 'nuc')", {"X": (1, 3)}, "X", lambda v: np.linalg.norm(v["X"], 2) ** 2),
]


@pytest.mark.parametrize("x", [0.0, 1e-5, 9e-4, 1.1e-3, 0.5, -2.0])
def test_sinc_at_and_near_zero(x):
    """sinc''(0) = -π²/3 (the Taylor series 1 - (πx)²/6 + ...), not the derivative of a branch of sinc'."""
    H = mcalc.hessian("sum(sinc(x))", "x", {"x": np.array([x])})
    h = 1e-3
    ref = (np.sinc(x + h) - 2 * np.sinc(x) + np.sinc(x - h)) / h ** 2
    np.testing.assert_allclose(H[0, 0], ref, rtol=1e-5)
    if x == 0:
        np.testing.assert_allclose(H[0, 0], -np.pi ** 2 / 3, rtol=1e-14)


def _expm(X):
    from scipy.linalg import expm

    return expm(X)


@pytest.mark.parametrize("text,shapes,wrt,f", CASES, ids=[c[0] for c in CASES])
def test_against_second_differences_of_numpy(text, shapes, wrt, f):
    values = {k: RNG.normal(size=s) / 2 for k, s in shapes.items()}
    if text in ("trace(inv(X) @ A)", "b @ solve(X, b)", "det(inv(X))"):
        values["X"] = values["X"] + 2 * np.eye(3)
    H = mcalc.hessian(text, wrt, values)
    x0 = values[wrt]
    ref = second_differences(lambda z: f({**values, wrt: z}), x0)
    np.testing.assert_allclose(H, ref, atol=1e-5 * max(1.0, np.abs(ref).max()))
    np.testing.assert_allclose(H, H.T, atol=1e-12 * max(1.0, np.abs(H).max()))


def test_block_hessian_of_two_variables():
    A, x, y = RNG.normal(size=(3, 2)), RNG.normal(size=3), RNG.normal(size=2)
    H = mcalc.hessian("x @ A @ y + sum(x**3)", "x,y", {"A": A, "x": x, "y": y})
    ref = np.block([[np.diag(6 * x), A], [A.T, np.zeros((2, 2))]])        # ∂²/∂x² = diag(6x), ∂²/∂x∂y = A
    np.testing.assert_allclose(H, ref, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 3), n=st.integers(1, 3), k=st.integers(0, 4), seed=st.integers(0, 10 ** 6))
def test_random_shapes_and_compositions(m, n, k, seed):
    """g(W) = f(tanh(W) + B) for random shapes: the chain rule through one more composition, against second
    differences of plain numpy."""
    r = np.random.default_rng(seed)
    values = {"W": r.normal(size=(m, n)) / 2, "B": r.normal(size=(m, n)) / 2, "c": r.normal(size=n)}
    inner = [("sum(exp(Z) * Z)", lambda Z: np.sum(np.exp(Z) * Z)),
             ("norm(Z @ c) ** 2", lambda Z: np.sum((Z @ values["c"]) ** 2)),
             ("sum(log(1 + Z * Z))", lambda Z: np.sum(np.log(1 + Z * Z))),
             ("logsumexp(Z)", lambda Z: np.log(np.sum(np.exp(Z)))),
             ("trace(Z @ Z.T @ Z @ Z.T)", lambda Z: np.trace(Z @ Z.T @ Z @ Z.T))][k % 5]
    text = inner[0].replace("Z", "(tanh(W) + B)")
    H = mcalc.hessian(text, "W", {k: v for k, v in values.items() if re.search(rf"\b{k}\b", text)})
    ref = second_differences(lambda W: inner[1](np.tanh(W) + values["B"]), values["W"])
    np.testing.assert_allclose(H, ref, atol=1e-5 * max(1.0, np.abs(ref).max()))


def test_hvp_is_h_times_v():
    W, x, b = RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=3)
    values = {"W": W, "x": x, "b": b}
    V = RNG.normal(size=(3, 4))
    H = mcalc.hessian("sum(tanh(W@x + b))", "W", values)
    np.testing.assert_allclose(mcalc.hvp("sum(tanh(W@x + b))", "W", V, values), (H @ V.ravel()).reshape(3, 4),
                               atol=1e-12)


def test_gradient_trees_are_the_textbooks():
    """The gradient shaped like its variable, read off by the trace identity (Matrix Cookbook (70), (72), (57),
    (113))."""
    cases = {("a@X@b", "a=3,X=3x4,b=4"): "a bᵀ", ("sum(W@x)", "W=3x4,x=4"): "1₃ xᵀ",
             ("logdet(X)", "3x3"): "X⁻ᵀ", ("trace((A@X@B+C)@(A@X@B+C).T)", "A=2x3,X=3x3,B=3x2,C=2x2"):
             "2 Aᵀ (A X B + C) Bᵀ", ("sum((A@x-b)**2)", "A=4x3,x=3,b=4"): "2 Aᵀ (A x - b)"}
    for (text, shapes), want in cases.items():
        p = prepare(text, "X" if "X" in text else "W" if "W" in text else "x", shapes=shapes)
        assert Unicode()(gradient_tree(p.nodes, p.wrt[0])) == want, text


@pytest.mark.parametrize("text,shapes,wrt,want", [
    ("trace(kron(A, X))", "A=2x2,X=3x3", "X", "tr(A) I₃"),                       # d tr(A ⊗ X) = tr(A) tr(dX)
    ("sum(kron(A, X))", "A=2x3,X=3x2", "X", "sum(A) 1₃ₓ₂"),
    ("trace(A@diag(x))", "A=3x3,x=3", "x", "diag(A)"),
    ("sum(svdvals(X)**2)", "X=4x3", "X", "2 U(X) diag(σ(X)) Vᵀ(X)"),           # = 2X
    ("norm(X, 'nuc')", "X=3x3", "X", "U(X) Vᵀ(X)"),
    ("sum(eigvalsh(X))", "X=3x3", "X", "I₃"),                                      # U Uᵀ = I
    ("sum(expm(X))", "X=2x2", "X", "L_exp(Xᵀ, 1₂ₓ₂)"),                         # the adjoint of L(X, ·)
])
def test_gradients_through_operations_read_one_at_a_time(text, shapes, wrt, want):
    """Where the whole local map has no readable form, the gradient is pulled back through the differential one
    operation at a time (diag's adjoint is diag, kron under a trace is tr(A) I, expm's Fréchet derivative is
    transposed by L(Xᵀ, ·)); what it prints is checked against the numbers by the Hessian tests above."""
    p = prepare(text, wrt, shapes=shapes)
    G = gradient_tree(p.nodes, p.wrt[0])
    assert Unicode()(G) == want
    from mcalc.closedform_check import _gradient_holds

    assert _gradient_holds(p.evaluate(), G, 2)


def test_logistic_hessian_is_one_product(monkeypatch):
    """The logistic loss's Hessian Xᵀ D X is built as products of its factors: nothing larger than X or H."""
    import mcalc.linops as L

    sizes = []
    real = L.check_dense
    monkeypatch.setattr(L, "check_dense", lambda m, n, *a, **k: (sizes.append(m * n), real(m, n, *a, **k))[1])
    m, n = 200, 30
    X, w, y = RNG.normal(size=(m, n)), RNG.normal(size=n) / 10, (RNG.random(m) > 0.5).astype(float)
    H = hessian_problem(prepare("sum(log(1 + exp(X@w)) - y*(X@w))", "w", {"X": X, "w": w, "y": y})).analytic()
    s = _sigmoid(X @ w)
    np.testing.assert_allclose(H, X.T @ (X * (s * (1 - s))[:, None]), atol=1e-10)
    assert max(sizes) <= m * n


@pytest.mark.parametrize("text,fragment", [("A@x", "needs a scalar"), ("sum(svd(vstack([A, A]) * x[0])[0])", "full U and Vᵀ")])
def test_refusals(text, fragment):
    with pytest.raises(mcalc.UsageError, match=fragment):
        mcalc.hessian(text, "x", {"A": RNG.normal(size=(2, 2)), "x": RNG.normal(size=2)})


# --- the command ------------------------------------------------------------------------------------------------

def run(*args):
    import json

    from typer.testing import CliRunner

    from mcalc.cli import app

    r = CliRunner().invoke(app, ["hess", *args])
    return r.exit_code, r.output, (json.loads(r.stdout) if "json" in args and r.exit_code in (0, 1) else None)


def test_hess_json_says_what_the_hessian_is():
    code, _, doc = run("x@A@x", "--wrt", "x", "--value", "A=2 1; 1 3", "--value", "x=1 2", "-f", "json")
    assert code == 0
    np.testing.assert_allclose(doc["hessian"], [[4, 2], [2, 6]])                  # A + Aᵀ
    assert doc["definiteness"] == "positive definite" and doc["constant"] is True
    assert "convex everywhere" in doc["curvature"] and doc["agree"] is True
    assert doc["row_labels"] == doc["column_labels"] == ["x[0]", "x[1]"]
    np.testing.assert_allclose(sorted(doc["eigenvalues"]), np.linalg.eigvalsh([[4, 2], [2, 6]]))
    assert doc["gradient_formula"] and doc["formula"]


@pytest.mark.parametrize("text,values,kind", [
    (" -sum(x**2)", ["x=1 2"], "negative definite everywhere"),
    ("x[0]*x[1]", ["x=1 2"], "indefinite everywhere"),
    ("sum(x**4)", ["x=1 0"], "positive semidefinite at this point"),
    ("logdet(X)", ["X=2 1; 1 3"], "at this point"),
])
def test_definiteness(text, values, kind):
    args = [a for v in values for a in ("--value", v)]
    code, out, _ = run(text, "--wrt", "x" if "x" in text else "X", *args, "--no-color")
    assert code == 0 and kind in out, out


def test_hess_formats_and_products():
    code, out, _ = run("x@A@x", "--wrt", "x", "--value", "A=2 1; 1 3", "--value", "x=1 2", "-f", "csv")
    assert code == 0 and out.split() == ["4.0,2.0", "2.0,6.0"]
    code, out, _ = run("x@A@x", "--wrt", "x", "--value", "A=2 1; 1 3", "--value", "x=1 2", "--hvp", "1 0",
                       "--no-color")
    assert code == 0 and "Hv[0]" in out and "Hv[1]" in out
    for fmt in ("latex", "markdown", "plain"):
        code, out, _ = run("x@A@x", "--wrt", "x", "--shape", "x=2,A=2x2", "-f", fmt)
        assert code == 0 and out.strip(), fmt
    code, out, _ = run("x@A@y + sum(x**3)", "--wrt", "x", "--wrt", "y", "--shape", "A=2x2,x=2,y=2", "--no-color")
    assert code == 0 and "y[1]" in out and "x[0]" in out


@pytest.mark.parametrize("args,fragment", [
    (["A@x", "--wrt", "x", "--shape", "A=2x2,x=2"], "needs a scalar"),
    (["x@x", "--wrt", "x", "--shape", "x=2", "--hvp", "1 2 3"], "--hvp needs an array shaped like x"),
    (["x@x", "--wrt", "x", "--shape", "x=2", "-f", "tsv"], "unknown format"),
    (["sum(svd(A*x[0])[0] @ x)", "--wrt", "x", "--shape", "A=3x2,x=3"], "full U and Vᵀ"),
])
def test_hess_refusals(args, fragment):
    code, out, _ = run(*args)
    assert code == 2 and fragment in out and "Traceback" not in out, out


def test_check_judges_a_hand_derived_hessian():
    from typer.testing import CliRunner

    from mcalc.cli import app

    base = ["check", "x@A@x", "--wrt", "x", "--shape", "x=3,A=3x3", "--hessian", "--no-color"]
    r = CliRunner().invoke(app, [*base, "--expect", "A + A.T"])
    assert r.exit_code == 0 and "right: it is the Hessian" in r.output
    r = CliRunner().invoke(app, [*base, "--expect", "2*A"])                 # right only for a symmetric A
    assert r.exit_code == 1 and "differ from the Hessian" in r.output
    r = CliRunner().invoke(app, ["check", "sum(X**3)", "--wrt", "X", "--shape", "2x2", "--hessian",
                                 "--expect", "-6*diag(vec(X))"])
    assert r.exit_code == 1 and "sign" in r.output                           # 6 diag(vec(X)), with the wrong sign


def test_block_hessian_in_column_order():
    """Each variable's gradient flattened in the flatten order before stacking (review: rows swapped)."""
    H = mcalc.hessian("sum(X**3) + y**2", ["X", "y"], values={"X": [[1, 2], [3, 4]], "y": 1.0}, order="col")
    np.testing.assert_allclose(H, np.diag([6.0, 18.0, 12.0, 24.0, 2.0]))          # vec_c(X) = (1, 3, 2, 4)


@pytest.mark.parametrize("text,shapes,said", [
    ("sum(mod(x, 3)**2)", "x=2", "at this point"),          # a sawtooth squared: not convex, whatever H says here
    ("sum((x - floor(x))**2)", "x=2", "at this point"),
    ("sum(A@x)", "A=2x2,x=2", "affine (both convex and concave)"),
    ("sum(abs(x))", "x=2", "zero at this point"),
])
def test_curvature_claims_only_what_holds(text, shapes, said):
    code, out, _ = run(text, "--wrt", "x", "--shape", shapes, "--no-color")
    assert code == 0 and said in out, out


def test_hess_of_long_chains_and_regroupings():
    chain = "; ".join(["h0 = tanh(W@x)"] + [f"h{i} = tanh(W@h{i - 1} + h{i - 1})" for i in range(1, 8)] + ["sum(h7**2)"])
    code, out, _ = run(chain, "--wrt", "x", "--shape", "W=3x3,x=3", "--no-color")
    assert code == 0, out
    for text, shapes in (("(W.T@(c*x))@(c*z)", "W=3x2,c=scalar,x=3,z=2"), ("(A@(c*x))@(A@(c*y))", "A=3x3,c=scalar,x=3,y=3")):
        code, out, _ = run(text, "--wrt", "c", "--shape", shapes, "--no-color")
        assert code == 0, out


def test_hess_names_what_its_formula_uses():
    code, out, doc = run("sum(log(1 + exp(X@w)) - y*(X@w))", "--wrt", "w", "--shape", "X=5x2,w=2,y=5", "-f", "json")
    assert code == 0 and doc["formula"] and doc["formula_pretty"]
    for name in "uvyz":
        if f"{name} ⊙" in doc["formula_pretty"] or f"({name}" in doc["formula_pretty"]:
            assert name in doc["names"], doc


@pytest.mark.parametrize("text,wrt,shapes,f", [
    ("sum(sqrtm(X@X.T))", "X", "X=3x3", lambda X: np.sum(_spd_sqrt(X @ X.T))),
    ("logdet(X@X.T + eye(3))", "X", "X=3x3", lambda X: np.linalg.slogdet(X @ X.T + np.eye(3))[1]),
    ("sum(log(x))", "x", "x=3", lambda x: np.sum(np.log(x))),
])
def test_hess_is_taken_at_the_values_it_reports(text, wrt, shapes, f):
    """The Hessian is at the values the output names, also where mcalc chooses them to fit a domain (the
    gradient's tree has other domains than f: it once drew its own values)."""
    code, _, doc = run(text, "--wrt", wrt, "--shape", shapes, "-f", "json")
    assert code == 0
    x = np.asarray(doc["values"][wrt], dtype=float)
    np.testing.assert_allclose(doc["hessian"], second_differences(f, x, 1e-3), rtol=1e-4, atol=1e-5)


def _spd_sqrt(S):
    lam, V = np.linalg.eigh(S)
    return V @ np.diag(np.sqrt(lam)) @ V.T


@pytest.mark.parametrize("order", ["row", "col"])
def test_symbolic_hessian_is_sympys_of_f(order):
    """--symbolic: SymPy's hessian of f itself, in the flatten order; at the values it is the numeric Hessian, and
    its entries are the textbook's: ∂²(xᵀAx)/∂xᵢ∂xⱼ = aᵢⱼ + aⱼᵢ."""
    import sympy

    code, _, doc = run("x@A@x + sum(x**3)*x[0]", "--wrt", "x", "--shape", "x=2,A=2x2", "--symbolic", "--order", order,
                       "-f", "json")
    assert code == 0
    x = np.asarray(doc["values"]["x"])
    A = np.asarray(doc["values"]["A"])
    subs = {sympy.Symbol(f"x{i + 1}"): x[i] for i in range(2)}
    subs.update({sympy.Symbol(f"a{i + 1}{j + 1}"): A[i, j] for i in range(2) for j in range(2)})
    S = np.array([[float(sympy.sympify(e).subs(subs)) for e in row] for row in doc["hessian_symbolic"]])
    want = A + A.T + np.array([[12 * x[0] ** 2, 3 * x[1] ** 2], [3 * x[1] ** 2, 6 * x[0] * x[1]]])
    np.testing.assert_allclose(S, want, rtol=1e-12)
    np.testing.assert_allclose(doc["hessian"], want, rtol=1e-9)
    assert sympy.simplify(sympy.sympify(doc["hessian_symbolic"][0][1]) - sympy.sympify("a12 + a21 + 3*x2**2")) == 0


def test_hess_npz_and_symbolic_limits(tmp_path):
    code, _, _ = run("x@A@x", "--wrt", "x", "--shape", "x=3,A=3x3", "-f", "npz", "-o", str(tmp_path / "h.npz"))
    assert code == 0
    from scipy import sparse

    H = sparse.load_npz(tmp_path / "h.npz").toarray()
    code, _, doc = run("x@A@x", "--wrt", "x", "--shape", "x=3,A=3x3", "-f", "json")
    np.testing.assert_allclose(H, doc["hessian"])
    A = np.asarray(doc["values"]["A"])
    np.testing.assert_allclose(H, A + A.T)
    code, out, _ = run("x@A@x", "--wrt", "x", "--shape", "x=30,A=30x30", "--symbolic")
    assert code == 0 and "symbolic entries skipped" in out and "symbolic Hessian of 30×30" in out   # (numbers follow)
    code, out, _ = run("x@A@x", "--wrt", "x", "--shape", "x=2,A=2x2", "--symbolic", "-f", "csv")
    assert code == 2 and "--symbolic shows in" in out


def test_rounding_noise_is_not_curvature():
    """X.T / X * X is sum(X) (linear): eigenvalues of ±4e-16 are zero, not 'indefinite'; a genuinely tiny Hessian
    (1e-20 x²) keeps its sign."""
    X = np.array([[1.1, 2.3, 0.7], [1.9, 3.1, 2.2], [0.4, 1.3, 2.9]])
    code, out, _ = run("sum(divide(X.T, X) * X)", "--wrt", "X", "--value", f"X={X.tolist()}", "--no-color")
    assert code == 0 and "indefinite" not in out and "zero" in out
    code, out, _ = run("1e-20 * x**2", "--wrt", "x", "--value", "x=1", "--no-color")
    assert code == 0 and "positive definite" in out


def test_hess_json_keys_mean_what_explains_do():
    """formula and gradient_formula are mcalc syntax (check reads them back), *_pretty Unicode, as in explain's JSON
    (hess had formula in Unicode and formula_mcalc beside it)."""
    code, out, doc = run("x@A@x", "--wrt", "x", "--shape", "x=2,A=2x2", "-f", "json")
    assert code == 0 and doc["formula"] == "A.T + A" and doc["formula_pretty"] == "Aᵀ + A", doc
    assert doc["gradient_formula"] == "(A.T + A) @ x" and doc["gradient_formula_pretty"] == "(Aᵀ + A) x", doc
    assert "formula_mcalc" not in doc


def test_the_api_asks_no_eigenvalues_it_does_not_compute():
    """Found while checking logdet's gradient at n = 80: the API's hvp (which never forms H) and hessian() (which
    returns H alone) were refused for the work of the eigenvalues that only `mcalc hess` computes (10 n³ past the
    budget: n = 6400 and n = 2200).  H v of logdet is -(X⁻¹ V X⁻¹)ᵀ (the Matrix Cookbook, d X⁻¹ = -X⁻¹ dX X⁻¹);
    the Hessian of sum(x³) is diag(6x)."""
    import mcalc

    rng = np.random.default_rng(0)
    X, V = rng.normal(size=(80, 80)) + 9 * np.eye(80), rng.normal(size=(80, 80))
    Xi = np.linalg.inv(X)
    np.testing.assert_allclose(mcalc.hvp("logdet(X)", "X", V, {"X": X}), -(Xi @ V @ Xi).T, atol=1e-12)
    x = rng.normal(size=2200)
    H = mcalc.hessian("sum(x**3)", "x", {"x": x})
    assert H.shape == (2200, 2200) and np.array_equal(np.diag(H), 6 * x) and np.count_nonzero(H) == 2200
    assert mcalc.check("sum(x**3)", np.diag(6 * x), "x", {"x": x}, hessian=True)          # (check's too)
    assert not mcalc.check("sum(x**3)", np.diag(3 * x), "x", {"x": x}, hessian=True)


def test_hess_takes_eigenvalues_only_for_the_formats_that_show_them(tmp_path):
    """Found by a tester: mcalc hess at 2200 variables refused -f npy for the work of eigenvalues, which only the
    pretty view and JSON show; -f npy writes H (diag(12 x²) for sum(x⁴)), and JSON is refused with that way out."""
    from typer.testing import CliRunner

    from mcalc.cli import app

    out, xs = tmp_path / "h.npy", tmp_path / "x.npy"
    x = np.random.default_rng(0).normal(size=2200)
    np.save(xs, x)
    args = ["hess", "sum(x**4)", "--wrt", "x", "--value", f"x=@{xs}", "--fd", "none"]
    res = CliRunner().invoke(app, [*args, "-f", "npy", "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    H = np.load(out)
    np.testing.assert_allclose(np.diag(H), 12 * x ** 2, rtol=1e-14)
    assert np.count_nonzero(H) == 2200
    res = CliRunner().invoke(app, [*args, "-f", "json"])
    assert res.exit_code == 2 and "-f npy" in res.stderr and res.stderr.count("\n") == 1, res.stderr
